"""The delivery ledger: which message of the service's is which accepted job's, and what
the service last said of its delivery."""

from __future__ import annotations

from collections.abc import Sequence

from faxprint.journal._connection import Connection, translated
from faxprint.journal._schema import COLUMNS, Database, job_record, safe
from faxprint.journal.records import DeliveryRecord, JobRecord, State

_DELIVERY = "j.key, d.account, d.message_id, d.status, d.outcome, d.checked"


class Deliveries(Connection):
    """The journal's record of deliveries, in the SQLite file."""

    @translated
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

    @translated
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

    @translated
    def delivery(self, key: str) -> DeliveryRecord | None:
        """Return the delivery status last recorded for a job, if it has a message id."""
        return self.deliveries([key]).get(key)

    @translated
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

    @translated
    def pending_deliveries(self, limit: int = 20, *, account: str) -> list[DeliveryRecord]:
        """Return an account's faxes whose delivery is not final yet, least recently
        checked first."""
        rows = self._db.execute(
            f"SELECT {_DELIVERY} FROM deliveries d JOIN jobs j ON j.id = d.job"  # noqa: S608
            " WHERE d.outcome = 'pending' AND d.account = ? ORDER BY d.checked LIMIT ?",
            (account, limit),
        )
        return [DeliveryRecord(*row) for row in rows]

    @translated
    def undelivered(self, *, since: float, limit: int = 50) -> list[JobRecord]:
        """Return accepted jobs updated since ``since`` whose delivery is not confirmed
        (still pending, or failed), newest first."""
        rows = self._db.execute(
            f"SELECT {COLUMNS} FROM jobs WHERE updated >= ? AND id IN"  # noqa: S608
            " (SELECT job FROM deliveries WHERE outcome != 'delivered')"
            " ORDER BY updated DESC, id DESC LIMIT ?",
            (since, limit),
        )
        return [job_record(row) for row in rows]


def _keep_delivery(
    db: Database,
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
        " found = CASE WHEN excluded.found > deliveries.found THEN excluded.found"
        " ELSE deliveries.found END",
        (job.id, job.account, message_id, safe(status), outcome, now, int(found)),
    )


def _mistaken(message_id: str, key: str) -> str:
    return (
        f"message {message_id}, found in the message store for this job, is job {key}'s: "
        "this job's upload may not have been accepted. Check the account's sent faxes, then "
        "`faxprint retry` or `faxprint cancel` it"
    )
