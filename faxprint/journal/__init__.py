"""The journal: one SQLite file recording every fax job and every upload attempt.

It is how faxprint keeps its promise that a fax is sent once: a job is marked ``sending``
(durably) before its upload starts, and ``accepted`` as soon as the service says so. A job
found ``accepted`` is never sent again; a job found ``sending`` belongs to a process that
died mid-upload, so its fate is unknown and it becomes ``uncertain`` rather than being
sent blindly a second time.

Several processes write at once (one CUPS backend per job, the folder watcher, the CLI):
the file runs in WAL mode, every state change is one ``BEGIN IMMEDIATE`` transaction, and
writers wait for each other (busy timeout) instead of failing. Passwords never reach it.

States::

    pending -> sending -> accepted
                  |  \\-> retry -> sending ...   (transient failure, will try again)
                  |   \\-> failed                (permanent failure, or retries used up)
                  \\-> uncertain                  (upload ended, answer lost)
    any unfinished state -> cancelled

The package: ``records`` (the values), ``store`` (``JobStore``, what faxprint asks of any
journal) and the SQLite engine, ``sqlite.Journal`` (the job lifecycle), built on
``_connection`` and ``_schema`` with ``deliveries`` and ``queries`` mixed in.
"""

from __future__ import annotations

from faxprint.journal._schema import BUSY_TIMEOUT
from faxprint.journal.records import (
    SENDABLE,
    AttemptRecord,
    Contact,
    DeliveryRecord,
    Filter,
    JobRecord,
    State,
    WorkItem,
)
from faxprint.journal.sqlite import Journal
from faxprint.journal.store import JobStore
from faxprint.journal.work import HELD

__all__ = [
    "BUSY_TIMEOUT",
    "HELD",
    "SENDABLE",
    "AttemptRecord",
    "Contact",
    "DeliveryRecord",
    "Filter",
    "JobRecord",
    "JobStore",
    "Journal",
    "State",
    "WorkItem",
]
