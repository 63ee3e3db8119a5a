"""The SQLite file: its tables, how it is opened (WAL, owner) and its rows as records."""

from __future__ import annotations

import errno
import json
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from faxprint.errors import ConfigError
from faxprint.journal.records import JobRecord, State

BUSY_TIMEOUT = 30.0


class Rows(Protocol):
    """What a statement gives back, in both engines (sqlite3's and psycopg's cursors)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Database(Protocol):
    """An open database that runs a statement with ``?`` parameters."""

    def execute(self, sql: str, parameters: Any = (), /) -> Rows: ...


SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    account TEXT NOT NULL,
    "user" TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    recipients TEXT NOT NULL,
    documents TEXT NOT NULL,
    pages INTEGER,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    code INTEGER,
    message TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL,
    server TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_updated ON jobs (updated);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, updated);
CREATE INDEX IF NOT EXISTS jobs_user ON jobs ("user", updated);
CREATE TABLE IF NOT EXISTS attempts (
    job INTEGER NOT NULL REFERENCES jobs (id),
    number INTEGER NOT NULL,
    started REAL NOT NULL,
    ended REAL,
    state TEXT NOT NULL,
    code INTEGER,
    message TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job, number)
);
CREATE TABLE IF NOT EXISTS decisions (
    job INTEGER NOT NULL REFERENCES jobs (id),
    at REAL NOT NULL,
    state TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_job ON decisions (job);
CREATE TABLE IF NOT EXISTS deliveries (
    job INTEGER PRIMARY KEY REFERENCES jobs (id),
    account TEXT NOT NULL,
    message_id TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT NOT NULL,
    checked REAL NOT NULL,
    found INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account, message_id)
);
CREATE INDEX IF NOT EXISTS deliveries_outcome ON deliveries (outcome, checked);
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    folded TEXT NOT NULL,
    number TEXT NOT NULL,
    company TEXT NOT NULL DEFAULT '',
    updated REAL NOT NULL,
    UNIQUE (folded, number)
);
CREATE INDEX IF NOT EXISTS contacts_folded ON contacts (folded);
CREATE TABLE IF NOT EXISTS contact_groups (
    contact INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    folded TEXT NOT NULL,
    PRIMARY KEY (contact, folded)
);
CREATE INDEX IF NOT EXISTS contact_groups_folded ON contact_groups (folded);
CREATE TABLE IF NOT EXISTS work (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    account TEXT NOT NULL,
    lane TEXT NOT NULL,
    spec TEXT NOT NULL,
    folder TEXT NOT NULL,
    not_before REAL NOT NULL DEFAULT 0,
    queued REAL NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    taken REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS work_ready ON work (not_before, queued);
CREATE TABLE IF NOT EXISTS leases (
    owner TEXT PRIMARY KEY,
    renewed REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS pacing (
    name TEXT PRIMARY KEY,
    record TEXT NOT NULL
);
"""

COLUMNS = (
    'id, key, source, account, "user", title, recipients, documents, pages, state, attempts,'
    " code, message, owner, created, updated, server"
)


#: The journal's schema version: each step of :data:`STEPS` makes the next.
VERSION = 2
#: What makes version N+1 of a journal of version N (a new journal is made whole).
STEPS: dict[int, tuple[str, ...]] = {
    1: ("ALTER TABLE jobs ADD COLUMN server TEXT NOT NULL DEFAULT ''",),  # issue 22
}
META = "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"


def create(db: Database, engine: str = "sqlite", *, migrate: bool = True) -> int:
    """Bring the journal's tables to :data:`VERSION`; return the version it had (0: new).

    A new journal is made whole. An older one is migrated when ``migrate`` (SQLite, one
    server's file: always), else refused with what to run (a shared database is
    migrated by an admin, ``faxprint journal migrate``, when every server runs the new
    faxprint). A journal newer than this faxprint is refused: it cannot know its tables.
    """
    db.execute(META)
    row = db.execute("SELECT value FROM meta WHERE name = 'version'").fetchone()
    had = int(row[0]) if row else (1 if _table_exists(db, engine, "jobs") else 0)
    if had > VERSION:
        raise ConfigError(f"the journal's tables are version {had}; this faxprint knows "
                          f"{VERSION}: upgrade faxprint on this server")  # fmt: skip
    if 0 < had < VERSION and not migrate:
        raise ConfigError(f"the journal's tables are version {had}, this faxprint's "
                          f"{VERSION}: run `faxprint journal migrate` once every server "
                          "runs this faxprint")  # fmt: skip
    for version in range(had, VERSION) if had else ():  # an earlier faxprint's journal
        for statement in STEPS[version]:
            db.execute(statement)
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(for_postgres(statement) if engine == "postgresql" else statement)
    if engine == "sqlite":
        columns = {row[1] for row in db.execute("PRAGMA table_info(deliveries)")}
        if "found" not in columns:  # a journal from before the store's claims
            db.execute("ALTER TABLE deliveries ADD COLUMN found INTEGER NOT NULL DEFAULT 0")
    db.execute("INSERT INTO meta (name, value) VALUES ('version', ?) ON CONFLICT (name)"
               " DO UPDATE SET value = excluded.value", (str(VERSION),))  # fmt: skip
    return had


def _table_exists(db: Database, engine: str, name: str) -> bool:
    if engine == "sqlite":
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    else:
        sql = (
            "SELECT 1 FROM information_schema.tables WHERE table_name = ?"
            " AND table_schema = current_schema()"
        )
    return db.execute(sql, (name,)).fetchone() is not None


def for_postgres(statement: str) -> str:
    """A table of :data:`SCHEMA` as PostgreSQL spells it: row ids that count themselves,
    64-bit integers, and times as double precision (PostgreSQL's REAL is 32 bits)."""
    identity = "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    statement = statement.replace("id INTEGER PRIMARY KEY", identity)
    statement = re.sub(r"\bINTEGER\b", "BIGINT", statement)
    return re.sub(r"\bREAL\b", "DOUBLE PRECISION", statement)


def use_wal(db: sqlite3.Connection) -> None:
    """Switch the file to WAL mode, waiting for other processes as long as any writer does.

    On a new file, two processes making the switch at once both hold a read lock and want
    the write lock: SQLite answers one of them "database is locked" at once, without its
    busy timeout (waiting could deadlock). Once the other is done the file is in WAL mode
    already, so trying again soon succeeds.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def give_to_folder_owner(path: Path) -> None:
    """Give the journal's files to its folder's owner, when root made them."""
    # Root (an admin's command) and lp (the CUPS backend) share the system journal: files
    # root creates there must stay writable by the folder's owner.
    if os.geteuid() != 0:
        return
    owner = path.parent.stat()
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if name.stat().st_uid != owner.st_uid:
                os.chown(name, owner.st_uid, owner.st_gid)
        except FileNotFoundError:
            continue


#: SQLite's and the kernel's errors that pass (a full disk, a lock held): try again later.
_PASSING_SQLITE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_FULL")
_PASSING_ERRNO = (errno.ENOSPC, errno.EDQUOT, errno.EIO)


def passing(exc: BaseException, folder: Path) -> bool:
    """Tell whether an error opening the journal will pass (not the configuration's)."""
    if isinstance(exc, sqlite3.Error):
        name = str(getattr(exc, "sqlite_errorname", ""))
        return name.startswith(_PASSING_SQLITE) or (
            name == "SQLITE_CANTOPEN" and _no_inodes(folder)
        )
    return isinstance(exc, OSError) and exc.errno in _PASSING_ERRNO


def _no_inodes(folder: Path) -> bool:
    """Tell whether the folder's filesystem has run out of files (no new one can be made)."""
    try:
        return os.statvfs(folder).f_favail == 0
    except OSError:
        return False


def safe(text: str) -> str:
    """Return text SQLite can store."""
    # File names and CUPS titles may hold bytes that are no UTF-8 (surrogates here).
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def job_record(row: tuple[object, ...]) -> JobRecord:
    """Return a row of ``COLUMNS`` as a record."""
    (
        id_,
        key,
        source,
        account,
        user,
        title,
        recipients,
        documents,
        pages,
        state,
        attempts,
        code,
        message,
        owner,
        created,
        updated,
        server,
    ) = row
    return JobRecord(
        id=int(str(id_)),
        key=str(key),
        source=str(source),
        account=str(account),
        user=str(user),
        title=str(title),
        recipients=tuple(json.loads(str(recipients))),
        documents=tuple(json.loads(str(documents))),
        pages=None if pages is None else int(str(pages)),
        state=State(str(state)),
        attempts=int(str(attempts)),
        code=None if code is None else int(str(code)),
        message=str(message),
        owner=str(owner),
        created=float(str(created)),
        updated=float(str(updated)),
        server=str(server),
    )
