"""The fax service misbehaving in every way the campaign lists, on both paths.

Each case sends one job through a real cupsd (the Fax printer) and one through a real
watcher (the hot folder), with the sandbox committing the fault, and checks the promise:
accepted exactly once, or ended where a person sees it (held, cancelled, failed/) with a
reason and the document kept; an outcome that is truly unknown is held, never re-sent.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from faxprint.sandbox import Fault, SandboxServer
from tests.campaign.ledger import stored_markers, tally
from tests.campaign.paths import HotFolderPath, Printer
from tests.support.helpers import wait_for
from tests.support.secrets import TEST_ACCOUNTS

pytestmark = [pytest.mark.slow, pytest.mark.cupsd]


@dataclass(frozen=True)
class Case:
    name: str
    faults: Callable[[], list[Fault]]
    ends: str  # "accepted", "held" or "given up"
    stored: int  # faxes the sandbox holds at the end
    down_first: bool = False
    megabytes: float = 0  # big enough, the sender is truly mid-upload when cut off
    settings: dict[str, float] = field(default_factory=dict)


CASES = [
    Case("down (connection refused), then back", list, "accepted", 1, down_first=True),
    Case("HTTP 500 after the whole upload", lambda: [Fault.http_status(500)], "held", 0),
    Case("result code 5 twice, then 0", lambda: [Fault.code(5)] * 2, "accepted", 1),
    Case("an HTML page instead of a code", lambda: [Fault.html()], "held", 0),
    Case(
        "hanging past the read timeout",
        lambda: [Fault.hang(60)],
        "held",
        0,
        settings={"read_timeout": 1.5},
    ),
    Case(
        "connection closed mid-upload (8 MB)",
        lambda: [Fault.close_mid_body()],
        "accepted",
        1,
        megabytes=8,
    ),
    Case("a 1 KB/s trickle", lambda: [Fault.trickle(1024)], "accepted", 1),
    Case(
        "503, 502, 429, then accepted",
        lambda: [Fault.http_status(s) for s in (503, 502, 429)],
        "accepted",
        1,
    ),
    Case("answer lost after acceptance", lambda: [Fault.accept_then_drop()], "held", 1),
    Case(
        "code 5 until the retry limit (3 attempts)",
        lambda: [Fault.code(5)] * 3,
        "given up",
        0,
        settings={"max_attempts": 3},
    ),
]
ENDS = {"printer": {"given up": "cancelled"}, "hot folder": {"given up": "failed"}}


def _run(path: Printer | HotFolderPath, case: Case, tmp_path: Path) -> None:
    marker = f"campaign {path.name}: {case.name}"
    port = _port_outside_the_ephemeral_range()
    url = f"http://127.0.0.1:{port}/faxapi.asp"
    path.configure(url, **case.settings)
    if isinstance(path, HotFolderPath):
        path.start()
    if case.down_first:  # nothing listens on the port until a try has failed
        path.send(marker, case.megabytes)
        _wait_for_a_failed_attempt(path, marker)
    server = SandboxServer(port=port, store=tmp_path / "store", accounts=TEST_ACCOUNTS).start()
    if not case.down_first:
        server.faults.push(*case.faults())
        path.send(marker, case.megabytes)
    try:
        ended = path.ended(marker)
    finally:
        if isinstance(path, HotFolderPath):
            path.stop()
        server.stop()
    expected = ENDS[path.name].get(case.ends, case.ends)
    assert ended.split(":")[0] == expected, ended
    result = tally(
        path.name,
        case.name,
        [marker],
        stored_markers([server]),
        {} if ended == "accepted" else {marker: ended.split(":")[0]},
    )
    assert (result.duplicates, result.lost) == (0, 0), result
    assert len(server.faxes()) == case.stored
    if case.ends == "given up":
        assert "gave up after 3 attempts" in ended, ended


def _port_outside_the_ephemeral_range() -> int:
    """A free port no outgoing connection can get as its own source port: with an
    ephemeral one, a client connecting to a port nobody listens on can, rarely, connect to
    itself (TCP simultaneous open on loopback) instead of being refused."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for port in random.Random().sample(range(max(1024, low - 10000), low), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port below the ephemeral range")


def _wait_for_a_failed_attempt(path: Printer | HotFolderPath, marker: str) -> None:
    from faxprint.journal import Journal

    def failed_once() -> bool:
        if not path.journal.exists():
            return False
        with Journal(path.journal) as journal:
            jobs = journal.recent(limit=20)
            return any(
                path.owns(j.title, marker) and j.attempts >= 1 and j.state == "retry" for j in jobs
            )

    wait_for(failed_once, timeout=60, what="an attempt against the service that is down")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_printer_under_a_service_fault(printer: Printer, case: Case, tmp_path: Path) -> None:
    _run(printer, case, tmp_path)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_hot_folder_under_a_service_fault(
    hot_folder: HotFolderPath, case: Case, tmp_path: Path
) -> None:
    _run(hot_folder, case, tmp_path)
