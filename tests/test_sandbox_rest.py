"""The sandbox's RingCentral REST side over real HTTP on loopback, checked against what
RingCentral's public documentation says (see faxprint/sandbox/rest.py for the sources):
sign-in and sessions, error bodies, the fax call's rules and answer, the message store,
the cover page dictionary, and the rate limits. Every request here is raw HTTP with
``requests``, not faxprint's client."""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import requests

from faxprint.sandbox import SandboxServer
from faxprint.sandbox.pdf import count_pages
from faxprint.sandbox.rest import RestService
from faxprint.sandbox.rest_fax import COVER_PAGES, FAX_EXTENSIONS
from faxprint.sandbox.rest_oauth import JWT_GRANT
from faxprint.sandbox.rest_paths import COVERS_PATH, FAX_PATH, MESSAGES_PATH, TOKEN_PATH
from tests.support.helpers import make_pdf
from tests.support.rest import Clock

CLIENT = ("sandbox-client", "sandbox-secret")
FAILING = "+15556460000"
GOOD = "+15556465589"
PDF = b"%PDF-1.4\n%%EOF\n"
BOUNDARY = "sbx-7f3a-boundary"
Part = tuple[str, str | None, str | None, bytes]  # name, filename, Content-Type, content
Start = Callable[..., tuple[str, RestService]]


@pytest.fixture
def start(tmp_path: Path, clock: Clock) -> Iterator[Start]:
    """Start a sandbox whose REST service takes these options; return (base URL, service)."""
    numbers = itertools.count(1)
    with contextlib.ExitStack() as stack:

        def start(**options: Any) -> tuple[str, RestService]:
            defaults: dict[str, Any] = {
                "clock": clock,
                "delivery_seconds": 30,
                "failing_numbers": [FAILING],
                "fax_per_minute": 1000,
            }
            service = RestService(**(defaults | options))
            store = tmp_path / f"store{next(numbers)}"
            server = stack.enter_context(SandboxServer(store=store, rest=service))
            return server.url.removesuffix("/faxapi.asp"), service

        yield start


@pytest.fixture
def rest(start: Start) -> tuple[str, RestService]:
    return start()


def _token(base: str, auth: tuple[str, str] | None = CLIENT, **form: str) -> requests.Response:
    data = form or {"grant_type": JWT_GRANT, "assertion": "sandbox-jwt"}
    return requests.post(base + TOKEN_PATH, data=data, auth=auth, timeout=10)


def _signin(base: str) -> str:
    answer = _token(base)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def _get(base: str, path: str, token: str | None, **params: Any) -> requests.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return requests.get(base + path, headers=headers, params=params, timeout=10)


def _multipart(parts: list[Part]) -> bytes:
    """A multipart/form-data body built by hand, to say exactly what each part carries."""
    body = b""
    for name, filename, kind, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        head = f"Content-Disposition: {disposition}\r\n"
        if kind is not None:
            head += f"Content-Type: {kind}\r\n"
        body += f"--{BOUNDARY}\r\n{head}\r\n".encode() + content + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def _post(base: str, token: str, parts: list[Part], path: str = FAX_PATH) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}",
               "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}  # fmt: skip
    return requests.post(base + path, data=_multipart(parts), headers=headers, timeout=30)


def _fax(
    base: str,
    token: str,
    request: object,
    files: Sequence[tuple[str | None, bytes, str | None]] | None = None,
    *,
    name: str = "json",
    filename: str | None = "request.json",
) -> requests.Response:
    """POST a fax as RingCentral's SDKs do: the JSON root part first, then the files."""
    root = json.dumps(request, ensure_ascii=False).encode("utf-8")
    documents = [("a.pdf", PDF, "application/pdf")] if files is None else files
    parts: list[Part] = [(name, filename, "application/json", root)]
    parts += [("attachment", file, kind, data) for file, data, kind in documents]
    return _post(base, token, parts)


def _error(answer: requests.Response) -> dict[str, Any]:
    """The one error of a documented-shape API error body."""
    body = answer.json()
    assert set(body) == {"errors"}, body  # nothing at the top level but errors[]
    assert len(body["errors"]) == 1
    return dict(body["errors"][0])


def _oauth(answer: requests.Response) -> tuple[int, str, str]:
    body = answer.json()
    assert set(body) == {"error", "error_description", "errors"}, body
    return answer.status_code, body["error"], body["errors"][0]["errorCode"]


# -- sign-in, tokens and sessions ------------------------------------------------------


def test_the_jwt_grant_gives_a_token_that_expires_and_a_single_use_refresh_token(
    rest: tuple[str, RestService], clock: Clock
) -> None:
    base, service = rest
    answer = _token(base)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["owner_id"] == "101" and body["session_id"] and body["scope"]
    assert answer.headers["X-Rate-Limit-Group"] == "Auth"
    clock.now += 3601
    expired = _get(base, COVERS_PATH, body["access_token"])
    assert (expired.status_code, _error(expired)) == (
        401, {"errorCode": "OAU-128", "message": "Access token expired"})  # fmt: skip
    refreshed = _token(base, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert refreshed.status_code == 200
    assert refreshed.json()["session_id"] == body["session_id"]  # a refresh continues it
    again = _token(base, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert _oauth(again) == (400, "invalid_grant", "OAU-213")  # a refresh token is used once
    assert _get(base, COVERS_PATH, refreshed.json()["access_token"]).status_code == 200
    assert service.token_requests == 3


def test_a_refresh_invalidates_the_old_access_token(rest: tuple[str, RestService]) -> None:
    base, _ = rest
    body = _token(base).json()
    assert _token(base, grant_type="refresh_token", refresh_token=body["refresh_token"]).ok
    old = _get(base, COVERS_PATH, body["access_token"])
    assert (old.status_code, _error(old)["errorCode"]) == (401, "OAU-213")


def test_an_expired_refresh_token_is_oau_210(rest: tuple[str, RestService], clock: Clock) -> None:
    base, _ = rest
    refresh = _token(base).json()["refresh_token"]
    clock.now += 604801
    answer = _token(base, grant_type="refresh_token", refresh_token=refresh)
    assert _oauth(answer) == (400, "invalid_grant", "OAU-210")
    assert answer.json()["errors"][0]["message"] == "Token expired"


def test_the_token_endpoint_refuses_as_documented(rest: tuple[str, RestService]) -> None:
    base, service = rest
    jwt = {"grant_type": JWT_GRANT, "assertion": "sandbox-jwt"}
    none = _token(base, auth=None, **jwt)
    assert _oauth(none) == (401, "invalid_client", "OAU-123")
    assert none.headers["WWW-Authenticate"].startswith("Basic")
    for auth in (("sandbox-client", "nope"), ("someone-else", "sandbox-secret")):
        wrong = _token(base, auth=auth, **jwt)
        assert _oauth(wrong) == (401, "invalid_client", "OAU-146")
        assert wrong.json()["error_description"] == "Invalid client credentials"
    forged = _token(base, grant_type=JWT_GRANT, assertion="forged")
    assert _oauth(forged)[:2] == (400, "invalid_grant")  # RFC 7523; the OAU code: undocumented
    assert _oauth(_token(base, grant_type="password")) == (400, "invalid_request", "OAU-250")
    unknown = _token(base, grant_type="refresh_token", refresh_token="never-issued")
    assert _oauth(unknown) == (400, "invalid_grant", "OAU-213")
    twice = requests.post(base + TOKEN_PATH, auth=CLIENT, timeout=10,
                          data=[("grant_type", JWT_GRANT), ("assertion", "a"),
                                ("assertion", "b")])  # fmt: skip
    assert _oauth(twice) == (400, "invalid_request", "OAU-111")
    assert _oauth(_token(base, grant_type=JWT_GRANT))[:2] == (400, "invalid_request")
    assert _oauth(_token(base, grant_type=JWT_GRANT, assertion="sandbox-jwt", username="x"))[
        :2] == (400, "invalid_request")  # fmt: skip
    as_json = requests.post(base + TOKEN_PATH, json=jwt, auth=CLIENT, timeout=10)
    assert _oauth(as_json)[:2] == (415, "invalid_request")
    assert service.token_requests == 6  # the ones whose client authenticated


def test_the_access_token_ttl_is_clamped_not_refused(rest: tuple[str, RestService]) -> None:
    base, _ = rest
    short = _token(base, grant_type=JWT_GRANT, assertion="sandbox-jwt", access_token_ttl="60")
    long = _token(base, grant_type=JWT_GRANT, assertion="sandbox-jwt", access_token_ttl="9999")
    assert (short.json()["expires_in"], long.json()["expires_in"]) == (600, 3600)


def test_api_calls_need_a_bearer_token(rest: tuple[str, RestService], clock: Clock) -> None:
    base, service = rest
    token = _signin(base)
    cases = {None: "AGW-401", f"Basic {token}": "AGW-402", "Bearer": "AGW-402",
             f"Bearer {token} x": "AGW-402", "Bearer never-issued": "OAU-213"}  # fmt: skip
    for header, code in cases.items():
        headers = {} if header is None else {"Authorization": header}
        answer = requests.get(base + COVERS_PATH, headers=headers, timeout=10)
        assert (answer.status_code, _error(answer)["errorCode"]) == (401, code), header
    lower = requests.get(base + COVERS_PATH, headers={"Authorization": f"bearer {token}"},
                         timeout=10)  # fmt: skip
    assert lower.status_code == 200  # the scheme is case-insensitive; token_type is "bearer"
    by_query = requests.get(base + COVERS_PATH, params={"access_token": token}, timeout=10)
    assert by_query.status_code == 200  # tokens.md "Option 2"
    both = _get(base, COVERS_PATH, token, access_token=token)
    assert (both.status_code, _error(both)["errorCode"]) == (400, "CMN-101")
    service._access.clear()  # revoke every access token
    revoked = _get(base, COVERS_PATH, token)
    assert (revoked.status_code, _error(revoked)["message"]) == (401, "Token not found")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("OAU-213", "Token not found"),
        ("OAU-128", "Access token expired"),
        ("OAU-129", "Access token corrupted"),
        ("OAU-149", "Unparsable access token"),
    ],
)
def test_ended_sessions_refuse_their_tokens(
    rest: tuple[str, RestService], code: str, message: str
) -> None:
    base, service = rest
    body = _token(base).json()
    service.end_sessions(code)
    answer = _get(base, COVERS_PATH, body["access_token"])
    assert (answer.status_code, _error(answer)) == (401, {"errorCode": code, "message": message})
    refresh = _token(base, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert _oauth(refresh)[:2] == (400, "invalid_grant")
    assert _get(base, COVERS_PATH, _signin(base)).status_code == 200  # a new session works
    with pytest.raises(ValueError, match="OAU-999"):
        service.end_sessions("OAU-999")


def test_expired_tokens_answer_oau_128_and_refresh(rest: tuple[str, RestService]) -> None:
    base, service = rest
    body = _token(base).json()
    service.expire_tokens()
    answer = _get(base, COVERS_PATH, body["access_token"])
    assert (answer.status_code, _error(answer)["errorCode"]) == (401, "OAU-128")
    refreshed = _token(base, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert _get(base, COVERS_PATH, refreshed.json()["access_token"]).status_code == 200


def test_a_sixth_session_ends_the_oldest_and_a_refresh_opens_none(
    start: Start,
) -> None:
    base, service = start()
    assert service.max_sessions == 5
    sessions = [_token(base).json() for _ in range(5)]
    for session in sessions[1:]:  # refreshes continue their sessions: still five
        refreshed = _token(base, grant_type="refresh_token", refresh_token=session["refresh_token"])
        session.update(refreshed.json())
    assert _get(base, COVERS_PATH, sessions[0]["access_token"]).status_code == 200
    sixth = _token(base).json()
    oldest = _get(base, COVERS_PATH, sessions[0]["access_token"])
    assert (oldest.status_code, _error(oldest)["errorCode"]) == (401, "OAU-213")
    refresh = _token(base, grant_type="refresh_token", refresh_token=sessions[0]["refresh_token"])
    assert _oauth(refresh)[:2] == (400, "invalid_grant")
    for session in [*sessions[1:], sixth]:
        assert _get(base, COVERS_PATH, session["access_token"]).status_code == 200


# -- error bodies ----------------------------------------------------------------------


def test_api_errors_have_only_errors_by_default(rest: tuple[str, RestService]) -> None:
    base, _ = rest
    answer = _get(base, f"{MESSAGES_PATH}/12345", _signin(base))
    assert answer.status_code == 404
    assert _error(answer) == {
        "errorCode": "CMN-102",
        "parameterName": "messageId",
        "message": "Resource for parameter [messageId] is not found",
    }


def test_the_observed_shape_repeats_the_error_at_the_top(start: Start) -> None:
    base, _ = start(error_shape="observed")
    answer = _get(base, f"{MESSAGES_PATH}/12345", _signin(base))
    body = answer.json()
    assert body["errorCode"] == "CMN-102" and body["parameterName"] == "messageId"
    assert body["message"] == body["errors"][0]["message"]
    forged = _token(base, grant_type=JWT_GRANT, assertion="forged")
    assert set(forged.json()) == {"error", "error_description", "errors"}  # OAuth: as is
    with pytest.raises(ValueError, match="error_shape"):
        RestService(error_shape="guessed")  # type: ignore[arg-type]


def test_unknown_paths_and_methods(rest: tuple[str, RestService]) -> None:
    base, _ = rest
    token = _signin(base)
    missing = _get(base, "/restapi/v1.0/account/~/extension/~/sms", token)
    assert (missing.status_code, _error(missing)["errorCode"]) == (404, "CMN-120")
    wrong = requests.delete(base + FAX_PATH, headers={"Authorization": f"Bearer {token}"},
                            timeout=10)  # fmt: skip
    assert (wrong.status_code, wrong.headers["Allow"]) == (405, "POST")
    other = _get(base, "/restapi/v1.0/account/999/extension/~/message-store", token)
    assert (other.status_code, _error(other)["parameterName"]) == (404, "accountId")


# -- the cover page dictionary ---------------------------------------------------------


def test_the_cover_page_dictionary_is_the_en_us_list(rest: tuple[str, RestService]) -> None:
    base, _ = rest
    answer = _get(base, COVERS_PATH, _signin(base))
    body = answer.json()
    assert set(body) == {"uri", "records", "paging", "navigation"}
    names = ["None", "Ancient", "Birthday", "Blank", "Clasmod", "Classic", "Confidential",
             "Contempo", "Elegant", "Express", "Formal", "Jazzy", "Modern", "Urgent"]  # fmt: skip
    assert body["records"] == [{"id": str(n), "name": name} for n, name in enumerate(names)]
    assert list(COVER_PAGES) == names and "Default" not in COVER_PAGES
    assert body["paging"] == {"page": 1, "perPage": 100, "pageStart": 0, "pageEnd": 13,
                              "totalPages": 1, "totalElements": 14}  # fmt: skip
    assert "nextPage" not in body["navigation"]
    assert answer.headers["X-Rate-Limit-Group"] == "Light"


def test_the_cover_page_dictionary_pages(rest: tuple[str, RestService]) -> None:
    base, _ = rest
    token = _signin(base)
    first = _get(base, COVERS_PATH, token, perPage=5).json()
    assert [r["id"] for r in first["records"]] == ["0", "1", "2", "3", "4"]
    assert "page=2" in first["navigation"]["nextPage"]["uri"]
    last = _get(base, COVERS_PATH, token, perPage=5, page=3).json()
    assert [r["name"] for r in last["records"]] == ["Formal", "Jazzy", "Modern", "Urgent"]
    assert last["paging"]["pageStart"] == 10 and last["paging"]["totalPages"] == 3
    assert "nextPage" not in last["navigation"] and "previousPage" in last["navigation"]
    assert requests.get(last["navigation"]["previousPage"]["uri"], timeout=10,
                        headers={"Authorization": f"Bearer {token}"}).json()["records"][0][
        "name"] == "Classic"  # fmt: skip
    for params in ({"page": "0"}, {"perPage": "x"}, {"language": "en-US"}):
        bad = _get(base, COVERS_PATH, token, **params)
        assert (bad.status_code, _error(bad)["errorCode"]) == (400, "CMN-101")
        assert _error(bad)["parameterName"] == next(iter(params))


# -- the fax call ----------------------------------------------------------------------


@pytest.mark.parametrize("cover", range(14))
def test_every_cover_index_is_taken(rest: tuple[str, RestService], cover: int) -> None:
    base, service = rest
    answer = _fax(base, _signin(base), {"to": [{"phoneNumber": GOOD}], "coverIndex": cover})
    assert answer.status_code == 200, answer.text
    assert answer.json()["coverIndex"] == cover
    assert next(iter(service.messages.values())).cover_index == cover


def test_a_left_out_cover_index_is_the_accounts_default(rest: tuple[str, RestService]) -> None:
    base, service = rest
    answer = _fax(base, _signin(base), {"to": [{"phoneNumber": GOOD}]})
    assert answer.status_code == 200
    assert "coverIndex" not in answer.json()  # which cover that is: not the sandbox's to say
    assert service.messages[answer.json()["id"]].cover_index is None


@pytest.mark.parametrize("cover", [14, -1, "2", True, 1.0, None])
def test_a_cover_index_outside_0_to_13_is_refused(
    rest: tuple[str, RestService], cover: object
) -> None:
    base, service = rest
    answer = _fax(base, _signin(base), {"to": [{"phoneNumber": GOOD}], "coverIndex": cover})
    if cover is None:  # JSON null: the sandbox reads it as left out
        assert answer.status_code == 200
        return
    assert (answer.status_code, _error(answer)["parameterName"]) == (400, "coverIndex")
    assert service.messages == {}


@pytest.mark.parametrize(
    ("name", "filename", "kind"),
    [
        ("json", "request.json", "application/json"),
        ("request", "request.json", "application/json"),
        ("json", None, "application/json"),
        ("request", None, "application/json; charset=UTF-8"),
    ],
)
def test_the_json_root_part_comes_as_the_sdks_send_it(
    rest: tuple[str, RestService], name: str, filename: str | None, kind: str
) -> None:
    base, service = rest
    root = json.dumps({"to": [{"phoneNumber": GOOD}]}).encode()
    answer = _post(
        base,
        _signin(base),
        [(name, filename, kind, root), ("attachment", "a.pdf", "application/pdf", PDF)],
    )
    assert answer.status_code == 200, answer.text
    message = service.messages[answer.json()["id"]]
    assert message.json_part == {"name": name, "filename": filename, "content_type": kind}
    assert [a["fileName"] for a in message.attachments] == ["a.pdf"]


@pytest.mark.parametrize(
    "first",
    [
        ("json", "request.json", "text/plain", b'{"to":[{"phoneNumber":"+15556465589"}]}'),
        ("body", None, "application/json", b'{"to":[{"phoneNumber":"+15556465589"}]}'),
        ("attachment", "a.pdf", "application/pdf", PDF),
        ("json", None, "application/json; charset=ISO-8859-1", b'{"to":[]}'),
    ],
)
def test_a_first_part_that_is_not_the_json_root_is_refused(
    rest: tuple[str, RestService], first: Part
) -> None:
    base, service = rest
    answer = _post(base, _signin(base), [first, ("attachment", "b.pdf", "application/pdf", PDF)])
    assert (answer.status_code, _error(answer)["errorCode"]) == (400, "MSG-349")
    assert service.messages == {}


def test_names_and_cover_text_are_utf8_kept_exactly(rest: tuple[str, RestService]) -> None:
    base, service = rest
    request = {"to": [{"phoneNumber": GOOD, "name": "José Müller"}], "coverIndex": 1,
               "coverPageText": "Grüße\nÄ 😀"}  # fmt: skip
    answer = _fax(base, _signin(base), request)
    assert answer.status_code == 200, answer.text
    assert "José Müller".encode() in answer.content  # raw UTF-8, as the charset says
    assert answer.headers["Content-Type"] == "application/json; charset=UTF-8"
    body = answer.json()
    assert body["to"][0]["name"] == "José Müller" and body["coverPageText"] == "Grüße\nÄ 😀"
    message = service.messages[body["id"]]
    assert (message.to[0]["name"], message.cover_text) == ("José Müller", "Grüße\nÄ 😀")


@pytest.mark.parametrize(
    "root",
    [
        '{"to":[{"phoneNumber":"+15556465589","name":"José"}]}'.encode("latin-1"),
        '{"to":[{"phoneNumber":"+15556465589"}]}'.encode("utf-16"),
        b'{"to":[{"phoneNumber":"+15556465589"}],"to":[]}',
        b'{"to":[{"phoneNumber":"+15556465589"}],"coverIndex":NaN}',
        b"{not json",
    ],
)
def test_json_that_is_not_utf8_or_not_plain_json_cannot_be_parsed(
    rest: tuple[str, RestService], root: bytes
) -> None:
    base, _ = rest
    answer = _post(
        base,
        _signin(base),
        [
            ("json", "request.json", "application/json", root),
            ("attachment", "a.pdf", "application/pdf", PDF),
        ],
    )
    assert (answer.status_code, _error(answer)) == (
        400, {"errorCode": "CMN-103", "message": "JSON can't be parsed."})  # fmt: skip


@pytest.mark.parametrize(
    ("request_", "parameter"),
    [
        ({"to": [{"phoneNumber": "5556465589"}]}, "to"),
        ({"to": [{"phoneNumber": "+1 555 646 5589"}]}, "to"),
        ({"to": []}, "to"),
        ({}, "to"),
        ({"to": [{"phoneNumber": GOOD, "company": "ACME"}]}, "to"),
        ({"to": [{"phoneNumber": GOOD, "name": 7}]}, "to"),
        ({"to": [{"phoneNumber": GOOD}], "faxResolution": "Fine"}, "faxResolution"),
        ({"to": [{"phoneNumber": GOOD}], "coverPageText": "x" * 1025}, "coverPageText"),
        ({"to": [{"phoneNumber": GOOD}], "coverPageText": "😀" * 513}, "coverPageText"),
        ({"to": [{"phoneNumber": GOOD}], "sendTime": "tomorrow"}, "sendTime"),
        ({"to": [{"phoneNumber": GOOD}], "sendTime": "2030-03-19T08:00:00"}, "sendTime"),
        ({"to": [{"phoneNumber": GOOD}], "sendTime": "2030-02-30T08:00:00Z"}, "sendTime"),
        ({"to": [{"phoneNumber": GOOD}], "isoCode": "us"}, "isoCode"),
        ({"to": [{"phoneNumber": GOOD}], "isoCode": "USA"}, "isoCode"),
        ({"to": [{"phoneNumber": GOOD}], "faxNumber": "1"}, "faxNumber"),
    ],
)
def test_the_json_fields_are_checked(
    rest: tuple[str, RestService], request_: object, parameter: str
) -> None:
    base, service = rest
    answer = _fax(base, _signin(base), request_)
    assert answer.status_code == 400, answer.text
    error = _error(answer)
    assert (error["errorCode"], error["parameterName"]) == ("CMN-101", parameter)
    assert service.messages == {}


def test_every_documented_field_is_taken(rest: tuple[str, RestService], clock: Clock) -> None:
    base, service = rest
    token = _signin(base)
    request = {"to": [{"phoneNumber": GOOD, "name": "Jane"}, {"phoneNumber": "+442071234567"}],
               "faxResolution": "High", "sendTime": "2027-01-15T12:00:00.000+02:00",
               "isoCode": "GB", "coverIndex": 13, "coverPageText": "x" * 1024}  # fmt: skip
    answer = _fax(base, token, request)
    assert answer.status_code == 200, answer.text
    message = service.messages[answer.json()["id"]]
    assert (message.iso_code, message.resolution, message.send_time) == (
        "GB", "High", "2027-01-15T12:00:00.000+02:00")  # fmt: skip
    # sendTime is 10:00Z, two hours after the clock: queued until then
    clock.now += 1800
    assert _get(base, f"{MESSAGES_PATH}/{message.id}", token).json()["messageStatus"] == "Queued"
    clock.now += 5400 + 31
    later = _get(base, f"{MESSAGES_PATH}/{message.id}", _signin(base)).json()
    assert later["messageStatus"] == "Sent"


@pytest.mark.parametrize(
    ("file", "data", "kind", "status", "code"),
    [
        ("a&b.pdf", PDF, "application/pdf", 400, "SBX-102"),
        ("a@b.pdf", PDF, "application/pdf", 400, "SBX-102"),
        ("a#b.pdf", PDF, "application/pdf", 400, "SBX-102"),
        ("a$b.pdf", PDF, "application/pdf", 400, "SBX-102"),
        ("a%b.pdf", PDF, "application/pdf", 400, "SBX-102"),
        ("a^b.pdf", PDF, "application/pdf", 400, "SBX-102"),
        ("a*b.pdf", PDF, "application/pdf", 400, "SBX-102"),
        ("Rechnung Müller.pdf", PDF, "application/pdf", 400, "SBX-102"),
        ("x" * 253 + ".pdf", PDF, "application/pdf", 400, "MSG-370"),
        ("document", PDF, "application/pdf", 400, "MSG-355"),
        ("document", PDF, None, 415, "MSG-353"),
        ("a.exe", PDF, "application/octet-stream", 415, "MSG-348"),
        ("a.json", b"{}", "application/json", 415, "MSG-348"),
        ("A.PDF", PDF, "application/pdf", 415, "MSG-348"),
        (".pdf", PDF, "application/pdf", 400, "MSG-355"),
        ("a.pdf", b"", "application/pdf", 400, "MSG-347"),
        (None, PDF, "application/pdf", 400, "MSG-351"),
    ],
)
def test_attachments_are_refused_as_documented(
    rest: tuple[str, RestService],
    file: str | None,
    data: bytes,
    kind: str | None,
    status: int,
    code: str,
) -> None:
    base, service = rest
    answer = _fax(base, _signin(base), {"to": [{"phoneNumber": GOOD}]}, [(file, data, kind)])
    assert (answer.status_code, _error(answer)["errorCode"]) == (status, code), answer.text
    if code in ("SBX-102", "MSG-347"):
        assert str(file) in _error(answer)["message"]  # the message names the file
    assert service.messages == {}


def test_a_fax_without_a_document_is_refused(rest: tuple[str, RestService]) -> None:
    base, _ = rest
    answer = _fax(base, _signin(base), {"to": [{"phoneNumber": GOOD}]}, [])
    assert (answer.status_code, _error(answer)["parameterName"]) == (400, "attachment")


def test_every_documented_extension_is_taken(start: Start) -> None:
    base, service = start()
    documented = {
        "pdf", "psd", "doc", "docx", "dot", "mcw", "xls", "xlsx", "xlsb", "ppt", "pptx", "vsd",
        "vdx", "pub", "wps", "wri", "awd", "tif", "tiff", "gif", "jpg", "jpeg", "bmp", "png",
        "pcx", "tga", "rtf", "txt", "log", "h", "cpp", "c", "err", "hpp", "wk1", "wk3", "wk4",
        "wq1", "xml", "html", "htm", "csv",
    }  # fmt: skip
    assert documented == FAX_EXTENSIONS
    files = [(f"doc-{n}_v1.{ext}", b"x", None) for n, ext in enumerate(sorted(documented))]
    answer = _fax(base, _signin(base), {"to": [{"phoneNumber": GOOD}]}, files)
    assert answer.status_code == 200, answer.text
    name = "x" * 252 + ".pdf"  # 256 characters: the most allowed
    assert _fax(base, _signin(base), {"to": [{"phoneNumber": GOOD}]},
                [(name, PDF, "application/pdf")]).status_code == 200  # fmt: skip
    assert len(service.messages) == 2


def test_attachments_over_50_mb_are_refused(rest: tuple[str, RestService]) -> None:
    base, _ = rest
    half = b"x" * 25_000_001
    answer = _fax(base, _signin(base), {"to": [{"phoneNumber": GOOD}]},
                  [("a.txt", half, "text/plain"), ("b.txt", half, "text/plain")])  # fmt: skip
    assert (answer.status_code, _error(answer)["errorCode"]) == (400, "MSG-337")


def test_more_than_200_pages_are_refused(
    rest: tuple[str, RestService], tmp_path: Path, clock: Clock
) -> None:
    base, _ = rest
    token = _signin(base)
    long = make_pdf(tmp_path / "long.pdf", pages=199).read_bytes()
    two = make_pdf(tmp_path / "two.pdf", pages=2).read_bytes()
    assert count_pages(tmp_path / "long.pdf") == 199
    over = _fax(
        base,
        token,
        {"to": [{"phoneNumber": GOOD}]},
        [("long.pdf", long, "application/pdf"), ("two.pdf", two, "application/pdf")],
    )
    assert (over.status_code, _error(over)["errorCode"]) == (400, "SBX-103")
    assert "201 pages" in _error(over)["message"]
    fits = _fax(
        base,
        token,
        {"to": [{"phoneNumber": GOOD}], "coverIndex": 0},
        [("long.pdf", long, "application/pdf"), ("one.txt", b"x", "text/plain")],
    )
    assert fits.status_code == 200 and fits.json()["faxPageCount"] == 0  # 0 while Queued
    clock.now += 31
    sent = _get(base, f"{MESSAGES_PATH}/{fits.json()['id']}", token).json()
    assert sent["faxPageCount"] == 200


# -- answers and the message store -----------------------------------------------------


def test_the_fax_answer_is_a_fax_response(rest: tuple[str, RestService]) -> None:
    base, _ = rest
    token = _signin(base)
    request = {"to": [{"phoneNumber": GOOD, "name": "Jane"}], "faxResolution": "High",
               "coverIndex": 2, "coverPageText": "Invoice 42"}  # fmt: skip
    answer = _fax(base, token, request)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert isinstance(body["id"], int)  # int64: a JSON number, not a string
    assert (
        body["uri"] == f"{base}/restapi/v1.0/account/100/extension/101/message-store/{body['id']}"
    )
    assert (body["type"], body["direction"], body["availability"]) == ("Fax", "Outbound", "Alive")
    assert (body["messageStatus"], body["faxPageCount"]) == ("Queued", 0)
    assert (body["faxResolution"], body["coverIndex"], body["coverPageText"]) == (
        "High", 2, "Invoice 42")  # fmt: skip
    assert body["to"] == [{"phoneNumber": GOOD, "name": "Jane", "messageStatus": "Queued",
                           "recipientId": "1"}]  # fmt: skip
    for name in ("creationTime", "lastModifiedTime"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body[name])
    assert body["readStatus"] in ("Read", "Unread")
    assert [a["type"] for a in body["attachments"]] == ["RenderedDocument"]
    assert answer.headers["X-Rate-Limit-Group"] == "Heavy"
    again = requests.get(body["uri"], headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert again.json()["id"] == body["id"]  # the canonical URI can be followed


def test_status_moves_from_queued_to_sent_or_sending_failed(
    rest: tuple[str, RestService], clock: Clock
) -> None:
    base, _ = rest
    token = _signin(base)
    good = _fax(base, token, {"to": [{"phoneNumber": GOOD}]}).json()
    mixed = _fax(base, token, {"to": [{"phoneNumber": GOOD}, {"phoneNumber": FAILING}]}).json()
    assert mixed["messageStatus"] == "Queued"
    clock.now += 31
    sent = _get(base, f"{MESSAGES_PATH}/{good['id']}", token).json()
    assert sent["messageStatus"] == "Sent"  # a delivered outbound fax reads Sent
    failed = _get(base, f"{MESSAGES_PATH}/{mixed['id']}", token).json()
    assert failed["messageStatus"] == "SendingFailed"  # one failed recipient is enough
    assert [r["messageStatus"] for r in failed["to"]] == ["Sent", "SendingFailed"]
    assert "faxErrorCode" not in failed["to"][0] and failed["to"][1]["faxErrorCode"] == "NoAnswer"


def test_failing_numbers_can_name_their_fax_error(start: Start, clock: Clock) -> None:
    base, _ = start(failing_numbers={FAILING: "LineBusy"})
    token = _signin(base)
    sent = _fax(base, token, {"to": [{"phoneNumber": FAILING}]}).json()
    clock.now += 31
    answer = _get(base, f"{MESSAGES_PATH}/{sent['id']}", token).json()
    assert answer["to"][0]["faxErrorCode"] == "LineBusy"


def test_the_message_list_pages_and_filters(rest: tuple[str, RestService], clock: Clock) -> None:
    base, _ = rest
    token = _signin(base)
    first = _fax(base, token, {"to": [{"phoneNumber": GOOD}]}).json()
    clock.now += 1
    second = _fax(base, token, {"to": [{"phoneNumber": FAILING}]}).json()
    everything = {"messageType": "Fax", "direction": "Outbound", "availability": "Alive",
                  "readStatus": ["Read", "Unread"], "distinctConversations": "false"}  # fmt: skip
    listed = _get(base, MESSAGES_PATH, token, **everything).json()
    assert set(listed) == {"uri", "records", "paging", "navigation"}
    assert [m["id"] for m in listed["records"]] == [second["id"], first["id"]]  # newest first
    assert "nextPage" not in listed["navigation"]
    page1 = _get(base, MESSAGES_PATH, token, perPage=1).json()
    assert [m["id"] for m in page1["records"]] == [second["id"]]
    assert page1["paging"] == {"page": 1, "perPage": 1, "pageStart": 0, "pageEnd": 0,
                               "totalPages": 2, "totalElements": 2}  # fmt: skip
    page2 = requests.get(page1["navigation"]["nextPage"]["uri"], timeout=10,
                         headers={"Authorization": f"Bearer {token}"}).json()  # fmt: skip
    assert [m["id"] for m in page2["records"]] == [first["id"]]
    assert "nextPage" not in page2["navigation"]
    number = _get(base, MESSAGES_PATH, token, phoneNumber=FAILING).json()["records"]
    assert [m["id"] for m in number] == [second["id"]]
    for other in ({"messageType": "SMS"}, {"direction": "Inbound"}, {"conversationId": "1"}):
        assert _get(base, MESSAGES_PATH, token, **other).json()["records"] == []
    assert _get(base, MESSAGES_PATH, token, perPage=5000).json()["paging"]["perPage"] == 1000


def test_the_message_list_looks_back_24_hours_unless_told(
    rest: tuple[str, RestService], clock: Clock
) -> None:
    base, _ = rest
    token = _signin(base)
    sent = _fax(base, token, {"to": [{"phoneNumber": GOOD}]}).json()
    clock.now += 2 * 86400
    token = _signin(base)
    assert _get(base, MESSAGES_PATH, token).json()["records"] == []
    older = _get(base, MESSAGES_PATH, token, dateFrom="2020-01-01T00:00:00.000Z").json()
    assert [m["id"] for m in older["records"]] == [sent["id"]]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"messageType": "Letter"}, "messageType"),
        ({"direction": "outbound"}, "direction"),
        ({"dateFrom": "2026-12-01"}, "dateFrom"),
        ({"dateTo": "2026-12-01T09:00:00"}, "dateTo"),
        ({"page": "0"}, "page"),
        ({"perPage": "-1"}, "perPage"),
        ({"distinctConversations": "yes"}, "distinctConversations"),
        ({"owner": "Personal"}, "owner"),
        ({"sort": "date"}, "sort"),
        ({"page": ["1", "2"]}, "page"),
    ],
)
def test_the_message_list_refuses_what_is_not_documented(
    rest: tuple[str, RestService], params: dict[str, Any], parameter: str
) -> None:
    base, _ = rest
    answer = _get(base, MESSAGES_PATH, _signin(base), **params)
    assert answer.status_code == 400
    assert (_error(answer)["errorCode"], _error(answer)["parameterName"]) == ("CMN-101", parameter)


# -- rate limits -----------------------------------------------------------------------


def test_every_answer_reports_its_rate_limit_group(start: Start) -> None:
    base, _ = start(fax_per_minute=3)
    token_answer = _token(base)
    token = token_answer.json()["access_token"]
    assert {k: v for k, v in token_answer.headers.items() if k.startswith("X-Rate-Limit")} == {
        "X-Rate-Limit-Group": "Auth", "X-Rate-Limit-Limit": "5",
        "X-Rate-Limit-Remaining": "4", "X-Rate-Limit-Window": "60"}  # fmt: skip
    covers = _get(base, COVERS_PATH, token)
    listing = _get(base, MESSAGES_PATH, token)
    assert (covers.headers["X-Rate-Limit-Limit"], covers.headers["X-Rate-Limit-Remaining"]) == (
        "50", "49")  # fmt: skip
    assert (listing.headers["X-Rate-Limit-Group"], listing.headers["X-Rate-Limit-Remaining"]) == (
        "Light", "48")  # fmt: skip
    fax = _fax(base, token, {"to": [{"phoneNumber": GOOD}]})
    assert (fax.headers["X-Rate-Limit-Group"], fax.headers["X-Rate-Limit-Limit"],
            fax.headers["X-Rate-Limit-Remaining"]) == ("Heavy", "3", "2")  # fmt: skip
    refused = _fax(base, token, {"to": []})
    assert refused.status_code == 400 and refused.headers["X-Rate-Limit-Remaining"] == "1"


def test_the_heavy_limit_answers_429_and_each_request_restarts_the_penalty(
    start: Start, clock: Clock
) -> None:
    base, service = start(fax_per_minute=3)
    token = _signin(base)
    good = {"to": [{"phoneNumber": GOOD}]}
    assert [_fax(base, token, good).status_code for _ in range(3)] == [200, 200, 200]
    limited = _fax(base, token, good)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "60")
    assert _error(limited) == {"errorCode": "CMN-301", "message": "Request rate exceeded"}
    clock.now += 59  # still in the penalty: refused, and the penalty starts again
    assert _fax(base, token, good).status_code == 429
    clock.now += 59  # 118 s after the first 429, 59 s after the last one
    assert _fax(base, token, good).status_code == 429
    clock.now += 61
    assert _fax(base, token, good).status_code == 200
    service.push_429(7)
    forced = _fax(base, token, good)
    assert (forced.status_code, forced.headers["Retry-After"]) == (429, "7")
    assert (len(service.messages), service.refused_429) == (4, 4)


def test_light_and_auth_limits_are_enforced_when_set(start: Start, clock: Clock) -> None:
    base, service = start(light_per_minute=2, auth_per_minute=2)
    token = _signin(base)
    assert [_get(base, COVERS_PATH, token).status_code for _ in range(3)] == [200, 200, 429]
    limited = _get(base, MESSAGES_PATH, token)  # the same Light bucket
    assert (limited.status_code, _error(limited)["errorCode"]) == (429, "CMN-301")
    assert limited.headers["Retry-After"] == "60"
    assert _token(base).status_code == 200
    auth = _token(base)
    assert (auth.status_code, auth.headers["Retry-After"]) == (429, "60")
    assert auth.json()["errors"][0]["errorCode"] == "CMN-301"
    assert _fax(base, token, {"to": [{"phoneNumber": GOOD}]}).status_code == 200  # Heavy: apart
    clock.now += 61
    assert _get(base, COVERS_PATH, token).status_code == 200
    assert service.refused_429 == 3


def test_light_and_auth_limits_are_reported_not_enforced_by_default(
    rest: tuple[str, RestService],
) -> None:
    base, service = rest
    tokens = [_signin(base) for _ in range(7)]
    answers = [_get(base, COVERS_PATH, tokens[-1]) for _ in range(51)]
    assert {a.status_code for a in answers} == {200}
    assert answers[-1].headers["X-Rate-Limit-Remaining"] == "0"
    assert service.refused_429 == 0


def test_faults_still_apply(rest: tuple[str, RestService]) -> None:
    base, service = rest
    token = _signin(base)
    service.push_status(503)
    down = _fax(base, token, {"to": [{"phoneNumber": GOOD}]})
    assert (down.status_code, _error(down)["errorCode"]) == (503, "CMN-201")
    service.lost_answers = 1
    with pytest.raises(requests.ConnectionError):
        _fax(base, token, {"to": [{"phoneNumber": GOOD}]})
    assert len(service.messages) == 1 and service.fax_requests == 2
