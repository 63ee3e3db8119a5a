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
"""

from __future__ import annotations

import errno
import functools
import json
import os
import re
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from faxprint.errors import ConfigError, JournalError
from faxprint.lease import owner_alive, process_identity

BUSY_TIMEOUT = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    account TEXT NOT NULL,
    user TEXT NOT NULL DEFAULT '',
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
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_updated ON jobs (updated);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, updated);
CREATE INDEX IF NOT EXISTS jobs_user ON jobs (user, updated);
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
"""


class State(StrEnum):
    """Where a job stands."""

    PENDING = "pending"
    SENDING = "sending"
    RETRY = "retry"
    ACCEPTED = "accepted"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    CANCELLED = "cancelled"


# A failed or cancelled job that is submitted again (an admin restarting a CUPS job, a
# file moved back into the hot folder) was resubmitted on purpose: it may be sent.
SENDABLE = frozenset({State.PENDING, State.RETRY, State.FAILED, State.CANCELLED})


@dataclass(frozen=True)
class JobRecord:
    """One job as the journal knows it."""

    id: int
    key: str
    source: str
    account: str
    user: str
    title: str
    recipients: tuple[str, ...]
    documents: tuple[str, ...]
    pages: int | None
    state: State
    attempts: int
    code: int | None
    message: str
    owner: str
    created: float
    updated: float


@dataclass(frozen=True)
class DeliveryRecord:
    """What the service last said of an accepted fax it gave an id to."""

    key: str
    account: str
    message_id: str
    status: str  # the service's own word (Queued, Delivered, SendingFailed, ...)
    outcome: str  # pending, delivered or failed
    checked: float


@dataclass(frozen=True)
class AttemptRecord:
    """One upload attempt of a job."""

    number: int
    started: float
    ended: float | None
    state: State
    code: int | None
    message: str


P = ParamSpec("P")
R = TypeVar("R")


def _translated(
    method: Callable[Concatenate[Journal, P], R],
) -> Callable[Concatenate[Journal, P], R]:
    """Turn SQLite's errors into JournalError, the one place they are translated."""

    def wrapper(self: Journal, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be used: {exc}") from exc

    functools.update_wrapper(wrapper, method)
    return wrapper


#: SQLite's and the kernel's errors that pass (a full disk, a lock held): try again later.
_PASSING_SQLITE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_FULL")
_PASSING_ERRNO = (errno.ENOSPC, errno.EDQUOT, errno.EIO)


def _passing(exc: BaseException, folder: Path) -> bool:
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


def _safe(text: str) -> str:
    # File names and CUPS titles may hold bytes that are no UTF-8 (surrogates here).
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class Journal:
    """The job journal in one SQLite file. Safe for many processes at once."""

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.clock = clock
        self.owner = process_identity(os.getpid())
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
            # Never open the database file ourselves: closing any descriptor of it drops
            # every POSIX lock this process holds on it, and SQLite's locks with them (a
            # known way to corrupt SQLite with several connections in one process).
            # chmod opens nothing; the -wal and -shm files, made next, take this mode.
            if stat.S_IMODE(self.path.stat().st_mode) != 0o600:
                self.path.chmod(0o600)
            _use_wal(self._db)
            _give_to_folder_owner(self.path)
            self._db.execute("PRAGMA synchronous=FULL")
            with self._immediate() as db:
                _create(db)
        except (OSError, sqlite3.Error) as exc:
            if _passing(exc, self.path.parent):  # a full disk, a busy lock: not the config's
                raise JournalError(f"journal {self.path} cannot be opened now: {exc}") from exc
            raise ConfigError(f"journal {self.path} cannot be opened: {exc}") from exc

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _immediate(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @_translated
    def begin(
        self,
        key: str,
        *,
        source: str,
        account: str,
        recipients: Sequence[str],
        documents: Sequence[str],
        pages: int | None,
        user: str = "",
        title: str = "",
    ) -> JobRecord:
        """Record a job unless it is known already; return it as the journal has it."""
        with self._immediate() as db:
            self._insert(db, key, source, account, recipients, documents, pages, user, title)
        return self._require(key)

    def _insert(
        self,
        db: sqlite3.Connection,
        key: str,
        source: str,
        account: str,
        recipients: Sequence[str],
        documents: Sequence[str],
        pages: int | None,
        user: str,
        title: str,
    ) -> None:
        now = self.clock()
        db.execute(
            "INSERT OR IGNORE INTO jobs (key, source, account, user, title, recipients,"
            " documents, pages, state, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (_safe(key), source, _safe(account), _safe(user), _safe(title),
             json.dumps(list(recipients)), json.dumps(list(documents)),  # escapes no-UTF-8
             pages, State.PENDING, now, now),
        )  # fmt: skip

    @_translated
    def refused(
        self,
        key: str,
        message: str,
        *,
        source: str,
        account: str,
        documents: Sequence[str] = (),
        user: str = "",
        title: str = "",
    ) -> JobRecord:
        """Record a job refused before it could become a fax (bad options, a ticket that
        cannot be read, no document from cupsd's filters): history answers "did my fax
        go?" for it too. A job the journal knows in another state than waiting to be sent
        (accepted, uncertain, being sent: a restarted job refused this time) keeps it."""
        with self._immediate() as db:
            self._insert(db, key, source, account, [], documents, None, user, title)
            job = self._known(db, key)
            if job.state in SENDABLE:
                self._set(db, job, State.FAILED, None, message, self.clock())
        return self._require(key)

    @_translated
    def start_attempt(self, key: str, *, force: bool = False) -> JobRecord:
        """Mark a sendable job ``sending`` and count the attempt; return the job after.

        The job is this process's to send only if it comes back ``sending`` with
        ``owner == self.owner``. A job found ``sending`` by a live process is left alone;
        one left ``sending`` by a process that died mid-upload becomes ``uncertain``.
        One left ``sending`` by this very process (a try that ended in an unexpected
        error) becomes ``uncertain`` too: it is never sent again unchecked.
        ``force`` sends an uncertain job all the same (a deliberate choice).
        """
        now = self.clock()
        with self._immediate() as db:
            job = self._known(db, key)
            if job.state is State.SENDING:
                self._unstick(db, job, now)
            elif job.state in SENDABLE or (force and job.state is State.UNCERTAIN):
                number = job.attempts + 1
                db.execute(
                    "UPDATE jobs SET state = ?, attempts = ?, owner = ?, updated = ? WHERE id = ?",
                    (State.SENDING, number, self.owner, now, job.id),
                )
                db.execute(
                    "INSERT INTO attempts (job, number, started, state) VALUES (?, ?, ?, ?)",
                    (job.id, number, now, State.SENDING),
                )
        return self._require(key)

    @_translated
    def unstick(self, key: str) -> JobRecord:
        """Make a job ``uncertain`` whose ``sending`` no process will finish (its sender
        died, or it was this process's own try); return the job after. A job a live
        process is sending stays ``sending``."""
        with self._immediate() as db:
            job = self._known(db, key)
            if job.state is State.SENDING:
                self._unstick(db, job, self.clock())
        return self._require(key)

    def _unstick(self, db: sqlite3.Connection, job: JobRecord, now: float) -> None:
        if job.owner == self.owner:  # a try of ours that ended with no verdict
            self._set(db, job, State.UNCERTAIN, None, _NO_VERDICT, now)
        elif not owner_alive(job.owner, job.updated, now):
            self._set(db, job, State.UNCERTAIN, None, _INTERRUPTED, now)

    @_translated
    def abandon(self, key: str, message: str = "the job was cancelled") -> None:
        """Mark this process's own ``sending`` job cancelled; leave any other job alone.

        For a cancel (SIGTERM) that lands after start_attempt committed ``sending`` but
        before the caller could record how the attempt ended.
        """
        with self._immediate() as db:
            job = self._fetch(db, key)
            if job is not None and job.state is State.SENDING and job.owner == self.owner:
                self._set(db, job, State.CANCELLED, None, message, self.clock())

    @_translated
    def finish(
        self, key: str, state: State, *, code: int | None = None, message: str = ""
    ) -> JobRecord:
        """Record how a job's latest attempt (or the job, without one) ended."""
        now = self.clock()
        with self._immediate() as db:
            job = self._known(db, key)
            self._set(db, job, state, code, message, now)
        return self._require(key)

    def _set(
        self,
        db: sqlite3.Connection,
        job: JobRecord,
        state: State,
        code: int | None,
        message: str,
        now: float,
    ) -> None:
        db.execute(
            "UPDATE jobs SET state = ?, code = ?, message = ?, updated = ? WHERE id = ?",
            (state, code, _safe(message), now, job.id),
        )
        db.execute(
            "UPDATE attempts SET ended = ?, state = ?, code = ?, message = ?"
            " WHERE job = ? AND number = ? AND ended IS NULL",
            (now, state, code, _safe(message), job.id, job.attempts),
        )

    @_translated
    def settle(self, key: str, state: State, message: str) -> JobRecord:
        """Record a person's decision on a job (``retry``: send it again; ``cancelled``).

        Raise ValueError for a job that is accepted, or being sent by a live process.
        """
        now = self.clock()
        with self._immediate() as db:
            job = self._known(db, key)
            if job.state is State.ACCEPTED:
                raise ValueError(f"job {key} was accepted by the service")
            if job.state is State.SENDING and owner_alive(job.owner, job.updated, now):
                raise ValueError(f"job {key} is being sent right now")
            self._set(db, job, state, None, message, now)
            db.execute(
                "INSERT INTO decisions (job, at, state, message) VALUES (?, ?, ?, ?)",
                (job.id, now, state, _safe(message)),
            )
        return self._require(key)

    @_translated
    def note(self, key: str, state: State, message: str) -> None:
        """Record what a person asked that came too late to change the job (a cancel after
        the service had the fax): a decision that leaves the job's state as it is, and
        its message saying so."""
        now = self.clock()
        with self._immediate() as db:
            job = self._known(db, key)
            said = f"{job.message}; {message}" if job.message else message
            db.execute("UPDATE jobs SET message = ?, updated = ? WHERE id = ?",
                       (_safe(said), now, job.id))  # fmt: skip
            db.execute(
                "INSERT INTO decisions (job, at, state, message) VALUES (?, ?, ?, ?)",
                (job.id, now, state, _safe(message)),
            )

    @_translated
    def decisions(self, key: str) -> list[tuple[float, State, str]]:
        """Return the decisions people made on a job (``settle``), oldest first."""
        rows = self._db.execute(
            "SELECT d.at, d.state, d.message FROM decisions d JOIN jobs j ON j.id = d.job"
            " WHERE j.key = ? ORDER BY d.at",
            (key,),
        )
        return [(float(at), State(state), str(message)) for at, state, message in rows]

    @_translated
    def budget(self, key: str) -> tuple[float, int]:
        """Where a job's retry budget starts: (since, attempts before). A person's latest
        ``retry`` decision starts a new budget; without one it is the job's creation."""
        row = self._db.execute(
            "SELECT j.created, (SELECT max(d.at) FROM decisions d WHERE d.job = j.id"
            " AND d.state = ?) FROM jobs j WHERE j.key = ?",
            (State.RETRY, key),
        ).fetchone()
        if row is None:
            raise KeyError(key)
        since = float(row[1] if row[1] is not None else row[0])
        before = self._db.execute(
            "SELECT count(*) FROM attempts a JOIN jobs j ON j.id = a.job"
            " WHERE j.key = ? AND a.started < ?",
            (key, since),
        ).fetchone()[0]
        return since, int(before) if row[1] is not None else 0

    @_translated
    def record_delivery(self, key: str, message_id: str, status: str, outcome: str) -> None:
        """Keep the service's message id of an accepted job and its delivery status.

        The service's answer is the truth: a job that had taken the same message from the
        message store (its own upload's answer lost) took another's, so it goes back to
        ``uncertain`` for a person, with the reason.
        """
        now = self.clock()
        with self._immediate() as db:
            job = self._known(db, key)
            other = db.execute(
                "SELECT job, found FROM deliveries WHERE account = ? AND message_id = ?"
                " AND job != ?",
                (job.account, message_id, job.id),
            ).fetchone()
            if other is not None and not other[1]:
                return  # the service named one message twice: keep the first owner's
            if other is not None:
                db.execute("DELETE FROM deliveries WHERE job = ?", (other[0],))
                taken = self._record_by_id(db, int(other[0]))
                self._set(db, taken, State.UNCERTAIN, None, _mistaken(message_id, key), now)
            _keep_delivery(db, job, message_id, status, outcome, now, found=False)

    @_translated
    def claim_found(
        self, key: str, message_id: str, status: str, outcome: str, *, message: str
    ) -> bool:
        """Take a message found in the store as this uncertain job's and mark the job
        accepted, in one transaction; False if another job owns it already (or the job
        is no longer this process's to settle)."""
        now = self.clock()
        with self._immediate() as db:
            job = self._known(db, key)
            mine = job.state is State.UNCERTAIN or (
                job.state is State.SENDING and job.owner == self.owner
            )
            taken = db.execute(  # by another job: its own (an earlier claim) is no obstacle
                "SELECT 1 FROM deliveries WHERE account = ? AND message_id = ? AND job != ?",
                (job.account, message_id, job.id),
            ).fetchone()
            if not mine or taken is not None:
                return False
            self._set(db, job, State.ACCEPTED, 0, message, now)
            _keep_delivery(db, job, message_id, status, outcome, now, found=True)
        return True

    @_translated
    def delivery(self, key: str) -> DeliveryRecord | None:
        """Return the delivery status last recorded for a job, if it has a message id."""
        return self.deliveries([key]).get(key)

    @_translated
    def deliveries(self, keys: Sequence[str]) -> dict[str, DeliveryRecord]:
        """Return the delivery records of those of ``keys`` that have one, by key."""
        found: dict[str, DeliveryRecord] = {}
        for start in range(0, len(keys), 500):  # within SQLite's limit of parameters
            chunk = list(keys[start : start + 500])
            rows = self._db.execute(
                f"SELECT {_DELIVERY} FROM deliveries d JOIN jobs j ON j.id = d.job"  # noqa: S608
                f" WHERE j.key IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            found.update((row[0], DeliveryRecord(*row)) for row in rows)
        return found

    @_translated
    def pending_deliveries(self, limit: int = 20, *, account: str) -> list[DeliveryRecord]:
        """Return an account's faxes whose delivery is not final yet, least recently
        checked first."""
        rows = self._db.execute(
            f"SELECT {_DELIVERY} FROM deliveries d JOIN jobs j ON j.id = d.job"  # noqa: S608
            " WHERE d.outcome = 'pending' AND d.account = ? ORDER BY d.checked LIMIT ?",
            (account, limit),
        )
        return [DeliveryRecord(*row) for row in rows]

    @_translated
    def undelivered(self, *, since: float, limit: int = 50) -> list[JobRecord]:
        """Return accepted jobs updated since ``since`` whose delivery is not confirmed
        (still pending, or failed), newest first."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM jobs WHERE updated >= ? AND id IN"  # noqa: S608
            " (SELECT job FROM deliveries WHERE outcome != 'delivered')"
            " ORDER BY updated DESC, id DESC LIMIT ?",
            (since, limit),
        )
        return [_record(row) for row in rows]

    @_translated
    def get(self, key: str) -> JobRecord | None:
        """Return the job recorded under ``key``, if any."""
        return self._fetch(self._db, key)

    def _require(self, key: str) -> JobRecord:
        return self._known(self._db, key)

    @_translated
    def attempts(self, key: str) -> list[AttemptRecord]:
        """Return every attempt of a job, oldest first."""
        rows = self._db.execute(
            "SELECT a.number, a.started, a.ended, a.state, a.code, a.message FROM attempts a"
            " JOIN jobs j ON j.id = a.job WHERE j.key = ? ORDER BY a.number",
            (key,),
        )
        return [AttemptRecord(n, s, e, State(st), c, m) for n, s, e, st, c, m in rows]

    @_translated
    def recent(self, limit: int = 50, *, state: State | None = None) -> list[JobRecord]:
        """Return the newest jobs first, optionally only those in one state."""
        return self.search(Filter(states=(state,) if state else ()), limit)

    @_translated
    def search(self, where: Filter, limit: int = 50) -> list[JobRecord]:
        """Return the newest jobs that pass ``where``, newest first."""
        clauses, args = where.sql()
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM jobs {clauses} ORDER BY updated DESC, id DESC LIMIT ?",  # noqa: S608
            [*args, limit],
        )
        return [_record(row) for row in rows]

    @_translated
    def counts(self, *, since: float) -> dict[str, int]:
        """Return how many jobs updated since ``since`` are in each state."""
        rows = self._db.execute(
            "SELECT state, count(*) FROM jobs WHERE updated >= ? GROUP BY state", (since,)
        )
        return {str(state): int(count) for state, count in rows}

    @_translated
    def find(self, reference: str) -> list[JobRecord]:
        """Return the jobs a person's reference names: a key, the start of one, a
        printer job (``Fax-17``), a send job's short id or a hot-folder job's name (or
        its start)."""
        exact = self._fetch(self._db, reference)
        if exact is not None:
            return [exact]
        patterns = [_prefix(p) for p in (reference, f"send:{reference}", f"hotfolder:{reference}")]
        if match := re.fullmatch(r"(.+)-([0-9]+)", reference):  # QUEUE-JOBID
            patterns.append(_prefix(f"cups:{match[1]}:{match[2]}:"))
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM jobs WHERE title = ? AND source = 'hotfolder'"  # noqa: S608
            + " OR key LIKE ? ESCAPE '\\'" * len(patterns)
            + " ORDER BY updated DESC LIMIT 20",
            [reference, *patterns],
        )
        return [_record(row) for row in rows]

    @classmethod
    def _known(cls, db: sqlite3.Connection, key: str) -> JobRecord:
        """Fetch a job that must be there (KeyError otherwise)."""
        job = cls._fetch(db, key)
        if job is None:
            raise KeyError(key)
        return job

    @staticmethod
    def _record_by_id(db: sqlite3.Connection, id_: int) -> JobRecord:
        return _record(db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (id_,)).fetchone())  # noqa: S608

    @staticmethod
    def _fetch(db: sqlite3.Connection, key: str) -> JobRecord | None:
        row = db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE key = ?", (key,)).fetchone()  # noqa: S608
        return _record(row) if row else None


@dataclass(frozen=True)
class Filter:
    """Which jobs a search returns; every field given must match."""

    states: Sequence[State] = ()
    user: str | None = None
    recipient: str | None = None  # a number, or its start: recipients are "NUMBER|NAME"
    since: float | None = None  # updated at or after (seconds since the epoch)
    until: float | None = None  # updated before

    def sql(self) -> tuple[str, list[object]]:
        """Return a WHERE clause (or "") and its arguments."""
        clauses: list[str] = []
        args: list[object] = []
        if self.states:
            clauses.append(f"state IN ({', '.join('?' * len(self.states))})")
            args += [state.value for state in self.states]
        if self.user is not None:
            clauses.append("user = ?")
            args.append(self.user)
        if self.recipient is not None:
            clauses.append("recipients LIKE ? ESCAPE '\\'")
            args.append('%"' + _escape_like(self.recipient) + "%")
        if self.since is not None:
            clauses.append("updated >= ?")
            args.append(self.since)
        if self.until is not None:
            clauses.append("updated < ?")
            args.append(self.until)
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), args


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _prefix(text: str) -> str:
    return _escape_like(text) + "%"


_NO_VERDICT = (
    "an earlier try in this process ended with no verdict (an internal error): the fax "
    "may have been sent; check the account's sent faxes"
)
_INTERRUPTED = (
    "an earlier attempt was interrupted during the upload: the service may have accepted "
    "the fax. Check the account's sent faxes, then retry or cancel the job"
)
_COLUMNS = (
    "id, key, source, account, user, title, recipients, documents, pages, state, attempts,"
    " code, message, owner, created, updated"
)


_DELIVERY = "j.key, d.account, d.message_id, d.status, d.outcome, d.checked"


def _keep_delivery(
    db: sqlite3.Connection,
    job: JobRecord,
    message_id: str,
    status: str,
    outcome: str,
    now: float,
    *,
    found: bool,
) -> None:
    """Insert or update a job's delivery row. ``found``: the message was taken from the
    store, not named by the service's answer; a found row stays found when refreshed."""
    db.execute(
        "INSERT INTO deliveries (job, account, message_id, status, outcome, checked, found)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job) DO UPDATE SET"
        " message_id = excluded.message_id, status = excluded.status,"
        " outcome = excluded.outcome, checked = excluded.checked,"
        " found = max(found, excluded.found)",
        (job.id, job.account, message_id, _safe(status), outcome, now, int(found)),
    )


def _mistaken(message_id: str, key: str) -> str:
    return (
        f"message {message_id}, found in the message store for this job, is job {key}'s: "
        "this job's upload may not have been accepted. Check the account's sent faxes, then "
        "`faxprint retry` or `faxprint cancel` it"
    )


def _give_to_folder_owner(path: Path) -> None:
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


def _use_wal(db: sqlite3.Connection) -> None:
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


def _create(db: sqlite3.Connection) -> None:
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    columns = {row[1] for row in db.execute("PRAGMA table_info(deliveries)")}
    if "found" not in columns:  # a journal from before the store's claims
        db.execute("ALTER TABLE deliveries ADD COLUMN found INTEGER NOT NULL DEFAULT 0")


def _record(row: tuple[object, ...]) -> JobRecord:
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
    )
