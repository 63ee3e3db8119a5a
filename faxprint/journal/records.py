"""What the journal holds, as values: a job's state, its records, and a search's filter.

Nothing here knows how a journal is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    """Where a job stands."""

    PENDING = "pending"
    UNADDRESSED = "unaddressed"  # a printed job no option, code or default addresses
    SENDING = "sending"
    RETRY = "retry"
    ACCEPTED = "accepted"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    CANCELLED = "cancelled"


# A failed or cancelled job that is submitted again (an admin restarting a CUPS job, a
# file moved back into the hot folder) was resubmitted on purpose: it may be sent.
SENDABLE = frozenset({State.PENDING, State.UNADDRESSED, State.RETRY, State.FAILED, State.CANCELLED})


@dataclass(frozen=True)
class JobRecord:
    """One job as the journal knows it."""

    id: int
    key: str
    source: str
    account: str
    user: str
    title: str
    recipients: tuple[str, ...]
    documents: tuple[str, ...]
    pages: int | None
    state: State
    attempts: int
    code: int | None
    message: str
    owner: str
    created: float
    updated: float
    server: str = ""  # the server that has the job: recorded it, or last worked on it


@dataclass(frozen=True)
class DeliveryRecord:
    """What the service last said of an accepted fax it gave an id to."""

    key: str
    account: str
    message_id: str
    status: str  # the service's own word (Queued, Delivered, SendingFailed, ...)
    outcome: str  # pending, delivered or failed
    checked: float


@dataclass(frozen=True)
class AttemptRecord:
    """One upload attempt of a job."""

    number: int
    started: float
    ended: float | None
    state: State
    code: int | None
    message: str


@dataclass(frozen=True)
class Filter:
    """Which jobs a search returns; every field given must match."""

    states: Sequence[State] = ()
    user: str | None = None
    recipient: str | None = None  # a number, or its start: recipients are "NUMBER|NAME"
    since: float | None = None  # updated at or after (seconds since the epoch)
    until: float | None = None  # updated before


@dataclass(frozen=True)
class Contact:
    """An address book entry: a fax number under a name, with its company and groups."""

    name: str
    number: str
    company: str = ""
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkItem:
    """Queued work for the service: a printer job to plan, or a fax to send."""

    key: str
    kind: str  # "print": a printer job to plan into faxes; "fax": a ticket to send
    account: str
    lane: str  # whose turn it is in: one lane per user, served in turn
    spec: str  # JSON: what to plan or send (faxprint.service.queue reads it)
    folder: str  # its documents, kept until it is done
    not_before: float = 0.0  # not before this time (a retry, a pause, a held fax: inf)
    queued: float = 0.0
    owner: str = ""  # the process working on it ("" when none)
    taken: float = 0.0
