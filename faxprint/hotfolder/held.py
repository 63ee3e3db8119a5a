"""Jobs a person settles by hand: a held job sent again or cancelled, a kept job's
documents found for a preview.

A job is held (``held/JOB``) when its upload ended and its answer was lost: only the
account's sent faxes tell whether it went. ``faxprint retry`` puts its documents, then its
ticket, back where they were dropped, to be sent as a new job; ``faxprint cancel`` moves
it to ``failed/`` with its receipt saying so. The folder and its claim are the watcher's
user's to write and this may run as root, so nothing unexpected is followed or trusted:
not a link, not a name a ticket could not give, not a file dropped since.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faxprint.errors import DocumentError, SettleError
from faxprint.hotfolder import ticketfile
from faxprint.hotfolder.spool import (
    CLAIM,
    RECEIPT,
    TICKET,
    Spool,
    plain_names,
    read_claim,
    read_receipt,
    write_receipt,
)
from faxprint.text import printable

_JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,250}")


@dataclass(frozen=True)
class HeldJob:
    """A held job's folder and what its claim says of it."""

    path: Path
    source: str  # the subfolder it was dropped in ("" for the top)
    documents: tuple[str, ...]
    trigger: str  # the name its ticket (or its one document) had
    ticket: bool

    @property
    def spool(self) -> Spool:
        return Spool(self.path.parent.parent)


def find_held(root: Path | None, name: str, subfolders: tuple[str, ...] = ()) -> HeldJob:
    """Return the held job ``name`` of the hot folder ``root``; refuse anything unexpected."""
    if root is None:
        raise SettleError("which hot folder? set [hotfolder] path in the config or give --folder")
    if not _JOB_NAME.fullmatch(name):
        raise SettleError(f"{printable(name)!r} is not a hot-folder job's name")
    held = Spool(root).held / name
    try:
        info = held.lstat()
    except FileNotFoundError:
        raise SettleError(
            f"{held} is not there: only a held job (its upload's answer was lost) can be "
            "settled from the hot folder; a job still in processing/ is the watcher's"
        ) from None
    if not stat.S_ISDIR(info.st_mode):
        raise SettleError(f"{held} is not a folder")
    claim: dict[str, Any] = read_claim(held) or {}
    source, names, trigger = claim.get("source"), claim.get("documents"), claim.get("trigger")
    if not (
        isinstance(source, str) and source in ("", *subfolders)
        and plain_names(names) and names
        and isinstance(claim.get("ticket"), bool) and isinstance(trigger, str)
        and (_ticket_name(trigger) if claim["ticket"] else plain_names([trigger]))
    ):  # fmt: skip
        raise SettleError(f"{held}/{CLAIM} is missing or damaged: move the files back by hand")
    return HeldJob(held, source, tuple(names), trigger, claim["ticket"])


def _ticket_name(name: str) -> bool:
    stem = name.removesuffix(ticketfile.SUFFIX)
    return name.endswith(ticketfile.SUFFIX) and plain_names([stem + ".pdf"])


def redrop(job: HeldJob) -> str:
    """Put a held job's documents, then its ticket, back where they were dropped; never
    over a file dropped since, never through a link. Return the names put back."""
    spool = job.spool
    target = spool.root / job.source if job.source else spool.root
    moves = [(job.path / n, target / n) for n in job.documents]
    if job.ticket:
        moves.append((job.path / TICKET, target / job.trigger))
    for origin, _ in moves:
        if not stat.S_ISREG(origin.lstat().st_mode):
            raise SettleError(f"{origin} is not a plain file: move the files back by hand")
    done: list[tuple[Path, Path]] = []
    try:
        for origin, destination in moves:  # documents first, the ticket (the trigger) last
            rename_noreplace(origin, destination)
            done.append((origin, destination))
    except FileExistsError as exc:
        for origin, destination in reversed(done):
            rename_noreplace(destination, origin)
        raise SettleError(
            f"{exc.filename2 or exc.filename} exists: move it away, then retry"
        ) from None
    for leftover in (CLAIM, RECEIPT):
        (job.path / leftover).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # anything else stays where a person can see it
        job.path.rmdir()
    return ", ".join(d.name for _, d in moves)


def file_cancelled(job: HeldJob, message: str) -> Path:
    """Move a held job to ``failed/`` with its receipt saying why; return where it went."""
    receipt = read_receipt(job.path) or {}
    receipt.update({"outcome": "cancelled", "message": message})
    write_receipt(job.path, receipt, mode=0o640)
    target = job.spool.failed / job.path.name
    rename_noreplace(job.path, target)
    return target


def rename_noreplace(origin: Path, destination: Path) -> None:
    """rename(2) that fails with FileExistsError instead of replacing (renameat2)."""
    libc = ctypes.CDLL(None, use_errno=True)
    at_fdcwd, noreplace = -100, 1
    if libc.renameat2(at_fdcwd, os.fsencode(origin), at_fdcwd, os.fsencode(destination),
                      noreplace) != 0:  # fmt: skip
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error), str(origin), None, str(destination))


def kept_documents(root: Path, name: str, documents: tuple[str, ...]) -> list[Path]:
    """Return the documents of the filed job ``name`` (in done/, failed/ or held/), as
    they were dropped; never what was planted there since (a link, a path)."""
    spool = Spool(root)
    for where in (spool.done, spool.failed, spool.held):
        kept = where / name
        if kept.is_dir() and not kept.is_symlink():
            paths = [kept / document for document in documents]
            for path in paths:
                try:
                    plain = path.parent == kept and stat.S_ISREG(path.lstat().st_mode)
                except (OSError, ValueError):
                    plain = False
                if not plain:
                    raise DocumentError(f"{path}: not a plain file in {kept}")
            return paths
    raise DocumentError(f"{printable(name)}: its documents are no longer in {root}")
