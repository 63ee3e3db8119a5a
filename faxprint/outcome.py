"""What became of a job, the one classifier from error to outcome, and where jobs come
from with the keys that name them in the journal.

Every entry point turns an :class:`Outcome` into what its users see through one table of
its own (the backend's CUPS exit statuses, the hot folder's folders, the CLI's exit
statuses), and an error raised before a job could be submitted becomes an outcome too
(:meth:`Outcome.refused`), so no entry point keeps a second ladder of its own. A test
proves each table covers every :class:`Status`, and :func:`status_of` every error.

Only :mod:`faxprint.errors` is imported: the command line can load this at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from faxprint.errors import (
    AccountError,
    CancelledError,
    ConfigError,
    FaxPrintError,
    InputError,
    RejectedError,
    TransientError,
    UncertainError,
)


class Status(StrEnum):
    """What became of a job, as the entry points must report it."""

    ACCEPTED = "accepted"  # the service accepted it (now, or in an earlier run)
    INVALID = "invalid"  # the job is wrong: the sender must fix it
    REJECTED = "rejected"  # the service refused the job's data
    ACCOUNT = "account"  # credentials or permission: the admin must act on the account
    CONFIG = "config"  # the configuration: unreadable, invalid, unsafe (the admin's)
    DEFERRED = "deferred"  # not sent yet; try again later
    EXPIRED = "expired"  # transient failures until the retry budget ran out
    UNCERTAIN = "uncertain"  # may have been sent; held for a person to decide
    CANCELLED = "cancelled"  # stopped on request


_STATUS_OF: tuple[tuple[type[FaxPrintError], Status], ...] = (
    (InputError, Status.INVALID),
    (RejectedError, Status.REJECTED),
    (AccountError, Status.ACCOUNT),
    (ConfigError, Status.CONFIG),
    (UncertainError, Status.UNCERTAIN),
    (CancelledError, Status.CANCELLED),
    (TransientError, Status.DEFERRED),
)


def status_of(error: FaxPrintError) -> Status:
    """Classify an error by what must happen next."""
    for kind, status in _STATUS_OF:
        if isinstance(error, kind):
            return status
    raise TypeError(f"unclassified error {type(error).__name__}")


@dataclass(frozen=True)
class Outcome:
    """The end of one submission."""

    status: Status
    message: str
    key: str
    attempts: int = 0
    pages: int | None = None
    recipients: int = 0
    code: int | None = None
    already: bool = False  # the job had been settled before this run
    message_id: str = ""  # the service's id of the fax, where it gives one
    delivery: str = ""  # its delivery status as last known (Queued, Delivered, ...)
    retry_after: float | None = None  # deferred: seconds the service asked to wait first
    unrecorded: str = ""  # why the journal could not record this verdict (a full disk)

    @classmethod
    def refused(cls, key: str, error: FaxPrintError, recipients: int = 0) -> Outcome:
        """The outcome of a job that could not even be submitted (bad options, an
        unreadable config, a journal that cannot be opened now)."""
        return cls(status_of(error), error.message, key, recipients=recipients,
                   code=error.code, retry_after=error.retry_after)  # fmt: skip

    @property
    def counts(self) -> str:
        """Say how much was faxed: "2 recipients, 3 pages" (pages only when known)."""
        people = f"{self.recipients} recipient" + "s" * (self.recipients != 1)
        if self.pages is None:
            return people
        return f"{people}, {self.pages} page" + "s" * (self.pages != 1)

    @property
    def ok(self) -> bool:
        """Tell whether the fax was accepted."""
        return self.status is Status.ACCEPTED


#: How the outcomes of a job's faxes make its outcome: the first status found, in this
#: order, decides (the admin's problems first, then what must be tried again).
PRECEDENCE = (Status.CONFIG, Status.ACCOUNT, Status.DEFERRED, Status.UNCERTAIN)


def overall(outcomes: Sequence[Outcome]) -> Status:
    """The status of a job of several faxes."""
    found = {outcome.status for outcome in outcomes}
    for status in PRECEDENCE:
        if status in found:
            return status
    if Status.ACCEPTED in found:
        return Status.ACCEPTED
    return outcomes[0].status if outcomes else Status.INVALID


def combined(key: str, outcomes: Sequence[Outcome]) -> Outcome:
    """One outcome for a job sent as several faxes (one per recipient): the job's
    status, the recipients and accepted pages summed, and what became of the faxes that
    were not accepted. A job some of whose faxes were refused is not accepted: it takes
    the status of the first fax that was not (the rest stay accepted in the journal, and
    are not sent again when the job is)."""
    if len(outcomes) == 1:
        return replace(outcomes[0], key=key)
    accepted = [o for o in outcomes if o.ok]
    said = f"{len(outcomes)} faxes, one per recipient: {len(accepted)} accepted"
    others = [o for o in outcomes if not o.ok]
    if others:
        said += f"; {others[0].key}: {others[0].message}"
        said += f" (and {len(others) - 1} more)" if len(others) > 1 else ""
    waits = [o.retry_after for o in outcomes if o.retry_after is not None]
    status = overall(outcomes)
    if others and status is Status.ACCEPTED:  # some accepted, some not: not accepted
        status = others[0].status
    return Outcome(
        status, said, key, max(o.attempts for o in outcomes),
        sum(o.pages or 0 for o in accepted) if accepted else None,
        sum(o.recipients for o in outcomes), others[0].code if others else None,
        all(o.already for o in outcomes), retry_after=max(waits) if waits else None,
        unrecorded=next((o.unrecorded for o in outcomes if o.unrecorded), ""),
    )  # fmt: skip


class Kind(StrEnum):
    """The ways into faxprint."""

    CUPS = "cups"  # the Fax printer
    HOTFOLDER = "hotfolder"  # a dropped ticket or document
    SEND = "send"  # faxprint send


@dataclass(frozen=True)
class Source:
    """Where a job came from, for the journal and for people asking about it."""

    kind: Kind
    user: str = ""
    title: str = ""


@dataclass(frozen=True)
class JobKey:
    """The name of a job in the journal, the same on every try and never another's.

    ``cups:PRINTER:JOBID:IDENT`` (IDENT: the job's UUID, or a digest of its data; job ids
    start again at 1 when cupsd loses its state), ``send:UUID``, ``hotfolder:CLAIM``.
    """

    kind: Kind
    parts: tuple[str, ...]

    @classmethod
    def cups(cls, printer: str, job_id: str, ident: str) -> JobKey:
        return cls(Kind.CUPS, (printer, job_id, ident))

    @classmethod
    def send(cls, ident: str) -> JobKey:
        return cls(Kind.SEND, (ident,))

    @classmethod
    def hotfolder(cls, claim: str) -> JobKey:
        return cls(Kind.HOTFOLDER, (claim,))

    @classmethod
    def parse(cls, text: str) -> JobKey | None:
        """Read a key the journal holds; None for one of no known form."""
        kind, _, rest = text.partition(":")
        if kind == Kind.CUPS:
            parts = tuple(rest.split(":", 2))
            return cls(Kind.CUPS, parts) if len(parts) == 3 else None
        if kind in (Kind.SEND, Kind.HOTFOLDER) and rest:
            return cls(Kind(kind), (rest,))
        return None

    def __str__(self) -> str:
        return ":".join((self.kind.value, *self.parts))

    def section(self, number: int) -> JobKey:
        """The key of fax ``number`` of a job that became several (mail merge)."""
        return JobKey(self.kind, (*self.parts[:-1], f"{self.parts[-1]}#{number}"))

    @property
    def base(self) -> JobKey:
        """The key of the job a section belongs to (itself for a whole job)."""
        return JobKey(self.kind, (*self.parts[:-1], self.parts[-1].partition("#")[0]))

    @property
    def printer(self) -> str:
        """A printer job's queue ("" for others)."""
        return self.parts[0] if self.kind is Kind.CUPS else ""

    @property
    def job_id(self) -> str:
        """A printer job's CUPS job id ("" for others)."""
        return self.parts[1] if self.kind is Kind.CUPS else ""

    @property
    def ident(self) -> str:
        """What tells this job from every other of its kind: the CUPS job's UUID (or its
        data's digest), the send's UUID, the hot-folder claim's name."""
        return self.parts[-1]
