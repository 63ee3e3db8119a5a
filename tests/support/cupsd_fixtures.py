"""Fixtures that start a private cupsd (see tests/support/cupsd.py) once per test session.

A plugin: tests/conftest.py loads it with ``pytest_plugins``. A missing cupsd fails the
tests that need it, with the packages to install: it never skips them.
Set ``FAXPRINT_TEST_KEEP_CUPSD=1`` to keep the server's folder (logs, spool, records).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cupsd import CupsdError, PrivateCupsd, Recorder, make_faxprint_root

REPO = Path(__file__).resolve().parents[2]
PPD = REPO / "ppd" / "faxprint.ppd"
RECORDER_QUEUE = "FaxRecord"


def _installed_copy_is_current() -> None:
    """Fail unless the faxprint that cupsd's backend imports is this checkout's code.

    The backend runs as lp with the venv's Python and imports the installed package, not
    the checkout: a stale install would make every cupsd test test old code.
    """
    probe = "import faxprint, pathlib; print(pathlib.Path(faxprint.__file__).parent)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd="/", check=True
    )
    installed = Path(result.stdout.strip())
    checkout = REPO / "faxprint"
    stale = [
        str(source.relative_to(checkout))
        for source in checkout.rglob("*.py")
        if not (installed / source.relative_to(checkout)).is_file()
        or (installed / source.relative_to(checkout)).read_bytes() != source.read_bytes()
    ]
    if stale:
        pytest.fail(
            f"the installed faxprint ({installed}) differs from the checkout in {', '.join(stale[:5])}: "
            f"run `{sys.executable} -m pip install .` (scripts/setup.sh test does)",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def faxprint_root() -> Iterator[Path]:
    """A folder lp can reach for the backend's config and journal (make_faxprint_root)."""
    root = make_faxprint_root()
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def cupsd(faxprint_root: Path) -> Iterator[PrivateCupsd]:
    """Yield a running private cupsd; stop it at the end of the session, pass or fail."""
    _installed_copy_is_current()
    keep = os.environ.get("FAXPRINT_TEST_KEEP_CUPSD", "") not in ("", "0")
    backend_env = {"FAXPRINT_CONFIG": str(faxprint_root / "etc" / "faxprint.toml")}
    try:
        server = PrivateCupsd(keep=keep, backend_env=backend_env)
    except CupsdError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        server.start()
    except CupsdError as exc:
        server.stop()
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()
        if keep:
            print(f"\nprivate cupsd folder kept: {server.dir}")


@pytest.fixture(scope="session")
def recorder(cupsd: PrivateCupsd) -> Recorder:
    """Install the recorder backend (scheme ``faxrecord``) in the private cupsd."""
    rec = Recorder(cupsd)
    rec.install()
    return rec


@pytest.fixture(scope="session")
def recorder_queue(cupsd: PrivateCupsd, recorder: Recorder) -> str:
    """Add a queue with faxprint's PPD whose backend is the recorder; return its name."""
    cupsd.add_printer(
        RECORDER_QUEUE,
        ppd=PPD,
        device=f"{recorder.scheme}://test",
        info="faxprint PPD with the recorder backend",
        error_policy="abort-job",
    )
    return RECORDER_QUEUE
