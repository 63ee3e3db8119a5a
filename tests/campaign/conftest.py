"""The campaign's paths as fixtures, and its ledger printed at the end of the run."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from faxprint.sandbox import SandboxServer
from tests.campaign.ledger import LEDGER, save, table
from tests.campaign.paths import QUEUE, HotFolderPath, Printer
from tests.campaign.rest_paths import RestHotFolder, RestPrinter
from tests.conftest import REPO
from tests.support.cupsd import PrivateCupsd
from tests.support.secrets import TEST_ACCOUNTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not LEDGER:
        return
    terminalreporter.section("fault campaign: jobs, accepted, duplicates, lost")
    for line in table(LEDGER):
        terminalreporter.write_line(line)
    where = os.environ.get("FAXPRINT_CAMPAIGN_REPORT")
    if where:
        terminalreporter.write_line(f"saved to {save(LEDGER, where)}")


@pytest.fixture(scope="module")
def queue(cupsd: PrivateCupsd, faxprint_root: Path) -> Iterator[str]:
    env = {**cupsd.env(), "FAXPRINT_CONFIG": str(faxprint_root / "etc" / "faxprint.toml")}
    Printer(cupsd, faxprint_root, faxprint_root).configure("http://127.0.0.1:9/faxapi.asp")
    command = [sys.executable, "-m", "faxprint", "install", "--name", QUEUE]
    command += ["--backend-dir", str(cupsd.backend_dir)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr
    yield QUEUE
    cupsd.connection().deletePrinter(QUEUE)


@pytest.fixture
def transport() -> str:
    """The transport the paths' account uses: "faxout", or "ringcentral" where a module
    overrides or parametrises this fixture."""
    return "faxout"


@pytest.fixture
def printer(
    cupsd: PrivateCupsd, queue: str, faxprint_root: Path, tmp_path: Path, transport: str
) -> Iterator[Printer]:
    conn = cupsd.connection()
    conn.enablePrinter(queue)
    kind = RestPrinter if transport == "ringcentral" else Printer
    yield kind(cupsd, faxprint_root, tmp_path)
    for job in conn.getJobs(which_jobs="not-completed"):
        conn.cancelJob(job)
    conn.enablePrinter(queue)


@pytest.fixture
def hot_folder(tmp_path: Path, transport: str) -> Iterator[HotFolderPath]:
    path = RestHotFolder(tmp_path) if transport == "ringcentral" else HotFolderPath(tmp_path)
    yield path
    path.stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    """A sandbox with the test accounts, for cases that need no fault before it starts."""
    with SandboxServer(port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS) as running:
        yield running
