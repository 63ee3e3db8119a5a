"""The PostgreSQL engine: the same journal (:class:`faxprint.journal.sqlite.Journal`'s
lifecycle, deliveries, queries, contacts and queue) in a database several servers share.

``journal = "postgresql://faxprint@db.example/faxprint"`` in the config (a libpq URL;
the password comes from ``journal_passfile`` or ``~/.pgpass``, never from the config
itself) opens it through psycopg 3. What SQLite's ``BEGIN IMMEDIATE`` promises, one
writer at a time with every read in the transaction seeing what the last writer
committed, is kept the way PostgreSQL's documentation offers for it: each writing
transaction first takes one transaction-level advisory lock
(``pg_advisory_xact_lock``, "Advisory Lock Functions", released at COMMIT or ROLLBACK).
Writers wait for it at most :data:`BUSY_TIMEOUT` (``lock_timeout``), as SQLite's busy
timeout. Statements are written once, with ``?`` parameters; the engine turns them into
psycopg's ``%s``. The local folder (``path``: the transports' state, the queue's
documents, the service's socket) stays on this server.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from faxprint.errors import ConfigError, JournalError
from faxprint.journal._connection import Connection
from faxprint.journal._schema import BUSY_TIMEOUT, Database, Rows, create
from faxprint.journal.sqlite import Journal
from faxprint.lease import process_identity

#: The advisory lock every writer takes: "faxprint" as a 64-bit number.
WRITER_LOCK = int.from_bytes(b"faxprint", "big") & 0x7FFF_FFFF_FFFF_FFFF
#: Seconds to wait for the database to answer a connection.
CONNECT_TIMEOUT = 10


def _errors() -> tuple[type[BaseException], ...]:
    try:
        import psycopg
    except ImportError:
        return ()
    return (psycopg.Error,)


class _Statements:
    """psycopg's connection, taking statements written with ``?`` as SQLite's does."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def execute(self, sql: str, parameters: Any = (), /) -> Rows:
        values = tuple(parameters)
        text = sql.replace(" LIKE ", " ILIKE ")  # SQLite's LIKE ignores ASCII case
        if values:  # only then does psycopg read placeholders (and % as one)
            text = text.replace("%", "%%").replace("?", "%s")
        cursor: Rows = self.connection.execute(text, values or None)
        return cursor


class PgConnection(Connection):
    """A PostgreSQL journal opened by this process."""

    ERRORS: ClassVar[tuple[type[BaseException], ...]] = _errors()

    def __init__(
        self,
        url: str,
        path: str | Path,
        *,
        passfile: str = "",
        migrate: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.url = url
        self.clock = clock
        self.owner = process_identity(os.getpid())
        self.version_before = 0
        try:
            import psycopg
        except ImportError:
            raise ConfigError("a PostgreSQL journal needs psycopg (pip install psycopg) and "
                              "libpq5") from None  # fmt: skip
        try:
            options: dict[str, Any] = {"passfile": passfile} if passfile else {}
            self._pg = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                                       application_name="faxprint", **options)  # fmt: skip
        except psycopg.OperationalError as exc:  # down, unreachable: not now
            raise JournalError(f"journal {self.where} cannot be reached now: "
                               f"{_first_line(exc)}") from None  # fmt: skip
        except psycopg.Error as exc:
            raise ConfigError(
                f"journal {self.where} cannot be opened: {_first_line(exc)}"
            ) from None
        self._db = _Statements(self._pg)
        try:
            self._db.execute(f"SET lock_timeout = '{int(BUSY_TIMEOUT * 1000)}ms'")
            with self._immediate() as db:
                self.version_before = create(db, "postgresql", migrate=migrate)
        except ConfigError:
            self._pg.close()
            raise
        except psycopg.Error as exc:
            self._pg.close()
            raise JournalError(f"journal {self.where} cannot be used now: "
                               f"{_first_line(exc)}") from None  # fmt: skip

    @property
    def where(self) -> str:
        """The database as people know it: host and name, never a password."""
        from psycopg.conninfo import conninfo_to_dict

        try:
            found = conninfo_to_dict(self.url)
        except Exception:
            return "postgresql://..."
        host = str(found.get("host") or "localhost")
        return f"postgresql://{found.get('user', '')}@{host}/{found.get('dbname', '')}"

    def close(self) -> None:
        self._pg.close()

    def _database_now(self, db: Database) -> float:
        """The database server's clock: one for every server that shares it."""
        return float(db.execute("SELECT extract(epoch from clock_timestamp())").fetchone()[0])

    @contextmanager
    def _immediate(self) -> Iterator[Database]:
        self._db.execute("BEGIN ISOLATION LEVEL READ COMMITTED")  # whatever the default
        try:
            self._db.execute("SELECT pg_advisory_xact_lock(?)", (WRITER_LOCK,))
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


class PgJournal(PgConnection, Journal):
    """The job journal in a PostgreSQL database: the same promises as the SQLite file,
    shared by every server that opens it."""


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
