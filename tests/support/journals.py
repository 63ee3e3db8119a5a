"""The journal's two engines for tests that run on both: a place (an SQLite file's path,
or a PostgreSQL database's URL on the private server of :mod:`tests.support.postgres`)
and :func:`open_at`, which opens the engine the place names, in any process."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from faxprint.journal import Journal

#: The local folder of a PostgreSQL journal in the tests (transports' state and such).
STATE = Path(tempfile.gettempdir()) / "faxprint-test-pg-state" / "journal.sqlite"


def open_at(place: str | Path, **options: Any) -> Journal:
    """The journal at ``place``: PostgreSQL for a ``postgresql:`` URL, else SQLite."""
    if str(place).startswith("postgresql:"):
        from faxprint.journal.postgres import PgJournal

        return PgJournal(str(place), STATE, migrate=True, **options)
    return Journal(place, **options)
