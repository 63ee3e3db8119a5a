"""``faxprint journal copy``: an SQLite journal moved into an empty PostgreSQL one, whole.

Every table is copied row by row in one transaction of the destination (its ids kept, so
attempts, decisions and deliveries still name their jobs; PostgreSQL's id counters are
then set past them). A destination that has jobs already is refused: two journals are
never merged, since a job key found in both could not be told apart safely.
"""

from __future__ import annotations

from faxprint.errors import ConfigError
from faxprint.journal._schema import Database
from faxprint.journal.sqlite import Journal

#: The tables in an order that keeps every reference valid.
TABLES = ("jobs", "attempts", "decisions", "deliveries", "contacts", "contact_groups", "work")


def copy(source: Journal, destination: Journal) -> dict[str, int]:
    """Copy ``source`` (opened, its tables current) into the empty ``destination``;
    return how many rows each table brought."""
    copied: dict[str, int] = {}
    source._db.execute("BEGIN")  # one view of the source, whatever writes to it meanwhile
    try:
        with destination._immediate() as db:
            _refuse_unless_empty(db, destination.where)
            _rows(source, db, copied)
    finally:
        source._db.execute("COMMIT")
    return copied


def _refuse_unless_empty(db: Database, where: str) -> None:
    for table in TABLES:
        found = int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
        if found:
            raise ConfigError(f"journal {where} has {found} rows in {table} already; copy "
                              "into an empty database (a journal is never merged into "
                              "another)")  # fmt: skip


def _rows(source: Journal, db: Database, copied: dict[str, int]) -> None:
    """Every row of every table, then the id counters set past the copied ids."""
    for table in TABLES:
        rows = source._db.execute(f"SELECT * FROM {table}")  # noqa: S608
        names = [column[0] for column in rows.description]  # type: ignore[attr-defined]
        columns = ", ".join(f'"{name}"' for name in names)
        marks = ", ".join("?" for _ in names)
        count = 0
        for row in rows:
            db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", row)  # noqa: S608
            count += 1
        copied[table] = count
    for table in ("jobs", "contacts"):  # the next id past the copied ones
        db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
                   f" (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")  # fmt: skip
