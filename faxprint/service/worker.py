"""One queued item, done by one of the service's workers: a printer job planned into the
faxes it becomes, or a fax sent. What became of it goes to the journal first, then to
whoever waits for it (:class:`~faxprint.service.hub.Hub`).

A fax that was sent or refused leaves the queue with its documents. One that may have been
sent (the answer was lost) stays, held for a person, its documents kept. One that could
not be sent now goes back to the queue, due after the service's wait or the policy's
backoff: the service, not cupsd, tries it again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from faxprint import config as configuration
from faxprint.cancellation import Cancellation
from faxprint.covering import Covers
from faxprint.cups import faxes as planning
from faxprint.cups import report
from faxprint.cups.job import hold_unaddressed
from faxprint.cups.jobticket import request
from faxprint.cups.names import nothing_from_cupsd
from faxprint.cups.options import parse_options
from faxprint.cups.waiting import forget_waiting, keep_waiting
from faxprint.errors import CancelledError, DocumentError, FaxPrintError
from faxprint.journal import HELD, JobRecord, Journal, State, WorkItem, open_journal
from faxprint.outcome import JobKey, Kind, Outcome, Source, Status
from faxprint.service.hub import Hub, base
from faxprint.service.queue import (
    FaxSpec,
    PrintSpec,
    new_folder,
    remove_folder,
    retire_folder,
)
from faxprint.submitter import Submitter

logger = logging.getLogger(__name__)

#: Seconds before an item whose account the admin must fix is tried again.
BLOCKED_RETRY = 300.0
#: What becomes of a fax's queue item after its outcome.
SETTLED = {Status.ACCEPTED, Status.INVALID, Status.REJECTED, Status.EXPIRED, Status.CANCELLED}


class Worker:
    """Does queued items for the service; one instance serves every worker thread."""

    def __init__(
        self, settings: configuration.Config, hub: Hub,
        turn: Callable[[str], tuple[float, str]] | None = None, printer_wait: float = 5.0,
    ) -> None:  # fmt: skip
        self.settings = settings
        self.hub = hub
        # An account's turn to upload: (0, "") taken now, else (seconds to wait, the rate)
        self.turn = turn or (lambda account: (0.0, ""))
        self.printer_wait = printer_wait
        self.cancellations: dict[str, Cancellation] = {}

    def run(self, key: str) -> None:
        """Do the item ``key`` (if it is still there and no one else has it)."""
        try:
            with open_journal(self.settings) as journal:
                item = journal.take(key)
                if item is None:
                    return
                if item.kind == "print":
                    self._plan(journal, item)
                else:
                    self._send(journal, item)
        except Exception as exc:  # a bug or a journal fault: the item waits, nothing lost
            frames = "".join(traceback.format_tb(exc.__traceback__))
            logger.error("item %s failed (%s); tried again in a minute", key, type(exc).__name__)
            logger.debug("%s", frames)
            with open_journal(self.settings) as journal:
                journal.put_back(key, not_before=time.time() + 60)

    def cancel(self, key: str) -> str:
        """Cancel the item ``key``: its upload in hand stops (unless all of it is with the
        service), a queued one ends cancelled; say which."""
        running = self.cancellations.get(key)
        if running is not None:
            running.request()
            return "the upload in hand stops, unless all of it reached the service already"
        with open_journal(self.settings) as journal:
            item = journal.finish_work(key)
            if item is None:
                return "not queued"
            remove_folder(item.folder)
            if item.kind == "print" and journal.get(key) is None:  # not planned yet
                spec = PrintSpec.of(item)
                journal.begin(key, source=Kind.CUPS, account=item.account, recipients=[],
                              documents=list(spec.documents), pages=None, user=spec.user,
                              title=spec.title)  # fmt: skip
            with contextlib.suppress(ValueError, KeyError):
                journal.settle(key, State.CANCELLED, "cancelled before it was sent")
        self._verdict(key, report.CANCEL, ["INFO: Fax cancelled before it was sent"])
        return "cancelled before it was sent"

    # -- printer jobs ---------------------------------------------------------------

    def _plan(self, journal: Journal, item: WorkItem) -> None:
        forget_waiting(journal.path, item.key)  # back, addressed (or not): planned anew
        spec = PrintSpec.of(item)
        key = JobKey.parse(item.key)
        source = Source(Kind.CUPS, user=spec.user, title=spec.title)
        sources = spec.sources(Path(item.folder))
        try:
            account = self.settings.account(item.account)
            assert key is not None, item.key
            asked = request(parse_options(spec.options))
            if not sources:
                raise DocumentError(nothing_from_cupsd(spec.content_type))
            covers = Covers.of(self.settings, account.name)
            faxes = planning.plan(asked, sources, key, journal, self.settings.limits,
                                  Path(item.folder), covers, journal.get)  # fmt: skip
            if not faxes:
                names = [s.name or "" for s in sources]
                message = hold_unaddressed(journal, self.settings.printer, item.key, source,
                                           account.name, names)  # fmt: skip
                self._hold(journal, item)
                self._verdict(item.key, report.HOLD, [f"WARNING: Fax {message}"])
                return
        except FaxPrintError as error:
            self._refuse(journal, item, source, error)
            return
        self._queue_faxes(journal, item, faxes, source, account.name)

    def _queue_faxes(
        self, journal: Journal, item: WorkItem, faxes: list[planning.Fax], source: Source,
        account: str,
    ) -> None:  # fmt: skip
        """Queue each fax of a planned printer job (in one transaction with the job's
        leaving the queue), journal the refused ones; a merge's printer job ends now."""
        items, refused = [], []
        for fax in faxes:
            documents = [s.name or s.path.name for s in fax.sources]
            if fax.refusal is not None or fax.ticket is None:
                error = fax.refusal or FaxPrintError("no ticket")
                journal.refused(
                    fax.key, error.message, source=source.kind, account=account,
                    documents=documents, user=source.user, title=source.title,
                )  # fmt: skip
                refused.append(f"{fax.where or 'the fax'}: {error.message}")
                continue
            folder = new_folder(journal.path)
            moved = tuple(replace(s, path=_move(s.path, folder)) for s in fax.sources)
            spec = FaxSpec(fax.ticket, moved, source, release=True)
            items.append(spec.item(fax.key, account, folder))
            recipients = [r.text() for r in fax.ticket.recipients]
            journal.begin(
                fax.key, source=source.kind, account=account, recipients=recipients,
                documents=documents, pages=None, user=source.user, title=source.title,
            )  # fmt: skip
        journal.enqueue(items, replacing=item.key)
        remove_folder(item.folder)
        if not items:  # nothing to send: the printer job ends refused
            self._verdict(item.key, report.CANCEL, [f"ERROR: Fax not sent: {refused[0]}"])
        elif len(faxes) == 1:
            self._go_on(journal, items[0])
        else:  # a merge goes on without holding the printer
            said = [f"INFO: {len(faxes)} faxes handed to faxprint serve, {len(items)} to send: "
                    f"`faxprint show {_name(item.key)}` follows them"]  # fmt: skip
            said += [f"ERROR: refused {line}" for line in refused[:3]]
            self._verdict(item.key, report.OK, said)

    def _go_on(self, journal: Journal, item: WorkItem) -> None:
        """A printer job that is one fax: sent now when its account has a turn free (no
        second trip through the queue), else left queued, and the printer told when it
        goes if that is beyond its wait."""
        wait, rate = self.turn(item.account)
        if wait > 0:
            if wait > self.printer_wait:
                self._verdict(item.key, report.OK, [later(wait, rate)])
            return
        taken = journal.take(item.key)
        if taken is None:
            return
        try:
            self._send(journal, taken)
        except Exception:  # as run() does for an item it took: nothing lost
            logger.exception("fax %s failed; tried again in a minute", item.key)
            journal.put_back(item.key, not_before=time.time() + 60)

    def _refuse(
        self, journal: Journal, item: WorkItem, source: Source, error: FaxPrintError
    ) -> None:
        outcome = Outcome.refused(item.key, error)
        if outcome.status is Status.INVALID:
            journal.refused(item.key, error.message, source=source.kind, account=item.account,
                            user=source.user, title=source.title)  # fmt: skip
        self._settle(journal, item)
        self._verdict(item.key, report.EXIT_STATUS[outcome.status], [f"ERROR: {error.message}"])

    # -- faxes ----------------------------------------------------------------------

    def _send(self, journal: Journal, item: WorkItem) -> None:
        spec = FaxSpec.of(item)
        cancellation = Cancellation()
        self.cancellations[item.key] = cancellation
        try:
            account = self.settings.account(item.account)
            retry = replace(self.settings.retry, tries=1)  # the service tries again itself
            submitter = Submitter.configured(self.settings, account, journal, retry=retry,
                                             pacer=None, sleep=cancellation.sleep)  # fmt: skip
            outcome = submitter.submit(item.key, spec.ticket, list(spec.documents),
                                       source=spec.source, progress=cancellation.progress,
                                       release=spec.release)  # fmt: skip
        except CancelledError as error:
            outcome = Outcome.refused(item.key, error)
        except FaxPrintError as error:
            outcome = Outcome.refused(item.key, error)
        finally:
            self.cancellations.pop(item.key, None)
        self._after(journal, item, spec, outcome)

    def _after(self, journal: Journal, item: WorkItem, spec: FaxSpec, outcome: Outcome) -> None:
        """Settle the item by its outcome, and say it."""
        if outcome.status in SETTLED:
            self._settle(journal, item)
        elif outcome.status is Status.UNCERTAIN:
            journal.put_back(item.key, not_before=HELD)  # a person decides; documents kept
        else:
            delay = outcome.retry_after or (
                BLOCKED_RETRY if outcome.status in (Status.ACCOUNT, Status.CONFIG)
                else self.settings.retry.delay(max(1, outcome.attempts))
            )  # fmt: skip
            journal.put_back(item.key, not_before=time.time() + delay)
            if outcome.status is Status.DEFERRED:
                self.hub.publish(item.key, _fax_event(outcome))
                if item.key == base(item.key) and spec.source.kind is Kind.CUPS:
                    self._verdict(item.key, report.OK, [
                        f"WARNING: Fax not sent yet: {outcome.message}; faxprint serve tries "
                        f"again in {delay:.0f} s (`faxprint show {_name(item.key)}`)"])  # fmt: skip
                return
        self.hub.publish(item.key, _fax_event(outcome))
        if item.key == base(item.key):
            self._verdict(item.key, report.EXIT_STATUS[outcome.status], report.lines(outcome))

    def _hold(self, journal: Journal, item: WorkItem) -> None:
        """A printer job nothing addresses leaves the queue; its documents are kept for
        the outbox's previews while it waits (a cancelled one's go)."""
        journal.finish_work(item.key)
        job = journal.get(item.key)
        if job is not None and job.state is State.UNADDRESSED:
            keep_waiting(item.folder, journal.path, item.key)
        else:
            remove_folder(item.folder)

    def _settle(self, journal: Journal, item: WorkItem) -> None:
        gone = retire_folder(item.folder)  # first: a kill leaves no folder nothing names
        journal.finish_work(item.key)
        remove_folder(gone)

    def _verdict(self, key: str, status: int, lines: list[str]) -> None:
        self.hub.publish(key, {"event": "verdict", "exit": status, "lines": lines}, last=True)


def later(wait: float, rate: str) -> str:
    """The printer's line for a fax whose turn is beyond the printer's wait."""
    return (f"INFO: Fax queued: its turn within the account's rate ({rate}) comes in "
            f"{wait:.0f} s; faxprint serve sends it then")  # fmt: skip


def ended(record: JobRecord | None, key: str) -> dict[str, Any]:
    """The verdict of a job the queue no longer has, as the journal has it."""
    if record is None:
        return {"event": "verdict", "exit": report.OK, "lines": [
            f"INFO: faxprint serve has no work left for this job: `faxprint show {_name(key)}` "
            "says where its faxes stand"]}  # fmt: skip
    words = {State.ACCEPTED: (report.OK, "INFO: Fax accepted"),
             State.FAILED: (report.CANCEL, "ERROR: Fax not sent"),
             State.CANCELLED: (report.CANCEL, "INFO: Fax cancelled"),
             State.UNCERTAIN: (report.HOLD, "ERROR: Fax held"),
             State.UNADDRESSED: (report.HOLD, "WARNING: Fax waits for an address")}  # fmt: skip
    status, line = words.get(record.state, (report.OK, "INFO: Fax queued"))
    return {"event": "verdict", "exit": status,
            "lines": [f"{line}: {record.message}" if record.message else line]}  # fmt: skip


def _fax_event(outcome: Outcome) -> dict[str, Any]:
    return {"event": "fax", "status": outcome.status.value, "message": outcome.message,
            "pages": outcome.pages, "recipients": outcome.recipients}  # fmt: skip


def _move(path: Path, folder: Path) -> Path:
    target = folder / path.name
    os.replace(path, target)
    return target


def _name(key: str) -> str:
    parsed = JobKey.parse(key)
    return f"{parsed.printer}-{parsed.job_id}" if parsed is not None and parsed.printer else key
