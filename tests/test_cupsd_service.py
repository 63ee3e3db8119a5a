"""``faxprint serve`` behind a real cupsd: the printer's backend hands its jobs to the
service (running as lp, as the systemd unit runs it), which also runs the hot folder and
sends everything within each account's rate, users in turn.

On a FaxOut sandbox limited to 3 requests per 3 s (the account's ``rate``) and a REST
sandbox limited to 3 fax requests per 3 s (learned from its ``X-Rate-Limit-*`` headers),
a batch of hot-folder tickets and printed jobs (one by another user) are all sent once,
with at most one 429 in the run and each account's span within 1.25x the least its rate
allows; a backend SIGKILLed after its hand-off loses nothing; the service SIGKILLed and
restarted mid-batch loses nothing.
"""

from __future__ import annotations

import os
import pwd
import re
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from faxprint.journal import Journal, State
from faxprint.sandbox import SandboxServer
from faxprint.sandbox.faults import Fault
from faxprint.sandbox.rest import RestService
from tests.support.configs import faxout_account, rest_account_toml, write_config
from tests.support.cupsd import JOB_COMPLETED, TERMINAL_JOB_STATES, PrivateCupsd
from tests.support.helpers import drop_ticket, make_pdf, wait_for
from tests.support.secrets import TEST_ACCOUNTS, TEST_APPS
from tests.support.service import ServiceProcess
from tests.test_cupsd_backend import faxprint

pytestmark = pytest.mark.cupsd

FAXOUT_QUEUE, REST_QUEUE = "FaxServe", "FaxServeRest"
RATE, WINDOW = 3, 3.0
AS_ROOT = os.geteuid() == 0
LP = pwd.getpwnam("lp")


@dataclass
class Setup:
    """Both sandboxes, the config, and this test's folder of lp's (journal, hot folder)."""

    faxout: SandboxServer
    rest: RestService
    config: Path
    folder: Path

    @property
    def journal(self) -> Path:
        return self.folder / "journal.sqlite"

    @property
    def hot(self) -> Path:
        return self.folder / "hot"

    def serve(self, log: str = "serve.log") -> ServiceProcess:
        """Start the service as lp (as root; else as this user)."""
        return ServiceProcess(self.config, self.journal, user="lp" if AS_ROOT else None,
                              log=self.folder.parent / log)  # fmt: skip

    def faxout_accepted(self) -> list[tuple[float, str]]:
        return sorted((datetime.fromisoformat(r.time).timestamp(), r.recipients[0])
                      for r in self.faxout.requests if r.status == 200 and r.code == 0)  # fmt: skip

    def rest_accepted(self) -> list[tuple[float, str]]:
        """Each accepted fax by the time the sandbox kept it, read from one list of the
        messages: the request log is written after the answer, so pairing the two could
        catch a message whose request is not logged yet."""
        messages = list(self.rest.messages.values())
        return sorted((m.created, m.to[0]["phoneNumber"].removeprefix("+1")) for m in messages)


def _lp_folder(root: Path) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="serve-", dir=root / "spool"))
    (folder / "hot").mkdir()
    for path in (folder, folder / "hot"):
        if AS_ROOT:
            os.chown(path, LP.pw_uid, LP.pw_gid)
    return folder


@pytest.fixture(scope="module")
def queues(cupsd: PrivateCupsd, faxprint_root: Path) -> Iterator[None]:
    """Two queues, one per account; removed at the end, the config put back."""
    config = faxprint_root / "etc" / "faxprint.toml"
    before = config.read_bytes() if config.exists() else None
    write_config(config, faxout_account("http://127.0.0.1:9/faxapi.asp")
                 + rest_account_toml("http://127.0.0.1:9", faxprint_root / "etc"),
                 journal=faxprint_root / "spool" / "journal.sqlite", lp_readable=True)  # fmt: skip
    for name, account in ((FAXOUT_QUEUE, "default"), (REST_QUEUE, "office")):
        done = faxprint(cupsd, faxprint_root, "install", "--name", name, "--account", account,
                        "--backend-dir", str(cupsd.backend_dir))  # fmt: skip
        assert done.returncode == 0, done.stderr
    yield
    for name in (FAXOUT_QUEUE, REST_QUEUE):
        cupsd.connection().deletePrinter(name)
    for path in (faxprint_root / "etc").glob("office.*.secret"):
        path.unlink()
    if before is not None:
        config.write_bytes(before)


@pytest.fixture
def setup(
    cupsd: PrivateCupsd, queues: None, faxprint_root: Path, tmp_path: Path
) -> Iterator[Setup]:
    folder = _lp_folder(faxprint_root)
    rest = RestService(TEST_APPS, fax_per_minute=RATE, window_seconds=WINDOW,
                       delivery_seconds=3600)  # fmt: skip
    faxout = SandboxServer(port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS,
                           faxout_rate=(RATE, WINDOW))  # fmt: skip
    with faxout, SandboxServer(port=0, store=tmp_path / "rest-store", rest=rest) as server:
        accounts = (faxout_account(faxout.url) + f'rate = "{RATE}/{WINDOW:g}s"\n'
                    + rest_account_toml(server.url, faxprint_root / "etc"))  # fmt: skip
        hot = (f'[hotfolder]\npath = "{folder / "hot"}"\nstable_seconds = 0.2\n'
               "rescan_seconds = 0.5\n[service]\nworkers = 2\n")  # fmt: skip
        config = write_config(faxprint_root / "etc" / "faxprint.toml", accounts,
                              journal=folder / "journal.sqlite", lp_readable=True,
                              retry={"tries": 3, "backoff": 0.5}, extra=hot)  # fmt: skip
        try:
            yield Setup(faxout, rest, config, folder)
        finally:
            conn = cupsd.connection()
            for job in conn.getJobs(which_jobs="not-completed"):
                conn.cancelJob(job)


def _span_within_the_rate(accepted: list[tuple[float, str]]) -> tuple[float, float]:
    times = [t for t, _ in accepted]
    least = (len(times) - 1) // RATE * WINDOW  # the rate's own least time for them all
    return times[-1] - times[0], least


def _ended(cupsd: PrivateCupsd, jobs: list[int]) -> bool:
    return all(cupsd.job_attributes(j)["job-state"] in TERMINAL_JOB_STATES for j in jobs)


def test_tickets_and_printed_jobs_go_once_in_turn_within_both_rates(
    cupsd: PrivateCupsd, setup: Setup, tmp_path: Path
) -> None:
    pdf = make_pdf(tmp_path / "page.pdf")
    tickets = {f"555100{n:04d}": "default" for n in range(12)}
    tickets |= {f"555200{n:04d}": "office" for n in range(10)}
    for number, account in tickets.items():  # a program's batch, dropped before the start
        (setup.hot / f"{number}.pdf").write_bytes(pdf.read_bytes())
        drop_ticket(setup.hot, number, {"to": [number], "account": account,
                                        "documents": [f"{number}.pdf"]})  # fmt: skip
    service = setup.serve()
    try:  # the batch is under way when the people print
        wait_for(lambda: setup.faxout_accepted() and setup.rest_accepted(), timeout=30,
                 what="the batch begun")  # fmt: skip
        printed = [
            cupsd.lp(FAXOUT_QUEUE, pdf, options=["fax-to=5553330001"], user="ann"),
            cupsd.lp(REST_QUEUE, pdf, options=["fax-to=5553330002"], user="ann"),
            cupsd.lp(FAXOUT_QUEUE, pdf, options=["fax-to=5553330003"]),
        ]
        wait_for(lambda: len(setup.faxout_accepted()) == 14 and len(setup.rest_accepted()) == 11,
                 timeout=90, what=service.said)  # fmt: skip
        wait_for(lambda: _ended(cupsd, printed), timeout=30, what="the printed jobs ended")
    finally:
        assert service.stop() == 0, service.said()
    assert [cupsd.job_attributes(j)["job-state"] for j in printed] == [JOB_COMPLETED] * 3
    faxout, rest = setup.faxout_accepted(), setup.rest_accepted()
    expected_faxout = {n for n, a in tickets.items() if a == "default"} | {
        "5553330001",
        "5553330003",
    }
    assert sorted(n for _, n in faxout) == sorted(expected_faxout)  # each once
    assert sorted(n for _, n in rest) == sorted(
        [n for n, a in tickets.items() if a == "office"] + ["5553330002"])  # fmt: skip
    # ann's printed fax did not wait for the program's batch: it is in the first half.
    assert [n for _, n in faxout].index("5553330001") < len(faxout) / 2, faxout
    assert [n for _, n in rest].index("5553330002") < len(rest) / 2, rest
    refused = [r for r in setup.faxout.requests if r.status == 429]
    assert len(refused) + setup.rest.refused_429 <= 1, (refused, setup.rest.refused_429)
    for accepted in (faxout, rest):
        span, least = _span_within_the_rate(accepted)
        assert least <= span + 0.05 and span <= 1.25 * least, (span, least, accepted)


def _backend_pid(cupsd: PrivateCupsd, job: int) -> int | None:
    """The pid of the job's running backend, read from /proc."""
    backend = str(cupsd.backend_dir / "faxprint")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        at = argv.index(backend.encode()) if backend.encode() in argv[:3] else -1
        if at >= 0 and argv[at + 1 : at + 2] == [str(job).encode()]:  # its argv[1]: the job
            return int(entry.name)
    return None


def test_a_backend_killed_after_the_hand_off_is_sent_once(
    cupsd: PrivateCupsd, setup: Setup, tmp_path: Path
) -> None:
    release = threading.Event()
    setup.faxout.faults.push(Fault.hold(release))  # the service's upload waits
    service = setup.serve()
    try:
        job = cupsd.lp(FAXOUT_QUEUE, make_pdf(tmp_path / "a.pdf"), options=["fax-to=5554440001"])
        wait_for(lambda: len(setup.faxout.requests) == 1, timeout=30, what="the upload")
        pid = _backend_pid(cupsd, job)
        assert pid is not None, "the backend waits for the verdict"
        os.kill(pid, 9)
        wait_for(lambda: _ended(cupsd, [job]) or _backend_pid(cupsd, job) not in (None, pid),
                 timeout=30, what="cupsd saw the backend die")  # fmt: skip
        release.set()
        with Journal(setup.journal) as journal:
            wait_for(lambda: [j.state for j in journal.recent()] == [State.ACCEPTED], timeout=30,
                     what="the fax accepted")  # fmt: skip
        wait_for(lambda: _ended(cupsd, [job]), timeout=60, what="the CUPS job ended")
    finally:
        release.set()
        assert service.stop() == 0, service.said()
    assert [(r.status, r.code) for r in setup.faxout.requests] == [(200, 0)]  # once
    assert len(setup.faxout.faxes()) == 1


def test_the_service_killed_and_restarted_mid_batch_loses_nothing(
    cupsd: PrivateCupsd, setup: Setup, tmp_path: Path
) -> None:
    pdf = make_pdf(tmp_path / "a.pdf")
    numbers = [f"55550000{n:02d}" for n in range(7)]
    first = setup.serve()
    jobs = [cupsd.lp(FAXOUT_QUEUE, pdf, options=[f"fax-to={n}"]) for n in numbers]
    wait_for(lambda: len(setup.faxout_accepted()) >= 2, timeout=60, what="two accepted")
    first.kill()
    second = setup.serve("serve2.log")
    try:
        wait_for(lambda: _ended(cupsd, jobs) or _held(cupsd, jobs), timeout=90,
                 what=second.said)  # fmt: skip
        with Journal(setup.journal) as journal:
            states = {j.recipients[0]: j.state for j in journal.recent()}
    finally:
        assert second.stop() == 0, second.said()
    sent = [n for _, n in setup.faxout_accepted()]
    assert len(sent) == len(set(sent))  # nothing twice
    accepted = {n for n, s in states.items() if s is State.ACCEPTED}
    uncertain = {n for n, s in states.items() if s is State.UNCERTAIN}
    assert set(states) == set(numbers), states  # nothing lost
    assert accepted <= set(sent) <= accepted | uncertain and len(uncertain) <= 2, states


def _held(cupsd: PrivateCupsd, jobs: list[int]) -> bool:
    """Every job ended, or held for a person (an upload the kill cut short)."""
    states = [cupsd.job_attributes(j) for j in jobs]
    return all(a["job-state"] in TERMINAL_JOB_STATES or a["job-state"] == 4 for a in states) and \
        any(a["job-state"] == 4 for a in states)  # fmt: skip


def test_the_backend_says_when_it_sends_alone(
    cupsd: PrivateCupsd, setup: Setup, tmp_path: Path
) -> None:
    job = cupsd.lp(FAXOUT_QUEUE, make_pdf(tmp_path / "a.pdf"), options=["fax-to=5556465589"])
    assert cupsd.wait_job(job) == JOB_COMPLETED
    log = cupsd.job_log(job)
    assert re.search(r"faxprint serve is not running; this backend sends the fax itself", log)
    assert len(setup.faxout.faxes()) == 1
