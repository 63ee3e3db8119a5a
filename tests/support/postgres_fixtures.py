"""Fixtures of the private PostgreSQL server (tests/support/postgres.py), started once per
test session when a test first asks for it, stopped by its PID at the end; and the
``journal_place`` that runs a test on both of the journal's engines. A missing server
fails the tests that need it, naming the package: it never skips them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import PostgresError, PrivatePostgres


@pytest.fixture(scope="session")
def postgres() -> Iterator[PrivatePostgres]:
    try:
        server = PrivatePostgres().start()
    except (PostgresError, OSError) as exc:
        pytest.fail(f"no private PostgreSQL for the tests: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def journal_place(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's journal is: an SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "j.sqlite")
    server: PrivatePostgres = request.getfixturevalue("postgres")
    return server.database()
