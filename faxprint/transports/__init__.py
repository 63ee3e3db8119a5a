"""Transports: one module per fax protocol. Ticket and documents in, a receipt out.

A transport knows nothing of CUPS, folders or the journal. What one is, and the
capabilities one may have besides sending, are drawn in :mod:`faxprint.transports.base`
and handed on from here; this module picks the account's transport
(:func:`for_account`). The transports import :mod:`~faxprint.transports.base`, never this
package, so nothing here imports in a circle.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from faxprint.config import Account
from faxprint.transports import http
from faxprint.transports.base import (
    FINAL_DELIVERY,
    Checks,
    Delivery,
    Follows,
    LooksUp,
    Pauses,
    Prepares,
    Progress,
    Receipt,
    Transport,
    delivery_outcome,
)

if TYPE_CHECKING:
    from faxprint.pacing import Pacer

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
    "cut_unsent_upload",
    "delivery_outcome",
    "for_account",
    "state_folder",
    "unsent_upload",
]


def unsent_upload() -> int | None:
    """Bytes of this thread's upload that have not left this server (None: unknown)."""
    return http.unsent()


def cut_unsent_upload() -> bool:
    """Cut this thread's upload while part of it has not left this server (the service
    can then never have it whole, nor accept it); return whether it was cut."""
    return bool(http.unsent()) and http.cut()


def state_folder(journal: Path, uid: int) -> Path:
    """Return the folder where user ``uid``'s transports keep shared state, beside the
    journal: one per user, since a token file must be readable by its owner only, and
    root's commands must never leave a file the backend (lp) cannot read."""
    return journal.parent / f"ringcentral-{uid}"


def for_account(account: Account, state: Path, pacer: Pacer | None = None) -> Transport:
    """Return the transport that speaks the account's protocol.

    ``state`` is the folder where a transport keeps what its processes share (the REST
    transport's token and rate-limit pause): :func:`state_folder`. ``pacer``: the
    sender's, told the service's own count from each answer (REST).
    """
    if account.transport == "ringcentral":
        from faxprint.transports.ringcentral import RingCentralTransport

        return RingCentralTransport(account, state, pacer=pacer)
    from faxprint.transports.faxout import FaxOutTransport

    return FaxOutTransport(account)
