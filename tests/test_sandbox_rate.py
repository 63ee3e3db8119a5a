"""The HTTP status of every answer in the sandbox's request logs."""

from __future__ import annotations

import socket
from pathlib import Path

from faxprint.sandbox import SandboxServer
from faxprint.sandbox.rest import RestService
from faxprint.sandbox.rest_paths import COVERS_PATH, FAX_PATH, TOKEN_PATH
from faxprint.sandbox.rest_replies import RestRecord
from tests.support.rest import Clock
from tests.test_sandbox_faults import address
from tests.test_sandbox_rest import GOOD as NUMBER
from tests.test_sandbox_rest import _fax, _get, _signin


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
