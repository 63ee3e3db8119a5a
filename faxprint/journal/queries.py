"""What people ask the journal: the newest jobs, a search, counts by state, a reference."""

from __future__ import annotations

import re

from faxprint.journal._connection import Connection, translated
from faxprint.journal._schema import COLUMNS, job_record
from faxprint.journal.records import Filter, JobRecord, State


class Queries(Connection):
    """The people-facing reads of the SQLite journal."""

    @translated
    def recent(self, limit: int = 50, *, state: State | None = None) -> list[JobRecord]:
        """Return the newest jobs first, optionally only those in one state."""
        return self.search(Filter(states=(state,) if state else ()), limit)

    @translated
    def search(self, where: Filter, limit: int = 50) -> list[JobRecord]:
        """Return the newest jobs that pass ``where``, newest first."""
        clauses, args = _where(where)
        rows = self._db.execute(
            f"SELECT {COLUMNS} FROM jobs {clauses} ORDER BY updated DESC, id DESC LIMIT ?",  # noqa: S608
            [*args, limit],
        )
        return [job_record(row) for row in rows]

    @translated
    def counts(self, *, since: float) -> dict[str, int]:
        """Return how many jobs updated since ``since`` are in each state."""
        rows = self._db.execute(
            "SELECT state, count(*) FROM jobs WHERE updated >= ? GROUP BY state", (since,)
        )
        return {str(state): int(count) for state, count in rows}

    @translated
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
            f"SELECT {COLUMNS} FROM jobs WHERE title = ? AND source = 'hotfolder'"  # noqa: S608
            + " OR key LIKE ? ESCAPE '\\'" * len(patterns)
            + " ORDER BY updated DESC LIMIT 20",
            [reference, *patterns],
        )
        return [job_record(row) for row in rows]


def _where(where: Filter) -> tuple[str, list[object]]:
    """Return a filter's WHERE clause (or "") and its arguments."""
    clauses: list[str] = []
    args: list[object] = []
    if where.states:
        clauses.append(f"state IN ({', '.join('?' * len(where.states))})")
        args += [state.value for state in where.states]
    if where.user is not None:
        clauses.append('"user" = ?')
        args.append(where.user)
    if where.recipient is not None:
        clauses.append("recipients LIKE ? ESCAPE '\\'")
        args.append('%"' + _escape_like(where.recipient) + "%")
    if where.since is not None:
        clauses.append("updated >= ?")
        args.append(where.since)
    if where.until is not None:
        clauses.append("updated < ?")
        args.append(where.until)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), args


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _prefix(text: str) -> str:
    return _escape_like(text) + "%"
