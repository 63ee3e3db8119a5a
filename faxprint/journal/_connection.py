"""The open SQLite journal that every part of the engine shares: one connection, its
transactions, the translation of SQLite's errors, and the reads and the state change
the job lifecycle and the delivery ledger both need."""

from __future__ import annotations

import functools
import os
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar, Concatenate, ParamSpec, Self, TypeVar

from faxprint.errors import ConfigError, JournalError
from faxprint.journal._schema import (
    BUSY_TIMEOUT,
    COLUMNS,
    Database,
    create,
    give_to_folder_owner,
    job_record,
    passing,
    safe,
    use_wal,
)
from faxprint.journal.records import JobRecord, State
from faxprint.lease import process_identity


class Connection:
    """A journal opened by this process: the SQLite file (:class:`PgConnection`, in
    :mod:`faxprint.journal.postgres`, is the PostgreSQL one)."""

    #: The engine's errors, turned into JournalError by :func:`translated`.
    ERRORS: ClassVar[tuple[type[BaseException], ...]] = (sqlite3.Error,)
    _db: Database

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.clock = clock
        self.owner = process_identity(os.getpid())
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._sqlite = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
            self._db = self._sqlite
            # Never open the database file ourselves: closing any descriptor of it drops
            # every POSIX lock this process holds on it, and SQLite's locks with them (a
            # known way to corrupt SQLite with several connections in one process).
            # chmod opens nothing; the -wal and -shm files, made next, take this mode.
            if stat.S_IMODE(self.path.stat().st_mode) != 0o600:
                self.path.chmod(0o600)
            use_wal(self._sqlite)
            give_to_folder_owner(self.path)
            self._sqlite.execute("PRAGMA synchronous=FULL")
            with self._immediate() as db:
                self.version_before = create(db)
        except (OSError, sqlite3.Error) as exc:
            if passing(exc, self.path.parent):  # a full disk, a busy lock: not the config's
                raise JournalError(f"journal {self.path} cannot be opened now: {exc}") from exc
            raise ConfigError(f"journal {self.path} cannot be opened: {exc}") from exc

    def _database_now(self, db: Database) -> float:
        """The time by the journal's clock: this machine's, for a file (one server)."""
        return self.clock()

    @property
    def where(self) -> str:
        """The journal as people know it (a file; a database's name, no password)."""
        return str(self.path)

    def close(self) -> None:
        """Close the database connection."""
        self._sqlite.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _immediate(self) -> Iterator[Database]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _set(
        self,
        db: Database,
        job: JobRecord,
        state: State,
        code: int | None,
        message: str,
        now: float,
    ) -> None:
        """Put a job in ``state``, and end its open attempt (if any) the same way."""
        db.execute(
            "UPDATE jobs SET state = ?, code = ?, message = ?, updated = ? WHERE id = ?",
            (state, code, safe(message), now, job.id),
        )
        db.execute(
            "UPDATE attempts SET ended = ?, state = ?, code = ?, message = ?"
            " WHERE job = ? AND number = ? AND ended IS NULL",
            (now, state, code, safe(message), job.id, job.attempts),
        )

    def _require(self, key: str) -> JobRecord:
        return self._known(self._db, key)

    @classmethod
    def _known(cls, db: Database, key: str) -> JobRecord:
        """Fetch a job that must be there (KeyError otherwise)."""
        job = cls._fetch(db, key)
        if job is None:
            raise KeyError(key)
        return job

    @staticmethod
    def _record_by_id(db: Database, id_: int) -> JobRecord:
        return job_record(db.execute(f"SELECT {COLUMNS} FROM jobs WHERE id = ?", (id_,)).fetchone())  # noqa: S608

    @staticmethod
    def _fetch(db: Database, key: str) -> JobRecord | None:
        row = db.execute(f"SELECT {COLUMNS} FROM jobs WHERE key = ?", (key,)).fetchone()  # noqa: S608
        return job_record(row) if row else None


C = TypeVar("C", bound=Connection)
P = ParamSpec("P")
R = TypeVar("R")


def translated(method: Callable[Concatenate[C, P], R]) -> Callable[Concatenate[C, P], R]:
    """Turn SQLite's errors into JournalError, the one place they are translated."""

    def wrapper(self: C, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except self.ERRORS as exc:
            raise JournalError(f"journal {self.where} cannot be used: {exc}") from exc

    functools.update_wrapper(wrapper, method)
    return wrapper
