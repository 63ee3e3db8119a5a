"""The FaxOut side's optional rate limit (the sandbox's own assumption: FaxOut documents
none), ``faxprint sandbox --faxout-rate``, and the HTTP status of every answer in the
request logs of both sides."""

from __future__ import annotations

import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from faxprint.sandbox import Fault, SandboxConfigError, SandboxServer, run
from faxprint.sandbox.command import faxout_rate
from faxprint.sandbox.faults import RateLimit
from faxprint.sandbox.rest import RestService
from faxprint.sandbox.rest_paths import COVERS_PATH, FAX_PATH, TOKEN_PATH
from faxprint.sandbox.rest_replies import RestRecord
from tests.conftest import REPO
from tests.support.rest import Clock
from tests.support.secrets import TEST_ACCOUNTS, TEST_ACCOUNTS_TOML
from tests.test_sandbox_command import parse
from tests.test_sandbox_faults import CONTENT_TYPE, GOOD, address, stored
from tests.test_sandbox_rest import GOOD as NUMBER
from tests.test_sandbox_rest import _fax, _get, _signin

REFUSED = "Rate limited: over 2 requests in any 10 s; retry after {} s\n"
Answer = tuple[int, str | None, bytes]  # status, Retry-After, body


@pytest.fixture
def limited(tmp_path: Path, clock: Clock) -> Iterator[SandboxServer]:
    """A sandbox whose FaxOut side lets 2 requests in over any 10 s of ``clock``."""
    with SandboxServer(store=tmp_path / "store", accounts=TEST_ACCOUNTS, faxout_rate=(2, 10),
                       clock=clock) as server:  # fmt: skip
        yield server


def _answer(response: http.client.HTTPResponse) -> Answer:
    return response.status, response.getheader("Retry-After"), response.read()


def _post(server: SandboxServer, body: bytes = GOOD) -> Answer:
    connection = http.client.HTTPConnection(*address(server), timeout=30)
    try:
        connection.request("POST", "/faxapi.asp", body=body, headers={"Content-Type": CONTENT_TYPE})
        return _answer(connection.getresponse())
    finally:
        connection.close()


def _refused(seconds: int) -> Answer:
    return 429, str(seconds), REFUSED.format(seconds).encode()


ACCEPTED: Answer = (200, None, b"0")


# -- the limit over HTTP ---------------------------------------------------------------


def test_the_window_slides_the_next_is_429_until_the_oldest_leaves_it(
    limited: SandboxServer, clock: Clock
) -> None:
    assert _post(limited) == ACCEPTED
    clock.now += 4
    assert _post(limited) == ACCEPTED
    clock.now += 1
    assert _post(limited) == _refused(5)  # the first leaves the window 10 s after it came
    clock.now += 5
    assert _post(limited) == ACCEPTED
    assert _post(limited) == _refused(4)  # now the second is the oldest
    clock.now += 4
    assert _post(limited) == ACCEPTED
    assert stored(limited) == [1, 2, 3, 4]
    assert [r.status for r in limited.requests] == [200, 200, 429, 200, 429, 200]


def test_refused_requests_neither_count_nor_restart_the_wait(
    limited: SandboxServer, clock: Clock
) -> None:
    assert [_post(limited) for _ in range(2)] == [ACCEPTED, ACCEPTED]
    refused = []
    for _ in range(10):  # one a second, all refused, none pushing the window back
        refused.append(_post(limited))
        clock.now += 1
    assert refused == [_refused(10 - n) for n in range(10)]
    assert [_post(limited) for _ in range(3)] == [ACCEPTED, ACCEPTED, _refused(10)]
    assert [r.status for r in limited.requests].count(429) == 11


def test_a_refused_request_is_logged_stores_nothing_and_takes_no_fault(
    limited: SandboxServer, clock: Clock
) -> None:
    assert [_post(limited) for _ in range(2)] == [ACCEPTED, ACCEPTED]
    limited.faults.push(Fault.code(3))
    assert _post(limited) == _refused(10)
    record = limited.requests[-1]
    assert (record.seq, record.code, record.decided, record.status, record.fault) == (
        None, None, None, 429, None)  # fmt: skip
    assert record.reason == REFUSED.format(10).rstrip("\n")
    assert (record.username, record.recipients, record.attachments) == (None, (), 0)
    assert (stored(limited), len(limited.faults)) == ([1, 2], 1)
    clock.now += 10
    assert _post(limited) == (200, None, b"3")  # the fault is the next admitted request's
    lines = (limited.store.root / "requests.jsonl").read_text().splitlines()
    assert [json.loads(line)["status"] for line in lines] == [200, 200, 429, 200]


def test_a_refused_request_leaves_the_connection_open(limited: SandboxServer, clock: Clock) -> None:
    connection = http.client.HTTPConnection(*address(limited), timeout=30)
    try:
        answers, sockets = [], []
        for moved in (0, 0, 0, 10):
            clock.now += moved
            connection.request("POST", "/faxapi.asp", body=GOOD,
                               headers={"Content-Type": CONTENT_TYPE})  # fmt: skip
            response = connection.getresponse()
            answers.append((*_answer(response), response.getheader("Connection")))
            sockets.append(connection.sock)
    finally:
        connection.close()
    assert answers == [(*ACCEPTED, None), (*ACCEPTED, None), (*_refused(10), None),
                       (*ACCEPTED, None)]  # fmt: skip
    assert len(set(map(id, sockets))) == 1  # one connection all along: the body was read off
    assert stored(limited) == [1, 2, 3]


def test_the_limit_comes_before_the_http_checks(limited: SandboxServer) -> None:
    host, port = address(limited)
    with socket.create_connection((host, port), timeout=30) as sock:  # no Content-Length
        sock.sendall(b"POST /faxapi.asp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert sock.makefile("rb").readline() == b"HTTP/1.1 411 Length Required\r\n"
    assert _post(limited) == ACCEPTED
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request("POST", "/faxapi.asp", body=iter([GOOD]), encode_chunked=True,
                           headers={"Content-Type": CONTENT_TYPE})  # fmt: skip
        response = connection.getresponse()
        assert (*_answer(response), response.getheader("Connection")) == (*_refused(10), "close")
    finally:
        connection.close()
    assert [r.status for r in limited.requests] == [411, 200, 429]
    assert stored(limited) == [1]


def test_no_limit_unless_asked(sandbox: SandboxServer) -> None:
    assert sandbox.faxout_limit is None
    assert [_post(sandbox)[:2] for _ in range(5)] == [(200, None)] * 5


# -- the limit itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "elapsed", "retry_after"),
    [(10, 0.5, 10), (10, 9.999, 1), (2.5, 0, 3), (0.25, 0.1, 1), (60, 59, 1), (60, 0, 60)],
)
def test_retry_after_is_the_wait_rounded_up_to_whole_seconds(
    clock: Clock, window: float, elapsed: float, retry_after: int
) -> None:
    limit = RateLimit(1, window, clock=clock)
    assert limit.take() is None
    clock.now += elapsed
    assert limit.take() == retry_after
    clock.now += retry_after  # a client that waits that long is let in
    assert limit.take() is None


@pytest.mark.parametrize(
    ("rate", "message"),
    [
        ((0, 10), "a FaxOut rate of 0 requests is not 1 or more"),
        ((-2, 10), "a FaxOut rate of -2 requests is not 1 or more"),
        ((2.5, 10), "a FaxOut rate of 2.5 requests is not 1 or more"),
        ((True, 10), "a FaxOut rate of True requests is not 1 or more"),
        ((2, 0), "a FaxOut rate window of 0 is not a number of seconds above 0"),
        ((2, -1.5), "a FaxOut rate window of -1.5 is not a number of seconds above 0"),
        ((2, math.nan), "a FaxOut rate window of nan is not a number of seconds above 0"),
        ((2, math.inf), "a FaxOut rate window of inf is not a number of seconds above 0"),
    ],
)
def test_a_bad_rate_is_refused(tmp_path: Path, rate: tuple[int, float], message: str) -> None:
    with pytest.raises(SandboxConfigError) as caught:
        SandboxServer(store=tmp_path, faxout_rate=rate)
    assert str(caught.value) == message


# -- the REST side's log -----------------------------------------------------------------


def test_the_rest_log_has_the_status_of_every_answer(tmp_path: Path, clock: Clock) -> None:
    service = RestService(clock=clock, fax_per_minute=2)
    with SandboxServer(store=tmp_path / "store", rest=service) as server:
        base = server.url.removesuffix("/faxapi.asp")
        token = _signin(base)
        assert _fax(base, token, {"to": [{"phoneNumber": NUMBER}]}).status_code == 200
        with socket.create_connection(address(server), timeout=30) as sock:  # cut short
            sock.sendall(f"POST {FAX_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}"
                         "\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                         "Content-Length: 1000\r\n\r\n--b\r\n".encode())  # fmt: skip
            sock.shutdown(socket.SHUT_WR)
            assert sock.recv(100) == b""  # no answer
        clock.now += 1
        assert _fax(base, token, {"to": [{"phoneNumber": NUMBER}]}).status_code == 429
        assert _get(base, COVERS_PATH, None).status_code == 401
        assert _get(base, "/restapi/v1.0/nowhere", token).status_code == 404
        assert server.requests == []  # the FaxOut log is FaxOut's alone
    now = clock.now
    assert service.requests == [
        RestRecord(now - 1, "POST", TOKEN_PATH, 200, None),
        RestRecord(now - 1, "POST", FAX_PATH, 200, None),
        RestRecord(now - 1, "POST", FAX_PATH, None, None),
        RestRecord(now, "POST", FAX_PATH, 429, "CMN-301"),
        RestRecord(now, "GET", COVERS_PATH, 401, "AGW-401"),
        RestRecord(now, "GET", "/restapi/v1.0/nowhere", 404, "CMN-120"),
    ]
    assert [r.status for r in service.requests].count(429) == service.refused_429 == 1


# -- faxprint sandbox --faxout-rate --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("2/10", (2, 10.0)),
        (" 3 / 0.5 ", (3, 0.5)),
        ("1/.25", (1, 0.25)),
        ("10/60.", (10, 60.0)),
        ("2/10s", (2, 10.0)),
        ("10/1m", (10, 60.0)),
        ("10/1.5min", (10, 90.0)),
        ("100/1h", (100, 3600.0)),
    ],
)
def test_the_option_reads_n_per_seconds(text: str, rate: tuple[int, float]) -> None:
    assert parse("--faxout-rate", text).faxout_rate == text
    assert faxout_rate(text) == rate


BAD_RATES = ["2x10", "2", "/10", "2/", "0/10", "-1/10", "2/0", "2/0s", "2/-1", "2.5/10",
             "2/1e3", "2/inf", "2/nan", "two/10", "2/10d", "2/10 ms", "",
             "2/" + "9" * 400]  # fmt: skip


def _one_line(text: str) -> str:
    return (f"faxprint sandbox: --faxout-rate {text!r} is not N/SECONDS with both above 0"
            " (2/10 or 2/10s: at most 2 FaxOut requests in any 10 seconds)\n")  # fmt: skip


@pytest.mark.parametrize("text", BAD_RATES)
def test_a_bad_option_is_one_line_and_exit_2(
    tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    assert run(parse(f"--faxout-rate={text}", "--store", str(store))) == 2
    assert capsys.readouterr() == ("", _one_line(text))
    assert not store.exists()  # refused before anything was made


def _faxprint_sandbox(tmp_path: Path, *argv: str) -> subprocess.Popen[str]:
    accounts = tmp_path / "accounts.toml"
    accounts.touch(mode=0o600)
    accounts.write_text(TEST_ACCOUNTS_TOML)
    command = ["sandbox", "--port", "0", "--store", str(tmp_path / "store"),
               "--accounts", str(accounts), *argv]  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "faxprint", *command], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def test_faxprint_sandbox_with_a_rate_answers_429_beyond_it(tmp_path: Path) -> None:
    process = _faxprint_sandbox(tmp_path, "--faxout-rate", "2/60")
    killer = threading.Timer(30, process.kill)  # lines that never come end in EOF, not a hang
    killer.start()
    try:
        assert process.stdout is not None
        listening, _, limit = (process.stdout.readline() for _ in range(3))
        killer.cancel()
        assert listening.startswith("faxprint sandbox listening on "), listening
        assert limit == "FaxOut rate limit: 2 requests in any 60 s, then HTTP 429\n"
        port = urlsplit(listening.split()[4]).port
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        answers = []
        for _ in range(3):
            connection.request("POST", "/faxapi.asp", body=GOOD,
                               headers={"Content-Type": CONTENT_TYPE})  # fmt: skip
            answers.append(_answer(connection.getresponse()))
        connection.close()
    finally:
        killer.cancel()
        killer.join()
        os.kill(process.pid, signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert (process.returncode, out) == (0, "")
    assert answers[:2] == [ACCEPTED, ACCEPTED]
    status, retry_after, body = answers[2]
    assert status == 429 and retry_after is not None and 1 <= int(retry_after) <= 60
    why = f"Rate limited: over 2 requests in any 60 s; retry after {retry_after} s"
    assert body == why.encode() + b"\n"
    lines = err.splitlines()
    assert len(lines) == 3
    assert lines[2].endswith(f" FaxOut request: code None, HTTP 429: {why}")


def test_faxprint_sandbox_with_a_bad_rate_says_so_in_one_line(tmp_path: Path) -> None:
    process = _faxprint_sandbox(tmp_path, "--faxout-rate", "2/0")
    out, err = process.communicate(timeout=60)
    assert (process.returncode, out, err) == (2, "", _one_line("2/0"))
    assert not (tmp_path / "store").exists()


def test_the_option_is_in_the_help() -> None:
    shown = subprocess.run([sys.executable, "-m", "faxprint", "sandbox", "--help"], cwd=REPO,
                           capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert shown.returncode == 0
    assert "--faxout-rate N/SECONDS" in shown.stdout
