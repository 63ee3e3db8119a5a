"""``faxprint journal copy``: an SQLite journal moved into an empty PostgreSQL one, whole.

Every table is copied row by row in one transaction of the destination (its ids kept, so
attempts, decisions and deliveries still name their jobs; PostgreSQL's id counters are
then set past them). A destination that has jobs already is refused: two journals are
never merged, since a job key found in both could not be told apart safely.
"""

from __future__ import annotations

from faxprint.errors import ConfigError
from faxprint.journal.sqlite import Journal

#: The tables in an order that keeps every reference valid.
TABLES = ("jobs", "attempts", "decisions", "deliveries", "contacts", "contact_groups", "work")


def copy(source: Journal, destination: Journal) -> dict[str, int]:
    """Copy ``source`` (opened, its tables current) into the empty ``destination``;
    return how many rows each table brought."""
    found = destination._db.execute("SELECT count(*) FROM jobs").fetchone()[0]
    if int(found):
        raise ConfigError(f"journal {destination.where} has {found} jobs already; copy into "
                          "an empty database (a journal is never merged into another)")  # fmt: skip
    copied = {}
    with destination._immediate() as db:
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
    return copied
