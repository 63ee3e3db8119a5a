"""The service's queue, in the journal's database: printer jobs handed over to be planned,
and faxes to send, each kept (with its documents' folder) until it is settled.

An item is taken by the process that works on it (its identity, as a job being sent is);
one whose taker died is free to take again, so a killed service loses nothing. Handing
the same job over twice (a printer job run again by cupsd) adds nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from faxprint.journal._connection import Connection, translated
from faxprint.journal._schema import safe
from faxprint.journal.records import WorkItem
from faxprint.lease import owner_alive

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
            and owner_alive(item.owner, item.taken, now)
        )


def _item(row: tuple[object, ...]) -> WorkItem:
    key, kind, account, lane, spec, folder, not_before, queued, owner, taken = row
    return WorkItem(str(key), str(kind), str(account), str(lane), str(spec), str(folder),
                    float(not_before), float(queued), str(owner), float(taken))  # type: ignore[arg-type]  # fmt: skip
