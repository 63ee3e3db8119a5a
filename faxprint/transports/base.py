"""What a transport is, and what it may do besides sending.

Every transport can :meth:`Transport.send`: ticket and documents in, a :class:`Receipt`
out, or one of the errors in :mod:`faxprint.errors`, chosen by what the caller should do
next. Some can do more, each a capability of its own that a caller checks with
``isinstance`` before using it:

- :class:`Prepares`: make the documents what the service takes, before anything is sent;
- :class:`LooksUp`: find an upload whose answer was lost in the service's records;
- :class:`Follows`: tell a sent fax's delivery as the service reports it now;
- :class:`Pauses`: say how long the service asked every process to wait (a 429);
- :class:`Checks`: prove the account's credentials without sending a fax.

They are ``runtime_checkable`` Protocols, not no-op methods of a base class, because
having none is not the same as doing nothing: a transport that cannot look a fax up must
leave a lost answer uncertain, where a default ``lookup`` finding nothing would have it
sent again. A transport (or a test's stand-in) needs no base class to have one.
``isinstance`` only checks that the methods are there; mypy checks their signatures
where a transport is used as one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from faxprint.documents import Document
from faxprint.ticket import Ticket
from faxprint.transports.multipart import Progress

__all__ = [
    "FINAL_DELIVERY",
    "Checks",
    "Delivery",
    "Follows",
    "LooksUp",
    "Pauses",
    "Prepares",
    "Progress",
    "Receipt",
    "Transport",
    "delivery_outcome",
]

#: Delivery statuses after which nothing changes, and what faxprint calls them.
FINAL_DELIVERY = {"Sent": "delivered", "Delivered": "delivered",
                  "DeliveryFailed": "failed", "SendingFailed": "failed"}  # fmt: skip


def delivery_outcome(status: str) -> str:
    """Say ``delivered``, ``failed``, or ``pending`` while a status can still change."""
    return FINAL_DELIVERY.get(status, "pending")


@dataclass(frozen=True)
class Receipt:
    """The service's acceptance of a fax."""

    code: int
    message: str
    message_id: str = ""  # the service's id of the fax, where it gives one
    delivery: str = ""  # its delivery status when accepted (RingCentral: "Queued")


@dataclass(frozen=True)
class Delivery:
    """A message's delivery as the service last reported it."""

    message_id: str
    status: str  # the API's messageStatus: Queued, Sent, Delivered, SendingFailed, ...
    known: str = ""  # the outcome, where the status alone does not say it

    @property
    def outcome(self) -> str:
        """Say ``delivered``, ``failed``, or ``pending`` while the status can change."""
        return self.known or delivery_outcome(self.status)


class Transport(Protocol):
    """Something that can hand a fax to a service."""

    def send(
        self,
        ticket: Ticket,
        documents: Sequence[Document],
        *,
        now: datetime,
        progress: Progress | None = None,
    ) -> Receipt:
        """Upload one fax; return the receipt or raise a FaxPrintError."""
        ...


@runtime_checkable
class Prepares(Protocol):
    """A transport whose service takes documents only in some forms."""

    def prepare(self, documents: Sequence[Document], workdir: Path) -> list[Document]:
        """Return the documents as the service takes them (made in ``workdir``); refuse,
        before any request, what it cannot take."""
        ...


@runtime_checkable
class LooksUp(Protocol):
    """A transport that can find an accepted fax in the service's records."""

    def lookup(self, ticket: Ticket, since: float, until: float) -> list[Receipt]:
        """Return the faxes that may be the upload begun at ``since`` whose answer was
        lost (epoch seconds), best first; raise when "not there" is not certain."""
        ...


@runtime_checkable
class Follows(Protocol):
    """A transport whose service tells how a sent fax's delivery went."""

    def delivery(self, message_id: str) -> Delivery:
        """Return the message's delivery status as the service reports it now."""
        ...


@runtime_checkable
class Pauses(Protocol):
    """A transport whose service may ask every process of the account to wait."""

    def paused(self) -> float:
        """Return the seconds left of a wait the service asked for (0: none)."""
        ...


@runtime_checkable
class Checks(Protocol):
    """A transport that can prove the account's credentials without sending a fax."""

    def check(self) -> str:
        """Prove the credentials as they are now; say what the service granted."""
        ...
