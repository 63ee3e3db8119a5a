"""``faxprint retry`` and ``faxprint cancel``: a person settles a job deliberately.

A job is uncertain (or interrupted) when its upload went out and no answer came back:
only the account's sent faxes tell whether it exists. After checking, the admin either
sends it again or settles it as not to be sent. Waiting printer jobs (``pending``,
``retry``) can be cancelled too: CUPS stops trying them, and so can jobs waiting in
``faxprint serve``'s queue (``send --queue``: cancelled through the service, or taken out
of the queue when none runs; retried: put back with their kept documents). The watcher
and ``faxprint send`` retry in their own process, so their waiting jobs are refused. What
happens on each path:

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

A job being sent right now (its process is alive) is never touched. The journal is
decided first and put back if the action after it fails, except for a cancel of a printer
job: CUPS first, as a job CUPS still holds could be run again.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import time
from collections.abc import Iterator
from pathlib import Path

from faxprint.cli.base import Command, ConfigSource
from faxprint.cli.exits import EX_USAGE, say
from faxprint.cli.jobs import EX_NOT_ONE, the_job, with_journal
from faxprint.errors import FaxPrintError, SettleError
from faxprint.jobview import INTERRUPTED, shown_state, source_of
from faxprint.journal import JobRecord, JobStore, State
from faxprint.outcome import Kind

#: What may be settled: waiting jobs and jobs in doubt (shown states).
RETRYABLE = frozenset({State.UNCERTAIN.value, INTERRUPTED, State.RETRY.value, State.FAILED.value})
CANCELLABLE = frozenset(
    {State.UNCERTAIN.value, INTERRUPTED, State.RETRY.value, State.PENDING.value,
     State.UNADDRESSED.value}
)  # fmt: skip


def run_retry(args: argparse.Namespace, config: ConfigSource) -> int:
    """Send a job again: release or restart its CUPS job, or re-drop its held folder."""
    return _settle(args, config, retry=True)


def run_cancel(args: argparse.Namespace, config: ConfigSource) -> int:
    """Settle a job as not to be sent."""
    return _settle(args, config, retry=False)


def _settle(args: argparse.Namespace, config: ConfigSource, *, retry: bool) -> int:
    if len(args.job.strip()) < 3:  # "" or "c" would name whichever job is alone
        return say("give at least 3 characters of the job", EX_USAGE)

    def work(journal: JobStore) -> int:
        job = the_job(journal, args.job, time.time())
        if job is None:
            return EX_NOT_ONE
        folder = _folder(args, config)
        try:
            done = (retry_job if retry else cancel_job)(journal, job, folder)
        except SettleError as error:  # the request, not the job: the same 1 as no such job
            return say(error.message, EX_NOT_ONE)
        print(f"faxprint: {done}")
        return 0

    return with_journal(args, config, work)


def _folder(args: argparse.Namespace, config: ConfigSource) -> tuple[Path | None, tuple[str, ...]]:
    """The hot folder a job may be held in, and its configured subfolders."""
    from faxprint.hotfolder.settings import from_table

    settings = from_table(config.load().hotfolder)
    return (args.folder if args.folder is not None else settings.path), tuple(settings.folders)


def _by() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


Folder = tuple[Path | None, tuple[str, ...]]


def retry_job(journal: JobStore, job: JobRecord, folder: Folder) -> str:
    """Send ``job`` again on its own path; return what was done, in one line."""
    from faxprint.cups import jobs as cups_jobs
    from faxprint.hotfolder import held

    state = shown_state(job, time.time())
    if state not in RETRYABLE:
        raise SettleError(f"job {source_of(job)} is {state}: only uncertain, interrupted, failed "
                          "or retrying jobs can be sent again")  # fmt: skip
    if job.source != Kind.CUPS and journal.work_item(job.key) is not None:
        # held in faxprint serve's queue with its documents: the service sends it again
        _decide(journal, job, State.RETRY, f"released by {_by()} to be sent again")
        journal.put_back(job.key)
        return f"{source_of(job)}: back in faxprint serve's queue, to be sent again now"
    if job.source == Kind.CUPS:
        printer_job = cups_jobs.CupsJob.of(job.key, job.server)
        cups_jobs.check_same(printer_job)
        _decide(journal, job, State.RETRY, f"released by {_by()} to be sent again")
        with _undone_on_failure(journal, job):
            return cups_jobs.release(printer_job)
    if job.source == Kind.HOTFOLDER:
        kept = held.find_held(folder[0], job.title, folder[1])
        _decide(journal, job, State.CANCELLED, f"sent again as a new drop by {_by()}")
        with _undone_on_failure(journal, job):
            dropped = held.redrop(kept)
        return f"{source_of(job)}: {dropped} back in {kept.spool.root}, to be sent as a new job"
    raise SettleError(f"job {source_of(job)} came from `faxprint send`, which keeps no copy of its "
                      "documents: run the same `faxprint send` again")  # fmt: skip


def cancel_job(journal: JobStore, job: JobRecord, folder: Folder) -> str:
    """Settle ``job`` as not to be sent; return what was done, in one line."""
    from faxprint.cups import jobs as cups_jobs
    from faxprint.hotfolder import held

    state = shown_state(job, time.time())
    if state not in CANCELLABLE:
        raise SettleError(f"job {source_of(job)} is {state}: only waiting, uncertain or "
                          "interrupted jobs can be cancelled")  # fmt: skip
    message = f"cancelled by {_by()}"
    if job.source != Kind.CUPS and journal.work_item(job.key) is not None:
        return _cancel_queued(journal, job, message)
    if job.source != Kind.CUPS and state in (State.PENDING.value, State.RETRY.value):
        # Only CUPS can stop a waiting job from being tried again: the watcher and
        # `faxprint send` retry in their own process, and a cancelled job may be sent.
        who = "the watcher" if job.source == Kind.HOTFOLDER else "its `faxprint send`"
        raise SettleError(
            f"job {source_of(job)} is {state}: {who} is still trying it; stop that process to "
            "cancel it (a hot-folder job then waits in processing/)"
        )
    if job.source == Kind.HOTFOLDER:
        kept = held.find_held(folder[0], job.title, folder[1])
        _decide(journal, job, State.CANCELLED, message)
        with _undone_on_failure(journal, job):
            filed = held.file_cancelled(kept, message)
        return f"{source_of(job)}: moved to {filed}"
    done = f"{source_of(job)}: cancelled"
    if job.source == Kind.CUPS:  # CUPS first: a job CUPS still holds could be run again
        printer_job = cups_jobs.CupsJob.of(job.key, job.server)
        cups_jobs.check_same(printer_job)
        done = cups_jobs.cancel(printer_job)
    _decide(journal, job, State.CANCELLED, message)
    from faxprint.cups.waiting import forget_waiting

    forget_waiting(journal.path, job.key)  # an unaddressed job's previews' copy
    return done


def _cancel_queued(journal: JobStore, job: JobRecord, message: str) -> str:
    """Cancel a job waiting in faxprint serve's queue: through the service when it runs
    (an upload in hand stops unless all of it left), else out of the queue here."""
    from faxprint.link import wire
    from faxprint.service.queue import remove_folder

    connection = wire.connect(wire.socket_path(journal.path), timeout=10.0)
    if connection is not None:
        with connection:
            wire.send(connection, {"op": "cancel", "key": job.key})
            said = next(wire.messages(connection), {}).get("said", "asked")
        return f"{source_of(job)}: {said}"
    item = journal.finish_work(job.key)
    if item is not None:
        remove_folder(item.folder)
    _decide(journal, job, State.CANCELLED, message)
    return f"{source_of(job)}: cancelled (taken out of faxprint serve's queue)"


def _decide(journal: JobStore, job: JobRecord, state: State, message: str) -> None:
    try:
        journal.settle(job.key, state, message)
    except ValueError as exc:  # accepted, or being sent: both changed since it was read
        raise SettleError(str(exc)) from None


@contextlib.contextmanager
def _undone_on_failure(journal: JobStore, job: JobRecord) -> Iterator[None]:
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


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job", metavar="JOB", help="as for `faxprint show`")
    parser.add_argument("--folder", type=Path, help="the hot folder (default: [hotfolder] path)")


def _described(name: str, summary: str) -> Command:
    retry = name == "retry"
    description = (
        f"{summary[0].upper()}{summary[1:]}: a printer job's CUPS job is "
        + ("released (or restarted)" if retry else "cancelled")
        + "; a hot-folder job in held/ "
        + ("goes back into the folder as a new drop." if retry
           else "moves to failed/ with its receipt saying so.")
        + " Check the account's sent faxes first: an uncertain job may have been sent."
    )  # fmt: skip
    run = run_retry if retry else run_cancel
    return Command(name, run, _arguments, help=summary, description=description)


COMMANDS = (
    _described("retry", "send an uncertain, interrupted or failed job again"),
    _described("cancel", "settle a waiting or uncertain job as not to be sent"),
)
