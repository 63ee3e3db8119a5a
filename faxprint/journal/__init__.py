"""The journal: every fax job and every upload attempt, in one SQLite file (the embedded
default) or a PostgreSQL database several servers share (:func:`open_journal`).

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

from pathlib import Path
from typing import Protocol

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


class Placed(Protocol):
    """Where a config keeps its journal (:class:`faxprint.config.Config` is one)."""

    @property
    def journal(self) -> Path: ...

    @property
    def database(self) -> str: ...

    @property
    def database_passfile(self) -> str: ...


def open_journal(settings: Placed, *, migrate: bool = False) -> Journal:
    """The journal a config names: its PostgreSQL database (``journal`` a
    ``postgresql://`` URL), else its SQLite file. ``migrate`` brings an older shared
    database to this faxprint's tables (``faxprint journal migrate``); an SQLite file
    is always brought up to date."""
    if settings.database:
        from faxprint.journal.postgres import PgJournal

        return PgJournal(settings.database, settings.journal,
                         passfile=settings.database_passfile, migrate=migrate)  # fmt: skip
    return Journal(settings.journal)


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
    "Placed",
    "State",
    "WorkItem",
    "open_journal",
]
