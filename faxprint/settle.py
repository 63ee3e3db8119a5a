"""``faxprint retry`` and ``faxprint cancel``: a person settles a job deliberately.

A job is uncertain (or interrupted) when its upload went out and no answer came back:
only the account's sent faxes tell whether it exists. After checking, the admin either
sends it again or settles it as not to be sent. Waiting printer jobs (``pending``,
``retry``) can be cancelled too: CUPS stops trying them. The watcher and ``faxprint
send`` retry in their own process, so their waiting jobs are refused. What happens on each path:

=============  ======================================  ===================================
path           retry                                   cancel
=============  ======================================  ===================================
printer        journal: ``retry``; the held CUPS job   journal: ``cancelled``; the CUPS
               is released (a completed one, left by   job is cancelled
               a killed backend, is restarted)
hot folder     ``held/JOB`` goes back into the folder  ``held/JOB`` moves to ``failed/``
               as a new drop (its documents, then its  with the receipt saying so;
               ticket); journal: ``cancelled`` (sent   journal: ``cancelled``
               again as a new job)
send           refused: run ``faxprint send`` again    journal: ``cancelled``
=============  ======================================  ===================================

A job being sent right now (its process is alive) is never touched.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import re
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faxprint.cli import EX_USAGE
from faxprint.errors import FaxPrintError
from faxprint.hotfolder.spool import read_receipt, write_receipt
from faxprint.journal import JobRecord, Journal, State
from faxprint.status import INTERRUPTED, ambiguous, shown_state, source_of, with_journal
from faxprint.text import printable

#: What may be settled: waiting jobs and jobs in doubt (shown states).
RETRYABLE = frozenset({State.UNCERTAIN.value, INTERRUPTED, State.RETRY.value, State.FAILED.value})
CANCELLABLE = frozenset(
    {State.UNCERTAIN.value, INTERRUPTED, State.RETRY.value, State.PENDING.value}
)

# CUPS job states (IPP): held, and the three that end a job.
_HELD = 4
_ENDED = (7, 8, 9)


class SettleError(FaxPrintError):
    """The job cannot be settled this way; the message says why and what to do."""


def run_retry(args: argparse.Namespace) -> int:
    """Send a job again: release or restart its CUPS job, or re-drop its held folder."""
    return _settle(args, retry=True)


def run_cancel(args: argparse.Namespace) -> int:
    """Settle a job as not to be sent."""
    return _settle(args, retry=False)


def _settle(args: argparse.Namespace, *, retry: bool) -> int:
    if len(args.job.strip()) < 3:  # "" or "c" would name whichever job is alone
        print("faxprint: give at least 3 characters of the job", file=sys.stderr)
        return EX_USAGE

    def work(journal: Journal) -> int:
        found = journal.find(args.job)
        if len(found) != 1:
            return ambiguous(args.job, found, time.time())
        job = found[0]
        try:
            done = (retry_job if retry else cancel_job)(journal, job, _folder(args))
        except SettleError as error:
            print(f"faxprint: {error.message}", file=sys.stderr)
            return 1
        print(f"faxprint: {done}")
        return 0

    return with_journal(args, work)


@dataclass(frozen=True)
class HotFolder:
    """The hot folder a job may be in, and its configured subfolders."""

    path: Path | None
    subfolders: tuple[str, ...] = ()


def _folder(args: argparse.Namespace) -> HotFolder:
    from faxprint import config as configuration
    from faxprint.hotfolder.settings import from_table

    settings = from_table(configuration.load(args.config).hotfolder)
    path = Path(args.folder) if args.folder is not None else settings.path
    return HotFolder(path, tuple(settings.folders))


def _by() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def retry_job(journal: Journal, job: JobRecord, folder: HotFolder) -> str:
    """Send ``job`` again on its own path; return what was done, in one line."""
    state = shown_state(job, time.time())
    if state not in RETRYABLE:
        raise SettleError(f"job {source_of(job)} is {state}: only uncertain, interrupted, failed "
                          "or retrying jobs can be sent again")  # fmt: skip
    message = f"released by {_by()} to be sent again"
    if job.source == "cups":
        queue, number = _cups_job(job)
        _same_cups_job(job, number)
        _decide(journal, job, State.RETRY, message)
        with _undone_on_failure(journal, job):
            return _cups(queue, number, retry=True)
    if job.source == "hotfolder":
        held, claim = _held(job, folder)
        _decide(journal, job, State.CANCELLED, f"sent again as a new drop by {_by()}")
        with _undone_on_failure(journal, job):
            dropped = _redrop(held, claim)
        return f"{source_of(job)}: {dropped} back in {held.parent.parent}, to be sent as a new job"
    raise SettleError(f"job {source_of(job)} came from `faxprint send`, which keeps no copy of its "
                      "documents: run the same `faxprint send` again")  # fmt: skip


def cancel_job(journal: Journal, job: JobRecord, folder: HotFolder) -> str:
    """Settle ``job`` as not to be sent; return what was done, in one line."""
    state = shown_state(job, time.time())
    if state not in CANCELLABLE:
        raise SettleError(f"job {source_of(job)} is {state}: only waiting, uncertain or "
                          "interrupted jobs can be cancelled")  # fmt: skip
    message = f"cancelled by {_by()}"
    if job.source != "cups" and state in (State.PENDING.value, State.RETRY.value):
        # Only CUPS can stop a waiting job from being tried again: the watcher and
        # `faxprint send` retry in their own process, and a cancelled job may be sent.
        who = "the watcher" if job.source == "hotfolder" else "its `faxprint send`"
        raise SettleError(
            f"job {source_of(job)} is {state}: {who} is still trying it; stop that process to "
            "cancel it (a hot-folder job then waits in processing/)"
        )
    if job.source == "hotfolder":
        held, _ = _held(job, folder)
        _decide(journal, job, State.CANCELLED, message)
        with _undone_on_failure(journal, job):
            _file_cancelled(held, message)
        return f"{source_of(job)}: moved to {held.parent.parent / 'failed' / held.name}"
    done = f"{source_of(job)}: cancelled"
    if job.source == "cups":  # CUPS first: a job CUPS still holds could be run again
        queue, number = _cups_job(job)
        _same_cups_job(job, number)
        done = _cups(queue, number, retry=False)
    _decide(journal, job, State.CANCELLED, message)
    return done


def _decide(journal: Journal, job: JobRecord, state: State, message: str) -> None:
    try:
        journal.settle(job.key, state, message)
    except ValueError as exc:  # accepted, or being sent: both changed since it was read
        raise SettleError(str(exc)) from None


@contextlib.contextmanager
def _undone_on_failure(journal: Journal, job: JobRecord) -> Iterator[None]:
    """If the action after a decision fails, record that the job is as it was."""
    try:
        yield
    except (SettleError, OSError) as exc:
        before = State.UNCERTAIN if job.state is State.SENDING else job.state
        with contextlib.suppress(ValueError, FaxPrintError):
            journal.settle(job.key, before, f"{job.message} (a retry or cancel failed)")
        if isinstance(exc, OSError):
            raise SettleError(
                f"{source_of(job)}: {exc.strerror or exc}; nothing was changed"
            ) from None
        raise


# -- printer jobs ---------------------------------------------------------------------


def _cups_job(job: JobRecord) -> tuple[str, int]:
    parts = job.key.split(":")
    if len(parts) < 4 or not parts[2].isdigit():
        raise SettleError(f"job {printable(job.key)} names no CUPS job")
    return parts[1], int(parts[2])


def _same_cups_job(job: JobRecord, number: int) -> None:
    """Refuse to act when CUPS job ``number`` is not this job any more (cupsd lost its
    state and numbers started again)."""
    import cups

    expected = job.key.split(":", 3)[3]
    try:
        attributes = cups.Connection().getJobAttributes(number, requested_attributes=["job-uuid"])
    except (RuntimeError, cups.IPPError):
        return  # the job is gone: _cups says so
    actual = str(attributes.get("job-uuid", "")).removeprefix("urn:uuid:")
    if actual != expected:
        raise SettleError(
            f"CUPS job {number} is another job now (cupsd lost its state?): settle it with "
            "`lp -i`/`cancel` after checking, or leave it"
        )


def _cups(queue: str, number: int, *, retry: bool) -> str:
    """Release, restart or cancel CUPS job ``number``; say what was done."""
    try:
        import cups
    except ImportError:
        raise SettleError("pycups is missing: install faxprint with its [cups] extras") from None
    try:
        connection = cups.Connection()
        state = int(connection.getJobAttributes(number, requested_attributes=["job-state"])
                    ["job-state"])  # fmt: skip
        if not retry:
            if state in _ENDED:
                return f"{queue}-{number}: settled (the CUPS job had ended already)"
            connection.cancelJob(number)
            return f"{queue}-{number}: cancelled"
        if state == _HELD:
            connection.setJobHoldUntil(number, "no-hold")
            return f"{queue}-{number}: released; the printer sends it again now"
        if state in _ENDED:
            connection.restartJob(number)
            return f"{queue}-{number}: restarted; the printer sends it again now"
        return f"{queue}-{number}: waiting in CUPS; it is sent when its turn comes"
    except cups.IPPError as exc:
        raise SettleError(
            f"CUPS refused for job {queue}-{number}: {printable(str(exc))} (the journal says "
            "it may be sent again; `lp -i JOB -H resume` or `cancel JOB` settle it in CUPS)"
        ) from None
    except RuntimeError as exc:  # no cupsd to talk to
        raise SettleError(f"cannot reach CUPS: {printable(str(exc))}") from None


# -- hot-folder jobs ------------------------------------------------------------------


_JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,250}")


def _held(job: JobRecord, folder: HotFolder) -> tuple[Path, dict[str, Any]]:
    """Return a held job's folder and its checked claim; refuse anything unexpected (the
    folder and the journal are the watcher's user's to write, and this may run as root)."""
    if folder.path is None:
        raise SettleError("which hot folder? set [hotfolder] path in the config or give --folder")
    if not _JOB_NAME.fullmatch(job.title):
        raise SettleError(f"{printable(job.title)!r} is not a hot-folder job's name")
    held = folder.path / "held" / job.title
    try:
        info = held.lstat()
    except FileNotFoundError:
        raise SettleError(
            f"{held} is not there: only a held job (its upload's answer was lost) can be "
            "settled from the hot folder; a job still in processing/ is the watcher's"
        ) from None
    if not stat.S_ISDIR(info.st_mode):
        raise SettleError(f"{held} is not a folder")
    claim = _read_json(held / "claim.json")
    source, names, trigger = claim.get("source"), claim.get("documents"), claim.get("trigger")
    if not (
        isinstance(source, str) and source in ("", *folder.subfolders)
        and isinstance(names, list) and names and all(_plain(n) for n in names)
        and isinstance(claim.get("ticket"), bool) and isinstance(trigger, str)
        and (_plain(trigger) if not claim["ticket"] else _ticket_name(trigger))
    ):  # fmt: skip
        raise SettleError(f"{held}/claim.json is missing or damaged: move the files back by hand")
    return held, claim


def _plain(name: object) -> bool:
    from faxprint.hotfolder.ticketfile import check_name

    try:
        return isinstance(name, str) and check_name(name) == name
    except FaxPrintError:
        return False


def _ticket_name(name: str) -> bool:
    from faxprint.hotfolder.ticketfile import SUFFIX

    return name.endswith(SUFFIX) and _plain(name.removesuffix(SUFFIX) + ".pdf")


def _redrop(held: Path, claim: dict[str, Any]) -> str:
    """Put a held job's documents, then its ticket, back where they were dropped; never
    over a file dropped since, never through a link."""
    source = str(claim["source"])
    target = held.parent.parent / source if source else held.parent.parent
    moves = [(held / str(n), target / str(n)) for n in claim["documents"]]
    if claim["ticket"]:
        moves.append((held / "ticket.fax.json", target / str(claim["trigger"])))
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
    for leftover in ("claim.json", "receipt.json"):
        (held / leftover).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # anything else stays where a person can see it
        held.rmdir()
    return ", ".join(d.name for _, d in moves)


def _file_cancelled(held: Path, message: str) -> None:
    receipt = read_receipt(held) or {}
    receipt.update({"outcome": "cancelled", "message": message})
    write_receipt(held, receipt, mode=0o640)
    rename_noreplace(held, held.parent.parent / "failed" / held.name)


def rename_noreplace(origin: Path, destination: Path) -> None:
    """rename(2) that fails with FileExistsError instead of replacing (renameat2)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    at_fdcwd, noreplace = -100, 1
    if libc.renameat2(at_fdcwd, os.fsencode(origin), at_fdcwd, os.fsencode(destination),
                      noreplace) != 0:  # fmt: skip
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error), str(origin), None, str(destination))


def _read_json(path: Path) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        record = json.loads(path.read_text())
        if isinstance(record, dict):
            return record
    return {}
