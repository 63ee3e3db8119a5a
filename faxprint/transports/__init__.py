"""Transports: one module per fax protocol. Ticket and documents in, a receipt out.

A transport knows nothing of CUPS, folders or the journal. It either returns a
:class:`Receipt` (the service accepted the fax) or raises one of the errors in
:mod:`faxprint.errors`, chosen by what the caller should do next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from faxprint.config import Account
from faxprint.documents import Document
from faxprint.ticket import Ticket
from faxprint.transports.multipart import Progress

__all__ = ["Progress", "Receipt", "Transport", "for_account"]


@dataclass(frozen=True)
class Receipt:
    """The service's acceptance of a fax."""

    code: int
    message: str


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


def for_account(account: Account) -> Transport:
    """Return the transport that speaks the account's protocol."""
    from faxprint.transports.faxout import FaxOutTransport

    return FaxOutTransport(account)
