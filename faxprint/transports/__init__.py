"""Transports: one module per fax protocol. Ticket and documents in, a receipt out.

A transport knows nothing of CUPS, folders or the journal. It either returns a
:class:`Receipt` (the service accepted the fax) or raises one of the errors in
:mod:`faxprint.errors`, chosen by what the caller should do next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from faxprint.config import Account
from faxprint.documents import Document
from faxprint.ticket import Ticket
from faxprint.transports.multipart import Progress

__all__ = [
    "Progress",
    "Receipt",
    "Transport",
    "cut_unsent_upload",
    "delivery_outcome",
    "for_account",
    "unsent_upload",
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


def unsent_upload() -> int | None:
    """Bytes of this thread's upload that have not left this server (None: unknown)."""
    from faxprint.transports import http

    return http.unsent()


def cut_unsent_upload() -> bool:
    """Cut this thread's upload while part of it has not left this server (the service
    can then never have it whole, nor accept it); return whether it was cut."""
    from faxprint.transports import http

    return bool(http.unsent()) and http.cut()


def state_folder(journal: Path, uid: int) -> Path:
    """Return the folder where user ``uid``'s transports keep shared state, beside the
    journal: one per user, since a token file must be readable by its owner only, and
    root's commands must never leave a file the backend (lp) cannot read."""
    return journal.parent / f"ringcentral-{uid}"


def for_account(account: Account, state: Path | None = None) -> Transport:
    """Return the transport that speaks the account's protocol.

    ``state`` is the folder where a transport keeps what its processes share (the REST
    transport's token and rate-limit pause); without one, a folder beside the default
    journal.
    """
    if account.transport == "ringcentral":
        from faxprint.transports.ringcentral import RingCentralTransport

        return RingCentralTransport(account, state or _default_state())
    from faxprint.transports.faxout import FaxOutTransport

    return FaxOutTransport(account)


def _default_state() -> Path:
    import os

    from faxprint.config import default_journal

    return state_folder(default_journal(os.environ), os.geteuid())
