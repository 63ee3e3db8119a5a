"""A job as people see it: its shown state, where it came from, and as a JSON object.

The journal records states as the senders write them; people need one more word. A job
the journal still calls ``sending`` whose process is gone (killed mid-upload; cupsd even
reports such a CUPS job as completed) is shown as ``interrupted``: it may have been sent,
and a person must check it. An accepted fax whose service reports delivery (RingCentral's
REST API) is shown as ``queued``, ``delivered`` or ``undelivered``. The command line
shows jobs this way, and so will the web outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from faxprint.journal import AttemptRecord, DeliveryRecord, JobRecord, JobStore, State
from faxprint.lease import owner_alive
from faxprint.outcome import JobKey, Kind
from faxprint.text import printable

INTERRUPTED = "interrupted"

#: How an accepted fax is shown once its service reports on its delivery.
DELIVERY_STATES = {"pending": "queued", "delivered": "delivered", "failed": "undelivered"}

#: The states a job may be shown in, the journal's and the two people add.
SHOWN_STATES = (*(state.value for state in State), INTERRUPTED, *DELIVERY_STATES.values())

Deliveries = dict[str, DeliveryRecord]
Decision = tuple[float, State, str]


def shown_state(job: JobRecord, now: float, delivery: DeliveryRecord | None = None) -> str:
    """The job's state for people: ``interrupted`` for a sender that died mid-upload, and
    for an accepted fax, its delivery where the service reports it."""
    if job.state is State.SENDING and not owner_alive(job.owner, job.updated, now):
        return INTERRUPTED
    if job.state is State.ACCEPTED and delivery is not None:
        return DELIVERY_STATES.get(delivery.outcome, job.state.value)
    return job.state.value


def deliveries_of(journal: JobStore, jobs: Sequence[JobRecord]) -> Deliveries:
    """Return the delivery records of the accepted jobs among ``jobs``, by key."""
    return journal.deliveries([job.key for job in jobs if job.state is State.ACCEPTED])


def source_of(job: JobRecord) -> str:
    """Say where a job came from, as people name it: the printer's job and user
    (``Fax-17 alice``), a send job's short id, or the hot-folder job's name."""
    key = JobKey.parse(job.key)
    if key is not None and key.kind is Kind.CUPS:
        return printable(f"{key.printer}-{key.job_id} {job.user}".strip(), limit=40)
    if key is not None and key.kind is Kind.SEND:  # its first 8 digits name it well enough
        return printable(f"send {key.ident[:8]} {job.user}".strip(), limit=40)
    if job.source == Kind.CUPS:
        return printable(f"?-? {job.user}".strip(), limit=40)
    return printable(job.title or job.key, limit=40)


def as_json(
    job: JobRecord,
    now: float,
    attempts: Sequence[AttemptRecord] | None = None,
    decisions: Sequence[Decision] = (),
    delivery: DeliveryRecord | None = None,
) -> dict[str, Any]:
    """A job as a JSON object (times in seconds since the epoch); the server that has it
    (its name, never the process that worked on it)."""
    record: dict[str, Any] = {
        "key": job.key,
        "source": job.source,
        "account": job.account,
        "user": job.user,
        "title": job.title,
        "recipients": list(job.recipients),
        "documents": list(job.documents),
        "pages": job.pages,
        "state": shown_state(job, now, delivery),
        "attempts": job.attempts,
        "code": job.code,
        "message": job.message,
        "created": job.created,
        "updated": job.updated,
        "server": job.server,
    }
    if delivery is not None:
        record["delivery"] = {"message_id": delivery.message_id, "status": delivery.status,
                              "outcome": delivery.outcome, "checked": delivery.checked}  # fmt: skip
    if attempts is not None:
        record["history"] = [
            {"number": a.number, "started": a.started, "ended": a.ended,
             "state": a.state.value, "code": a.code, "message": a.message}
            for a in attempts
        ]  # fmt: skip
        record["decisions"] = [
            {"at": at, "state": state.value, "message": message} for at, state, message in decisions
        ]
    return record
