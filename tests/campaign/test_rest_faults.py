"""The RingCentral REST side misbehaving, on both paths: the campaign's promise for the
second transport.

Each case sends its jobs through a real cupsd (the Fax queue, the backend as lp) and
through a real watcher, to the sandbox's REST side committing the fault, and checks the
promise: accepted exactly once, or waiting where a person sees why, nothing doubled,
nothing lost, no secret in any message. Unlike FaxOut, an upload whose answer is lost is
not held: the account's message store says whether the service has it (found: accepted;
still absent ``store_wait`` seconds later: sent again).
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from faxprint.journal import State
from faxprint.sandbox import SandboxServer
from faxprint.sandbox.rest import RestService
from tests.campaign.ledger import rest_stored_markers, tally
from tests.campaign.rest_paths import (
    WRONG,
    RestHotFolder,
    RestPrinter,
    attempts_of,
    leaked,
)
from tests.campaign.test_service_faults import (
    _port_outside_the_ephemeral_range,
    _wait_for_a_failed_attempt,
)
from tests.support.cupsd import JOB_PENDING
from tests.support.helpers import started, wait_for, watch_process
from tests.support.rest import RunningClock
from tests.support.secrets import TEST_ACCOUNTS, TEST_APPS, TEST_CLIENT_SECRET, TEST_JWT

pytestmark = [pytest.mark.slow, pytest.mark.cupsd]

Path_ = RestPrinter | RestHotFolder


@pytest.fixture
def transport() -> str:
    """The campaign's printer and hot folder, with a REST account."""
    return "ringcentral"


@pytest.fixture(params=["printer", "hot folder"])
def path(request: pytest.FixtureRequest) -> Path_:
    """Each case on both paths."""
    name = "printer" if request.param == "printer" else "hot_folder"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


def _server(tmp_path: Path, service: RestService, port: int = 0) -> SandboxServer:
    return SandboxServer(
        port=port, store=tmp_path / "store", accounts=TEST_ACCOUNTS, rest=service
    ).start()


def _messages(path: Path_, marker: str) -> list[str]:
    """What a person is shown of the marker's job: the CUPS job's log, or its receipt."""
    if isinstance(path, RestPrinter):
        return [path.cupsd.job_log(path.jobs[marker])]
    return [str(path.receipt(marker))]


# -- one job, one fault -----------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    fault: Callable[[RestService], None]  # arms the fault on the REST side
    fax_requests: int  # fax requests the REST side must have seen
    attempts: list[State] | None  # how the journal must tell the job's attempts (None:
    # refused tries, as many as came before the service was back, then accepted)
    down_first: bool = False
    settings: dict[str, float] = field(default_factory=dict)
    bug: dict[str, str] = field(default_factory=dict)  # path: known bug (strict xfail)
    waited: float = 0.0  # seconds the job must have waited between its attempts
    resent: bool = False  # the first upload was looked for in the store, absent: sent again


def _lost(service: RestService) -> None:
    service.lost_answers = 1


def _ignored(service: RestService) -> None:
    service.ignored_requests = 1


def _statuses(*statuses: int) -> Callable[[RestService], None]:
    def push(service: RestService) -> None:
        for status in statuses:
            service.push_status(status)

    return push


R, A = State.RETRY, State.ACCEPTED
CASES = [
    Case(
        "429 with Retry-After 2 s, then accepted",
        lambda s: s.push_429(2),
        2,
        [R, A],
        waited=2.0,
    ),
    Case("503, then 502, then accepted", _statuses(503, 502), 3, [R, R, A]),
    Case(
        "500 after the upload: not in store, resent",
        _statuses(500),
        2,
        [R, A],
        resent=True,
    ),
    Case("answer lost after acceptance: found in store", _lost, 1, [A]),
    Case("request read, never accepted: resent", _ignored, 2, [R, A], resent=True),
    Case("down (connection refused), then back", lambda s: None, 1, None, down_first=True),
]


def _run(path: Path_, case: Case, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    kind = "printer" if isinstance(path, RestPrinter) else "hot folder"
    bug = case.bug.get(kind)
    if bug:
        request.applymarker(pytest.mark.xfail(reason=bug, strict=True))
    marker = f"campaign {path.name}: {case.name}"
    port = _port_outside_the_ephemeral_range()
    path.configure(f"http://127.0.0.1:{port}", **case.settings)
    service = RestService(TEST_APPS)
    if isinstance(path, RestHotFolder):
        path.start()
    if case.down_first:  # nothing listens on the port until a try has failed
        path.send(marker)
        _wait_for_a_failed_attempt(path, marker)
    server = _server(tmp_path, service, port)
    try:
        if not case.down_first:
            case.fault(service)
            path.send(marker)
        ended = path.ended(marker)
        shown = _messages(path, marker)
    finally:
        if isinstance(path, RestHotFolder):
            path.stop()
        server.stop()
    attempts = attempts_of(path.journal, path.title(marker))
    result = tally(
        path.name,
        case.name,
        [marker],
        rest_stored_markers([service]),
        {} if ended == "accepted" else {marker: ended.split(":")[0] + " (bug)" * bool(bug)},
    )
    assert (result.duplicates, result.lost) == (0, 0), result
    assert not leaked(shown)
    assert ended == "accepted", ended
    assert len(service.messages) == 1
    assert service.fax_requests == case.fax_requests
    states = [a.state for a in attempts]
    expected = case.attempts or [R] * max(1, len(states) - 1) + [A]
    assert states == expected, [(a.state, a.message) for a in attempts]
    if case.waited:
        ended_at = attempts[0].ended
        assert ended_at is not None and attempts[1].started - ended_at >= case.waited * 0.95
    if case.resent:
        assert "holds no such fax" in attempts[0].message, attempts[0].message


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_rest_job_under_a_service_fault(
    path: Path_, case: Case, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    _run(path, case, tmp_path, request)


# -- tokens: three jobs, the token lost between the first two ----------------------------


def _expire(service: RestService, clock: RunningClock) -> None:
    clock.ahead += service.token_seconds + 1  # expired at the service, not for faxprint


def _revoke(service: RestService, clock: RunningClock) -> None:
    service._access.clear()  # revoked by the admin, or the service forgot it


def _ended(code: str) -> Callable[[RestService, RunningClock], None]:
    def end(service: RestService, clock: RunningClock) -> None:
        service.end_sessions(code)  # the user's sixth session, a password change, ...

    return end


def _expired_early(service: RestService, clock: RunningClock) -> None:
    service.expire_tokens()


#: How a token faxprint holds stops serving between two jobs; the error body shape the
#: 401 comes in: "documented" ({"errors": [...]} only, errors.md) or "observed" (the live
#: service's, errorCode and message repeated at the top level); and the token requests the
#: three jobs take: one grant, then a refresh where the session lives on, else a refused
#: refresh and a grant.
TOKEN_CASES: dict[str, tuple[Callable[[RestService, RunningClock], None], str, int]] = {
    "token expired at the service between jobs": (_expire, "documented", 2),
    "token revoked between jobs": (_revoke, "documented", 2),
    "session ended between jobs (OAU-213)": (_ended("OAU-213"), "documented", 3),
    "session ended, the live service's error body": (_ended("OAU-213"), "observed", 3),
    "token expired early (OAU-128)": (_expired_early, "documented", 2),
    "token corrupted (OAU-129)": (_ended("OAU-129"), "documented", 3),
}


@pytest.mark.parametrize("case", list(TOKEN_CASES))
def test_a_token_lost_between_jobs_is_granted_again_once(
    path: Path_, case: str, tmp_path: Path
) -> None:
    clock = RunningClock()
    fault, shape, token_requests = TOKEN_CASES[case]
    service = RestService(TEST_APPS, clock=clock, token_seconds=600, error_shape=shape)  # type: ignore[arg-type]
    markers = [f"campaign {path.name}: {case} #{n}" for n in range(3)]
    with SandboxServer(
        port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS, rest=service
    ) as server:
        path.configure(server.url.removesuffix("/faxapi.asp"))
        if isinstance(path, RestHotFolder):
            path.start()
        ended = []
        for n, marker in enumerate(markers):
            if n == 1:
                fault(service, clock)
            path.send(marker)
            ended.append(path.ended(marker))
        shown = [text for marker in markers for text in _messages(path, marker)]
        if isinstance(path, RestHotFolder):
            path.stop()
    result = tally(path.name, case, markers, rest_stored_markers([service]), {})
    assert (result.accepted, result.duplicates, result.lost) == (3, 0, 0), result
    assert ended == ["accepted"] * 3
    # One grant for the first job, one renewal after the service refused the token: the
    # third job found the new token in the cache, however many processes sent the jobs.
    assert service.token_requests == token_requests
    assert service.fax_requests == 3  # the refused request never reached the fax endpoint
    # ... and the job whose token was refused did not see it: one attempt, accepted.
    for marker in markers:
        assert [a.state for a in attempts_of(path.journal, path.title(marker))] == [A]
    assert not leaked(shown)


# -- credentials the service refuses ----------------------------------------------------


@pytest.mark.parametrize("key", list(WRONG))
def test_wrong_credentials_stop_the_queue_and_keep_the_job(
    printer: RestPrinter, queue: str, key: str, tmp_path: Path
) -> None:
    service = RestService(TEST_APPS)
    marker = f"campaign rest printer: wrong {key}"
    with _server(tmp_path, service) as server:
        printer.configure(server.url.removesuffix("/faxapi.asp"))
        right = (TEST_CLIENT_SECRET, TEST_JWT)[list(WRONG).index(key)]
        printer.set_secret(key, WRONG[key])
        printer.send(marker)
        cupsd = printer.cupsd
        cupsd.wait_printer_stopped(queue)
        state = str(cupsd.connection().getPrinters()[queue]["printer-state-message"])
        job = printer.jobs[marker]
        assert cupsd.connection().getJobAttributes(job)["job-state"] == JOB_PENDING
        assert "check the account's client_id, client_secret and jwt" in state, state
        assert (service.messages, service.fax_requests) == ({}, 0)
        printer.set_secret(key, right)  # the admin fixes it, then: cupsenable Fax
        cupsd.connection().enablePrinter(queue)
        ended = printer.ended(marker)
        shown = [state, *_messages(printer, marker)]
    result = tally(
        printer.name,
        f"wrong {key}: queue stops, then sent",
        [marker],
        rest_stored_markers([service]),
        {},
    )
    assert (ended, result.accepted, result.duplicates, len(service.messages)) == (
        "accepted",
        1,
        0,
        1,
    )
    assert not leaked(shown)


@pytest.mark.parametrize("key", list(WRONG))
def test_wrong_credentials_keep_a_hot_folder_job_waiting(
    hot_folder: RestHotFolder, key: str, tmp_path: Path
) -> None:
    """``faxprint watch`` as its own process: the admin fixes the secret and restarts it."""
    service = RestService(TEST_APPS)
    path = hot_folder
    marker = f"campaign rest hot folder: wrong {key}"
    outputs = []
    with _server(tmp_path, service) as server:
        path.configure(server.url.removesuffix("/faxapi.asp"), max_attempts=3)
        right = (TEST_CLIENT_SECRET, TEST_JWT)[list(WRONG).index(key)]
        path.set_secret(key, WRONG[key])
        path.root.mkdir()
        watcher = _watcher(path)
        try:
            path.send(marker)
            title = path.title(marker)
            # Tried once, then blocked: it waits in processing/ for the admin, who fixes
            # the secret and restarts the watcher (the config is read at start).
            wait_for(lambda: _tries(path, title) >= 1, timeout=60, what="the first try")
            outputs.append(_stop(watcher))
            assert "event=blocked" in outputs[-1], outputs[-1]
            given_up = path._receipt(marker)
            assert (_tries(path, title), service.messages, service.fax_requests) == (1, {}, 0)
            path.set_secret(key, right)
            watcher = _watcher(path)
            ended = path.ended(marker)
            shown = _messages(path, marker)
        finally:
            outputs.append(_stop(watcher))
    result = tally(
        path.name,
        f"wrong {key}: waits, then sent",
        [marker],
        rest_stored_markers([service]),
        {} if ended == "accepted" else {marker: f"{ended.split(':')[0]} (bug)"},
    )
    assert not leaked([*shown, *outputs])
    assert (result.duplicates, result.lost) == (0, 0), result
    assert given_up is None, given_up[1]["message"]
    assert (ended, len(service.messages)) == ("accepted", 1)


def _watcher(path: RestHotFolder) -> subprocess.Popen[str]:
    process = watch_process(path.config, path.root)
    started(process)
    return process


def _stop(process: subprocess.Popen[str]) -> str:
    """Stop a watcher as systemd would; return what it printed."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    assert "Traceback" not in out, out
    return out


def _tries(path: RestHotFolder, title: str) -> int:
    if not path.journal.exists():
        return 0
    try:
        return len(attempts_of(path.journal, title))
    except ValueError:  # not in the journal yet
        return 0
