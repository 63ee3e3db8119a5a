"""Faults the sandbox commits on request, the slow-service delay, and concurrency."""

from __future__ import annotations

import http.client
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from faxprint.sandbox import Fault, FaultKind, SandboxServer
from faxprint.sandbox.pages import FAULT_PAGE
from tests.support.helpers import wait_for
from tests.support.secrets import TEST_ACCOUNTS, TEST_PASSWORD

BOUNDARY = b"fault-test-boundary"
CONTENT_TYPE = "multipart/form-data; boundary=" + BOUNDARY.decode()


def form(username: bytes = b"15555550100", data: bytes = b"Hello, fax!\n") -> bytes:
    return (
        b"--fault-test-boundary\r\n"
        b'Content-Disposition: form-data; name="Username"\r\n'
        b"\r\n" + username + b"\r\n"
        b"--fault-test-boundary\r\n"
        b'Content-Disposition: form-data; name="Password"\r\n'
        b"\r\n" + TEST_PASSWORD.encode() + b"\r\n"
        b"--fault-test-boundary\r\n"
        b'Content-Disposition: form-data; name="Recipient"\r\n'
        b"\r\n"
        b"5556465589|John Doe\r\n"
        b"--fault-test-boundary\r\n"
        b'Content-Disposition: form-data; name="Attachment"; filename="fax.txt"\r\n'
        b"Content-Type: text/plain\r\n"
        b"\r\n" + data + b"\r\n"
        b"--fault-test-boundary--\r\n"
    )


GOOD = form()


def address(server: SandboxServer) -> tuple[str, int]:
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def post(
    server: SandboxServer, body: bytes = GOOD, timeout: float = 30
) -> tuple[int, str | None, bytes]:
    connection = http.client.HTTPConnection(*address(server), timeout=timeout)
    try:
        connection.request("POST", "/faxapi.asp", body=body, headers={"Content-Type": CONTENT_TYPE})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


def stored(server: SandboxServer) -> list[int]:
    assert not list(server.store.root.glob(".incoming-*"))
    return [fax.seq for fax in server.faxes()]


def last(server: SandboxServer) -> tuple[object, ...]:
    record = server.requests[-1]
    return record.code, record.decided, record.status, record.seq, record.fault, record.reason


ACCEPTED = "Accepted: 1 recipient, 1 attachment (12 bytes)"


@pytest.mark.parametrize("code", [0, 1, 5, 7, 42])
def test_code_answers_that_code_and_stores_nothing(sandbox: SandboxServer, code: int) -> None:
    sandbox.faults.push(Fault.code(code))
    assert post(sandbox) == (200, "text/plain", str(code).encode())
    assert stored(sandbox) == []
    assert last(sandbox) == (
        code,
        0,
        200,
        None,
        f"code({code})",
        f"{ACCEPTED} [fault code({code})]",
    )
    assert post(sandbox) == (200, "text/plain", b"0")  # one request only
    assert stored(sandbox) == [1]


@pytest.mark.parametrize("status", [500, 502, 503, 404, 301])
def test_http_status(sandbox: SandboxServer, status: int) -> None:
    sandbox.faults.push(Fault.http_status(status))
    expected = f"HTTP {status} (sandbox fault)\n".encode()
    assert post(sandbox) == (status, "text/plain", expected)
    assert stored(sandbox) == []
    assert last(sandbox)[:4] == (None, 0, status, None)


def test_html(sandbox: SandboxServer) -> None:
    sandbox.faults.push(Fault.html())
    assert post(sandbox) == (200, "text/html; charset=utf-8", FAULT_PAGE)
    assert FAULT_PAGE.startswith(b"<!DOCTYPE html>")
    assert stored(sandbox) == []
    assert last(sandbox)[:5] == (None, 0, 200, None, "html()")


@pytest.mark.parametrize("body", [b"", b" 0", b"0\r\n", b"OK", b"00", b"-1"])
def test_body(sandbox: SandboxServer, body: bytes) -> None:
    sandbox.faults.push(Fault.body(body))
    assert post(sandbox) == (200, "text/plain", body)
    assert stored(sandbox) == []


def test_close_after_body(sandbox: SandboxServer) -> None:
    sandbox.faults.push(Fault.close_after_body())
    with pytest.raises(http.client.RemoteDisconnected):
        post(sandbox)
    assert stored(sandbox) == []
    assert last(sandbox) == (
        None,
        0,
        None,
        None,
        "close_after_body()",
        f"{ACCEPTED} [fault close_after_body()]",
    )


def test_accept_then_drop_stores_the_fax_and_says_nothing(sandbox: SandboxServer) -> None:
    sandbox.faults.push(Fault.accept_then_drop())
    with pytest.raises(http.client.RemoteDisconnected):
        post(sandbox)
    assert stored(sandbox) == [1]
    assert last(sandbox)[:5] == (None, 0, None, 1, "accept_then_drop()")


def test_accept_then_drop_of_a_refused_fax_stores_nothing(sandbox: SandboxServer) -> None:
    sandbox.faults.push(Fault.accept_then_drop())
    with pytest.raises(http.client.RemoteDisconnected):
        post(sandbox, form(username=b"15555550199"))
    assert stored(sandbox) == []
    assert last(sandbox)[:4] == (None, 2, None, None)


@pytest.mark.parametrize("size", [1000, 8 * 1024 * 1024])
def test_close_mid_body(sandbox: SandboxServer, size: int) -> None:
    body = form(data=b"x" * size)
    sandbox.faults.push(Fault.close_mid_body())
    with pytest.raises(ConnectionError):
        post(sandbox, body)
    assert stored(sandbox) == []
    got = min(len(body) // 2, 65536)
    assert last(sandbox) == (
        None,
        None,
        None,
        None,
        "close_mid_body()",
        f"No answer: closed after {got} of {len(body)} bytes",
    )
    assert post(sandbox) == (200, "text/plain", b"0")


def test_stall_mid_body_keeps_the_sender_mid_upload_until_released(
    sandbox: SandboxServer,
) -> None:
    release = threading.Event()
    sandbox.faults.push(Fault.stall_mid_body(release))
    failures: list[BaseException] = []

    def send() -> None:
        try:
            post(sandbox, form(data=b"x" * 4000))
        except (ConnectionError, http.client.HTTPException) as exc:
            failures.append(exc)

    sender = threading.Thread(target=send)
    sender.start()
    wait_for(lambda: len(sandbox.requests) == 1, 20, "the request recorded")
    assert sender.is_alive()  # recorded, and the sender still waits for an answer
    release.set()
    sender.join(timeout=20)
    assert len(failures) == 1 and stored(sandbox) == []
    assert last(sandbox)[4] == "stall_mid_body()"


def test_trickle_reads_slowly_and_still_judges(sandbox: SandboxServer) -> None:
    body = form(data=b"y" * 1500)
    sandbox.faults.push(Fault.trickle(4000))
    started = time.monotonic()
    assert post(sandbox, body) == (200, "text/plain", b"0")
    assert time.monotonic() - started >= len(body) / 4000 * 0.9
    assert len(stored(sandbox)) == 1
    assert last(sandbox)[4] == "trickle(4000)"
    with pytest.raises(ValueError, match="trickle rate 0"):
        Fault.trickle(0)


def test_hang_reads_the_body_then_goes_quiet_then_closes(sandbox: SandboxServer) -> None:
    sandbox.faults.push(Fault.hang(0.3))
    started = time.monotonic()
    with pytest.raises(http.client.RemoteDisconnected):
        post(sandbox)
    assert time.monotonic() - started >= 0.3
    assert stored(sandbox) == []
    assert last(sandbox)[:5] == (None, 0, None, None, "hang(0.3)")


def test_a_client_timeout_meets_a_hang_and_stop_does_not_wait_for_it(tmp_path: Path) -> None:
    server = SandboxServer(store=tmp_path, accounts=TEST_ACCOUNTS).start()
    try:
        server.faults.push(Fault.hang(600))
        with pytest.raises(TimeoutError):
            post(server, timeout=0.5)
        assert server.requests[-1].fault == "hang(600)"
    finally:
        started = time.monotonic()
        server.stop()
    assert time.monotonic() - started < 5
    assert stored(server) == []


def test_delay_answers_late_and_stores(sandbox: SandboxServer) -> None:
    sandbox.faults.push(Fault.delay(0.3))
    started = time.monotonic()
    assert post(sandbox) == (200, "text/plain", b"0")
    assert time.monotonic() - started >= 0.3
    assert stored(sandbox) == [1]
    assert last(sandbox)[:5] == (0, 0, 200, 1, "delay(0.3)")


def test_the_constant_delay_slows_every_answer(tmp_path: Path) -> None:
    with SandboxServer(store=tmp_path, accounts=TEST_ACCOUNTS, delay=0.2) as server:
        for body, code in [(GOOD, b"0"), (b"junk", b"5")]:
            started = time.monotonic()
            assert post(server, body)[2] == code
            assert time.monotonic() - started >= 0.2


def test_faults_apply_in_order_one_per_request(sandbox: SandboxServer) -> None:
    sandbox.faults.push(Fault.code(3), Fault.http_status(503))
    sandbox.faults.push(Fault.code(4))
    assert len(sandbox.faults) == 3
    answers = [post(sandbox)[::2] for _ in range(4)]
    assert answers == [(200, b"3"), (503, b"HTTP 503 (sandbox fault)\n"), (200, b"4"), (200, b"0")]
    assert len(sandbox.faults) == 0
    assert [r.fault for r in sandbox.requests] == ["code(3)", "http_status(503)", "code(4)", None]


def test_clear_drops_pending_faults(sandbox: SandboxServer) -> None:
    sandbox.faults.push(Fault.code(5), Fault.code(5))
    sandbox.faults.clear()
    assert len(sandbox.faults) == 0
    assert post(sandbox)[2] == b"0"


def test_faults_are_not_spent_on_other_pages(sandbox: SandboxServer) -> None:
    sandbox.faults.push(Fault.code(5))
    connection = http.client.HTTPConnection(*address(sandbox), timeout=30)
    connection.request("GET", "/")
    assert connection.getresponse().read().startswith(b"<!DOCTYPE html>")
    connection.close()
    assert post(sandbox)[2] == b"5"


def run_clients(
    server: SandboxServer, count: int, body: bytes = GOOD
) -> tuple[list[threading.Thread], list[bytes]]:
    answers: list[bytes] = []
    lock = threading.Lock()

    def client() -> None:
        answer = post(server, body)[2]
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=client) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, answers


def test_concurrent_requests_are_counted(sandbox: SandboxServer) -> None:
    release = threading.Event()
    sandbox.faults.push(*[Fault.hold(release)] * 4)
    threads, answers = run_clients(sandbox, 4)
    try:
        wait_for(lambda: sandbox.in_flight == 4, 20, "four requests in flight")
        assert sandbox.max_in_flight == 4
    finally:
        release.set()
        for thread in threads:
            thread.join()
    assert answers == [b"0"] * 4
    assert sandbox.in_flight == 0
    assert sorted(r.in_flight for r in sandbox.requests) == [1, 2, 3, 4]
    assert stored(sandbox) == [1, 2, 3, 4]
    assert post(sandbox)[2] == b"0"
    assert sandbox.requests[-1].in_flight == 1
    assert sandbox.max_in_flight == 4


def test_one_client_at_a_time_is_never_concurrent(sandbox: SandboxServer) -> None:
    for _ in range(5):
        post(sandbox)
    assert sandbox.max_in_flight == 1


def test_each_fault_goes_to_exactly_one_of_many_concurrent_requests(sandbox: SandboxServer) -> None:
    sandbox.faults.push(*[Fault.code(10 + n) for n in range(8)])
    threads, answers = run_clients(sandbox, 8)
    for thread in threads:
        thread.join()
    assert sorted(answers) == [str(10 + n).encode() for n in range(8)]


def test_stop_lets_a_held_request_answer(tmp_path: Path) -> None:
    server = SandboxServer(store=tmp_path, accounts=TEST_ACCOUNTS).start()
    server.faults.push(Fault.hold(threading.Event()))
    threads, answers = run_clients(server, 1)
    wait_for(lambda: server.in_flight == 1, 20, "the request in flight")
    server.stop()
    threads[0].join()
    assert answers == [b"0"]
    assert stored(server) == [1]


def test_abort_drops_requests_in_hand(tmp_path: Path) -> None:
    server = SandboxServer(store=tmp_path, accounts=TEST_ACCOUNTS).start()
    try:
        server.faults.push(Fault.hang(600))
        failures: list[BaseException] = []

        def client() -> None:
            try:
                post(server)
            except ConnectionError as exc:
                failures.append(exc)

        thread = threading.Thread(target=client)
        thread.start()
        wait_for(lambda: len(server.requests) == 1, 20, "the request recorded")
        server.abort()
        thread.join()
        assert len(failures) == 1
    finally:
        server.stop()


def test_fault_values() -> None:
    assert [
        str(f)
        for f in (
            Fault.code(5),
            Fault.http_status(500),
            Fault.hang(1.5),
            Fault.delay(2),
            Fault.html(),
            Fault.body(b"x"),
            Fault.close_after_body(),
            Fault.close_mid_body(),
            Fault.accept_then_drop(),
            Fault.hold(threading.Event()),
        )
    ] == [
        "code(5)",
        "http_status(500)",
        "hang(1.5)",
        "delay(2)",
        "html()",
        "body(b'x')",
        "close_after_body()",
        "close_mid_body()",
        "accept_then_drop()",
        "hold()",
    ]
    assert Fault.code(5) == Fault(FaultKind.CODE, number=5)
    with pytest.raises(ValueError, match="HTTP status 99 is not 100-599"):
        Fault.http_status(99)
    with pytest.raises(ValueError, match="HTTP status 600 is not 100-599"):
        Fault.http_status(600)
    with pytest.raises(ValueError, match="-1 seconds is not a duration"):
        Fault.hang(-1)
    with pytest.raises(ValueError, match="nan seconds is not a duration"):
        Fault.delay(float("nan"))
