"""Following hot-folder faxes to their delivery, and saying so in their receipts.

A fax filed in done/ whose service reports delivery (RingCentral's REST API) has a receipt
with ``"delivery": "pending"``. The service asks every ``delivery_seconds`` about the
faxes still pending (:func:`faxprint.delivery.refresh`) and rewrites each receipt once its
delivery is final: ``"delivery": "delivered"`` or ``"failed"``, with the service's own
status in ``delivery_status``. Programs that dropped the job read the one file they know.
A job whose message, found in the message store after a lost answer, turned out to be
another job's goes to held/ as uncertain, for a person.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from faxprint.config import Config
from faxprint.delivery import refresh
from faxprint.hotfolder.spool import Spool, read_receipt, write_receipt
from faxprint.journal import State, open_journal
from faxprint.logfmt import event
from faxprint.outcome import JobKey

logger = logging.getLogger(__name__)

PENDING = "pending"


def pending_receipts(spool: Spool) -> set[str]:
    """Name the jobs in done/ whose receipt still waits for delivery (at start-up)."""
    found = set()
    for entry in os.scandir(spool.done):
        receipt = read_receipt(Path(entry.path))
        if receipt is not None and receipt.get("delivery") == PENDING:
            found.add(entry.name)
    return found


def follow(config: Config, spool: Spool, jobs: Iterable[str]) -> set[str]:
    """Refresh pending deliveries; update the receipts of ``jobs`` whose delivery is final.

    Return the jobs still pending. A job whose folder left done/ (archived) is dropped.
    """
    with open_journal(config) as journal:
        for problem in refresh(config, journal).problems:
            event(logger, logging.WARNING, "delivery", reason=problem)
        pending = set()
        for job in jobs:
            folder = spool.done / job
            receipt = read_receipt(folder)
            if receipt is None or receipt.get("delivery") != PENDING:
                continue
            key = str(JobKey.hotfolder(job))
            record = journal.delivery(key)
            known = journal.get(key) if record is None else None
            if known is not None and known.state is State.UNCERTAIN:
                _hold(spool, job, receipt, known.message)
                continue
            if record is None or record.outcome == PENDING:
                pending.add(job)
                continue
            receipt.update(
                delivery=record.outcome,
                delivery_status=record.status,
                delivery_time=dt.datetime.fromtimestamp(record.checked, dt.UTC).isoformat(
                    timespec="seconds"
                ),
            )
            write_receipt(folder, receipt)
            level = logging.INFO if record.outcome == "delivered" else logging.WARNING
            event(logger, level, record.outcome, job=job, message_id=record.message_id,
                  status=record.status)  # fmt: skip
    return pending


def _hold(spool: Spool, job: str, receipt: dict[str, Any], message: str) -> None:
    """Move a job whose message turned out to be another's from done/ to held/: it may
    not have been sent, and `faxprint retry` or `cancel` settle it from there."""
    receipt.update(outcome="uncertain", message=message, delivery="unknown")
    write_receipt(spool.done / job, receipt)
    os.rename(spool.done / job, spool.held / job)
    event(logger, logging.WARNING, "held", job=job, reason=message)
