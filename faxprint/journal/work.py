"""The service's queue, in the journal's database: printer jobs handed over to be planned,
and faxes to send, each kept (with its documents' folder) until it is settled.

An item is taken by the process that works on it (its identity, as a job being sent is);
one whose taker died is free to take again, so a killed service loses nothing. Handing
the same job over twice (a printer job run again by cupsd) adds nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from faxprint.errors import JournalError
from faxprint.journal._connection import Connection, translated
from faxprint.journal._schema import Database, safe
from faxprint.journal.records import WorkItem
from faxprint.lease import LEASE_SECONDS, owner_alive

_COLUMNS = "key, kind, account, lane, spec, folder, not_before, queued, owner, taken"
#: not_before of an item kept for a person (an uncertain fax): never ready by itself.
HELD = math.inf


class Work(Connection):
    """The queue's reads and writes."""

    @translated
    def enqueue(self, items: Sequence[WorkItem], *, replacing: str | None = None) -> int:
        """Add ``items`` not queued yet (in one transaction, removing ``replacing``, the
        printer job they were planned from); return how many were added."""
        added = 0
        with self._immediate() as db:
            if replacing is not None:
                db.execute("DELETE FROM work WHERE key = ?", (replacing,))
            now = self.clock()
            for item in items:
                cursor = db.execute(
                    f"INSERT INTO work ({_COLUMNS})"  # noqa: S608
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', 0) ON CONFLICT DO NOTHING",
                    (safe(item.key), item.kind, safe(item.account), safe(item.lane), item.spec,
                     item.folder, item.not_before, item.queued or now),
                )  # fmt: skip
                added += cursor.rowcount
        return added

    @translated
    def work(self, *, ready_at: float | None = None) -> list[WorkItem]:
        """Return the queued items, oldest first; with ``ready_at``, only those ready then
        and free to take (no taker, or a dead one)."""
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM work ORDER BY queued, key").fetchall()  # noqa: S608
        items = [_item(row) for row in rows]
        if ready_at is None:
            return items
        return [i for i in items if i.not_before <= ready_at and not self._busy(i, ready_at)]

    @translated
    def work_item(self, key: str) -> WorkItem | None:
        """Return the queued item ``key``, if any."""
        row = self._db.execute(f"SELECT {_COLUMNS} FROM work WHERE key = ?", (key,)).fetchone()  # noqa: S608
        return _item(row) if row else None

    @translated
    def take(self, key: str) -> WorkItem | None:
        """Take the item for this process; None if it is gone, or another live one has it."""
        now = self.clock()
        with self._immediate() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM work WHERE key = ?", (key,)).fetchone()  # noqa: S608
            if row is None or self._busy(_item(row), now):
                return None
            db.execute("UPDATE work SET owner = ?, taken = ? WHERE key = ?", (self.owner, now, key))
        return self.work_item(key)

    @translated
    def put_back(self, key: str, *, not_before: float = 0.0) -> None:
        """Give an item back to the queue, to be taken again from ``not_before`` on."""
        with self._immediate() as db:
            db.execute("UPDATE work SET owner = '', taken = 0, not_before = ? WHERE key = ?",
                       (not_before, key))  # fmt: skip

    @translated
    def finish_work(self, key: str) -> WorkItem | None:
        """Remove a settled item; return it (its folder is the caller's to remove)."""
        with self._immediate() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM work WHERE key = ?", (key,)).fetchone()  # noqa: S608
            db.execute("DELETE FROM work WHERE key = ?", (key,))
        return _item(row) if row else None

    def _busy(self, item: WorkItem, now: float) -> bool:
        return (
            bool(item.owner)
            and item.owner != self.owner
            and self._alive(self._db, item.owner, item.taken, now)
        )

    # -- leases: how a process on another server is known to be alive -----------------

    @translated
    def renew_lease(self) -> None:
        """Say this process is alive (:mod:`faxprint.lease`): every RENEW seconds. One
        statement, outside the writers' turn (a busy journal must not make a live server
        look dead), timed by the database's clock (the servers' clocks may differ); a
        day-old lease of a gone process is cleared on the way."""
        now = self._database_now(self._db)
        self._db.execute("INSERT INTO leases (owner, renewed) VALUES (?, ?) ON CONFLICT (owner)"
                         " DO UPDATE SET renewed = excluded.renewed",
                         (self.owner, now))  # fmt: skip
        self._db.execute("DELETE FROM leases WHERE renewed < ?", (now - 86400,))

    @translated
    def release_lease(self) -> None:
        """Let this process's lease go (it stops): its work is free at once (the lease is
        kept, lapsed, so that no one takes the process for a leaseless one)."""
        lapsed = self._database_now(self._db) - LEASE_SECONDS - 1
        self._db.execute("UPDATE leases SET renewed = ? WHERE owner = ?", (lapsed, self.owner))

    @translated
    def leases(self) -> dict[str, float]:
        """Every lease held: its holder, and when it was last renewed."""
        rows = self._db.execute("SELECT owner, renewed FROM leases").fetchall()
        return {str(owner): float(renewed) for owner, renewed in rows}

    @contextmanager
    def pacing_record(self, name: str) -> Iterator[dict[str, Any]]:
        """An account's record of recent uploads (:mod:`faxprint.pacing`), shared by every
        server: read and written back in one writing transaction (one at a time)."""
        try:
            with self._immediate() as db:
                row = db.execute("SELECT record FROM pacing WHERE name = ?", (name,)).fetchone()
                try:
                    record = json.loads(str(row[0])) if row else {}
                except ValueError:
                    record = {}
                yield record if isinstance(record, dict) else {}
                db.execute("INSERT INTO pacing (name, record) VALUES (?, ?) ON CONFLICT (name)"
                           " DO UPDATE SET record = excluded.record",
                           (name, json.dumps(record)))  # fmt: skip
        except self.ERRORS as exc:
            raise JournalError(f"journal {self.where} cannot be used: {exc}") from exc

    def _alive(self, db: Database, owner: str, since: float, now: float) -> bool:
        """Whether ``owner`` (who took a job at ``since``) may still be at it: on this
        server its process, elsewhere its lease (:func:`faxprint.lease.owner_alive`),
        judged by the database's clock, which renewed it."""
        row = db.execute("SELECT renewed FROM leases WHERE owner = ?", (owner,)).fetchone()
        if row is None:
            return owner_alive(owner, since, now)
        return owner_alive(owner, since, self._database_now(db), float(row[0]))


def _item(row: tuple[object, ...]) -> WorkItem:
    key, kind, account, lane, spec, folder, not_before, queued, owner, taken = row
    return WorkItem(str(key), str(kind), str(account), str(lane), str(spec), str(folder),
                    float(not_before), float(queued), str(owner), float(taken))  # type: ignore[arg-type]  # fmt: skip
