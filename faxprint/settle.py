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
import shutil
import sys
from pathlib import Path
from typing import Any

from faxprint.errors import FaxPrintError
from faxprint.journal import JobRecord, Journal, State
from faxprint.status import INTERRUPTED, shown_state, with_journal
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
    import time

    def work(journal: Journal) -> int:
        found = journal.find(args.job)
        if len(found) != 1:
            from faxprint.status import _ambiguous

            return _ambiguous(args.job, found, time.time())
        job = found[0]
        try:
            done = (retry_job if retry else cancel_job)(journal, job, _folder(args))
        except SettleError as error:
            print(f"faxprint: {error.message}", file=sys.stderr)
            return 1
        print(f"faxprint: {done}")
        return 0

    return with_journal(args, work)


def _folder(args: argparse.Namespace) -> Path | None:
    if args.folder is not None:
        return Path(args.folder)
    from faxprint import config as configuration
    from faxprint.hotfolder.settings import from_table

    return from_table(configuration.load(args.config).hotfolder).path


def _by() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def retry_job(journal: Journal, job: JobRecord, folder: Path | None) -> str:
    """Send ``job`` again on its own path; return what was done, in one line."""
    import time

    state = shown_state(job, time.time())
    if state not in RETRYABLE:
        raise SettleError(f"job {_name(job)} is {state}: only uncertain, interrupted, failed "
                          "or retrying jobs can be sent again")  # fmt: skip
    message = f"released by {_by()} to be sent again"
    if job.source == "cups":
        queue, number = _cups_job(job)
        _decide(journal, job, State.RETRY, message)
        return _cups(queue, number, retry=True)
    if job.source == "hotfolder":
        held = _held(job, folder)
        dropped = _redrop(held)
        _decide(journal, job, State.CANCELLED, f"sent again as a new drop by {_by()}")
        return f"{_name(job)}: {dropped} back in {held.parent.parent}, to be sent as a new job"
    raise SettleError(f"job {_name(job)} came from `faxprint send`, which keeps no copy of its "
                      "documents: run the same `faxprint send` again")  # fmt: skip


def cancel_job(journal: Journal, job: JobRecord, folder: Path | None) -> str:
    """Settle ``job`` as not to be sent; return what was done, in one line."""
    import time

    state = shown_state(job, time.time())
    if state not in CANCELLABLE:
        raise SettleError(f"job {_name(job)} is {state}: only waiting, uncertain or "
                          "interrupted jobs can be cancelled")  # fmt: skip
    message = f"cancelled by {_by()}"
    if job.source != "cups" and state in (State.PENDING.value, State.RETRY.value):
        # Only CUPS can stop a waiting job from being tried again: the watcher and
        # `faxprint send` retry in their own process, and a cancelled job may be sent.
        who = "the watcher" if job.source == "hotfolder" else "its `faxprint send`"
        raise SettleError(
            f"job {_name(job)} is {state}: {who} is still trying it; stop that process to "
            "cancel it (a hot-folder job then waits in processing/)"
        )
    if job.source == "hotfolder":
        held = _held(job, folder)
        _decide(journal, job, State.CANCELLED, message)
        _file_cancelled(held, message)
        return f"{_name(job)}: moved to {held.parent.parent / 'failed' / held.name}"
    _decide(journal, job, State.CANCELLED, message)
    if job.source == "cups":
        queue, number = _cups_job(job)
        return _cups(queue, number, retry=False)
    return f"{_name(job)}: cancelled"


def _decide(journal: Journal, job: JobRecord, state: State, message: str) -> None:
    try:
        journal.settle(job.key, state, message)
    except ValueError as exc:  # accepted, or being sent: both changed since it was read
        raise SettleError(str(exc)) from None


def _name(job: JobRecord) -> str:
    from faxprint.status import source_of

    return source_of(job)


# -- printer jobs ---------------------------------------------------------------------


def _cups_job(job: JobRecord) -> tuple[str, int]:
    parts = job.key.split(":")
    if len(parts) < 4 or not parts[2].isdigit():
        raise SettleError(f"job {printable(job.key)} names no CUPS job")
    return parts[1], int(parts[2])


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


def _held(job: JobRecord, folder: Path | None) -> Path:
    if folder is None:
        raise SettleError("which hot folder? set [hotfolder] path in the config or give --folder")
    held = folder / "held" / job.title
    if not job.title or not (held / "claim.json").is_file():
        raise SettleError(
            f"{held} is not there: only a held job (its upload's answer was lost) can be "
            "settled from the hot folder; a job still in processing/ is the watcher's"
        )
    return held


def _redrop(held: Path) -> str:
    """Put a held job's documents, then its ticket, back where they were dropped."""
    claim = _read_json(held / "claim.json")
    source = str(claim.get("source", ""))
    target = held.parent.parent / source if source else held.parent.parent
    names = [str(n) for n in claim.get("documents", [])]
    moves = [(held / n, target / n) for n in names]
    if claim.get("ticket"):
        moves.append((held / "ticket.fax.json", target / str(claim.get("trigger", ""))))
    for origin, destination in moves:
        if destination.name in ("", ".", "..") or destination.parent != target:
            raise SettleError(f"{held}: its claim is damaged; move the files back by hand")
        if not origin.exists():
            raise SettleError(f"{origin} is missing; move what is left back by hand")
        if destination.exists():
            raise SettleError(f"{destination} exists: move it away, then retry")
    for origin, destination in moves:  # documents first, the ticket (the trigger) last
        os.rename(origin, destination)
    shutil.rmtree(held)  # what is left: claim.json and receipt.json
    return ", ".join(d.name for _, d in moves)


def _file_cancelled(held: Path, message: str) -> None:
    receipt_path = held / "receipt.json"
    receipt = _read_json(receipt_path)
    receipt.update({"outcome": "cancelled", "message": message})
    receipt_path.write_text(json.dumps(receipt, indent=2) + "\n")
    os.rename(held, held.parent.parent / "failed" / held.name)


def _read_json(path: Path) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        record = json.loads(path.read_text())
        if isinstance(record, dict):
            return record
    return {}
