"""The sandbox FaxOut server over real HTTP on loopback: codes, reasons, store, HTTP rules.

Bodies are built by hand from bytes literals; no faxprint client code and no library
multipart encoder is involved, so the sandbox is checked against the wire format itself.
"""

from __future__ import annotations

import ast
import hashlib
import http.client
import json
import re
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from faxprint.sandbox import Account, SandboxServer
from tests.support.helpers import wait_for
from tests.support.secrets import TEST_ACCOUNTS, TEST_PASSWORD

BOUNDARY = b"---------------------------7d54b1fee05aa"
CONTENT_TYPE = "multipart/form-data; boundary=" + BOUNDARY.decode()

# A complete request as the wire carries it; the other bodies are built from parts.
CANONICAL = (
    b"-----------------------------7d54b1fee05aa\r\n"
    b'Content-Disposition: form-data; name="Username"\r\n'
    b"\r\n"
    b"15555550100\r\n"
    b"-----------------------------7d54b1fee05aa\r\n"
    b'Content-Disposition: form-data; name="Password"\r\n'
    b"\r\n" + TEST_PASSWORD.encode() + b"\r\n"
    b"-----------------------------7d54b1fee05aa\r\n"
    b'Content-Disposition: form-data; name="Attachment"; filename="example.doc"\r\n'
    b"Content-Type: application/msword\r\n"
    b"\r\n"
    b"<Document content is here>\r\n"
    b"-----------------------------7d54b1fee05aa\r\n"
    b'Content-Disposition: form-data; name="Recipient"\r\n'
    b"\r\n"
    b"5556465589|John Doe\r\n"
    b"-----------------------------7d54b1fee05aa\r\n"
    b'Content-Disposition: form-data; name="Recipient"\r\n'
    b"\r\n"
    b"5555568552|John Smith\r\n"
    b"-----------------------------7d54b1fee05aa\r\n"
    b'Content-Disposition: form-data; name="Coverpagetext"\r\n'
    b"\r\n"
    b"This is a test fax from web\r\n"
    b"-----------------------------7d54b1fee05aa--\r\n"
)


def field(name: str, value: bytes) -> bytes:
    return b'Content-Disposition: form-data; name="' + name.encode() + b'"\r\n\r\n' + value


def attachment(filename: bytes, data: bytes, content_type: bytes = b"text/plain") -> bytes:
    return (
        b'Content-Disposition: form-data; name="Attachment"; filename="'
        + filename
        + b'"\r\nContent-Type: '
        + content_type
        + b"\r\n\r\n"
        + data
    )


def form(*parts: bytes) -> bytes:
    dash = b"--" + BOUNDARY
    return b"".join(dash + b"\r\n" + part + b"\r\n" for part in parts) + dash + b"--\r\n"


USER = field("Username", b"15555550100")
PASS = field("Password", TEST_PASSWORD.encode())
TO = field("Recipient", b"5556465589|John Doe")
DOC = attachment(b"fax.txt", b"Hello, fax!\n")
GOOD = (USER, PASS, TO, DOC)


def address(server: SandboxServer) -> tuple[str, int]:
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def post(
    server: SandboxServer, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, str | None, bytes]:
    connection = http.client.HTTPConnection(*address(server), timeout=30)
    try:
        sent = {"Content-Type": CONTENT_TYPE} if headers is None else headers
        connection.request("POST", "/faxapi.asp", body=body, headers=sent)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


def fax(server: SandboxServer, *parts: bytes) -> tuple[int, str]:
    """Post a form; check the answer is well-formed; return the code and logged reason."""
    status, content_type, body = post(server, form(*parts))
    assert (status, content_type) == (200, "text/plain")
    assert re.fullmatch(rb"[0-5]", body), body
    record = server.requests[-1]
    assert record.code == int(body)
    return int(body), record.reason


def stored_nothing(server: SandboxServer) -> bool:
    return server.faxes() == [] and not list(server.store.root.glob(".incoming-*"))


def test_the_spec_example_is_accepted(sandbox: SandboxServer) -> None:
    status, content_type, body = post(sandbox, CANONICAL)
    assert (status, content_type, body) == (200, "text/plain", b"0")
    assert sandbox.requests[-1].reason == "Accepted: 2 recipients, 1 attachment (26 bytes)"
    assert [fax.seq for fax in sandbox.faxes()] == [1]


def test_the_answer_is_just_the_code(sandbox: SandboxServer) -> None:
    connection = http.client.HTTPConnection(*address(sandbox), timeout=30)
    connection.request(
        "POST", "/faxapi.asp", body=form(*GOOD), headers={"Content-Type": CONTENT_TYPE}
    )
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/plain"
    assert response.getheader("Content-Length") == "1"
    assert response.read() == b"0"
    connection.close()


CASES = [
    # 0: accepted
    ("accepted", GOOD, 0, "Accepted: 1 recipient, 1 attachment (12 bytes)"),
    (
        "accepted_everything",
        (
            USER,
            PASS,
            field("Recipient", b"+4915551234|Dr. Who (home)"),
            field("Recipient", b"5551234"),
            field("Recipient", b"5551234|"),
            field("Coverpage", b"Urgent"),
            field("Coverpagetext", b"Line 1\r\nLine 2\tTabbed"),
            field("Resolution", b"High"),
            field("Sendtime", b"31:12:26 23:59"),
            DOC,
            attachment(b"b.pdf", b"%PDF", b"application/pdf"),
        ),
        0,
        "Accepted: 3 recipients, 2 attachments (16 bytes)",
    ),
    # 1: authorization
    ("no_username", (PASS, TO, DOC), 1, "Username missing"),
    (
        "lowercase_username",
        (field("username", b"15555550100"), PASS, TO, DOC),
        1,
        "Username missing",
    ),
    ("two_usernames", (USER, USER, PASS, TO, DOC), 1, "Username given 2 times"),
    (
        "username_with_dashes",
        (field("Username", b"1-555-555-0100"), PASS, TO, DOC),
        1,
        "Username '1-555-555-0100' is not <digits> or <digits>*<digits>",
    ),
    (
        "username_with_crlf",
        (field("Username", b"15555550100\r\n"), PASS, TO, DOC),
        1,
        "Username '15555550100\\r\\n' is not <digits> or <digits>*<digits>",
    ),
    (
        "username_empty_extension",
        (field("Username", b"15555550100*"), PASS, TO, DOC),
        1,
        "Username '15555550100*' is not <digits> or <digits>*<digits>",
    ),
    (
        "unknown_username",
        (field("Username", b"15555550101"), PASS, TO, DOC),
        1,
        "Username 15555550101 is not an account on this sandbox",
    ),
    (
        "unknown_extension",
        (field("Username", b"15555550100*101"), PASS, TO, DOC),
        1,
        "Username 15555550100*101 is not an account on this sandbox",
    ),
    ("no_password", (USER, TO, DOC), 1, "Password missing for 15555550100"),
    (
        "wrong_password",
        (USER, field("Password", b"Sandbox"), TO, DOC),
        1,
        "Password for 15555550100 is wrong",
    ),
    (
        "password_crlf",
        (USER, field("Password", TEST_PASSWORD.encode() + b"\r\n"), TO, DOC),
        1,
        "Password for 15555550100 is wrong",
    ),
    ("two_passwords", (USER, PASS, PASS, TO, DOC), 1, "Password given 2 times"),
    # 2: prohibited
    (
        "prohibited",
        (field("Username", b"15555550199"), PASS, TO, DOC),
        2,
        "Faxing is prohibited for account 15555550199",
    ),
    # 3: recipients
    ("no_recipient", (USER, PASS, DOC), 3, "No Recipient given"),
    # 4: fax data
    ("no_attachment", (USER, PASS, TO), 4, "No Attachment given"),
    (
        "empty_attachment",
        (USER, PASS, TO, attachment(b"a.pdf", b"")),
        4,
        "Attachment 1 'a.pdf' is empty (0 bytes)",
    ),
    (
        "second_attachment_empty",
        (USER, PASS, TO, DOC, attachment(b"b.pdf", b"")),
        4,
        "Attachment 2 'b.pdf' is empty (0 bytes)",
    ),
    # 5: attachments
    (
        "no_filename",
        (USER, PASS, TO, b'Content-Disposition: form-data; name="Attachment"\r\n\r\ndata'),
        5,
        "Attachment 1 has no filename parameter",
    ),
    (
        "empty_filename",
        (USER, PASS, TO, attachment(b"", b"data")),
        5,
        "Attachment 1 has an empty filename",
    ),
    (
        "non_ascii_filename",
        (USER, PASS, TO, attachment("résumé.pdf".encode(), b"data")),
        5,
        "Attachment 1 filename 'r\\xc3\\xa9sum\\xc3\\xa9.pdf' is not printable ASCII",
    ),
    (
        "tab_in_filename",
        (USER, PASS, TO, attachment(b"a\tb.pdf", b"data")),
        5,
        "Attachment 1 filename 'a\\tb.pdf' is not printable ASCII",
    ),
    # 5: multiplicity and names
    *[
        (
            f"two_{name.lower()}",
            (*GOOD, field(name, value), field(name, value)),
            5,
            f"{name} given 2 times",
        )
        for name, value in [
            ("Coverpage", b"None"),
            ("Coverpagetext", b"hi"),
            ("Resolution", b"Low"),
            ("Sendtime", b"01:01:30 10:00"),
        ]
    ],
    ("unknown_field", (*GOOD, field("Subject", b"hi")), 5, "Unknown field 'Subject'"),
    (
        "wrong_case_field",
        (*GOOD, field("resolution", b"Low")),
        5,
        "Unknown field 'resolution' (field names are case-sensitive: 'Resolution')",
    ),
    (
        "filename_on_text_field",
        (
            *GOOD,
            b'Content-Disposition: form-data; name="Coverpagetext"; filename="c.txt"\r\n\r\nhi',
        ),
        5,
        "Coverpagetext has a filename parameter; only Attachment is a file",
    ),
    # 5: text values
    (
        "coverpagetext_nul",
        (*GOOD, field("Coverpagetext", b"a\x00b")),
        5,
        "Coverpagetext 'a\\x00b' is not printable ASCII",
    ),
    (
        "coverpagetext_del",
        (*GOOD, field("Coverpagetext", b"a\x7fb")),
        5,
        "Coverpagetext 'a\\x7fb' is not printable ASCII",
    ),
    (
        "coverpagetext_utf8",
        (*GOOD, field("Coverpagetext", "Grüße".encode())),
        5,
        "Coverpagetext 'Gr\\xc3\\xbc\\xc3\\x9fe' is not printable ASCII",
    ),
    (
        "coverpage_crlf",
        (*GOOD, field("Coverpage", b"None\r\n")),
        5,
        "Coverpage 'None\\r\\n' is not printable ASCII",
    ),
    (
        "resolution_lowercase",
        (*GOOD, field("Resolution", b"low")),
        5,
        "Resolution 'low' is not Low or High",
    ),
    ("resolution_empty", (*GOOD, field("Resolution", b"")), 5, "Resolution '' is not Low or High"),
    (
        "coverpage_unknown",
        (*GOOD, field("Coverpage", b"Fancy")),
        5,
        "Coverpage 'Fancy' is not None, Default, empty or a cover page of this sandbox"
        " (Default, None, Confidential, Urgent)",
    ),
    # 5: multipart and Content-Type
    (
        "bare_lf",
        (USER, PASS, TO, DOC.replace(b"\r\n", b"\n", 1)),
        5,
        "Malformed multipart/form-data: part 4: header lines must end in CRLF",
    ),
    (
        "no_content_disposition",
        (*GOOD, b"Content-Type: text/plain\r\n\r\nhi"),
        5,
        "Malformed multipart/form-data: part 5 has no Content-Disposition header",
    ),
]


@pytest.mark.parametrize(
    ("parts", "code", "reason"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_codes_and_reasons(
    sandbox: SandboxServer, parts: tuple[bytes, ...], code: int, reason: str
) -> None:
    assert fax(sandbox, *parts) == (code, reason)
    assert len(sandbox.faxes()) == (1 if code == 0 else 0)
    assert not list(sandbox.store.root.glob(".incoming-*"))


RECIPIENTS = [
    (b"5556465589", None),
    (b"+15556465589", None),
    (b"555", None),
    (b"1" * 20, None),
    (b"5551234|", None),
    (b"5551234|O'Brien & Sons, Ltd. ~ #2", None),
    (b"55", "the number must be an optional + and 3 to 20 digits"),
    (b"1" * 21, "the number must be an optional + and 3 to 20 digits"),
    (b"", "the number must be an optional + and 3 to 20 digits"),
    (b"++5551234", "the number must be an optional + and 3 to 20 digits"),
    (b" 5551234", "the number must be an optional + and 3 to 20 digits"),
    (b"555-1234", "the number must be an optional + and 3 to 20 digits"),
    (b"5551234\r\n", "the number must be an optional + and 3 to 20 digits"),
    (b"|John", "the number must be an optional + and 3 to 20 digits"),
    (b"5551234|Bob|Smith", "the name must be printable ASCII without '|'"),
    (b"5551234|Bob\tSmith", "the name must be printable ASCII without '|'"),
    (b"5551234|Bob\r\n", "the name must be printable ASCII without '|'"),
    ("5551234|José".encode(), "not ASCII"),
]


@pytest.mark.parametrize(("value", "problem"), RECIPIENTS)
def test_recipient_formats(sandbox: SandboxServer, value: bytes, problem: str | None) -> None:
    code, reason = fax(sandbox, USER, PASS, TO, field("Recipient", value), DOC)
    if problem is None:
        assert code == 0
    else:
        shown = repr(value)[1:]
        assert (code, reason) == (5, f"Recipient 2 {shown} is not <number>|<name>: {problem}")


def test_the_brief_s_recipient_example(sandbox: SandboxServer) -> None:
    assert fax(sandbox, USER, PASS, TO, field("Recipient", b"555x|Bob"), DOC) == (
        5,
        "Recipient 2 '555x|Bob' is not <number>|<name>:"
        " the number must be an optional + and 3 to 20 digits",
    )


@pytest.mark.parametrize(
    ("sendtime", "problem"),
    [
        (b"31:12:26 23:59", None),
        (b"01:01:00 00:00", None),
        (b"29:02:28 12:00", None),
        (b"01:01:20 10:00", None),  # in the past: the real service sends at once
        (b"32:01:26 10:00", "is not a valid date and time"),
        (b"01:13:26 10:00", "is not a valid date and time"),
        (b"29:02:26 10:00", "is not a valid date and time"),
        (b"00:01:26 10:00", "is not a valid date and time"),
        (b"01:01:26 24:00", "is not a valid date and time"),
        (b"01:01:26 23:60", "is not a valid date and time"),
        (b"2026-12-01 09:00", "is not dd:mm:yy hh:mm"),
        (b"1:01:26 10:00", "is not dd:mm:yy hh:mm"),
        (b"01:01:2026 10:00", "is not dd:mm:yy hh:mm"),
        (b"01:01:26 10:00:00", "is not dd:mm:yy hh:mm"),
        (b"01:01:26  10:00", "is not dd:mm:yy hh:mm"),
        (b"01:01:26T10:00", "is not dd:mm:yy hh:mm"),
        (b"01/01/26 10:00", "is not dd:mm:yy hh:mm"),
        (b"", "is not dd:mm:yy hh:mm"),
    ],
)
def test_sendtime(sandbox: SandboxServer, sendtime: bytes, problem: str | None) -> None:
    code, reason = fax(sandbox, *GOOD, field("Sendtime", sendtime))
    if problem is None:
        assert code == 0
    else:
        assert (code, reason) == (5, f"Sendtime {repr(sendtime)[1:]} {problem}")


def test_sendtime_with_a_control_character_is_not_ascii_text(sandbox: SandboxServer) -> None:
    assert fax(sandbox, *GOOD, field("Sendtime", b"01:01:26 10:00\r\n")) == (
        5,
        "Sendtime '01:01:26 10:00\\r\\n' is not printable ASCII",
    )


@pytest.mark.parametrize("cover", [b"", b"None", b"Default", b"Confidential", b"Urgent"])
def test_cover_pages_accepted(sandbox: SandboxServer, cover: bytes) -> None:
    assert fax(sandbox, *GOOD, field("Coverpage", cover))[0] == 0


@pytest.mark.parametrize(
    ("parts", "code", "reason"),
    [
        ((USER, field("Password", b"x"), DOC), 1, "Password for 15555550100 is wrong"),
        (
            (field("Username", b"15555550199"), PASS),
            2,
            "Faxing is prohibited for account 15555550199",
        ),
        ((USER, PASS, field("Subject", b"x")), 3, "No Recipient given"),
        (
            (USER, PASS, field("Recipient", b"x")),
            5,
            "Recipient 1 'x' is not <number>|<name>: the number must be an optional + and 3 to 20 digits",
        ),
        ((USER, PASS, TO, field("Subject", b"x")), 4, "No Attachment given"),
        (
            (USER, PASS, TO, attachment(b"", b"x"), field("Resolution", b"Medium")),
            5,
            "Attachment 1 has an empty filename",
        ),
        (
            (TO, b"Content-Disposition: form-data; name=Attachment\n\nx"),
            5,
            "Malformed multipart/form-data: part 2: header lines must end in CRLF",
        ),
    ],
    ids=[
        "auth_first",
        "prohibited_before_recipients",
        "recipients_before_data",
        "bad_recipient_before_data",
        "data_before_fields",
        "filename_before_options",
        "multipart_before_all",
    ],
)
def test_the_first_failing_check_decides(
    sandbox: SandboxServer, parts: tuple[bytes, ...], code: int, reason: str
) -> None:
    assert fax(sandbox, *parts) == (code, reason)


@pytest.mark.parametrize(
    ("content_type", "reason"),
    [
        (None, "Content-Type missing; expected multipart/form-data; boundary=..."),
        ("text/plain", "Content-Type is text/plain; expected multipart/form-data; boundary=..."),
        (
            "multipart/form-data",
            "Content-Type has no boundary; expected multipart/form-data; boundary=...",
        ),
        (
            "multipart/mixed; boundary=" + BOUNDARY.decode(),
            "Content-Type is multipart/mixed; expected multipart/form-data; boundary=...",
        ),
        ("multipart/form-data; boundary=other", "body does not start with '--' and the boundary"),
    ],
)
def test_content_type_must_name_the_boundary(
    sandbox: SandboxServer, content_type: str | None, reason: str
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    assert post(sandbox, form(*GOOD), headers) == (200, "text/plain", b"5")
    assert sandbox.requests[-1].reason == "Malformed multipart/form-data: " + reason
    assert stored_nothing(sandbox)


def test_content_type_parameters_are_parsed_not_matched(sandbox: SandboxServer) -> None:
    content_type = 'Multipart/Form-Data;charset=us-ascii; BOUNDARY="' + BOUNDARY.decode() + '"'
    assert post(sandbox, form(*GOOD), {"Content-Type": content_type}) == (200, "text/plain", b"0")


def test_accounts_are_configurable(tmp_path: Path) -> None:
    accounts = {"4930123456*7": Account("s3cret"), "4930123456": Account("", prohibited=True)}
    with SandboxServer(store=tmp_path, accounts=accounts) as server:
        ext = field("Username", b"4930123456*7")
        assert fax(server, ext, field("Password", b"s3cret"), TO, DOC)[0] == 0
        assert fax(server, USER, PASS, TO, DOC) == (
            1,
            "Username 15555550100 is not an account on this sandbox",
        )
        main = field("Username", b"4930123456")
        assert fax(server, main, TO, DOC) == (2, "Faxing is prohibited for account 4930123456")


def test_cover_pages_are_configurable(tmp_path: Path) -> None:
    with SandboxServer(store=tmp_path, accounts=TEST_ACCOUNTS, cover_pages=["Plain"]) as server:
        assert fax(server, *GOOD, field("Coverpage", b"Plain"))[0] == 0
        assert fax(server, *GOOD, field("Coverpage", b"None"))[0] == 0
        assert fax(server, *GOOD, field("Coverpage", b"Urgent")) == (
            5,
            "Coverpage 'Urgent' is not None, Default, empty or a cover page of this sandbox (Plain)",
        )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_an_accepted_fax_is_stored_whole(sandbox: SandboxServer) -> None:
    pdf = bytes(range(256)) * 1000 + b"\r\n--" + BOUNDARY[:-1] + b"\r\n"
    body = form(
        USER,
        attachment(b"report.pdf", pdf, b"application/pdf"),
        field("Recipient", b"5556465589|John Doe"),
        PASS,
        field("Recipient", b"+445551234"),
        field("Coverpage", b"Confidential"),
        field("Coverpagetext", b"Two lines\r\nof text"),
        field("Resolution", b"Low"),
        field("Sendtime", b"01:02:27 08:30"),
        b'Content-Disposition: form-data; name="Attachment"; filename="../notes v2!.txt"\r\n\r\nnotes',
    )
    assert post(sandbox, body) == (200, "text/plain", b"0")
    [stored] = sandbox.faxes()
    assert stored.seq == 1
    assert stored.path == sandbox.store.root / "000001"
    first = {
        "filename": "report.pdf",
        "content_type": "application/pdf",
        "size": len(pdf),
        "sha256": sha256(pdf),
        "stored_as": "attachments/01-report.pdf",
    }
    second = {
        "filename": "../notes v2!.txt",
        "content_type": None,
        "size": 5,
        "sha256": sha256(b"notes"),
        "stored_as": "attachments/02-notes_v2_.txt",
    }
    received = stored.record.pop("received")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", received)
    assert stored.record == {
        "seq": 1,
        "username": "15555550100",
        "password_supplied": True,
        "recipients": [
            {"number": "5556465589", "name": "John Doe"},
            {"number": "+445551234", "name": None},
        ],
        "coverpage": "Confidential",
        "coverpagetext": "Two lines\r\nof text",
        "resolution": "Low",
        "sendtime": "01:02:27 08:30",
        "attachments": [first, second],
        "fields": [
            {"name": "Username", "value": "15555550100"},
            {"name": "Attachment", **first},
            {"name": "Recipient", "value": "5556465589|John Doe"},
            {"name": "Recipient", "value": "+445551234"},
            {"name": "Coverpage", "value": "Confidential"},
            {"name": "Coverpagetext", "value": "Two lines\r\nof text"},
            {"name": "Resolution", "value": "Low"},
            {"name": "Sendtime", "value": "01:02:27 08:30"},
            {"name": "Attachment", **second},
        ],
    }
    assert (stored.path / "attachments/01-report.pdf").read_bytes() == pdf
    assert (stored.path / "attachments/02-notes_v2_.txt").read_bytes() == b"notes"
    assert sorted(p.name for p in stored.path.rglob("*")) == [
        "01-report.pdf",
        "02-notes_v2_.txt",
        "attachments",
        "fax.json",
    ]


def test_faxes_are_numbered_in_order_and_numbering_survives_a_restart(tmp_path: Path) -> None:
    with SandboxServer(store=tmp_path, accounts=TEST_ACCOUNTS) as server:
        for _ in range(3):
            assert fax(server, *GOOD)[0] == 0
        assert fax(server, USER, TO, DOC)[0] == 1
    with SandboxServer(store=tmp_path, accounts=TEST_ACCOUNTS) as server:
        assert fax(server, *GOOD)[0] == 0
        assert [f.seq for f in server.faxes()] == [1, 2, 3, 4]
        assert server.requests[-1].seq == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "000001",
        "000002",
        "000003",
        "000004",
        "requests.jsonl",
    ]


def test_a_stale_incoming_folder_is_cleared_and_never_listed(tmp_path: Path) -> None:
    (tmp_path / ".incoming-stale" / "attachments").mkdir(parents=True)
    with SandboxServer(store=tmp_path, accounts=TEST_ACCOUNTS) as server:
        assert server.faxes() == []
        assert not (tmp_path / ".incoming-stale").exists()


def test_every_request_is_logged_on_disk_and_in_memory(sandbox: SandboxServer) -> None:
    accepted = form(*GOOD)
    refused = form(USER, field("Password", b"nope"), TO, TO, DOC)
    post(sandbox, accepted)
    post(sandbox, refused)
    lines = (sandbox.store.root / "requests.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    for record in records:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record.pop("time"))
    common = {
        "status": 200,
        "username": "15555550100",
        "fault": None,
        "in_flight": 1,
        "attachments": 1,
    }
    assert records == [
        {
            **common,
            "seq": 1,
            "code": 0,
            "decided": 0,
            "reason": "Accepted: 1 recipient, 1 attachment (12 bytes)",
            "recipients": ["5556465589|John Doe"],
            "bytes": len(accepted),
        },
        {
            **common,
            "seq": None,
            "code": 1,
            "decided": 1,
            "reason": "Password for 15555550100 is wrong",
            "recipients": ["5556465589|John Doe", "5556465589|John Doe"],
            "bytes": len(refused),
        },
    ]
    in_memory = [json.loads(record.to_json()) for record in sandbox.requests]
    assert [{k: v for k, v in r.items() if k != "time"} for r in in_memory] == records


def test_the_password_never_reaches_the_store_or_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = b"Pw-Zebra-9431"
    caplog.set_level("DEBUG")
    with SandboxServer(
        store=tmp_path, accounts={"15555550100": Account(secret.decode())}
    ) as server:
        mine = field("Password", secret)
        misframed = b'Content-Disposition: form-data; name="Password"\r\n'
        bodies = [
            form(USER, mine, TO, DOC),
            form(USER, field("Password", secret + b"!"), TO, DOC),
            form(USER, mine, mine, TO, DOC),
            form(USER, mine, TO, DOC, field("Coverpage", b"Nope")),
            # A client that forgets the blank line puts the password where headers go.
            form(USER, misframed + secret, TO, DOC),
            form(USER, misframed + b"X-Pass: " + secret, TO, DOC),
            form(USER, misframed + secret + b": x", TO, DOC),
        ]
        codes = [post(server, body)[2] for body in bodies]
        records = server.requests
    assert codes == [b"0", b"1", b"1", b"5", b"5", b"5", b"5"]
    assert [r.reason for r in records[4:]] == [
        "Malformed multipart/form-data: part 2, header line 2 has no ':'",
        "Malformed multipart/form-data: part 2, header line 2: only Content-Disposition and"
        " Content-Type are allowed in form-data",
        "Malformed multipart/form-data: part 2, header line 2: only Content-Disposition and"
        " Content-Type are allowed in form-data",
    ]
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert {path.name for path in files} == {"requests.jsonl", "fax.json", "01-fax.txt"}
    for path in files:
        assert secret not in path.read_bytes(), path
    assert not [record for record in records if secret.decode() in repr(record)]
    assert caplog.records
    assert not [r for r in caplog.records if secret.decode() in r.getMessage()]
    assert json.loads((tmp_path / "000001" / "fax.json").read_text())["password_supplied"] is True


def test_password_supplied_is_false_without_one(tmp_path: Path) -> None:
    with SandboxServer(store=tmp_path, accounts={"15555550100": Account("")}) as server:
        assert fax(server, USER, TO, DOC)[0] == 0
        assert server.faxes()[0].record["password_supplied"] is False


def test_one_info_line_per_request(
    sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="faxprint.sandbox")
    post(sandbox, form(*GOOD))
    post(sandbox, form(USER, PASS, DOC))
    info = [r.getMessage() for r in caplog.records if r.levelname == "INFO"]
    assert info == [
        "FaxOut request: code 0, HTTP 200 as 000001: Accepted: 1 recipient, 1 attachment (12 bytes)",
        "FaxOut request: code 3, HTTP 200: No Recipient given",
    ]


def raw_exchange(server: SandboxServer, request: bytes) -> bytes:
    """Send raw bytes, half-close, and read everything the server sends back."""
    with socket.create_connection(address(server), timeout=30) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_fax_without_content_length_is_411(sandbox: SandboxServer) -> None:
    reply = raw_exchange(
        sandbox,
        b"POST /faxapi.asp HTTP/1.1\r\nHost: x\r\nContent-Type: "
        + CONTENT_TYPE.encode()
        + b"\r\n\r\n",
    )
    assert reply.startswith(b"HTTP/1.1 411 ")
    assert b"\r\nConnection: close\r\n" in reply
    assert reply.endswith(b"\r\n\r\nContent-Length required (Transfer-Encoding is not accepted)\n")
    assert (sandbox.requests[-1].status, sandbox.requests[-1].code) == (411, None)


def test_a_chunked_fax_is_411(sandbox: SandboxServer) -> None:
    connection = http.client.HTTPConnection(*address(sandbox), timeout=30)
    connection.request(
        "POST",
        "/faxapi.asp",
        body=iter([form(*GOOD)]),
        headers={"Content-Type": CONTENT_TYPE},
        encode_chunked=True,
    )
    response = connection.getresponse()
    assert (response.status, response.read()) == (
        411,
        b"Content-Length required (Transfer-Encoding is not accepted)\n",
    )
    connection.close()
    assert stored_nothing(sandbox)


@pytest.mark.parametrize("length", [b"abc", b"-1", b"1e3", b"12, 13"])
def test_a_bad_content_length_is_400(sandbox: SandboxServer, length: bytes) -> None:
    reply = raw_exchange(
        sandbox, b"POST /faxapi.asp HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n"
    )
    assert reply.startswith(b"HTTP/1.1 400 ")
    assert reply.endswith(b"\r\n\r\nContent-Length is not one decimal number\n")


def test_requests_share_a_kept_alive_connection(sandbox: SandboxServer) -> None:
    connection = http.client.HTTPConnection(*address(sandbox), timeout=30)
    answers = []
    # The garbage is longer than one read: the rest must be drained, not taken for a request.
    for body in (form(*GOOD), form(USER, PASS, TO), b"garbage" * 50_000, form(*GOOD)):
        connection.request("POST", "/faxapi.asp", body=body, headers={"Content-Type": CONTENT_TYPE})
        answers.append(connection.getresponse().read())
        assert connection.sock is not None  # not closed by the server
    connection.close()
    assert answers == [b"0", b"4", b"5", b"0"]


def test_expect_100_continue(sandbox: SandboxServer) -> None:
    body = form(*GOOD)
    head = (
        b"POST /faxapi.asp HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\n"
        b"Content-Type: "
        + CONTENT_TYPE.encode()
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
    )
    with socket.create_connection(address(sandbox), timeout=30) as sock:
        sock.sendall(head)
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            interim += sock.recv(1)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200 OK\r\n")
    assert reply.endswith(b"\r\n\r\n0")


def get(
    server: SandboxServer, method: str, path: str, body: bytes | None = None
) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(*address(server), timeout=30)
    connection.request(method, path, body=body)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_home_page(sandbox: SandboxServer) -> None:
    connection = http.client.HTTPConnection(*address(sandbox), timeout=30)
    connection.request("GET", "/")
    response = connection.getresponse()
    page = response.read().decode()
    assert (response.status, response.getheader("Content-Type")) == (
        200,
        "text/html; charset=utf-8",
    )
    assert "<h1>faxprint sandbox</h1>" in page
    assert "0 faxes stored" in page
    assert f"POST {sandbox.url}" in page
    post(sandbox, form(*GOOD))
    connection.request("GET", "/")
    assert "1 fax stored" in connection.getresponse().read().decode()
    connection.close()


def test_head_of_the_home_page_has_no_body(sandbox: SandboxServer) -> None:
    reply = raw_exchange(sandbox, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200 OK\r\n")
    assert reply.endswith(b"\r\n\r\n")


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("GET", "/faxapi.asp", 405, "POST"),
        ("PUT", "/faxapi.asp", 405, "POST"),
        ("DELETE", "/faxapi.asp", 405, "POST"),
        ("POST", "/", 405, "GET, HEAD"),
        ("GET", "/FaxAPI.asp", 404, None),
        ("POST", "/faxapi.aspx", 404, None),
        ("GET", "/favicon.ico", 404, None),
    ],
)
def test_other_paths_and_methods(
    sandbox: SandboxServer, method: str, path: str, status: int, allow: str | None
) -> None:
    response = get(sandbox, method, path, form(*GOOD) if method in ("POST", "PUT") else None)
    assert (response.status, response.getheader("Allow")) == (status, allow)
    assert sandbox.requests == []
    assert stored_nothing(sandbox)


def test_the_sandbox_imports_nothing_of_the_client() -> None:
    package = Path(__file__).parents[1] / "faxprint" / "sandbox"
    imported = set()
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    faxprint = {name for name in imported if name.split(".")[0] == "faxprint"}
    assert {name for name in faxprint if not name.startswith("faxprint.sandbox")} == {
        "faxprint.protocol"
    }
    third_party = {"requests", "urllib3", "email", "cgi", "multipart", "pypdf"}
    assert not {name.split(".")[0] for name in imported} & third_party


def test_stop_closes_idle_connections_and_joins_every_thread(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    server = SandboxServer(store=tmp_path, accounts=TEST_ACCOUNTS).start()
    idle = http.client.HTTPConnection(*address(server), timeout=30)
    idle.request("POST", "/faxapi.asp", body=form(*GOOD), headers={"Content-Type": CONTENT_TYPE})
    assert idle.getresponse().read() == b"0"
    # The client keeps its connection open; the server's thread for it waits for more.
    assert len(set(threading.enumerate()) - before) == 2
    server.stop()
    assert set(threading.enumerate()) - before == set()
    idle.close()


def test_a_refused_request_s_body_is_read_so_the_connection_lives_on(
    sandbox: SandboxServer,
) -> None:
    connection = http.client.HTTPConnection(*address(sandbox), timeout=30)
    connection.request("POST", "/upload", body=b"x" * 300_000)
    assert connection.getresponse().read() == b"No such page: /upload\n"
    connection.request(
        "POST", "/faxapi.asp", body=form(*GOOD), headers={"Content-Type": CONTENT_TYPE}
    )
    assert connection.getresponse().read() == b"0"
    assert connection.sock is not None
    connection.close()


def test_stop_cuts_off_a_stalled_upload_after_the_grace_period(tmp_path: Path) -> None:
    server = SandboxServer(store=tmp_path, accounts=TEST_ACCOUNTS).start()
    body = form(*GOOD)
    head = (
        b"POST /faxapi.asp HTTP/1.1\r\nHost: x\r\nContent-Type: "
        + CONTENT_TYPE.encode()
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
    )
    with socket.create_connection(address(server), timeout=30) as sock:
        sock.sendall(head + body[:100])
        wait_for(lambda: server.in_flight == 1, 20, "the upload to be in flight")
        started = time.monotonic()
        server.stop(grace=0.2)
        assert time.monotonic() - started < 5
        assert sock.recv(100) == b""
    [record] = server.requests
    assert record.reason == f"No answer: body ended after 100 of {len(body)} bytes"
    assert server.faxes() == []
