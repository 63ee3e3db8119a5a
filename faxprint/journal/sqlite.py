"""The SQLite engine: `Journal`, the job lifecycle, with the delivery ledger and the
people-facing queries of the same connection mixed in."""

from __future__ import annotations

import json
from collections.abc import Sequence

from faxprint.errors import JournalError
from faxprint.journal._connection import translated
from faxprint.journal._schema import Database, safe
from faxprint.journal.contacts import Contacts
from faxprint.journal.deliveries import Deliveries
from faxprint.journal.queries import Queries
from faxprint.journal.records import SENDABLE, AttemptRecord, JobRecord, State
from faxprint.journal.store import JobStore
from faxprint.journal.work import Work
from faxprint.lease import LEASE_SECONDS, RENEW, lapsed, server_name, server_of


class Journal(Deliveries, Queries, Contacts, Work):
    """The job journal in one SQLite file. Safe for many processes at once."""

    @translated
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
            if pages is not None:  # queued before its pages were counted: they are now
                db.execute("UPDATE jobs SET pages = ? WHERE key = ? AND pages IS NULL",
                           (pages, safe(key)))  # fmt: skip
        return self._require(key)

    def _insert(
        self,
        db: Database,
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
            'INSERT INTO jobs (key, source, account, "user", title, recipients, documents,'
            " pages, state, created, updated, server) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (safe(key), source, safe(account), safe(user), safe(title),
             json.dumps(list(recipients)), json.dumps(list(documents)),  # escapes no-UTF-8
             pages, State.PENDING, now, now, safe(server_name())),
        )  # fmt: skip

    @translated
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
        return self._waiting(key, State.FAILED, message, source, account, documents, user, title)

    @translated
    def unaddressed(
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
        """Record a printed job that waits for an address (no option, code or default
        names a recipient); a job the journal knows in another state keeps it."""
        return self._waiting(
            key, State.UNADDRESSED, message, source, account, documents, user, title
        )

    def _waiting(
        self,
        key: str,
        state: State,
        message: str,
        source: str,
        account: str,
        documents: Sequence[str],
        user: str,
        title: str,
    ) -> JobRecord:
        with self._immediate() as db:
            self._insert(db, key, source, account, [], documents, None, user, title)
            job = self._known(db, key)
            if job.state in SENDABLE:
                self._set(db, job, state, None, message, self.clock())
        return self._require(key)

    @translated
    def start_attempt(self, key: str, *, force: bool = False) -> JobRecord:
        """Mark a sendable job ``sending`` and count the attempt; return the job after.

        The job is this process's to send only if it comes back ``sending`` with
        ``owner == self.owner``. A job found ``sending`` by a live process is left alone;
        one left ``sending`` by a process that died mid-upload becomes ``uncertain``.
        One left ``sending`` by this very process (a try that ended in an unexpected
        error) becomes ``uncertain`` too: it is never sent again unchecked.
        ``force`` sends an uncertain job all the same (a deliberate choice).
        """
        if lapsed():  # other servers may take this one for dead: it sends nothing now
            raise JournalError(f"journal {self.where}: this server's lease was not renewed "
                               f"for {LEASE_SECONDS - RENEW:g} s; no upload starts until "
                               "it is")  # fmt: skip
        now = self.clock()
        with self._immediate() as db:
            job = self._known(db, key)
            if job.state is State.SENDING:
                self._unstick(db, job, now)
            elif job.state in SENDABLE or (force and job.state is State.UNCERTAIN):
                number = job.attempts + 1
                db.execute(
                    "UPDATE jobs SET state = ?, attempts = ?, owner = ?, updated = ?, server = ?"
                    " WHERE id = ?",
                    (State.SENDING, number, self.owner, now, server_of(self.owner), job.id),
                )
                db.execute(
                    "INSERT INTO attempts (job, number, started, state) VALUES (?, ?, ?, ?)",
                    (job.id, number, now, State.SENDING),
                )
        return self._require(key)

    @translated
    def unstick(self, key: str) -> JobRecord:
        """Make a job ``uncertain`` whose ``sending`` no process will finish (its sender
        died, or it was this process's own try); return the job after. A job a live
        process is sending stays ``sending``."""
        with self._immediate() as db:
            job = self._known(db, key)
            if job.state is State.SENDING:
                self._unstick(db, job, self.clock())
        return self._require(key)

    def _unstick(self, db: Database, job: JobRecord, now: float) -> None:
        if job.owner == self.owner:  # a try of ours that ended with no verdict
            self._set(db, job, State.UNCERTAIN, None, _NO_VERDICT, now)
        elif not self._alive(db, job.owner, job.updated, now):
            self._set(db, job, State.UNCERTAIN, None, _INTERRUPTED, now)

    @translated
    def abandon(self, key: str, message: str = "the job was cancelled") -> None:
        """Mark this process's own ``sending`` job cancelled; leave any other job alone.

        For a cancel (SIGTERM) that lands after start_attempt committed ``sending`` but
        before the caller could record how the attempt ended.
        """
        with self._immediate() as db:
            job = self._fetch(db, key)
            if job is not None and job.state is State.SENDING and job.owner == self.owner:
                self._set(db, job, State.CANCELLED, None, message, self.clock())

    @translated
    def finish(
        self, key: str, state: State, *, code: int | None = None, message: str = ""
    ) -> JobRecord:
        """Record how a job's latest attempt (or the job, without one) ended."""
        now = self.clock()
        with self._immediate() as db:
            job = self._known(db, key)
            self._set(db, job, state, code, message, now)
        return self._require(key)

    @translated
    def settle(self, key: str, state: State, message: str) -> JobRecord:
        """Record a person's decision on a job (``retry``: send it again; ``cancelled``).

        Raise ValueError for a job that is accepted, or being sent by a live process.
        """
        now = self.clock()
        with self._immediate() as db:
            job = self._known(db, key)
            if job.state is State.ACCEPTED:
                raise ValueError(f"job {key} was accepted by the service")
            if job.state is State.SENDING and self._alive(db, job.owner, job.updated, now):
                raise ValueError(f"job {key} is being sent right now")
            self._set(db, job, state, None, message, now)
            db.execute(
                "INSERT INTO decisions (job, at, state, message) VALUES (?, ?, ?, ?)",
                (job.id, now, state, safe(message)),
            )
        return self._require(key)

    @translated
    def note(self, key: str, state: State, message: str) -> None:
        """Record what a person asked that came too late to change the job (a cancel after
        the service had the fax): a decision that leaves the job's state as it is, and
        its message saying so."""
        now = self.clock()
        with self._immediate() as db:
            job = self._known(db, key)
            said = f"{job.message}; {message}" if job.message else message
            db.execute("UPDATE jobs SET message = ?, updated = ? WHERE id = ?",
                       (safe(said), now, job.id))  # fmt: skip
            db.execute(
                "INSERT INTO decisions (job, at, state, message) VALUES (?, ?, ?, ?)",
                (job.id, now, state, safe(message)),
            )

    @translated
    def decisions(self, key: str) -> list[tuple[float, State, str]]:
        """Return the decisions people made on a job (``settle``), oldest first."""
        rows = self._db.execute(
            "SELECT d.at, d.state, d.message FROM decisions d JOIN jobs j ON j.id = d.job"
            " WHERE j.key = ? ORDER BY d.at",
            (key,),
        )
        return [(float(at), State(state), str(message)) for at, state, message in rows]

    @translated
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

    @translated
    def get(self, key: str) -> JobRecord | None:
        """Return the job recorded under ``key``, if any."""
        return self._fetch(self._db, key)

    @translated
    def attempts(self, key: str) -> list[AttemptRecord]:
        """Return every attempt of a job, oldest first."""
        rows = self._db.execute(
            "SELECT a.number, a.started, a.ended, a.state, a.code, a.message FROM attempts a"
            " JOIN jobs j ON j.id = a.job WHERE j.key = ? ORDER BY a.number",
            (key,),
        )
        return [AttemptRecord(n, s, e, State(st), c, m) for n, s, e, st, c, m in rows]


_NO_VERDICT = (
    "an earlier try in this process ended with no verdict (an internal error): the fax "
    "may have been sent; check the account's sent faxes"
)
_INTERRUPTED = (
    "an earlier attempt was interrupted during the upload: the service may have accepted "
    "the fax. Check the account's sent faxes, then retry or cancel the job"
)

#: The engine keeps the interface: mypy checks it here.
_ENGINE: type[JobStore] = Journal
