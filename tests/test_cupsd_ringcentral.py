"""A faxprint queue whose account is on RingCentral's REST transport, end to end: real
``lp`` jobs through the private cupsd, the backend as lp, the sandbox's REST side on
loopback.

It proves that a job is faxed with the number in E.164 and the cover page, text and
resolution the job asked for, completes, and leaves its message id in the journal; that
8 backends started at once (run as cupsd runs them) share one token, kept 0600 in a
0700 folder of lp's with no app secret in it; and that a 429 fails no job: a short
Retry-After is waited out and the job completes, a long one makes the backend exit
RETRY (cupsd keeps the job) and the next run honours the pause without asking again.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from faxprint.journal import JobRecord, Journal, State
from faxprint.sandbox import SandboxServer
from faxprint.sandbox.rest import RestService
from tests.support.configs import rest_account_toml, write_config
from tests.support.cupsd import JOB_COMPLETED, TERMINAL_JOB_STATES, PrivateCupsd
from tests.support.helpers import make_pdf, wait_for
from tests.support.secrets import TEST_APPS, TEST_CLIENT_SECRET, TEST_JWT
from tests.test_cupsd_backend import faxprint, job_message

pytestmark = pytest.mark.cupsd

QUEUE = "FaxRest"
AS_ROOT = os.geteuid() == 0
LP = pwd.getpwnam("lp")
BACKEND_UID = LP.pw_uid if AS_ROOT else os.geteuid()  # who cupsd runs the backend as


def configure_printer(root: Path, url: str, journal: Path) -> None:
    """The ``office`` REST account, its secrets in files beside the config: root:lp 0640."""
    etc = root / "etc"
    write_config(
        etc / "faxprint.toml",
        rest_account_toml(url, etc),
        journal=journal,
        retry={"tries": 2, "backoff": 0.0},
        lp_readable=True,
    )


@pytest.fixture(scope="module")
def queue(cupsd: PrivateCupsd, faxprint_root: Path) -> Iterator[str]:
    """``faxprint install`` a queue for the ``office`` account; at the end remove it and
    its secrets, and put back the config another module may have left."""
    config = faxprint_root / "etc" / "faxprint.toml"
    before = config.read_bytes() if config.exists() else None
    configure_printer(
        faxprint_root, "http://127.0.0.1:9", faxprint_root / "spool" / "journal.sqlite"
    )
    install = ["install", "--name", QUEUE, "--account", "office"]
    result = faxprint(cupsd, faxprint_root, *install, "--backend-dir", str(cupsd.backend_dir))
    assert result.returncode == 0, result.stderr
    assert f"created queue {QUEUE} (faxprint://office)" in result.stdout, result.stdout
    yield QUEUE
    cupsd.connection().deletePrinter(QUEUE)
    for path in (faxprint_root / "etc").glob("office.*.secret"):
        path.unlink()
    if before is not None:
        config.write_bytes(before)


@dataclass
class Rest:
    service: RestService
    journal: Path  # this test's own: its folder holds the token cache

    @property
    def state(self) -> Path:
        return self.journal.parent / f"ringcentral-{BACKEND_UID}"

    def record(self, job: int) -> JobRecord:
        with Journal(self.journal) as journal:
            [found] = [j for j in journal.recent() if j.key.startswith(f"cups:{QUEUE}:{job}:")]
        return found


@pytest.fixture
def rest(cupsd: PrivateCupsd, queue: str, faxprint_root: Path, tmp_path: Path) -> Iterator[Rest]:
    """The sandbox's REST side, and a config with a journal (and so a token cache) of this
    test's own, in a folder of lp's; no job of the queue is left behind."""
    folder = Path(tempfile.mkdtemp(prefix="rest-", dir=faxprint_root / "spool"))
    (folder / "tmp").mkdir()
    for path in (folder, folder / "tmp"):
        if AS_ROOT:
            os.chown(path, LP.pw_uid, LP.pw_gid)
    service = RestService(TEST_APPS, delivery_seconds=3600)
    with SandboxServer(port=0, store=tmp_path / "store", rest=service) as server:
        configure_printer(faxprint_root, server.url, folder / "journal.sqlite")
        try:
            yield Rest(service, folder / "journal.sqlite")
        finally:
            conn = cupsd.connection()
            for job in conn.getJobs(which_jobs="not-completed"):
                conn.cancelJob(job)
            conn.enablePrinter(queue)


def exits(cupsd: PrivateCupsd, job: int) -> list[int]:
    """The exit statuses of the job's backend runs, as cupsd logged them."""
    ended = r"PID \d+ \(\S+/backend/faxprint\) (?:exited with no errors|stopped with status (\d+))"
    return [int(status or 0) for status in re.findall(ended, cupsd.job_log(job))]


def test_a_job_is_faxed_in_e164_with_its_cover_and_its_message_id_is_kept(
    cupsd: PrivateCupsd, rest: Rest, tmp_path: Path
) -> None:
    options = [
        'fax-to="555-646-5589|John Doe"',
        "fax-cover=Urgent",
        'fax-cover-text="Please sign page 2"',
        "fax-resolution=high",
    ]
    pdf = make_pdf(tmp_path / "offer.pdf", pages=2)
    job = cupsd.lp(QUEUE, pdf, options=options, title="offer.pdf")
    assert cupsd.wait_job(job) == JOB_COMPLETED
    [message] = rest.service.messages.values()
    assert message.to == [{"phoneNumber": "+15556465589", "name": "John Doe"}]
    # coverIndex 13: Urgent, in the service's (en-US) cover page dictionary
    assert (message.cover_index, message.cover_text, message.resolution) == (
        13, "Please sign page 2", "High")  # fmt: skip
    assert [a["fileName"] for a in message.attachments] == ["offer.pdf"]
    assert exits(cupsd, job) == [0]
    assert job_message(cupsd, job) == "Fax accepted for 1 recipient, 2 pages"
    assert cupsd.job_attributes(job).get("job-impressions-completed") == 2
    record = rest.record(job)
    with Journal(rest.journal) as journal:
        delivery = journal.delivery(record.key)
    assert (record.state, record.attempts) == (State.ACCEPTED, 1)
    assert delivery is not None and (delivery.message_id, delivery.status, delivery.outcome) == (
        str(message.id), "Queued", "pending")  # fmt: skip
    assert rest.service.token_requests == 1


def _backend(cupsd: PrivateCupsd, rest: Rest, job: int) -> subprocess.Popen[bytes]:
    """Start the installed backend as cupsd does: as lp, argv[0] the device URI, the
    job's data on stdin (as from a filter), the environment cupsd gives it."""
    env = {
        "DEVICE_URI": "faxprint://office", "PRINTER": QUEUE, "CONTENT_TYPE": "application/pdf",
        "FAXPRINT_CONFIG": cupsd.backend_env["FAXPRINT_CONFIG"],  # cupsd's SetEnv
        "TMPDIR": str(rest.journal.parent / "tmp"), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
    }  # fmt: skip
    options = f"fax-to=5556465589 job-uuid=urn:uuid:rest-{job}"
    argv = ["faxprint://office", str(job), "ann", f"report-{job}.pdf", "1", options]
    user = {"user": LP.pw_uid, "group": LP.pw_gid, "extra_groups": []} if AS_ROOT else {}
    return subprocess.Popen(
        argv, executable=cupsd.backend_dir / "faxprint", env=env, cwd="/",
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **user,
    )  # fmt: skip


def _reading_stdin(pid: int) -> bool:
    """Tell whether the process is blocked in read(0, ...): its config is loaded and it
    waits for the job's data."""
    return Path(f"/proc/{pid}/syscall").read_text().split()[:2] == ["0", "0x0"]


def test_backends_started_at_once_share_one_token_kept_private(
    cupsd: PrivateCupsd, rest: Rest, tmp_path: Path
) -> None:
    data = make_pdf(tmp_path / "report.pdf").read_bytes()
    backends = [_backend(cupsd, rest, job) for job in range(901, 909)]
    try:
        wait_for(lambda: all(_reading_stdin(b.pid) for b in backends), what="8 backends waiting")
        assert not rest.state.exists()  # the token cache is empty
        pipes = [b.stdin for b in backends if b.stdin is not None]
        for pipe in pipes:  # all 8 are running: let them go together
            pipe.write(data)
        for pipe in pipes:
            pipe.close()
        for backend in backends:
            backend.wait(timeout=120)  # its few lines of stderr fit in the pipe
        answers = [b.stderr.read().decode() for b in backends if b.stderr is not None]
    finally:
        for backend in backends:
            if backend.poll() is None:
                backend.kill()
                backend.wait()
            if backend.stderr is not None:
                backend.stderr.close()
    for backend, answer in zip(backends, answers, strict=True):
        assert backend.returncode == 0, answer
        assert answer.splitlines()[-1] == "INFO: Fax accepted for 1 recipient, 1 page"
    assert len(rest.service.messages) == 8
    assert rest.service.token_requests == 1
    folder = rest.state.stat()
    assert (stat.S_IMODE(folder.st_mode), folder.st_uid) == (0o700, BACKEND_UID)
    [token] = rest.state.glob("*.token")
    for path in (token, token.with_name(token.name + ".lock")):
        info = path.stat()
        assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o600, BACKEND_UID), path
    text = token.read_text()
    assert TEST_CLIENT_SECRET not in text and TEST_JWT not in text
    access = json.loads(text)["access_token"]
    assert rest.service.authorize(f"Bearer {access}") in TEST_APPS.values()  # the one granted


def test_a_short_retry_after_is_waited_out_and_the_job_completes(
    cupsd: PrivateCupsd, rest: Rest, tmp_path: Path
) -> None:
    rest.service.push_429(1)
    started = time.monotonic()
    job = cupsd.lp(QUEUE, make_pdf(tmp_path / "a.pdf"), options=["fax-to=5556465589"])
    assert cupsd.wait_job(job) == JOB_COMPLETED
    assert time.monotonic() - started >= 1.0  # it did wait what the service asked
    assert (rest.service.fax_requests, len(rest.service.messages)) == (2, 1)
    assert exits(cupsd, job) == [0]  # one run of the backend: the wait was inside it
    with Journal(rest.journal) as journal:
        tries = journal.attempts(rest.record(job).key)
    assert [(t.state, t.code) for t in tries] == [(State.RETRY, 429), (State.ACCEPTED, 0)]


def test_a_long_retry_after_defers_the_job_to_cupsd_and_every_run_honours_it(
    cupsd: PrivateCupsd, rest: Rest, tmp_path: Path
) -> None:
    rest.service.push_429(600)  # more than retry.max_backoff (60 s): not waited out in a run
    job = cupsd.lp(QUEUE, make_pdf(tmp_path / "a.pdf"), options=["fax-to=5556465589"])
    wait_for(lambda: len(exits(cupsd, job)) >= 2, what="a second run of the job")
    assert exits(cupsd, job)[:2] == [6, 6]  # CUPS_BACKEND_RETRY, twice
    assert int(cupsd.job_attributes(job)["job-state"]) not in TERMINAL_JOB_STATES
    said = re.findall(
        r'Set job-printer-state-message to "Fax not sent yet (.*)", current level',
        cupsd.job_log(job),
    )
    assert [re.sub(r"\d+ s more", "N s more", line) for line in said[:2]] == [
        "(attempt 1): the service\\'s rate limit was reached; it asked to wait 600 s; "
        "cupsd will retry the job",
        "(attempt 1): waiting N s more, as the service asked (rate limit); cupsd will retry "
        "the job",
    ]
    # The second run asked nothing and counted no attempt: the pause is on disk for every
    # process of the account.
    assert (rest.service.fax_requests, rest.service.messages) == (1, {})
    assert rest.record(job).attempts == 1
    [pause] = rest.state.glob("*.token.retry-after")
    assert 500 < json.loads(pause.read_text())["until"] - time.time() <= 600
    assert rest.record(job).state is State.RETRY
