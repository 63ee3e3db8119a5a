"""The machine failing under faxprint: a full disk, a locked journal, an unreadable
config, a clock that jumps. Each ends with the job accepted once, or waiting with a
message that says why, and nothing lost."""

from __future__ import annotations

import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faxprint.journal import Journal
from faxprint.sandbox import Fault, SandboxServer
from tests.campaign.ledger import stored_markers, tally
from tests.campaign.paths import HotFolderPath, Printer, campaign_pdf
from tests.campaign.test_kills import Backend, _end
from tests.campaign.test_service_faults import _port_outside_the_ephemeral_range
from tests.conftest import REPO
from tests.support.cupsd import JOB_PENDING, PrivateCupsd
from tests.support.helpers import drop_ticket, wait_for

pytestmark = pytest.mark.slow

RETRY, CANCEL = 6, 5
FAKETIME = "/usr/bin/faketime"


def _limited(size: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def test_a_full_disk_while_spooling_retries_the_job_then_sends_it_once(
    tmp_path: Path, server: SandboxServer
) -> None:
    job = Backend(tmp_path, server.url, "disk full while spooling")
    data = campaign_pdf(tmp_path / "a.pdf", job.marker, megabytes=2).read_bytes()
    full = subprocess.run(
        job.argv,
        env=job.env,
        input=data,
        capture_output=True,
        preexec_fn=lambda: _limited(256 * 1024),
        timeout=120,
        check=False,
    )
    err = full.stderr.decode()
    assert full.returncode == RETRY, err
    assert "ERROR: cannot spool the job in" in err and "File too large" in err
    assert "Traceback" not in err
    assert list(job.spool.iterdir()) == []  # the partial copy is gone; cupsd keeps the job
    ended = _end(*job.run(data))
    result = tally(
        "printer", "disk full while spooling", [job.marker], stored_markers([server]), {}
    )
    assert (ended, result.accepted, result.duplicates, len(server.requests)) == (
        "accepted",
        1,
        0,
        1,
    )


def _holding_the_journal(path: Path) -> sqlite3.Connection:
    Journal(path).close()  # the schema exists, as after any earlier job
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    return other


def _has_open(pid: int, path: Path) -> bool:
    try:
        return any(
            os.readlink(f"/proc/{pid}/fd/{fd}") == str(path) for fd in os.listdir(f"/proc/{pid}/fd")
        )
    except OSError:
        return False


def test_a_journal_locked_by_another_writer_is_waited_for(
    tmp_path: Path, server: SandboxServer
) -> None:
    job = Backend(tmp_path, server.url, "journal locked by another writer")
    data = campaign_pdf(tmp_path / "a.pdf", job.marker).read_bytes()
    journal = tmp_path / "journal.sqlite"
    other = _holding_the_journal(journal)
    process = job.start(data)
    try:
        wait_for(
            lambda: _has_open(process.pid, journal),
            timeout=60,
            what="the backend to open the journal",
        )
        assert server.requests == []  # nothing is sent before the journal has the job
    finally:
        other.execute("COMMIT")
        other.close()
    _, err = process.communicate(timeout=120)
    ended = _end(process.returncode, err.decode())
    result = tally(
        "printer", "journal locked by another writer", [job.marker], stored_markers([server]), {}
    )
    assert (ended, result.accepted, result.duplicates) == ("accepted", 1, 0)


def test_the_hot_folder_waits_for_a_locked_journal(
    hot_folder: HotFolderPath, server: SandboxServer
) -> None:
    hot_folder.configure(server.url)
    other = _holding_the_journal(hot_folder.journal)
    try:
        hot_folder.start()
        hot_folder.send("hot folder, journal locked")
        wait_for(
            lambda: (
                (hot_folder.root / "processing").exists()
                and any((hot_folder.root / "processing").iterdir())
            ),
            timeout=60,
            what="the job to be claimed",
        )
        assert server.requests == []
    finally:
        other.execute("COMMIT")
        other.close()
    ended = hot_folder.ended("hot folder, journal locked")
    result = tally(
        "hot folder",
        "journal locked by another writer",
        ["hot folder, journal locked"],
        stored_markers([server]),
        {},
    )
    assert (ended, result.accepted, result.duplicates) == ("accepted", 1, 0)


def test_a_config_lp_cannot_read_stops_the_queue_and_keeps_the_job(
    cupsd: PrivateCupsd, printer: Printer, queue: str, server: SandboxServer
) -> None:
    printer.configure(server.url)
    config = printer.root / "etc" / "faxprint.toml"
    config.chmod(0)
    try:
        printer.send("config unreadable")
        cupsd.wait_printer_stopped(queue)
        state = cupsd.connection().getPrinters()[queue]["printer-state-message"]
        assert "is not readable by this user" in state, state
        job = printer.jobs["config unreadable"]
        assert cupsd.connection().getJobAttributes(job)["job-state"] == JOB_PENDING
    finally:
        config.chmod(0o640)
    cupsd.connection().enablePrinter(queue)
    ended = printer.ended("config unreadable")
    result = tally(
        "printer", "config unreadable by lp", ["config unreadable"], stored_markers([server]), {}
    )
    assert (ended, result.accepted, result.duplicates) == ("accepted", 1, 0)


def test_a_watcher_with_an_unreadable_config_says_so_and_touches_nothing(
    tmp_path: Path,
) -> None:
    root = tmp_path / "drop"
    root.mkdir()
    campaign_pdf(root / "waiting.pdf", "waiting")
    drop_ticket(root, "waiting", {"to": ["5556465589"]})
    before = sorted(p.name for p in root.iterdir())
    result = subprocess.run(
        [sys.executable, "-m", "faxprint", "--config", str(tmp_path), "watch", str(root)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 78, result.stderr
    assert result.stderr.count("\n") == 1 and "cannot be read" in result.stderr, result.stderr
    assert sorted(p.name for p in root.iterdir()) == before


def test_a_clock_jumping_forward_past_max_age_gives_the_job_up_with_a_reason(
    tmp_path: Path,
) -> None:
    down = f"http://127.0.0.1:{_port_outside_the_ephemeral_range()}/faxapi.asp"  # no one there
    job = Backend(tmp_path, down, "clock jumps forward")
    data = campaign_pdf(tmp_path / "a.pdf", job.marker).read_bytes()
    assert job.run(data)[0] == RETRY
    job.argv = _faketime("+3d", job.argv)
    status, err = job.run(data)
    assert status == CANCEL, err
    assert "ERROR: Fax not sent: gave up after 1 attempts" in err, err
    ended = {job.marker: "cancelled"}
    tally("printer", "clock +3 days (past max_age)", [job.marker], stored_markers([]), ended)


def test_a_clock_jumping_back_still_sends_the_job_once(
    tmp_path: Path, server: SandboxServer
) -> None:
    job = Backend(tmp_path, server.url, "clock jumps back")
    data = campaign_pdf(tmp_path / "a.pdf", job.marker).read_bytes()
    server.faults.push(Fault.code(5))
    assert job.run(data)[0] == RETRY
    job.argv = _faketime("-1d", job.argv)
    ended = _end(*job.run(data))
    stored = stored_markers([server])
    result = tally("printer", "clock -1 day between tries", [job.marker], stored, {})
    assert (ended, result.accepted, result.duplicates) == ("accepted", 1, 0)


def test_a_watcher_whose_wall_clock_jumps_sends_each_job_once(
    hot_folder: HotFolderPath, server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In this process, not under faketime: libfaketime's pthread_cond_timedwait breaks
    # Python's timed waits (a plain Event.wait(0.2) never returns under it).
    real = time.time
    offset = [30 * 86400.0]
    monkeypatch.setattr(time, "time", lambda: real() + offset[0])
    hot_folder.configure(server.url)
    hot_folder.start()
    markers = [f"clock jumps {n}" for n in range(4)]
    ended = []
    for n, marker in enumerate(markers):
        if n == 2:
            offset[0] = -86400.0  # and back, a day behind the files' times
        hot_folder.send(marker)
        ended.append(hot_folder.ended(marker))
    result = tally(
        "hot folder", "wall clock +30 days, then -1 day", markers, stored_markers([server]), {}
    )
    assert (ended, result.accepted, result.duplicates) == (["accepted"] * 4, 4, 0)


def _faketime(offset: str, argv: list[str]) -> list[str]:
    """Run argv with its clocks moved by offset, as an NTP step or a wrong RTC would."""
    assert Path(FAKETIME).exists(), "install Debian's faketime (scripts/setup.sh does)"
    return [FAKETIME, "-f", offset, *argv]
