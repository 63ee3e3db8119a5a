"""The submitter: the one path from a ticket and its documents to an outcome.

Both entry points (the CUPS backend, the hot folder) and ``faxprint send`` use it. It
checks the documents, records the job in the journal, refuses to send a job the journal
says was accepted (or may have been), uploads through the account's transport with
bounded retries, and records how every attempt ended. Entry points turn the
:class:`Outcome` into what their users see.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from faxprint import documents as docs
from faxprint.config import Account, Config, Limits, RetryPolicy
from faxprint.documents import Document
from faxprint.errors import (
    CancelledError,
    DocumentError,
    FaxPrintError,
    JournalError,
    ServiceError,
    ServiceUnavailable,
    TicketError,
    UncertainError,
)
from faxprint.journal import SENDABLE, JobRecord, Journal, State
from faxprint.outcome import Outcome, Source, Status, status_of
from faxprint.text import printable
from faxprint.ticket import Ticket
from faxprint.transports import Progress, Receipt, Transport, delivery_outcome

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocumentSource:
    """A document to fax: where it is and the name its sender knows it by."""

    path: Path
    name: str | None = None


_SETTLED: dict[State, Status] = {
    State.ACCEPTED: Status.ACCEPTED,
    State.UNCERTAIN: Status.UNCERTAIN,
}


class Submitter:
    """Send faxes through one account's transport, recording everything in the journal."""

    def __init__(
        self,
        account: Account,
        journal: Journal,
        *,
        transport: Transport,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        resend_uncertain: bool = False,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.account = account
        self.journal = journal
        self.transport = transport
        # The last net under every text that reaches the journal, a log or a person:
        # the transports hide the secrets in what services say; this hides them in
        # whatever else an error may quote.
        self._hide = account.redactor()
        self.retry = retry or RetryPolicy()
        self.limits = limits or Limits()
        self.resend_uncertain = resend_uncertain
        self.clock = clock
        self.sleep = sleep

    @classmethod
    def configured(
        cls, config: Config, account: Account, journal: Journal, **overrides: Any
    ) -> Submitter:
        """Build the submitter an entry point uses: the account's transport, the config's
        retry policy and uncertain-job policy; keyword ``overrides`` replace any of them."""
        from faxprint.transports import for_account, state_folder

        settings: dict[str, Any] = {
            "transport": for_account(account, state_folder(journal.path, os.geteuid())),
            "retry": config.retry,
            "limits": config.limits,
            "resend_uncertain": config.uncertain == "resend",
        }
        return cls(account, journal, **{**settings, **overrides})

    def submit(
        self,
        key: str,
        ticket: Ticket,
        sources: Sequence[DocumentSource],
        *,
        source: Source,
        progress: Progress | None = None,
        release: bool = False,
    ) -> Outcome:
        """Fax ``sources`` to the ticket's recipients once, whatever happened before.

        ``release`` sends a job an earlier run left uncertain: a person checked and chose
        to send it again (releasing a held CUPS job says so).
        """
        known = self.journal.get(key)
        interrupted = False
        if known is not None and known.state is State.SENDING:
            # What an earlier sender left comes first: a live one's job is its own, and
            # one whose sender died (or this process's own try) may have gone: uncertain.
            known = self.journal.unstick(key)
            if known.state is State.SENDING:
                return self._outcome(
                    Status.DEFERRED, _busy(known), known.pages, len(ticket.recipients)
                )
            interrupted = True  # uncertain as of now: no person has decided on it yet
        force = not interrupted and (self.resend_uncertain or (release and known is not None))
        if known is not None and known.state is State.UNCERTAIN and _can_look(self.transport):
            # The service keeps a record of what it accepted: ask it, not a person.
            # Since the last upload began; the service has had time since the job became
            # uncertain (known.updated), so a look or two will do.
            found = self._settle_lost(key, ticket, self._last_start(key), known.updated)
            if isinstance(found, Outcome):
                return found
            force = force or found is None
        if (
            known is not None
            and known.state in _SETTLED
            and not (force and known.state is State.UNCERTAIN)
        ):
            return self._settled(known, len(ticket.recipients))
        with contextlib.ExitStack() as scratch:  # what the transport made of the documents
            refusal: FaxPrintError | None = None
            try:
                documents = self._prepare(self.inspect(ticket, sources), scratch)
            except CancelledError:
                raise
            except FaxPrintError as error:  # refused, or not now (a full disk, no gs)
                documents, refusal = [], error
            return self._record_and_send(key, ticket, sources, documents, refusal, source,
                                         progress, force)  # fmt: skip

    def _record_and_send(
        self,
        key: str,
        ticket: Ticket,
        sources: Sequence[DocumentSource],
        documents: list[Document],
        refusal: FaxPrintError | None,
        source: Source,
        progress: Progress | None,
        force: bool,
    ) -> Outcome:
        recipients = [r.text() for r in ticket.recipients]
        names = [s.name or s.path.name for s in sources]
        pages = _total_pages(documents) if documents else None
        job = self.journal.begin(
            key,
            source=source.kind,
            account=self.account.name,
            recipients=recipients,
            documents=names,
            pages=pages,
            user=source.user,
            title=source.title,
        )
        if refusal is not None:  # recorded too: "did my fax go?" has an answer
            return self._refused(job, refusal, len(recipients))
        try:
            return self._send(key, ticket, documents, pages, progress, force)
        except CancelledError:
            # A cancel may land anywhere, also between the journal's commit of "sending"
            # and the handler in _send: never leave this process's job "sending" behind.
            self.journal.abandon(key)
            raise

    def _refused(self, job: JobRecord, error: FaxPrintError, count: int) -> Outcome:
        """Record why a job cannot be sent now: the verdict of a job waiting to be sent.
        A job that may have gone (uncertain, released by a person; or being sent by
        another process meanwhile) keeps its state: this run sends nothing of it."""
        error = error.hiding(self._hide)
        status = status_of(error)
        if job.state in SENDABLE:
            job = self.journal.finish(
                job.key, STATE_AFTER[status], code=error.code, message=error.message
            )
        outcome = Outcome(status, error.message, job.key, job.attempts, None, count, error.code)
        return replace(outcome, retry_after=error.retry_after)

    def _prepare(self, documents: list[Document], scratch: contextlib.ExitStack) -> list[Document]:
        """Let the transport make the documents what its service takes (RingCentral REST:
        PostScript as PDF, safe file names), in a temporary folder that lasts the job;
        its refusals come before anything is sent."""
        prepare = getattr(self.transport, "prepare", None)
        if not callable(prepare):
            return documents
        try:
            workdir = scratch.enter_context(
                tempfile.TemporaryDirectory(prefix="faxprint-", ignore_cleanup_errors=True)
            )
        except OSError as exc:  # a full disk: nothing was sent, try again later
            raise ServiceUnavailable(
                f"no temporary folder for the documents: {exc.strerror}"
            ) from None
        prepared = list(prepare(documents, Path(workdir)))
        self._check_pages(prepared)  # PostScript's pages are known once it is a PDF
        return prepared

    def inspect(self, ticket: Ticket, sources: Sequence[DocumentSource]) -> list[Document]:
        """Check the job against the limits and every document; raise InputError if it
        cannot be faxed. Sizes are checked before any document is read."""
        limits = self.limits
        if len(ticket.recipients) > limits.max_recipients:
            raise TicketError(
                f"{len(ticket.recipients)} recipients; a job may have at most "
                f"{limits.max_recipients} (limits.max_recipients)"
            )
        if not sources:
            raise DocumentError("no document to fax")
        total = 0
        for source in sources:
            size = _size(source.path)
            if size > limits.max_document_mb * _MB:
                shown = printable(source.name or source.path.name)
                raise DocumentError(
                    f"{shown}: {_mb(size)} MB; a document may have "
                    f"at most {limits.max_document_mb:g} MB (limits.max_document_mb)"
                )
            total += size
        if total > limits.max_job_mb * _MB:
            raise DocumentError(
                f"the documents come to {_mb(total)} MB; a job may have at most "
                f"{limits.max_job_mb:g} MB (limits.max_job_mb)"
            )
        documents = [docs.inspect(s.path, filename=s.name) for s in sources]
        self._check_pages(documents)
        return documents

    def _check_pages(self, documents: Sequence[Document]) -> None:
        pages = sum(d.pages or 0 for d in documents)
        if pages > self.limits.max_pages:
            raise DocumentError(
                f"{pages} pages; a job may have at most {self.limits.max_pages} (limits.max_pages)"
            )

    def _send(
        self,
        key: str,
        ticket: Ticket,
        documents: Sequence[Document],
        pages: int | None,
        progress: Progress | None,
        force: bool,
    ) -> Outcome:
        count = len(ticket.recipients)
        for attempt in range(1, self.retry.tries + 1):
            job = self.journal.get(key)
            assert job is not None
            if self._out_of_budget(job):
                if job.state is State.FAILED:  # given up already: say it again, unchanged
                    return self._outcome(Status.EXPIRED, job, pages, count)
                done = self.journal.finish(key, State.FAILED, code=job.code, message=_expired(job))
                return self._outcome(Status.EXPIRED, done, pages, count)
            if (deferred := self._wait_out_pause(job, attempt, pages, count)) is not None:
                return deferred
            job = self.journal.start_attempt(key, force=force)
            if job.state is State.SENDING and job.owner != self.journal.owner:
                return self._outcome(Status.DEFERRED, _busy(job), pages, count)
            if job.state is not State.SENDING:
                return self._settled(job, count)
            started = self.clock()
            try:
                logger.debug("sending %s to %d recipient(s), attempt %d", key, count, job.attempts)
                receipt = self.transport.send(
                    ticket,
                    documents,
                    now=datetime.fromtimestamp(self.clock(), UTC),
                    progress=progress,
                )
            except FaxPrintError as raised:
                after = self._failed(key, ticket, job, raised, started, attempt, pages)
                if isinstance(after, Outcome):
                    return after
                logger.warning("attempt %d failed: %s", job.attempts, after[1])
                self.sleep(after[0])
                continue
            except Exception as exc:
                return self._internal_error(key, exc, pages, count)
            return self._accept(key, receipt, job.attempts, pages, count)
        raise AssertionError("unreachable: the last try always returns")

    def _failed(
        self,
        key: str,
        ticket: Ticket,
        job: JobRecord,
        raised: FaxPrintError,
        started: float,
        attempt: int,
        pages: int | None,
    ) -> Outcome | tuple[float, str]:
        """Record how an attempt failed; return the outcome, or how long to wait before
        the next try in this run (and why). A cancel is raised again once recorded."""
        count = len(ticket.recipients)
        error = raised.hiding(self._hide)
        found = self._look_if_lost(key, ticket, error, started, pages)
        if isinstance(found, Outcome):
            return found
        error = found
        status = status_of(error)
        try:
            done = self.journal.finish(
                key, STATE_AFTER[status], code=error.code, message=error.message
            )
        except JournalError as fault:  # the verdict stands; say it, and why unrecorded
            if status is Status.CANCELLED:
                raise raised from None
            outcome = Outcome(status, error.message, key, job.attempts, pages, count,
                              error.code, retry_after=error.retry_after)  # fmt: skip
            return self._unrecorded(outcome, fault)
        if status is Status.DEFERRED and self._out_of_budget(done):
            # That was the last attempt the policy allows: say so now, not next run.
            done = self.journal.finish(key, State.FAILED, code=done.code, message=_expired(done))
            return self._outcome(Status.EXPIRED, done, pages, count)
        wait = self._pause(status, attempt, error)
        if wait is not None:
            return wait, error.message
        if status is Status.CANCELLED:
            raise raised
        outcome = self._outcome(status, done, pages, count)
        return replace(outcome, retry_after=error.retry_after)

    def _internal_error(self, key: str, exc: Exception, pages: int | None, count: int) -> Outcome:
        """A bug, not a verdict of the service: where the upload got is unknown, so the
        job is held as uncertain rather than lost or sent again."""
        message = f"internal error ({type(exc).__name__}) while sending; please report it"
        done = self.journal.finish(key, State.UNCERTAIN, message=message)
        # Frames only: an exception's message may quote a value such as a password.
        frames = "".join(traceback.format_tb(exc.__traceback__))
        logger.debug("internal error while sending %s:\n%s", key, frames)
        return self._outcome(Status.UNCERTAIN, done, pages, count)

    def _accept(
        self, key: str, receipt: Receipt, attempts: int, pages: int | None, count: int
    ) -> Outcome:
        message = self._hide(receipt.message)
        accepted = Outcome(Status.ACCEPTED, message, key, attempts, pages, count, receipt.code,
                           message_id=receipt.message_id, delivery=receipt.delivery)  # fmt: skip
        try:
            done = self.journal.finish(key, State.ACCEPTED, code=receipt.code, message=message)
            if receipt.message_id:
                self.journal.record_delivery(
                    key, receipt.message_id, receipt.delivery, delivery_outcome(receipt.delivery)
                )
        except JournalError as fault:  # the service accepted it: that is the news
            return self._unrecorded(accepted, fault)
        return replace(accepted, attempts=done.attempts, message=done.message)

    @staticmethod
    def _unrecorded(outcome: Outcome, fault: JournalError) -> Outcome:
        """The service's verdict, which the journal could not record: the caller says
        both, the verdict first."""
        logger.error("the journal could not record that job %s was %s: %s",
                     outcome.key, outcome.status.value, fault.message)  # fmt: skip
        return replace(outcome, unrecorded=fault.message)

    def _wait_out_pause(
        self, job: JobRecord, attempt: int, pages: int | None, count: int
    ) -> Outcome | None:
        """Wait out a pause the service asked every process for (a 429's Retry-After)
        when this run may; else defer the job without an attempt, which would be refused
        unasked anyway. Return the deferred outcome, or None to go on."""
        paused = getattr(self.transport, "paused", None)
        seconds = float(paused()) if callable(paused) else 0.0
        if seconds <= 0 or job.state not in SENDABLE:  # another's, or a person's to decide
            return None
        if attempt < self.retry.tries and seconds <= self.retry.max_backoff:
            self.sleep(seconds)
            return None
        message = f"waiting {seconds:.0f} s more, as the service asked (rate limit)"
        waiting = self.journal.finish(job.key, State.RETRY, code=job.code, message=message)
        outcome = self._outcome(Status.DEFERRED, waiting, pages, count)
        return replace(outcome, retry_after=seconds)

    def _pause(self, status: Status, attempt: int, error: FaxPrintError) -> float | None:
        """Return how long to wait before trying again in this run, None to stop here.

        At least what the service asked for (Retry-After); a longer wait is left to the
        next run (CUPS retries the job, the hot folder its next pass).
        """
        if status is not Status.DEFERRED or attempt >= self.retry.tries:
            return None
        wait = max(self.retry.delay(attempt), error.retry_after or 0.0)
        return wait if wait <= self.retry.max_backoff else None

    def _look_if_lost(
        self, key: str, ticket: Ticket, error: FaxPrintError, started: float, pages: int | None
    ) -> Outcome | FaxPrintError:
        """Settle an uncertain upload through the message store where the transport can:
        the accepted outcome if the fax is there, else the error to record.

        Whatever stops the search (a cancel, a bug) leaves the upload uncertain: never
        ``cancelled`` or ``sending``, from which it could be sent again unchecked."""
        if status_of(error) is not Status.UNCERTAIN or not _can_look(self.transport):
            return error
        try:
            found = self._settle_lost(key, ticket, started, self.clock(), pages=pages)
        except Exception as exc:  # a cancel, or a bug
            if isinstance(exc, CancelledError):
                reason = "cancelled while looking for it in the message store"
            else:
                frames = "".join(traceback.format_tb(exc.__traceback__))
                logger.debug("internal error while looking for %s:\n%s", key, frames)
                reason = f"internal error ({type(exc).__name__}); please report it"
            found = self._claimed(key, pages, len(ticket.recipients)) or UncertainError(reason)
        if found is None:
            return _not_in_store(self.account)
        if isinstance(found, Outcome):
            return found
        # The store could not be asked: the upload stays uncertain, never retried blindly.
        return UncertainError(
            f"{error.message} (the message store could not be asked: {found.message})",
            code=error.code,
        )

    def _claimed(self, key: str, pages: int | None, count: int) -> Outcome | None:
        """Return the accepted outcome, with its message, of a job whose message was
        claimed in the store (also when the search was cut short after the claim was
        committed: never record it uncertain over that); None if it is not accepted."""
        try:
            job = self.journal.get(key)
            known = self.journal.delivery(key)
        except FaxPrintError:
            return None
        if job is None or job.state is not State.ACCEPTED:
            return None
        outcome = self._outcome(Status.ACCEPTED, job, pages, count)
        if known is None:
            return outcome
        return replace(outcome, message_id=known.message_id, delivery=known.status)

    def _settle_lost(
        self, key: str, ticket: Ticket, since: float, lost: float, *, pages: int | None = None
    ) -> Outcome | FaxPrintError | None:
        """Look for a fax whose upload began at ``since`` and lost its answer at ``lost``
        in the service's message store.

        Return the accepted outcome when it is there (a message no other job owns, taken
        in one transaction); None when it is still not there ``store_wait`` seconds after
        the answer was lost, so the service did not accept it; the error when the store
        cannot be asked (the job stays uncertain).
        """
        deadline = lost + self.account.store_wait
        while True:
            try:
                # The window ends when the answer was lost: a later fax is never this one.
                found = self.transport.lookup(ticket, since, lost)  # type: ignore[attr-defined]
            except FaxPrintError as raised:
                error = raised.hiding(self._hide)
                logger.warning("cannot look for %s in the message store: %s", key, error.message)
                return error
            for receipt in found:
                outcome = delivery_outcome(receipt.delivery)
                message = f"found in the message store as message {receipt.message_id}"
                if self.journal.claim_found(key, receipt.message_id, receipt.delivery, outcome,
                                            message=message):  # fmt: skip
                    logger.info("found %s in the message store: %s", key, receipt.message_id)
                    claimed = self._claimed(key, pages, len(ticket.recipients))
                    assert claimed is not None  # just committed
                    return claimed
            left = deadline - self.clock()
            if left <= 0:
                return None
            self.sleep(min(LOOKUP_INTERVAL, left))

    def _last_start(self, key: str) -> float:
        attempts = self.journal.attempts(key)
        return attempts[-1].started if attempts else self.clock()

    def _out_of_budget(self, job: JobRecord) -> bool:
        # A person's `faxprint retry` starts a new budget: counted from that decision.
        since, before = self.journal.budget(job.key)
        used = job.attempts - before
        too_old = self.clock() - since > self.retry.max_age
        return used >= self.retry.max_attempts or (used > 0 and too_old)

    def _settled(self, job: JobRecord, count: int) -> Outcome:
        status = _SETTLED[job.state]
        known = self.journal.delivery(job.key)
        return Outcome(
            status, job.message, job.key, job.attempts, job.pages, count, job.code, already=True,
            message_id=known.message_id if known else "", delivery=known.status if known else "",
        )  # fmt: skip

    @staticmethod
    def _outcome(status: Status, job: JobRecord, pages: int | None, count: int) -> Outcome:
        return Outcome(status, job.message, job.key, job.attempts, pages, count, job.code)


#: The journal's state after an outcome.
STATE_AFTER: dict[Status, State] = {
    Status.ACCEPTED: State.ACCEPTED,
    Status.INVALID: State.FAILED,
    Status.REJECTED: State.FAILED,
    Status.ACCOUNT: State.RETRY,  # fixable by the admin; the job itself is fine
    Status.CONFIG: State.RETRY,
    Status.DEFERRED: State.RETRY,
    Status.EXPIRED: State.FAILED,
    Status.UNCERTAIN: State.UNCERTAIN,
    Status.CANCELLED: State.CANCELLED,
}


_MB = 1024 * 1024
LOOKUP_INTERVAL = 5.0  # seconds between looks in the message store


def _can_look(transport: Transport) -> bool:
    """Tell whether the transport can find an accepted fax in the service's records."""
    return callable(getattr(transport, "lookup", None))


def _not_in_store(account: Account) -> ServiceError:
    return ServiceError(
        "the upload's answer was lost, and the service's message store holds no such fax "
        f"{account.store_wait:g} s later: it was not accepted"
    )


def _size(path: Path) -> int:
    """Return a file's size, 0 if it cannot be seen (inspecting it says why)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _mb(size: int) -> str:
    return f"{size / _MB:.1f}"


def _total_pages(documents: Sequence[Document]) -> int | None:
    counts = [d.pages for d in documents]
    return None if any(c is None for c in counts) else sum(c for c in counts if c is not None)


def _busy(job: JobRecord) -> JobRecord:
    message = "another process is sending this job right now"
    return JobRecord(**{**job.__dict__, "message": message})


def _expired(job: JobRecord) -> str:
    return f"gave up after {job.attempts} attempts; last error: {job.message or 'none'}"
