from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from faxprint import errors
from faxprint.config import Account
from faxprint.documents import inspect
from faxprint.errors import FaxPrintError
from faxprint.ticket import Ticket
from faxprint.transports import Receipt
from faxprint.transports.faxout import MESSAGES, parse_answer, request_fields
from faxprint.transports.http import translate as _translate
from faxprint.transports.multipart import MultipartBody, TextField
from tests.support.helpers import make_pdf
from tests.support.secrets import TEST_PASSWORD

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
ACCOUNT = Account("default", "https://fax.example/faxapi.asp", "16505551234*101", TEST_PASSWORD)


def test_the_whole_request_body_byte_for_byte(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "Rechnung.pdf", pages=2)
    txt = tmp_path / "terms.txt"
    txt.write_bytes(b"Terms\n")
    ticket = Ticket.build(
        ["5556465589|José Müller", "5555568552"],
        cover="Default",
        cover_text="Invoice 42",
        resolution="low",
        send_at="2026-12-01T09:00:00+01:00",
    )
    fields = request_fields(ACCOUNT, ticket, [inspect(pdf), inspect(txt)], now=NOW)
    body = MultipartBody(fields, boundary="B")
    expected = b"".join(
        [
            _text("Username", "16505551234*101"),
            _text("Password", TEST_PASSWORD),
            _text("Recipient", "5556465589|Jose Muller"),
            _text("Recipient", "5555568552"),
            _text("Coverpage", "Default"),
            _text("Coverpagetext", "Invoice 42"),
            _text("Resolution", "Low"),
            _text("Sendtime", "01:12:26 08:00"),
            b'--B\r\nContent-Disposition: form-data; name="Attachment"; filename="Rechnung.pdf"\r\n'
            b"Content-Type: application/pdf\r\n\r\n" + pdf.read_bytes() + b"\r\n",
            b'--B\r\nContent-Disposition: form-data; name="Attachment"; filename="terms.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\nTerms\n\r\n",
            b"--B--\r\n",
        ]
    )
    assert body.read() == expected
    assert len(body) == len(expected)


def _text(name: str, value: str) -> bytes:
    return f'--B\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()


def test_optional_fields_are_left_out(tmp_path: Path) -> None:
    account = Account("a", "https://fax.example/x", "15555550100")  # master account, no password
    fields = request_fields(account, Ticket.build(["5556465589"]), [], now=NOW)
    assert fields == [
        TextField("Username", "15555550100"),
        TextField("Recipient", "5556465589"),
        TextField("Coverpage", "Default"),
    ]


def test_a_send_time_in_the_past_is_dropped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ticket = Ticket.build(["5556465589"], send_at="2026-11-26T11:59Z")
    with caplog.at_level(logging.WARNING):
        fields = request_fields(ACCOUNT, ticket, [], now=NOW)
    assert "Sendtime" not in [f.name for f in fields]
    assert "has passed; the fax is sent now" in caplog.text


@pytest.mark.parametrize("body", [b"0", b" 0\r\n", b"\n0\n"])
def test_zero_is_acceptance(body: bytes) -> None:
    assert parse_answer(200, b"\xef\xbb\xbf" + body) == Receipt(0, MESSAGES[0])
    assert parse_answer(200, body) == Receipt(0, MESSAGES[0])


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        (1, errors.AccountError, "authorization failed: check the account's username and password"),
        (2, errors.AccountError, "faxing is prohibited"),
        (3, errors.RejectedError, "no recipients"),
        (4, errors.RejectedError, "no fax data"),
        (5, errors.ServiceError, "generic error"),
    ],
)
def test_every_code_has_its_own_outcome(code: int, kind: type[FaxPrintError], words: str) -> None:
    with pytest.raises(kind, match=words) as caught:
        parse_answer(200, str(code).encode())
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("status", "body", "kind", "words"),
    [
        (200, b"<html><body>Maintenance</body></html>", errors.UncertainError, "Maintenance"),
        (200, b"", errors.UncertainError, "an empty answer"),
        (200, b"6", errors.UncertainError, "answered '6' instead of a result code"),
        (200, b"00", errors.UncertainError, "instead of a result code"),
        (200, b"\xff\xfe", errors.UncertainError, "instead of a result code"),
        (500, b"boom", errors.UncertainError, "HTTP 500: boom"),
        (504, b"", errors.UncertainError, "HTTP 504"),
        (503, b"", errors.ServiceUnavailable, "HTTP 503"),
        (502, b"", errors.ServiceUnavailable, "HTTP 502"),
        (429, b"", errors.ServiceUnavailable, "HTTP 429"),
        (401, b"", errors.AccountError, "HTTP 401"),
        (404, b"", errors.ConfigError, "no FaxOut service"),
        (302, b"", errors.ConfigError, "HTTP 302"),
        (400, b"bad", errors.RejectedError, "HTTP 400: bad"),
        (413, b"", errors.RejectedError, "too large"),
    ],
)
def test_anything_else_is_an_error_with_an_excerpt(
    status: int, body: bytes, kind: type[FaxPrintError], words: str
) -> None:
    with pytest.raises(kind, match=words):
        parse_answer(status, body)


def test_the_excerpt_is_short() -> None:
    with pytest.raises(errors.UncertainError) as caught:
        parse_answer(200, b"<p>" + b"x" * 10_000)
    assert len(caught.value.excerpt) <= 120


def _body(complete: bool, tmp_path: Path) -> MultipartBody:
    body = MultipartBody([TextField("Username", "1")])
    if complete:
        body.read()
    return body


@pytest.mark.parametrize(
    ("exc", "complete", "kind"),
    [
        (
            requests.exceptions.ConnectionError("Connection refused"),
            False,
            errors.ServiceUnavailable,
        ),
        (requests.exceptions.ConnectTimeout(), False, errors.ServiceUnavailable),
        (requests.exceptions.ConnectTimeout(), True, errors.ServiceUnavailable),
        (requests.exceptions.ReadTimeout(), False, errors.ServiceUnavailable),
        (requests.exceptions.ReadTimeout(), True, errors.UncertainError),
        (requests.exceptions.ConnectionError("reset"), True, errors.UncertainError),
        (requests.exceptions.ChunkedEncodingError(), True, errors.UncertainError),
        (requests.exceptions.SSLError(), False, errors.ServiceUnavailable),
        (requests.exceptions.SSLError(), True, errors.UncertainError),
        (requests.exceptions.InvalidURL(), False, errors.ConfigError),
        (requests.exceptions.MissingSchema(), False, errors.ConfigError),
        (requests.exceptions.TooManyRedirects(), False, errors.ServiceUnavailable),
        (requests.exceptions.RequestException(), True, errors.UncertainError),
    ],
)
def test_requests_errors_map_by_how_far_the_upload_got(
    exc: Exception, complete: bool, kind: type[FaxPrintError], tmp_path: Path
) -> None:
    assert type(_translate(exc, _body(complete, tmp_path))) is kind


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_every_requests_exception_is_translated(tmp_path: Path) -> None:
    for cls in _subclasses(requests.exceptions.RequestException) | {
        requests.exceptions.RequestException
    }:
        if issubclass(cls, Warning | requests.exceptions.JSONDecodeError):
            continue  # warnings are not raised; JSON decoding is not used by this transport
        for complete in (False, True):
            assert isinstance(_translate(cls(), _body(complete, tmp_path)), FaxPrintError), cls


def test_no_message_holds_the_password(tmp_path: Path) -> None:
    for code in range(1, 6):
        with pytest.raises(FaxPrintError) as caught:
            parse_answer(200, str(code).encode())
        assert TEST_PASSWORD not in str(caught.value)
    assert TEST_PASSWORD not in repr(ACCOUNT)
