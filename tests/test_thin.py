"""The printer's thin path (:mod:`faxprint.cups.thin`) run as cupsd runs the backend, with
a real ``faxprint serve`` on a real sandbox: the job handed over and its verdict told; the
backend SIGKILLed after the hand-off and the job sent once (also when cupsd runs it
again); the service restarted while the backend waits; no service, a stale socket, a
socket of another user: one line each, and the backend sends the fax itself."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from faxprint.journal import Journal, State
from faxprint.link import wire
from faxprint.sandbox import SandboxServer
from faxprint.sandbox.faults import Fault
from tests.conftest import REPO
from tests.support.configs import faxout_account, write_config
from tests.support.helpers import make_pdf, wait_for
from tests.support.secrets import TEST_ACCOUNTS
from tests.support.service import ServiceProcess

UUID = "urn:uuid:6f1c2a3b-0000-4000-8000-00000000abcd"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    with SandboxServer(port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS) as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, sandbox: SandboxServer) -> Path:
    return write_config(tmp_path, faxout_account(sandbox.url), retry={"tries": 1, "backoff": 0})


def backend(config: Path, pdf: Path, job: str = "7", *, uuid: str = UUID) -> subprocess.Popen[str]:
    """The backend started as cupsd starts it: argv, environment, the job's file."""
    options = f"fax-to=5556465589 job-uuid={uuid}"
    env = {**os.environ, "PYTHONPATH": str(REPO), "FAXPRINT_CONFIG": str(config),
           "DEVICE_URI": "faxprint://default", "PRINTER": "Fax",
           "CONTENT_TYPE": "application/pdf"}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, str(REPO / "cups-backend" / "faxprint"), job, "ann", "offer.pdf", "1",
         options, str(pdf)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env, cwd="/",
    )  # fmt: skip


def kill(process: subprocess.Popen[str]) -> None:
    """SIGKILL, as a crash or the OOM killer would."""
    process.kill()
    process.communicate(timeout=30)


def finished(process: subprocess.Popen[str]) -> tuple[int, list[str]]:
    _, err = process.communicate(timeout=60)
    return process.returncode, err.splitlines()


def test_a_handed_over_job_ends_as_the_service_says(
    tmp_path: Path, config: Path, sandbox: SandboxServer
) -> None:
    service = ServiceProcess(config, tmp_path / "journal.sqlite")
    try:
        status, said = finished(backend(config, make_pdf(tmp_path / "offer.pdf")))
    finally:
        assert service.stop() == 0
    assert status == 0, said
    assert "INFO: Fax accepted for 1 recipient, 1 page" in said
    assert not any("sends the fax itself" in line for line in said)
    assert len(sandbox.faxes()) == 1
    assert not list((tmp_path / "queue").iterdir())  # the documents went with the fax


def test_the_thin_path_imports_neither_requests_nor_pypdf(
    tmp_path: Path, config: Path, sandbox: SandboxServer
) -> None:
    probe = (
        "import io, os, sys\n"
        "from faxprint.cups.thin import main\n"
        "status = main(sys.argv[1:], os.environ, io.BytesIO())\n"
        "heavy = sorted(m for m in ('requests', 'pypdf', 'faxprint.submitter') if m in sys.modules)\n"
        "print(status, heavy)\n"
    )  # fmt: skip
    pdf = make_pdf(tmp_path / "offer.pdf")
    env = {**os.environ, "PYTHONPATH": str(REPO), "FAXPRINT_CONFIG": str(config),
           "DEVICE_URI": "faxprint://default", "PRINTER": "Fax"}  # fmt: skip
    service = ServiceProcess(config, tmp_path / "journal.sqlite")
    try:
        done = subprocess.run([sys.executable, "-c", probe, "faxprint", "8", "ann", "t", "1",
                               f"fax-to=5556465589 job-uuid={UUID}", str(pdf)],
                              capture_output=True, text=True, env=env, timeout=60, check=False)  # fmt: skip
    finally:
        assert service.stop() == 0
    assert done.stdout.split("\n")[0] == "0 []", done.stderr


def test_a_backend_killed_after_the_hand_off_loses_nothing_and_the_rerun_sends_nothing(
    tmp_path: Path, config: Path, sandbox: SandboxServer
) -> None:
    release = threading.Event()
    sandbox.faults.push(Fault.hold(release))  # the upload waits for the test
    service = ServiceProcess(config, tmp_path / "journal.sqlite")
    pdf = make_pdf(tmp_path / "offer.pdf")
    try:
        first = backend(config, pdf)
        wait_for(lambda: len(sandbox.requests) == 1 or first.poll() is not None, timeout=30,
                 what="the service's upload")  # fmt: skip
        kill(first)  # the backend waited for the verdict
        release.set()
        with Journal(tmp_path / "journal.sqlite") as journal:
            wait_for(lambda: [j.state for j in journal.recent()] == [State.ACCEPTED],
                     timeout=30, what="the fax accepted")  # fmt: skip
        status, said = finished(backend(config, pdf))  # cupsd runs the job again
    finally:
        assert service.stop() == 0
    assert status == 0, said
    assert len(sandbox.faxes()) == 1  # once
    assert [r.code for r in sandbox.requests] == [0]


def test_a_service_restarted_while_the_backend_waits_is_asked_again(
    tmp_path: Path, config: Path, sandbox: SandboxServer
) -> None:
    sandbox.faults.push(Fault.accept_then_drop())  # the service's upload: uncertain, held
    journal = tmp_path / "journal.sqlite"
    first = ServiceProcess(config, journal)
    waiting = backend(config, make_pdf(tmp_path / "offer.pdf"))
    with Journal(journal) as reading:
        wait_for(lambda: [j.state for j in reading.recent()] == [State.UNCERTAIN], timeout=30,
                 what="the fax held as uncertain")  # fmt: skip
    # The verdict (held) reached the backend: a second service finds nothing to do.
    first.stop()
    status, said = finished(waiting)
    assert status == 3, said  # HOLD, as the backend would have said itself
    assert any(line.startswith("ERROR: Fax held:") for line in said)

    second_job = backend(config, make_pdf(tmp_path / "b.pdf"), "9", uuid=UUID[:-4] + "9999")
    wait_for(lambda: second_job.poll() is not None, timeout=60, what="the backend alone")
    status, said = finished(second_job)
    assert status == 0 and "INFO: faxprint serve is not running; this backend sends the fax " \
        "itself" in said, said  # fmt: skip


def test_the_service_killed_while_a_backend_waits_and_back(
    tmp_path: Path, config: Path, sandbox: SandboxServer
) -> None:
    release = threading.Event()
    sandbox.faults.push(Fault.hold(release))
    journal = tmp_path / "journal.sqlite"
    first = ServiceProcess(config, journal)
    waiting = backend(config, make_pdf(tmp_path / "offer.pdf"))
    wait_for(lambda: len(sandbox.requests) == 1, timeout=30, what="the service's upload")
    first.kill()  # the upload in flight dies with it: uncertain, as the journal shows
    second = ServiceProcess(config, journal, log=tmp_path / "serve2.log")
    release.set()
    try:
        status, said = finished(waiting)
    finally:
        assert second.stop() == 0
    # The backend asked the new service, which found the upload cut short: held for a
    # person, never sent again blindly.
    assert [(r.status, r.code) for r in sandbox.requests] == [(200, 0)], said
    assert status == 3, said


def test_no_service_one_line_and_the_backend_sends(
    tmp_path: Path, config: Path, sandbox: SandboxServer
) -> None:
    status, said = finished(backend(config, make_pdf(tmp_path / "offer.pdf")))
    assert status == 0, said
    assert said[0] == "INFO: faxprint serve is not running; this backend sends the fax itself"
    assert len(sandbox.faxes()) == 1


def test_a_stale_socket_one_line_and_the_backend_sends(
    tmp_path: Path, config: Path, sandbox: SandboxServer
) -> None:
    path = wire.socket_path(tmp_path / "journal.sqlite")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))  # bound, never listening: what a killed service leaves
    stale.close()
    status, said = finished(backend(config, make_pdf(tmp_path / "offer.pdf")))
    assert status == 0, said
    assert said[0].startswith(f"WARNING: faxprint serve does not answer on {path} (")
    assert said[0].endswith("); this backend sends the fax itself")
    assert len(sandbox.faxes()) == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a socket to another user needs root")
def test_a_socket_of_another_user_is_not_used(
    tmp_path: Path, config: Path, sandbox: SandboxServer
) -> None:
    path = wire.socket_path(tmp_path / "journal.sqlite")
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listening.bind(str(path))
    listening.listen()
    os.chown(path, 65534, 65534)  # nobody's: a planted socket
    try:
        status, said = finished(backend(config, make_pdf(tmp_path / "offer.pdf")))
    finally:
        listening.close()
    assert status == 0, said
    assert said[0] == (f"WARNING: the socket {path} belongs to uid 65534, not to root or the "
                       "journal's owner: not used; this backend sends the fax itself")  # fmt: skip
    assert len(sandbox.faxes()) == 1


def test_cancelled_while_waiting_takes_the_job_back(
    tmp_path: Path, config: Path, sandbox: SandboxServer
) -> None:
    release = threading.Event()
    sandbox.faults.push(Fault.hold(release))
    one = write_config(
        tmp_path,
        faxout_account(sandbox.url),
        retry={"tries": 1, "backoff": 0},
        extra="[service]\nworkers = 1\n",
    )  # the second job waits its turn
    service = ServiceProcess(one, tmp_path / "journal.sqlite")
    try:
        first = backend(config, make_pdf(tmp_path / "offer.pdf"))
        wait_for(lambda: len(sandbox.requests) == 1, timeout=30, what="the upload")
        second = backend(config, make_pdf(tmp_path / "b.pdf"), "9", uuid=UUID[:-4] + "9999")
        with Journal(tmp_path / "journal.sqlite") as journal:
            wait_for(lambda: journal.work_item(f"cups:Fax:9:{UUID[9:-4]}9999") is not None,
                     timeout=30, what="the second job queued")  # fmt: skip
        os.kill(second.pid, signal.SIGTERM)  # cupsd cancels the job
        status, said = finished(second)
        release.set()
        assert finished(first)[0] == 0
    finally:
        assert service.stop() == 0
    assert status == 5, said
    assert said[-2:] == ["INFO: Cancelling: cancelled before it was sent",
                         "INFO: Fax cancelled: cancelled before it was sent"]  # fmt: skip
    with Journal(tmp_path / "journal.sqlite") as journal:
        [cancelled] = journal.recent(state=State.CANCELLED)
    assert (cancelled.user, cancelled.title) == ("ann", "offer.pdf")
    assert [r.recipients[0] for r in sandbox.requests] == ["5556465589"]  # the first only


@pytest.mark.parametrize(
    "text",
    [
        'journal = "/var/spool/faxprint/journal.sqlite"\n[accounts.default]\nurl = "x"\n',
        "journal = '/srv/j.sqlite'\n",
        'journal = "/srv/j.sqlite"  # a comment\n',
        'journal = "/srv/\\u006a.sqlite"\n',  # an escape: tomllib reads it
        'journal = """/srv/j.sqlite"""\n',
        '# journal = "/nope"\n[accounts.default]\njournal = "/not/top/level"\n',
        'journals = "/other"\njournal="/srv/j"\n',
        "[retry]\ntries = 1\n",
        "journal = 5\n",
        'journal = "/a" = "b"\n',  # broken: tomllib refuses it, so does the thin path
    ],
)
def test_the_thin_path_reads_the_journal_as_tomllib_does(text: str) -> None:
    import tomllib

    from faxprint.cups.thin import top_level_string

    try:
        expected = tomllib.loads(text).get("journal")
    except tomllib.TOMLDecodeError:
        expected = ""
    assert top_level_string(text, "journal") == (expected if isinstance(expected, str) or
                                                 expected is None else "")  # fmt: skip


def test_a_turn_beyond_the_printers_wait_ends_the_cups_job_and_the_service_sends_later(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    paced = write_config(tmp_path, faxout_account(sandbox.url) + 'rate = "1/4s"\n',
                         retry={"tries": 1, "backoff": 0},
                         extra="[service]\nprinter_wait = 1\n")  # fmt: skip
    service = ServiceProcess(paced, tmp_path / "journal.sqlite")
    try:
        first = finished(backend(paced, make_pdf(tmp_path / "a.pdf")))
        second = finished(backend(paced, make_pdf(tmp_path / "b.pdf"), "9",
                                  uuid=UUID[:-4] + "9999"))  # fmt: skip
        assert len(sandbox.faxes()) == 1  # the second waits for its turn
        wait_for(lambda: len(sandbox.faxes()) == 2, timeout=30, what="the second fax")
    finally:
        assert service.stop() == 0
    assert first[0] == 0 and "INFO: Fax accepted for 1 recipient, 1 page" in first[1]
    status, said = second
    assert status == 0, said
    assert re.fullmatch(r"INFO: Fax queued: its turn within the account's rate \(1 per 4 s\) "
                        r"comes in \d s; faxprint serve sends it then", said[-1]), said  # fmt: skip
