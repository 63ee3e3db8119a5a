"""What the journal records of each verdict, and the outcome it becomes.

The submitter decides; this module words the verdicts and records them: the journal's
state after each outcome (:data:`STATE_AFTER`, total over :class:`Status`), an
acceptance with its message id, a bug while sending (held as uncertain, never lost or
sent again), and a verdict the journal could not record (a full disk): said all the
same, the verdict first.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import replace

from faxprint.errors import JournalError
from faxprint.journal import JobRecord, JobStore, State
from faxprint.outcome import Outcome, Status
from faxprint.transports import Receipt, delivery_outcome

logger = logging.getLogger("faxprint.submitter")

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


#: The journal's states that settle a job for good, as outcomes.
SETTLED: dict[State, Status] = {
    State.ACCEPTED: Status.ACCEPTED,
    State.UNCERTAIN: Status.UNCERTAIN,
}


def outcome_of(status: Status, job: JobRecord, pages: int | None, count: int) -> Outcome:
    """The outcome ``status`` of ``job`` as the journal has it."""
    return Outcome(status, job.message, job.key, job.attempts, pages, count, job.code)


def settled(journal: JobStore, job: JobRecord, count: int) -> Outcome:
    """The outcome of a job an earlier run settled: said again, unchanged."""
    status = SETTLED[job.state]
    known = journal.delivery(job.key)
    return Outcome(
        status, job.message, job.key, job.attempts, job.pages, count, job.code, already=True,
        message_id=known.message_id if known else "", delivery=known.status if known else "",
    )  # fmt: skip


def accepted(
    journal: JobStore,
    key: str,
    receipt: Receipt,
    message: str,
    attempts: int,
    pages: int | None,
    count: int,
) -> Outcome:
    """Record the service's acceptance (``message``: its words, secrets hidden), with the
    fax's message id where the service gives one."""
    outcome = Outcome(Status.ACCEPTED, message, key, attempts, pages, count, receipt.code,
                      message_id=receipt.message_id, delivery=receipt.delivery)  # fmt: skip
    try:
        done = journal.finish(key, State.ACCEPTED, code=receipt.code, message=message)
        if receipt.message_id:
            journal.record_delivery(
                key, receipt.message_id, receipt.delivery, delivery_outcome(receipt.delivery)
            )
    except JournalError as fault:  # the service accepted it: that is the news
        return unrecorded(outcome, fault)
    return replace(outcome, attempts=done.attempts, message=done.message)


def unrecorded(outcome: Outcome, fault: JournalError) -> Outcome:
    """The service's verdict, which the journal could not record: the caller says both,
    the verdict first."""
    logger.error("the journal could not record that job %s was %s: %s",
                 outcome.key, outcome.status.value, fault.message)  # fmt: skip
    return replace(outcome, unrecorded=fault.message)


def internal_error(
    journal: JobStore, key: str, exc: Exception, pages: int | None, count: int
) -> Outcome:
    """A bug, not a verdict of the service: where the upload got is unknown, so the job
    is held as uncertain rather than lost or sent again."""
    message = f"internal error ({type(exc).__name__}) while sending; please report it"
    done = journal.finish(key, State.UNCERTAIN, message=message)
    # Frames only: an exception's message may quote a value such as a password.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.debug("internal error while sending %s:\n%s", key, frames)
    return outcome_of(Status.UNCERTAIN, done, pages, count)


def busy(job: JobRecord) -> JobRecord:
    """The job as another live process is sending it: not this run's to send."""
    message = "another process is sending this job right now"
    return JobRecord(**{**job.__dict__, "message": message})


def given_up(journal: JobStore, job: JobRecord, pages: int | None, count: int) -> Outcome:
    """Record that the retry budget ran out; the job failed with its last error."""
    message = f"gave up after {job.attempts} attempts; last error: {job.message or 'none'}"
    done = journal.finish(job.key, State.FAILED, code=job.code, message=message)
    return outcome_of(Status.EXPIRED, done, pages, count)
