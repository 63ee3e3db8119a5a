"""Fixtures that start a private cupsd (see tests/cupsd.py) once per test session.

Import with ``pytest_plugins = ["tests.conftest_cupsd"]`` in tests/conftest.py. A missing
cupsd fails the tests that need it, with the packages to install: it never skips them.
Set ``FAXPRINT_TEST_KEEP_CUPSD=1`` to keep the server's folder (logs, spool, records).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cupsd import CupsdError, PrivateCupsd, Recorder

PPD = Path(__file__).resolve().parent.parent / "ppd" / "faxprint.ppd"
RECORDER_QUEUE = "FaxRecord"


@pytest.fixture(scope="session")
def cupsd() -> Iterator[PrivateCupsd]:
    """Yield a running private cupsd; stop it at the end of the session, pass or fail."""
    keep = os.environ.get("FAXPRINT_TEST_KEEP_CUPSD", "") not in ("", "0")
    try:
        server = PrivateCupsd(keep=keep)
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
