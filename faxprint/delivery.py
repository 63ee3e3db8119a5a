"""Following accepted faxes to their delivery, where the service says how they went.

FaxOut only ever says "accepted". RingCentral's REST API gives each fax a message id
whose status moves from ``Queued`` to ``Delivered`` or to a failure; the journal keeps the
id, and :func:`refresh` asks the service again about every fax still ``pending``, least
recently asked first, so `faxprint status`, `show` and the hot folder's receipts can say
whether the fax reached its recipient.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from faxprint.config import Account, Config
from faxprint.errors import FaxPrintError
from faxprint.journal import DeliveryRecord, Journal
from faxprint.transports import delivery_outcome, for_account, state_folder

logger = logging.getLogger(__name__)

MAX_ASKED = 20  # messages asked about per refresh: a status command stays quick


@dataclass(frozen=True)
class Refreshed:
    """What one refresh learnt: the records that changed, and why some were not asked."""

    changed: list[DeliveryRecord]
    problems: list[str]


def refresh(
    config: Config,
    journal: Journal,
    *,
    limit: int = MAX_ASKED,
    transport_of: Callable[[Account], object] | None = None,
) -> Refreshed:
    """Ask the service about faxes whose delivery is still pending; record the answers.

    An account whose service cannot be asked is skipped for this refresh, with the reason
    in ``problems``: a status command must work while the service is down.
    """
    make = transport_of or (
        lambda account: for_account(account, state_folder(journal.path, os.geteuid()))
    )
    transports: dict[str, object] = {}
    failed: set[str] = set()
    changed: list[DeliveryRecord] = []
    problems: list[str] = []
    for record in journal.pending_deliveries(limit):
        account = config.accounts.get(record.account)
        if account is None or record.account in failed:
            continue
        if record.account not in transports:
            transports[record.account] = make(account)
        transport = transports[record.account]
        if not callable(getattr(transport, "delivery", None)):
            continue
        try:
            status = transport.delivery(record.message_id)  # type: ignore[attr-defined]
        except FaxPrintError as error:
            failed.add(record.account)
            problems.append(f"account {record.account}: delivery not refreshed: {error.message}")
            continue
        outcome = delivery_outcome(status.status)
        journal.record_delivery(record.key, record.message_id, status.status, outcome)
        if status.status != record.status:
            changed.append(_updated(journal, record.key))
    return Refreshed(changed, problems)


def _updated(journal: Journal, key: str) -> DeliveryRecord:
    record = journal.delivery(key)
    assert record is not None  # it was just written
    return record
