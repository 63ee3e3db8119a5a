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
from faxprint.errors import FaxPrintError, RejectedError
from faxprint.journal import DeliveryRecord, Journal
from faxprint.transports import Follows, for_account, state_folder

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
    """Ask the service about faxes whose delivery is still pending, at most ``limit`` per
    account, least recently asked first; record the answers.

    An account whose service cannot be asked is skipped for this refresh, with the reason
    in ``problems``: a status command must work while the service is down.
    """
    make = transport_of or (
        lambda account: for_account(account, state_folder(journal.path, os.geteuid()))
    )
    changed: list[DeliveryRecord] = []
    problems: list[str] = []
    for account in config.accounts.values():
        # Per account: one account down, or one renamed away, never starves the others.
        records = journal.pending_deliveries(limit, account=account.name)
        transport = make(account) if records else None
        if not isinstance(transport, Follows):
            continue  # nothing to ask, or a protocol without delivery status (FaxOut)
        for record in records:
            try:
                status = transport.delivery(record.message_id)
            except RejectedError as error:
                # This message only (deleted, or past the store's retention): note that it
                # was asked, so it goes to the back of the queue instead of blocking others.
                journal.record_delivery(
                    record.key, record.message_id, record.status, record.outcome
                )
                problems.append(f"account {record.account}: message {record.message_id}: "
                                f"{error.message}")  # fmt: skip
                continue
            except FaxPrintError as error:
                problems.append(
                    f"account {record.account}: delivery not refreshed: {error.message}"
                )
                break  # the service cannot be asked now: the next refresh will
            journal.record_delivery(record.key, record.message_id, status.status, status.outcome)
            if status.status != record.status:
                changed.append(_updated(journal, record.key))
    return Refreshed(changed, problems)


def _updated(journal: Journal, key: str) -> DeliveryRecord:
    record = journal.delivery(key)
    assert record is not None  # it was just written
    return record
