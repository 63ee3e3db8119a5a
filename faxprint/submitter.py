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
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from faxprint import limits as job_limits
from faxprint import verdicts
from faxprint.config import Account, Config, Limits, RetryPolicy
from faxprint.covering import Covers
from faxprint.documents import Document, DocumentSource
from faxprint.errors import (
    CancelledError,
    FaxPrintError,
    JournalError,
    ServiceUnavailable,
)
from faxprint.journal import SENDABLE, JobRecord, Journal, State
from faxprint.lost import MessageStore
from faxprint.outcome import Outcome, Source, Status, status_of
from faxprint.pacing import Pacer, pacer_for
from faxprint.ticket import Ticket
from faxprint.transports import (
    LooksUp,
    Pauses,
    Prepares,
    Progress,
    Transport,
    for_account,
    state_folder,
)

logger = logging.getLogger(__name__)


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
        pacer: Pacer | None = None,
        covers: Covers | None = None,
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
        self.pacer = pacer  # the account's rate, shared by its processes (None: unlimited)
        self.covers = covers or Covers()  # faxprint's own cover pages
        self.clock = clock
        self.sleep = sleep

    @classmethod
    def configured(
        cls, config: Config, account: Account, journal: Journal, **overrides: Any
    ) -> Submitter:
        """Build the submitter an entry point uses: the account's transport, the config's
        retry policy and uncertain-job policy; keyword ``overrides`` replace any of them."""
        state = state_folder(journal.path, os.geteuid())
        pacer = pacer_for(account.name, account.pace(), state, config) if account.pace() else None
        settings: dict[str, Any] = {
            "transport": for_account(account, state, pacer),
            "pacer": pacer,
            "retry": config.retry,
            "limits": config.limits,
            "resend_uncertain": config.uncertain == "resend",
            "covers": Covers.of(config, account.name),
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
        known, force = self._known(key, ticket, release)
        if isinstance(known, Outcome):
            return known
        with contextlib.ExitStack() as scratch:  # what the transport made of the documents
            refusal: FaxPrintError | None = None
            try:
                workdir = _workdir(scratch)
                documents = self._prepare(self.inspect(ticket, sources), workdir)
                ticket, documents = self.covers.put_first(ticket, documents, workdir,
                                                          source.title, self.journal)  # fmt: skip
                job_limits.check_pages(documents, self.limits)  # the cover's pages count too
            except CancelledError:
                raise
            except FaxPrintError as error:  # refused, or not now (a full disk, no gs)
                documents, refusal = [], error
            return self._record_and_send(key, ticket, sources, documents, refusal, source,
                                         progress, force)  # fmt: skip

    def _known(
        self, key: str, ticket: Ticket, release: bool
    ) -> tuple[JobRecord | Outcome | None, bool]:
        """What an earlier run left of this job: its outcome when nothing is to be sent
        now, else the job as the journal has it (None if new) and whether to send it even
        if it may have gone (a person released it, or the config resends uncertain jobs)."""
        count = len(ticket.recipients)
        known = self.journal.get(key)
        interrupted = False
        if known is not None and known.state is State.SENDING:
            # What an earlier sender left comes first: a live one's job is its own, and
            # one whose sender died (or this process's own try) may have gone: uncertain.
            known = self.journal.unstick(key)
            if known.state is State.SENDING:
                return verdicts.outcome_of(
                    Status.DEFERRED, verdicts.busy(known), known.pages, count
                ), False
            interrupted = True  # uncertain as of now: no person has decided on it yet
        force = not interrupted and (self.resend_uncertain or (release and known is not None))
        store = self._store()
        if known is not None and known.state is State.UNCERTAIN and store is not None:
            # The service keeps a record of what it accepted: ask it, not a person.
            # Since the last upload began; the service has had time since the job became
            # uncertain (known.updated), so a look or two will do.
            found = store.settle_lost(key, ticket, self._last_start(key), known.updated)
            if isinstance(found, Outcome):
                return found, False
            force = force or found is None
        if (
            known is not None
            and known.state in verdicts.SETTLED
            and not (force and known.state is State.UNCERTAIN)
        ):
            return verdicts.settled(self.journal, known, count), False
        return known, force

    def _store(self) -> MessageStore | None:
        """The account's message store, where the transport can look a fax up."""
        if not isinstance(self.transport, LooksUp):
            return None
        return MessageStore(self.journal, self.transport, self.account.store_wait, self._hide,
                            self.clock, self.sleep)  # fmt: skip

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
                job.key, verdicts.STATE_AFTER[status], code=error.code, message=error.message
            )
        outcome = Outcome(status, error.message, job.key, job.attempts, None, count, error.code)
        return replace(outcome, retry_after=error.retry_after)

    def _prepare(self, documents: list[Document], workdir: Path) -> list[Document]:
        """Let the transport make the documents what its service takes (RingCentral REST:
        PostScript as PDF, safe file names), in a temporary folder that lasts the job;
        its refusals come before anything is sent."""
        if not isinstance(self.transport, Prepares):
            return documents
        prepared = list(self.transport.prepare(documents, workdir))
        job_limits.check_pages(prepared, self.limits)  # PostScript's: known once it is a PDF
        return prepared

    def inspect(self, ticket: Ticket, sources: Sequence[DocumentSource]) -> list[Document]:
        """Check the job against the limits and every document; raise InputError if it
        cannot be faxed (:func:`faxprint.limits.check_job`)."""
        return job_limits.check_job(len(ticket.recipients), sources, self.limits)

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
                    return verdicts.outcome_of(Status.EXPIRED, job, pages, count)
                return verdicts.given_up(self.journal, job, pages, count)
            if (deferred := self._wait_out_pause(job, attempt, pages, count)) is not None:
                return deferred
            if (deferred := self._wait_for_turn(job, pages, count)) is not None:
                return deferred
            job = self.journal.start_attempt(key, force=force)
            if job.state is State.SENDING and job.owner != self.journal.owner:
                return verdicts.outcome_of(Status.DEFERRED, verdicts.busy(job), pages, count)
            if job.state is not State.SENDING:
                return verdicts.settled(self.journal, job, count)
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
                return verdicts.internal_error(self.journal, key, exc, pages, count)
            return verdicts.accepted(
                self.journal, key, receipt, self._hide(receipt.message), job.attempts, pages, count
            )
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
        store = self._store()
        found = error if store is None else store.look_if_lost(key, ticket, error, started, pages)
        if isinstance(found, Outcome):
            return found
        error = found
        status = status_of(error)
        try:
            done = self.journal.finish(
                key, verdicts.STATE_AFTER[status], code=error.code, message=error.message
            )
        except JournalError as fault:  # the verdict stands; say it, and why unrecorded
            if status is Status.CANCELLED:
                raise raised from None
            outcome = Outcome(status, error.message, key, job.attempts, pages, count,
                              error.code, retry_after=error.retry_after)  # fmt: skip
            return verdicts.unrecorded(outcome, fault)
        if status is Status.DEFERRED and self._out_of_budget(done):
            # That was the last attempt the policy allows: say so now, not next run.
            return verdicts.given_up(self.journal, done, pages, count)
        wait = self._pause(status, attempt, error)
        if wait is not None:
            return wait, error.message
        if status is Status.CANCELLED:
            raise raised
        outcome = verdicts.outcome_of(status, done, pages, count)
        return replace(outcome, retry_after=error.retry_after)

    def _wait_out_pause(
        self, job: JobRecord, attempt: int, pages: int | None, count: int
    ) -> Outcome | None:
        """Wait out a pause the service asked every process for (a 429's Retry-After)
        when this run may; else defer the job without an attempt, which would be refused
        unasked anyway. Return the deferred outcome, or None to go on."""
        seconds = float(self.transport.paused()) if isinstance(self.transport, Pauses) else 0.0
        if seconds <= 0 or job.state not in SENDABLE:  # another's, or a person's to decide
            return None
        if attempt < self.retry.tries and seconds <= self.retry.max_backoff:
            self.sleep(seconds)
            return None
        message = f"waiting {seconds:.0f} s more, as the service asked (rate limit)"
        waiting = self.journal.finish(job.key, State.RETRY, code=job.code, message=message)
        outcome = verdicts.outcome_of(Status.DEFERRED, waiting, pages, count)
        return replace(outcome, retry_after=seconds)

    def _wait_for_turn(self, job: JobRecord, pages: int | None, count: int) -> Outcome | None:
        """Take the account's next turn to upload (:mod:`faxprint.pacing`), waiting for it
        when it comes soon; else defer the job, without an attempt, until it comes."""
        if self.pacer is None or job.state not in SENDABLE:
            return None
        waited = 0.0
        while (seconds := self.pacer.turn()) > 0:
            if waited + seconds > self.retry.max_backoff:
                rate = self.pacer.current()
                message = f"waiting {seconds:.0f} s for a turn within the account's rate ({rate})"
                waiting = self.journal.finish(job.key, State.RETRY, code=job.code, message=message)
                outcome = verdicts.outcome_of(Status.DEFERRED, waiting, pages, count)
                return replace(outcome, retry_after=seconds)
            self.sleep(seconds)
            waited += seconds
        return None

    def _pause(self, status: Status, attempt: int, error: FaxPrintError) -> float | None:
        """Return how long to wait before trying again in this run, None to stop here.

        At least what the service asked for (Retry-After); a longer wait is left to the
        next run (CUPS retries the job, the hot folder its next pass).
        """
        if status is not Status.DEFERRED or attempt >= self.retry.tries:
            return None
        wait = max(self.retry.delay(attempt), error.retry_after or 0.0)
        return wait if wait <= self.retry.max_backoff else None

    def _last_start(self, key: str) -> float:
        attempts = self.journal.attempts(key)
        return attempts[-1].started if attempts else self.clock()

    def _out_of_budget(self, job: JobRecord) -> bool:
        # A person's `faxprint retry` starts a new budget: counted from that decision.
        since, before = self.journal.budget(job.key)
        used = job.attempts - before
        too_old = self.clock() - since > self.retry.max_age
        return used >= self.retry.max_attempts or (used > 0 and too_old)


def _workdir(scratch: contextlib.ExitStack) -> Path:
    """A temporary folder that lasts the job: what the transport and the cover make."""
    try:
        folder = tempfile.TemporaryDirectory(prefix="faxprint-", ignore_cleanup_errors=True)
        return Path(scratch.enter_context(folder))
    except OSError as exc:  # a full disk: nothing was sent, try again later
        raise ServiceUnavailable(f"no temporary folder for the documents: {exc.strerror}") from None


def _total_pages(documents: Sequence[Document]) -> int | None:
    counts = [d.pages for d in documents]
    return None if any(c is None for c in counts) else sum(c for c in counts if c is not None)
