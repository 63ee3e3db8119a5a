"""The hot folder on disk: claiming jobs atomically, and filing them with a receipt.

::

    DIR/                    drop NAME.fax.json and its documents here
    DIR/<folder>/           configured subfolders: every file dropped there is one fax
    DIR/processing/<job>/   claimed jobs (private, 0700): ticket.fax.json, claim.json, documents
    DIR/done/<job>/         accepted: documents, ticket and receipt.json
    DIR/failed/<job>/       refused: the same, and the reason in receipt.json
    DIR/held/<job>/         uncertain (the upload ended, its answer was lost): a person decides

Claiming is a ``rename`` into ``processing/`` on the same filesystem: of two watchers
on one folder (two servers on a shared disk) exactly one wins, and a repeated event finds
nothing left to claim. A job's ``claim.json`` is written before its ticket is moved, so a
watcher killed half-way through a claim finishes it at its next start.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import stat
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faxprint.errors import ConfigError, DocumentError, TicketError
from faxprint.hotfolder import takeover
from faxprint.hotfolder.ticketfile import RESERVED_NAMES, check_name
from faxprint.lease import process_identity

TICKET = "ticket.fax.json"
CLAIM = "claim.json"
RECEIPT = "receipt.json"
RESERVED = RESERVED_NAMES


@dataclass(frozen=True)
class Claim:
    """A job taken out of the drop folder: its folder in processing/ and what it holds."""

    job: str
    path: Path
    source: str  # the subfolder it was dropped in ("" for the top)
    documents: tuple[str, ...]
    ticket: bool  # False: a document dropped without a ticket (folder defaults apply)
    incomplete: tuple[str, ...] = ()  # still being written when the ticket's wait ran out
    foreign: tuple[str, ...] = ()  # another user's: left where they were, never moved


class Spool:
    """The folders of one hot folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.processing = root / "processing"
        self.done = root / "done"
        self.failed = root / "failed"
        self.held = root / "held"

    def prepare(self, folders: Iterable[str] = ()) -> None:
        """Create the working folders and refuse a layout others could take over.

        People who drop files can write to the top folder: unless it is sticky, they could
        rename faxprint's own folders and put links in their place. So the top folder must
        be sticky when others may write to it, and every folder faxprint works in must be
        a real directory (no link) that belongs to the watcher's user.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        top = self.root.lstat()
        if not stat.S_ISDIR(top.st_mode):
            raise ConfigError(f"{self.root} is not a folder (a link is not accepted)")
        _sticky_if_shared(self.root, top, "faxprint's folders")
        for folder, mode in [
            (self.processing, 0o700),
            *((f, 0o750) for f in (self.done, self.failed, self.held)),
        ]:
            _own_folder(folder, mode)
            if folder == self.processing and stat.S_IMODE(folder.lstat().st_mode) != 0o700:
                os.chmod(folder, 0o700, follow_symlinks=False)
        for name in folders:
            if _own_folder(self.root / name, 0o700):
                _like(self.root / name, top)
            # Unless sticky, droppers could rename or delete each other's files there.
            _sticky_if_shared(self.root / name, (self.root / name).lstat(), "each other's files")

    def subfolder_problems(self, folders: Iterable[str]) -> list[str]:
        """Say which configured subfolders are not like the top folder: fewer people may
        drop files there (mode bits, group), or droppers may touch each other's files
        (no sticky bit). Made by hand, or by an older faxprint under a restrictive umask."""
        top = self.root.lstat()
        problems = []
        for name in folders:
            try:
                sub = (self.root / name).lstat()
            except OSError:
                continue  # made when the watcher starts
            missing = stat.S_IMODE(top.st_mode) & ~stat.S_IMODE(sub.st_mode) & 0o3077
            if missing or (top.st_mode & 0o070 and sub.st_gid != top.st_gid):
                problems.append(
                    f"{self.root / name} (mode {stat.S_IMODE(sub.st_mode):o}, group "
                    f"{sub.st_gid}; the top folder: {stat.S_IMODE(top.st_mode):o}, group "
                    f"{top.st_gid})"
                )
        return problems

    def claim(
        self,
        folder: Path,
        trigger: str,
        documents: list[str],
        *,
        ticket: bool,
        incomplete: list[str] | None = None,
    ) -> Claim | None:
        """Move a ticket (or a lone document) and its documents into processing/.

        ``incomplete`` names documents still being written when the ticket's wait ran out:
        the job is claimed to be refused with that reason, never sent, and they stay where
        their writer is writing them. A ticket moves only its own dropper's documents
        (root's may name anyone's): another user's stays where it is, untouched, for its
        owner's own ticket, and the job is refused for it. Returns None when another
        watcher claimed it first.
        """
        stem = trigger.split(".", 1)[0][:40] or "job"
        job = f"{time.strftime('%Y%m%d-%H%M%S')}-{_safe(stem)}-{secrets.token_hex(4)}"
        path = self.processing / job
        path.mkdir(mode=0o700)
        source = "" if folder == self.root else folder.name
        record = {
            "source": source,
            "trigger": trigger,
            "documents": documents,
            "ticket": ticket,
            "incomplete": incomplete or [],
            "owner": process_identity(os.getpid()),
        }
        try:
            _replace_json(path / CLAIM, record)  # whole or not at all
        except OSError:  # a full disk: no claim, and no empty folder left for every rescan
            shutil.rmtree(path, ignore_errors=True)
            raise
        try:
            os.rename(folder / trigger, path / (TICKET if ticket else trigger))
        except FileNotFoundError:  # someone else's now
            shutil.rmtree(path, ignore_errors=True)
            return None
        claim = Claim(job, path, source, tuple(documents), ticket, tuple(incomplete or ()))
        return self._gather(claim, folder)

    def _gather(self, claim: Claim, folder: Path) -> Claim:
        """Move the claim's documents in; return it with those left as another user's."""
        dropper = (claim.path / TICKET).lstat().st_uid if claim.ticket else 0
        foreign = list(claim.foreign)
        for name in claim.documents:
            if name in claim.incomplete or name in foreign:
                continue  # left where its writer, or its owner, has it
            source = folder / name
            try:
                if (claim.path / name).exists() or source.is_dir():
                    continue  # moved already; a folder is never a document
                if dropper and source.lstat().st_uid != dropper:  # checked as it moves
                    foreign.append(name)
                    continue
                os.rename(source, claim.path / name)
            except (FileNotFoundError, UnicodeError):
                continue  # reported when the job is processed: "document not found"
        if foreign == list(claim.foreign):
            return claim
        claim = dataclasses.replace(claim, foreign=tuple(foreign))
        record = read_claim(claim.path) or {}
        _replace_json(claim.path / CLAIM, {**record, "foreign": foreign})
        return claim

    def still_mine(self, claim: Claim) -> bool:
        """Whether a claim this process made is still its own (not taken over by another
        server that took this one for dead): asked before it is tried again."""
        record = read_claim(claim.path)
        return record is not None and record.get("owner") == process_identity(os.getpid())

    def recover(
        self, folders: Iterable[str] = (), leases: Mapping[str, float] | None = None
    ) -> list[Claim]:
        """Return the jobs a dead watcher claimed, finishing claims it left half-done,
        each now this process's.

        Jobs of a watcher that is still running (a second server on a shared disk: its
        lease, ``leases``, is renewed) are its own: they are left alone. Of two servers
        taking a dead one's job over at once, one does (a marker made exclusively).
        """
        claims = []
        for path in sorted(self.processing.iterdir()):
            record = read_claim(path)
            if record is None and leases is not None and takeover.young(path):
                continue  # perhaps another server's claim being made this very moment
            owner = str((record or {}).get("owner", ""))
            if record is not None and takeover.alive(path / CLAIM, owner, leases or {}):
                continue
            if record is not None and not _take_over(path, record):
                continue  # another server took it over first
            trigger = None
            if record is not None:
                trigger = path / (
                    TICKET if record.get("ticket") else str(record.get("trigger", ""))
                )
            if record is None or trigger is None or not trigger.exists():
                self._drop_unclaimed(path)
                continue
            source = str(record.get("source", ""))
            names = record.get("documents", [])
            incomplete = record.get("incomplete", [])
            foreign = record.get("foreign", [])
            if source not in ("", *folders) or not all(
                map(plain_names, (names, incomplete, foreign))
            ):
                write_receipt(path, {"outcome": "invalid", "message": "damaged claim"})
                os.rename(path, self.failed / path.name)
                continue
            claim = Claim(
                path.name,
                path,
                source,
                tuple(names),
                bool(record.get("ticket")),
                tuple(incomplete),
                tuple(foreign),
            )
            claims.append(self._gather(claim, self.root / source if source else self.root))
        return claims

    def _drop_unclaimed(self, path: Path) -> None:
        # A claim cut short before its ticket moved: nothing of a sender's is inside.
        ours = (takeover.MARKER, f".{CLAIM}.")  # the claim's markers, a half-written copy
        leftovers = [p.name for p in path.iterdir()
                     if p.name != CLAIM and not p.name.startswith(ours)]  # fmt: skip
        if leftovers:
            os.rename(path, self.failed / path.name)  # never delete what may be a sender's
        else:
            shutil.rmtree(path, ignore_errors=True)

    def file(self, claim: Claim, where: Path, receipt: dict[str, Any]) -> Path:
        """Move a finished job to done/, failed/ or held/ with its receipt (written whole
        or not at all: a full disk leaves the job in processing/, to be filed later)."""
        write_receipt(claim.path, receipt)
        target = where / claim.job
        os.rename(claim.path, target)
        return target


def read_receipt(folder: Path) -> dict[str, Any] | None:
    """Read a filed job's receipt, never through a link; None if it is no JSON object."""
    try:
        fd = os.open(folder / RECEIPT, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as stream:
            data = json.loads(stream.read(1024 * 1024))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_receipt(folder: Path, receipt: dict[str, Any], mode: int = 0o644) -> None:
    """Replace a filed job's receipt whole (readers never see half of one), replacing a
    planted link rather than following it."""
    _replace_json(folder / RECEIPT, receipt, mode)


def _replace_json(path: Path, data: dict[str, Any], mode: int = 0o600) -> None:
    """Write ``path`` whole or not at all (a full disk leaves no half file, not even a
    hidden one), never through a link."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.unlink(missing_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        with os.fdopen(os.open(temporary, flags, mode), "w") as stream:
            stream.write(json.dumps(data, indent=2) + "\n")
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise


def _sticky_if_shared(folder: Path, info: os.stat_result, what: str) -> None:
    """Refuse a folder others may write into that is not sticky: they could replace
    ``what``."""
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not info.st_mode & stat.S_ISVTX:
        raise ConfigError(
            f"{folder} is writable by others but not sticky: they could replace {what}. "
            f"Run: chmod +t {folder} (e.g. mode 3770)"
        )


def _like(folder: Path, top: os.stat_result) -> None:
    """Give a subfolder just made the top folder's mode (setgid and sticky included) and
    group, whatever the umask: the people who drop files at the top drop them here too."""
    os.chmod(folder, stat.S_IMODE(top.st_mode), follow_symlinks=False)
    if folder.lstat().st_gid != top.st_gid:
        with contextlib.suppress(PermissionError):  # a setgid top has given it already
            os.chown(folder, -1, top.st_gid, follow_symlinks=False)


def _own_folder(folder: Path, mode: int) -> bool:
    """Make ``folder`` (or find it) a real folder of the watcher's; return whether it was
    made now."""
    made = True
    try:
        folder.mkdir(mode=mode)
    except FileExistsError:
        made = False
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise ConfigError(
            f"{folder} must be a folder (not a link or a file) owned by the watcher's user; "
            "move it away and restart"
        )
    return made


def check_file(path: Path, limit: int) -> os.stat_result:
    """Refuse what a hot folder must never send: links, devices, FIFOs, huge files."""
    info = path.lstat()
    name = path.name
    if stat.S_ISLNK(info.st_mode):
        raise DocumentError(f"{name}: is a symbolic link; drop the file itself")
    if not stat.S_ISREG(info.st_mode):
        raise DocumentError(f"{name}: is not a regular file")
    if info.st_nlink != 1:
        raise DocumentError(f"{name}: has other hard links; drop a copy of the file")
    if info.st_size > limit:
        raise DocumentError(
            f"{name}: is {info.st_size // 1048576} MB; the limit is {limit // 1048576} MB"
        )
    return info


def read_ticket_bytes(path: Path, limit: int) -> bytes:
    """Read a ticket without following links, through the descriptor that was checked."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            raise DocumentError(f"{path.name}: a ticket must be a plain file with no other links")
        return stream.read(limit + 1)


def _take_over(path: Path, record: dict[str, Any]) -> bool:
    """Make a dead watcher's claim this process's (:mod:`.takeover`): False when another
    process took it first, or it was filed meanwhile."""
    if not takeover.marked(path, str(record.get("owner", ""))):
        return False
    try:
        _replace_json(path / CLAIM, {**record, "owner": process_identity(os.getpid())})
    except OSError:
        return False
    return True


def plain_names(names: object) -> bool:
    """Tell whether ``names`` is a list of file names a ticket may give (no path, no
    reserved name)."""
    if not isinstance(names, list):
        return False
    try:
        return all(isinstance(n, str) and check_name(n) == n for n in names)
    except TicketError:
        return False


def read_claim(path: Path) -> dict[str, Any] | None:
    """Read a job folder's ``claim.json``; None when it is missing or no JSON object."""
    try:
        record = json.loads((path / CLAIM).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _safe(text: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in text)
