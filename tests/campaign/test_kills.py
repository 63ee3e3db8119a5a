"""SIGKILL at every step, then a restart: nothing lost, nothing sent twice.

The backend is run as cupsd runs it (argv, environment, the job on stdin) and killed while
spooling, in the middle of the upload, and after the service accepted but before the
journal could record it; then it runs again with the same job, as cupsd's retry would. The
watcher is killed at random points of a stream of jobs, over and over, until every job
has ended. A kill after the upload leaves the outcome unknown: such jobs are held for a
person (the documented policy), never sent again on their own.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from faxprint.journal import Journal, State
from faxprint.lease import owner_alive
from faxprint.sandbox import Fault, SandboxServer
from tests.campaign.ledger import stored_markers, tally
from tests.campaign.paths import (
    HotFolderPath,
    Printer,
    campaign_pdf,
    config_text,
)
from tests.conftest import REPO
from tests.support.cupsd import PrivateCupsd
from tests.support.helpers import drop_ticket, started, wait_for, watch_process
from tests.support.secrets import TEST_ACCOUNTS

pytestmark = pytest.mark.slow

BACKEND = REPO / "cups-backend" / "faxprint"
OK, HOLD, CANCEL = 0, 3, 5


class Backend:
    """One CUPS job for the backend, run as cupsd would: job 7, data on stdin."""

    def __init__(self, tmp_path: Path, url: str, marker: str) -> None:
        self.marker = marker
        self.spool = tmp_path / "tmp"
        self.spool.mkdir()
        config = tmp_path / "faxprint.toml"
        config.write_text(config_text(tmp_path / "journal.sqlite", url, tries=1))
        config.chmod(0o600)
        self.env = {
            "DEVICE_URI": "faxprint://default",
            "PRINTER": "Fax",
            "TMPDIR": str(self.spool),
            "FAXPRINT_CONFIG": str(config),
            "PYTHONPATH": str(REPO),
            "PATH": os.environ["PATH"],
        }
        options = f'fax-to=5556465589 fax-cover-text="{marker}" job-uuid=urn:uuid:kill-{id(self)}'
        self.argv = [sys.executable, str(BACKEND), "7", "ann", marker, "1", options]

    def start(self, data: bytes | None = None) -> subprocess.Popen[bytes]:
        """Start the backend; given ``data``, feed it all on stdin and close stdin."""
        process = subprocess.Popen(
            self.argv, env=self.env, stdin=subprocess.PIPE, stderr=subprocess.PIPE
        )
        if data is not None:
            assert process.stdin is not None
            process.stdin.write(data)
            process.stdin.close()
            process.stdin = None  # closed: communicate() must not flush it again
        return process

    def run(self, data: bytes) -> tuple[int, str]:
        process = self.start()
        _, err = process.communicate(data, timeout=120)
        return process.returncode, err.decode()


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL


def _end(status: int, err: str) -> str:
    assert "Traceback" not in err, err
    if status == OK:
        return "accepted"
    assert status == HOLD, (status, err)
    assert "ERROR: Fax held" in err, err
    return "held"


def test_the_backend_killed_while_spooling_sends_the_job_once_when_run_again(
    tmp_path: Path, server: SandboxServer
) -> None:
    job = Backend(tmp_path, server.url, "killed while spooling")
    data = campaign_pdf(tmp_path / "a.pdf", job.marker, megabytes=2).read_bytes()
    process = job.start()
    assert process.stdin is not None
    process.stdin.write(data[: len(data) // 2])
    process.stdin.flush()
    wait_for(lambda: any(job.spool.iterdir()), timeout=60, what="the backend to start spooling")
    _kill(process)
    assert server.requests == []
    ended = _end(*job.run(data))
    result = tally("printer", "SIGKILL while spooling", [job.marker], stored_markers([server]), {})
    assert (ended, result.accepted, result.duplicates) == ("accepted", 1, 0)


def test_the_backend_killed_mid_upload_is_held_not_resent(
    tmp_path: Path, server: SandboxServer
) -> None:
    job = Backend(tmp_path, server.url, "killed mid-upload")
    data = campaign_pdf(tmp_path / "a.pdf", job.marker, megabytes=8).read_bytes()
    release = threading.Event()
    server.faults.push(Fault.stall_mid_body(release))
    process = job.start(data)
    wait_for(lambda: server.requests, timeout=60, what="the upload to reach the service")
    _kill(process)
    release.set()
    ended = _end(*job.run(data))
    result = tally(
        "printer",
        "SIGKILL mid-upload",
        [job.marker],
        stored_markers([server]),
        {job.marker: ended},
    )
    assert (ended, result.accepted, result.lost) == ("held", 0, 0)
    assert len(server.requests) == 1  # the second run did not upload it again


def test_the_backend_killed_after_acceptance_is_held_not_resent(
    tmp_path: Path, server: SandboxServer
) -> None:
    job = Backend(tmp_path, server.url, "killed after acceptance")
    data = campaign_pdf(tmp_path / "a.pdf", job.marker).read_bytes()
    release = threading.Event()
    server.faults.push(Fault.hold(release))
    process = job.start(data)
    wait_for(server.faxes, timeout=60, what="the service to accept the fax")
    _kill(process)
    release.set()
    ended = _end(*job.run(data))
    result = tally(
        "printer",
        "SIGKILL after acceptance, before the journal",
        [job.marker],
        stored_markers([server]),
        {job.marker: ended},
    )
    assert (ended, result.accepted, result.duplicates, len(server.requests)) == ("held", 1, 0, 1)


# -- cancels (SIGTERM, as cupsd sends on `cancel JOB`) against a slow service -------------

HANDED_OUT = "the whole upload is with the kernel; "


def _watch_stderr(process: subprocess.Popen[bytes]) -> tuple[list[str], threading.Thread]:
    """Collect the backend's stderr lines as they come (a thread reads the pipe)."""
    lines: list[str] = []

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line.decode("utf-8", "replace"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return lines, reader


def _finish(process: subprocess.Popen[bytes], reader: threading.Thread) -> int:
    """Wait for the backend to exit and its stderr to be read whole; return its status."""
    status = process.wait(timeout=60)
    reader.join(timeout=10)
    assert process.stderr is not None
    process.stderr.close()
    return status


def test_a_cancel_before_a_slow_service_has_the_whole_fax_cancels_it(
    tmp_path: Path, server: SandboxServer
) -> None:
    # The service reads 100 KB/s: the whole 2 MB body is soon in the kernel's buffers,
    # which once counted as "sent", and a cancel waited while the service went on
    # reading it to the end and accepted the fax.
    job = Backend(tmp_path, server.url, "cancelled while a slow service reads")
    job.env["FAXPRINT_DEBUG"] = "1"
    data = campaign_pdf(tmp_path / "a.pdf", job.marker, megabytes=2).read_bytes()
    server.faults.push(Fault.trickle(100_000))
    process = job.start(data)
    lines, reader = _watch_stderr(process)
    wait_for(lambda: any(HANDED_OUT in line for line in lines), timeout=60,
             what="the whole upload to be with the kernel")  # fmt: skip
    [said] = [line for line in lines if HANDED_OUT in line]
    assert not said.split(HANDED_OUT)[1].startswith(("0 ", "None ")), said  # not the service's
    process.send_signal(signal.SIGTERM)  # what cupsd does on `cancel JOB`
    assert _finish(process, reader) == CANCEL
    assert "INFO: Fax cancelled\n" in lines, lines
    with Journal(tmp_path / "journal.sqlite") as journal:
        [record] = journal.recent()
    assert record.state is State.CANCELLED
    wait_for(lambda: server.in_flight == 0, timeout=60, what="the service to give up the request")
    assert server.faxes() == []  # the cut request was never complete: nothing accepted
    result = tally("printer", "cancel before a slow service has it all", [job.marker],
                   stored_markers([server]), {job.marker: "cancelled"})  # fmt: skip
    assert (result.accepted, result.lost) == (0, 0)


def test_a_cancel_after_the_service_has_the_whole_fax_says_so_and_the_fax_stands(
    tmp_path: Path, server: SandboxServer
) -> None:
    job = Backend(tmp_path, server.url, "cancelled after the service had it")
    release = threading.Event()
    server.faults.push(Fault.hold(release))  # read whole and accepted; the answer held
    process = job.start(campaign_pdf(tmp_path / "a.pdf", job.marker).read_bytes())
    lines, reader = _watch_stderr(process)
    wait_for(server.faxes, timeout=60, what="the service to accept the fax")
    process.send_signal(signal.SIGTERM)  # too late: it waits for the verdict
    release.set()
    assert _finish(process, reader) == OK
    late = "the cancel came after the upload: the fax was accepted"
    assert f"WARNING: The {late[4:]}\n" in lines, lines
    with Journal(tmp_path / "journal.sqlite") as journal:
        [record] = journal.recent()
        decisions = journal.decisions(record.key)
    assert record.state is State.ACCEPTED and record.message.endswith(f"; {late}")
    assert [(state, message) for _, state, message in decisions] == [(State.CANCELLED, late)]
    result = tally("printer", "cancel after the service has it all", [job.marker],
                   stored_markers([server]), {})  # fmt: skip
    assert (result.accepted, result.duplicates) == (1, 0)


def started_watcher(path: HotFolderPath) -> subprocess.Popen[str]:
    process = watch_process(path.config, path.root)
    started(process)
    return process


def test_a_watcher_killed_again_and_again_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path,
) -> None:
    jobs = 40
    chance = random.Random(20261126)  # fixed: the same kill points on every run
    path = HotFolderPath(tmp_path)
    with SandboxServer(
        port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS, delay=0.05
    ) as server:
        path.configure(server.url)
        path.root.mkdir()
        markers = [f"storm {n}" for n in range(jobs)]
        for n, marker in enumerate(markers):
            path.markers[marker] = f"job{n}"
            campaign_pdf(path.root / f"job{n}.pdf", marker)
        kills = 0
        watcher = started_watcher(path)
        for n, marker in enumerate(markers):
            drop_ticket(path.root, f"job{n}", {"to": ["5556465589"], "cover_text": marker})
        while _receipts(path) < jobs and kills < 12:
            # Kill just after an upload reached the service, or at some point while other
            # jobs are being claimed, sent or filed (after more receipts appeared).
            if chance.random() < 0.5:
                target = len(server.requests) + chance.randint(1, 5)
                wait_for(
                    lambda t=target: len(server.requests) >= t or _receipts(path) == jobs,
                    timeout=60,
                    what="more uploads",
                )
            else:
                target = min(jobs, _receipts(path) + chance.randint(1, 4))
                wait_for(lambda t=target: _receipts(path) >= t, timeout=60, what="more receipts")
            watcher.kill()
            watcher.communicate(timeout=30)
            kills += 1
            watcher = started_watcher(path)
        wait_for(lambda: _receipts(path) == jobs, timeout=120, what="every job to end")
        watcher.send_signal(signal.SIGTERM)
        out, _ = watcher.communicate(timeout=60)
        assert "Traceback" not in out
        ended = {m: path.ended(m, timeout=1) for m in markers}
        stored = stored_markers([server])
    result = tally(
        "hot folder",
        f"SIGKILL x{kills} during {jobs} jobs",
        markers,
        stored,
        {m: e.split(":")[0] for m, e in ended.items() if e != "accepted"},
    )
    assert kills >= 5
    assert (result.duplicates, result.lost) == (0, 0), result
    # Killed between a whole upload and its answer: held, each fax stored once at most.
    assert all(e == "accepted" or e.startswith("held") for e in ended.values()), ended
    assert list((path.root / "processing").iterdir()) == []


def _receipts(path: HotFolderPath) -> int:
    return sum(
        len(list((path.root / w).glob("*/receipt.json"))) for w in ("done", "failed", "held")
    )


def _backend_pid(backend: Path) -> int | None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if str(backend).encode() in argv[:3]:  # python -S BACKEND ...
                return int(entry.name)
    return None


@pytest.mark.cupsd
def test_a_backend_killed_under_cupsd_is_completed_by_cupsd_and_known_to_the_journal(
    cupsd: PrivateCupsd, printer: Printer, queue: str, server: SandboxServer
) -> None:
    """A trap of cupsd's, seen here: a backend that dies of SIGKILL (the OOM killer, an
    admin's kill -9) is "terminated normally" and its job *completed*, whatever the
    backend had done. cupsd will not run it again, so only the journal knows: the job
    stays ``sending`` with a dead owner, which every later look reports as interrupted
    (uncertain), and nothing sends it twice."""
    printer.configure(server.url)
    release = threading.Event()
    server.faults.push(Fault.hold(release))
    marker = "killed under cupsd"
    printer.send(marker)
    wait_for(server.faxes, timeout=60, what="the service to accept the fax")
    pid = _backend_pid(cupsd.backend_dir / "faxprint")
    assert pid is not None, "the backend process was not found"
    os.kill(pid, signal.SIGKILL)
    release.set()
    assert printer.ended(marker) == "accepted"  # cupsd's word: "completed"
    assert "terminated normally with signal 9" in cupsd.job_log(printer.jobs[marker])
    with Journal(printer.journal) as journal:
        [record] = [j for j in journal.recent(limit=50) if j.title == marker]
        assert record.state is State.SENDING
        assert not owner_alive(record.owner, record.updated, time.time())
    # ... and what an admin sees: `faxprint status` lists it as interrupted, to check.
    env = {**cupsd.env(), "FAXPRINT_CONFIG": str(printer.root / "etc" / "faxprint.toml")}
    shown = subprocess.run([sys.executable, "-m", "faxprint", "status", "--json"], env=env,
                           capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    [listed] = [json.loads(line) for line in shown.stdout.splitlines()
                if json.loads(line)["title"] == marker]  # fmt: skip
    assert listed["state"] == "interrupted"
    result = tally(
        "printer",
        "SIGKILL of the backend under cupsd",
        [marker],
        stored_markers([server]),
        {marker: "interrupted (journal)"},
    )
    assert (result.accepted, result.duplicates, len(server.requests)) == (1, 0, 1)
