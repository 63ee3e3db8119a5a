"""The sandbox's RingCentral REST side over real HTTP on loopback: tokens that expire,
the strict fax endpoint, message status that moves on, and 429 with Retry-After."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from faxprint.sandbox import SandboxServer
from faxprint.sandbox.rest import (
    COVERS_PATH,
    FAX_PATH,
    JWT_GRANT,
    MESSAGES_PATH,
    TOKEN_PATH,
    RestService,
)
from tests.helpers import make_pdf

CLIENT = ("sandbox-client", "sandbox-secret")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def rest(tmp_path: Path, clock: Clock) -> Iterator[tuple[str, RestService]]:
    service = RestService(clock=clock, token_seconds=3600, delivery_seconds=30,
                          failing_numbers=["+15556460000"], fax_per_minute=3)  # fmt: skip
    with SandboxServer(store=tmp_path / "store", rest=service) as server:
        yield server.url.removesuffix("/faxapi.asp"), service


def _token(base: str, **form: str) -> requests.Response:
    data = form or {"grant_type": JWT_GRANT, "assertion": "sandbox-jwt"}
    return requests.post(base + TOKEN_PATH, data=data, auth=CLIENT, timeout=10)


def _fax(
    base: str, token: str, request: object, files: list[tuple[str, bytes, str]]
) -> requests.Response:
    """POST a fax as RingCentral wants it: the JSON request first, then the documents."""
    parts: list[tuple[str, tuple[str | None, bytes | str, str]]] = [
        ("request", (None, json.dumps(request), "application/json"))
    ]
    parts += [("attachment", (name, data, kind)) for name, data, kind in files]
    return requests.post(base + FAX_PATH, files=parts, timeout=10,
                         headers={"Authorization": f"Bearer {token}"})  # fmt: skip


def test_the_jwt_grant_gives_a_token_that_expires(
    rest: tuple[str, RestService], clock: Clock
) -> None:
    base, service = rest
    answer = _token(base)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    covers = requests.get(base + COVERS_PATH, headers=headers, timeout=10).json()["records"]
    assert [c["name"] for c in covers][:3] == ["None", "Ancient", "Default"]
    clock.now += 3601
    expired = requests.get(base + COVERS_PATH, headers=headers, timeout=10)
    assert (expired.status_code, expired.json()["errorCode"]) == (401, "TokenExpired")
    refreshed = _token(base, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert refreshed.status_code == 200 and refreshed.json()["access_token"] != body["access_token"]
    again = _token(base, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert again.status_code == 400  # a refresh token is used once
    assert service.token_requests == 3


def test_bad_clients_and_assertions_are_refused(rest: tuple[str, RestService]) -> None:
    base, _ = rest
    wrong = requests.post(base + TOKEN_PATH, data={"grant_type": JWT_GRANT, "assertion": "x"},
                          auth=("sandbox-client", "nope"), timeout=10)  # fmt: skip
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    assert _token(base, grant_type=JWT_GRANT, assertion="forged").json()["error"] == "invalid_grant"
    assert _token(base, grant_type="password").json()["error"] == "unsupported_grant_type"
    unknown = requests.get(base + COVERS_PATH, headers={"Authorization": "Bearer x"}, timeout=10)
    assert (unknown.status_code, unknown.json()["errorCode"]) == (401, "TokenInvalid")


def test_a_fax_is_queued_then_delivered_or_failed(
    rest: tuple[str, RestService], clock: Clock, tmp_path: Path
) -> None:
    base, _ = rest
    token = _token(base).json()["access_token"]
    pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
    request = {"to": [{"phoneNumber": "+15556465589", "name": "Jane"}], "faxResolution": "High",
               "coverIndex": 2, "coverPageText": "Invoice 42", "sendTime": "2026-12-01T09:00:00Z"}  # fmt: skip
    sent = _fax(base, token, request, [("a.pdf", pdf, "application/pdf")])
    assert sent.status_code == 200, sent.text
    message = sent.json()
    assert message["messageStatus"] == "Queued"
    assert message["attachments"] == [{"fileName": "a.pdf", "contentType": "application/pdf",
                                       "size": len(pdf)}]  # fmt: skip
    failing = _fax(base, token, {"to": [{"phoneNumber": "+15556460000"}]},
                   [("b.pdf", pdf, "application/pdf")]).json()  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    clock.now += 31
    first = requests.get(base + f"{MESSAGES_PATH}/{message['id']}", headers=headers, timeout=10)
    second = requests.get(base + f"{MESSAGES_PATH}/{failing['id']}", headers=headers, timeout=10)
    assert first.json()["messageStatus"] == "Delivered"
    assert second.json()["messageStatus"] == "SendingFailed"
    listed = requests.get(base + MESSAGES_PATH, headers=headers, timeout=10).json()["records"]
    assert [m["id"] for m in listed] == [failing["id"], message["id"]]


@pytest.mark.parametrize(
    ("request_", "files", "words"),
    [
        ({"to": [{"phoneNumber": "5556465589"}]}, 1, "E.164"),
        ({"to": []}, 1, "[to] is required"),
        ({"to": [{"phoneNumber": "+15556465589"}], "faxResolution": "Fine"}, 1, "High or Low"),
        ({"to": [{"phoneNumber": "+15556465589"}], "coverPageText": "x" * 1025}, 1, "1024"),
        ({"to": [{"phoneNumber": "+15556465589"}], "sendTime": "tomorrow"}, 1, "ISO 8601"),
        ({"to": [{"phoneNumber": "+15556465589"}], "coverIndex": 99}, 1, "coverIndex"),
        ({"to": [{"phoneNumber": "+15556465589"}], "faxNumber": "1"}, 1, "Unknown fields"),
        ({"to": [{"phoneNumber": "+15556465589"}]}, 0, "attachment is required"),
    ],
)
def test_the_fax_endpoint_is_strict(
    rest: tuple[str, RestService], request_: object, files: int, words: str
) -> None:
    base, service = rest
    token = _token(base).json()["access_token"]
    answer = _fax(base, token, request_, [("a.pdf", b"%PDF-1.4", "application/pdf")] * files)
    assert answer.status_code == 400 and words in answer.json()["message"]
    assert service.messages == {}


def test_the_heavy_rate_limit_answers_429_with_retry_after(
    rest: tuple[str, RestService], clock: Clock
) -> None:
    base, service = rest
    token = _token(base).json()["access_token"]
    good = {"to": [{"phoneNumber": "+15556465589"}]}
    pdf = [("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")]
    assert [_fax(base, token, good, pdf).status_code for _ in range(3)] == [200, 200, 200]
    limited = _fax(base, token, good, pdf)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "61"
    clock.now += 61
    assert _fax(base, token, good, pdf).status_code == 200
    service.push_429(7)
    forced = _fax(base, token, good, pdf)
    assert (forced.status_code, forced.headers["Retry-After"]) == (429, "7")
    assert len(service.messages) == 4
