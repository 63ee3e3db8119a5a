"""Shared fixtures: a clean environment for every test, sandbox FaxOut servers, and the
sandbox's REST side on a clock the test moves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from faxprint.sandbox import SandboxServer
from faxprint.sandbox.rest import RestService
from tests.support.rest import FAILING, Clock
from tests.support.secrets import TEST_ACCOUNTS, TEST_ACCOUNTS_TOML, TEST_APPS

pytest_plugins = [
    "tests.support.cupsd_fixtures",
    "tests.support.leakcheck",
    "tests.support.postgres_fixtures",
]

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the caller's CUPS and faxprint settings out of every test."""
    for name in list(os.environ):
        if name.startswith(("FAXPRINT_", "AUTH_")) or name in (
            "DEVICE_URI",
            "CUPS_SERVER",
            "PRINTER",
        ):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a thread running behind it."""
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    for thread in leaked:
        thread.join(timeout=5)
    still = [t.name for t in leaked if t.is_alive()]
    assert not still, f"threads left running: {still}"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    """A sandbox FaxOut server in this process, on a free loopback port.

    Its accounts have the test password (tests.support.secrets), not the well-known one.
    """
    with SandboxServer(port=0, store=tmp_path / "sandbox-store", accounts=TEST_ACCOUNTS) as server:
        yield server


@dataclass
class SandboxProcess:
    url: str
    store: Path
    pid: int


@pytest.fixture
def sandbox_process(tmp_path: Path) -> Iterator[SandboxProcess]:
    """``faxprint sandbox`` as its own process, as a user starts it; stopped by PID.

    Its accounts file (mode 0600) gives the default accounts the test password.
    """
    store = tmp_path / "sandbox-store"
    accounts = tmp_path / "sandbox-accounts.toml"
    accounts.touch(mode=0o600)
    accounts.write_text(TEST_ACCOUNTS_TOML)
    command = ["sandbox", "--port", "0", "--store", str(store), "--accounts", str(accounts)]
    process = subprocess.Popen(
        [sys.executable, "-m", "faxprint", *command],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("faxprint sandbox listening on "), line
        url = line.split()[4]
        yield SandboxProcess(url=url, store=store, pid=process.pid)
    finally:
        os.kill(process.pid, signal.SIGTERM)
        status = process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
        assert status == 0


@pytest.fixture
def clock() -> Clock:
    """A clock that stands still until the test moves it (tests.support.rest)."""
    return Clock()


@pytest.fixture
def service(clock: Clock) -> RestService:
    """The sandbox's REST side with the test app, on ``clock``: tokens last an hour, a fax
    is delivered 30 s after it was accepted, and delivery to FAILING fails.

    A module whose tests need another (on real time, say) overrides this fixture.
    """
    return RestService(TEST_APPS, clock=clock, token_seconds=3600, delivery_seconds=30,
                       failing_numbers=[FAILING])  # fmt: skip


@pytest.fixture
def server(tmp_path: Path, service: RestService) -> Iterator[SandboxServer]:
    """A sandbox on a free loopback port whose REST side is ``service`` (its FaxOut side
    has the test accounts)."""
    with SandboxServer(port=0, store=tmp_path / "rest-store", accounts=TEST_ACCOUNTS,
                       rest=service) as running:  # fmt: skip
        yield running
