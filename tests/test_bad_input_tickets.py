"""Bad tickets: hot-folder ticket files, Ticket.build, send times, CUPS job options.

The rule: every input ends as a valid ticket or as one TicketError whose message is one
printable line of reasonable length; never another exception, never a hang. A valid
ticket holds clean text (no control or format character, names on one line) and renders
FaxOut fields that are printable ASCII and keep the ``number|name`` form.
"""

from __future__ import annotations

import json
import logging
import re
import time
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faxprint import protocol
from faxprint.config import Account
from faxprint.cups.jobticket import split_recipients, ticket_from_options
from faxprint.errors import TicketError
from faxprint.hotfolder import ticketfile
from faxprint.sendtime import format_send_time, parse_send_time
from faxprint.ticket import MAX_NAME, Resolution, Ticket
from faxprint.transports.faxout import request_fields, wire_recipient
from faxprint.transports.multipart import MultipartBody, TextField
from tests.support.secrets import TEST_PASSWORD

SETTINGS = settings(max_examples=200, deadline=None, database=None)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
ACCOUNT = Account("default", "https://fax.example/faxapi.asp", "15555550100", TEST_PASSWORD)
MAX_MESSAGE = 400

# -- strategies -------------------------------------------------------------------------

NASTY_WORDS = [
    "",
    " ",
    "|",
    "||",
    "5556465589|",
    "|John",
    "5556465589|John|Doe",
    "5556465589|John\nDoe",
    "5556465589|John\r\nRecipient: 5550000000",
    "5556465589|\x1b[31mred\x1b[0m",
    "5556465589|\u202eevil",
    "5556465589|\udc80\udcff",
    "555-646-5589 ext 12",
    "555646558O",
    "+",
    "++5556465589",
    "+1 (555) 646-5589",
    "٥٥٥٦٤٦٥٥٨٩",
    "５５５６４６５５８９",
    "5556465589\x00",
    "1" * 19,
    "1" * 10_000,
    "../etc/passwd",
    "/etc/passwd",
    "a\x00b.pdf",
    "x" * 5000,
    "processing",
    "done",
    "a.fax.json",
    ".hidden.pdf",
    "C:\\Users\\jo\\a.pdf",
    "None",
    "none",
    "Default",
    "\x01",
    "\u2028",
    "NaN",
    "31:02:26 09:00",
    "2026-02-30T09:00Z",
    "0001-01-01T00:00+01:00",
    "9999-12-31T23:59-01:00",
    "0001-01-01 00:00",
    "9999-12-31 23:59",
    "2026-12-01T09:00+25:00",
    "2026-12-01T09:00:00.123456789Z",
    "01:12:26 09:00:00",
    "01:12:2026 09:00",
    "٠١:١٢:٢٦ ٠٩:٠٠",
    "tomorrow 9am",
    "1e999",
]

TEXT = st.one_of(st.sampled_from(NASTY_WORDS), st.text(max_size=60))
NUMBER_LIKE = st.text(alphabet="0123456789+-() ./abcXOé٣\n\t|", max_size=30)
RECIPIENT = st.one_of(
    TEXT,
    NUMBER_LIKE,
    st.builds(lambda n, name: f"{n}|{name}", NUMBER_LIKE, TEXT),
    st.builds(lambda name: f"5556465589|{name}", TEXT),
)
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
TICKET_KEYS = sorted(ticketfile._KEYS)
TICKET_OBJECT = st.dictionaries(
    st.one_of(st.sampled_from(TICKET_KEYS), TEXT),
    st.one_of(
        JSON_VALUE,
        st.lists(RECIPIENT, max_size=6),
        RECIPIENT,
        st.lists(TEXT, max_size=4),
    ),
    max_size=8,
)
SEND_TIMES = st.one_of(
    TEXT,
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.builds(
        lambda d, fmt: d.strftime(fmt),
        st.datetimes(min_value=datetime(1000, 1, 1)),
        st.sampled_from(
            [
                "%d:%m:%y %H:%M",
                "%d:%m:%Y %H:%M",
                "%m/%d/%Y %H:%M",
                "%Y-%m-%d",
                "%H:%M",
                "%d.%m.%Y %H:%M",
                "%Y-%m-%dT%H:%M:%S%z",
                "%c",
            ]
        ),
    ),
    st.builds(
        "{:02d}:{:02d}:{:02d} {:02d}:{:02d}".format,
        *[st.integers(0, 99)] * 5,
    ),
)


# -- what "one clear message" and "a sendable ticket" mean ------------------------------


def assert_clear(error: TicketError) -> None:
    """One line people can read: printable, not empty, not a wall of text."""
    message = error.message
    assert message and message == str(error)
    assert message.isprintable(), repr(message)
    assert len(message) <= MAX_MESSAGE, len(message)


WIRE_RECIPIENT = re.compile(rf"\+?[0-9]{{5,18}}(\|[ -{{}}~]{{1,{MAX_NAME}}})?")


def is_clean(text: str) -> bool:
    """No control, format (but the joiners), surrogate or unassigned character; no blank
    at either end."""
    return text == text.strip() and all(
        unicodedata.category(ch)[0] != "C" or ch in "\u200c\u200d" for ch in text
    )


def assert_sendable(ticket: Ticket) -> None:
    """The ticket's text is clean, and every field it puts on FaxOut's wire is printable
    ASCII in the protocol's form."""
    assert ticket.recipients
    for recipient in ticket.recipients:
        assert is_clean(recipient.name) and "|" not in recipient.name, recipient
        assert len(recipient.name) <= MAX_NAME
        assert recipient.text().count("|") <= 1
        assert WIRE_RECIPIENT.fullmatch(wire_recipient(recipient)), wire_recipient(recipient)
    assert len({r.number for r in ticket.recipients}) == len(ticket.recipients)
    assert ticket.cover and re.fullmatch(r"[ -~]+", ticket.cover)
    assert all(is_clean(line) for line in ticket.cover_text.split("\n")), ticket.cover_text
    assert ticket.resolution in (None, Resolution.LOW, Resolution.HIGH)
    if ticket.send_at is not None:
        assert ticket.send_at.utcoffset() == timedelta(0)
        assert 2000 <= ticket.send_at.year <= 2099
        assert re.fullmatch(r"\d\d:\d\d:\d\d \d\d:\d\d", format_send_time(ticket.send_at))
    fields = request_fields(ACCOUNT, ticket, [], now=NOW - timedelta(days=365 * 30))
    body = MultipartBody(fields, boundary="B")  # refuses header injection itself
    for field in fields:
        assert isinstance(field, TextField)
        assert field.value.isascii()
        if field.name != protocol.COVERPAGETEXT:
            assert re.fullmatch(r"[ -~]*", field.value), field
        else:
            assert re.fullmatch(r"([ -~]|\r\n)*", field.value), field
    assert len(body.read()) == len(body)


def build_or_refuse(**kwargs: Any) -> Ticket | None:
    try:
        ticket = Ticket.build(**kwargs)
    except TicketError as error:
        assert_clear(error)
        return None
    assert_sendable(ticket)
    return ticket


# -- ticket files -----------------------------------------------------------------------


@SETTINGS
@given(st.binary(max_size=300))
def test_any_bytes_are_a_ticket_or_one_clear_error(data: bytes) -> None:
    try:
        ticketfile.parse(data)
    except TicketError as error:
        assert_clear(error)


@SETTINGS
@given(TICKET_OBJECT)
def test_any_json_object_is_a_ticket_or_one_clear_error(raw: dict[str, Any]) -> None:
    data = json.dumps(raw).encode()
    try:
        parsed = ticketfile.parse(data)
    except TicketError as error:
        assert_clear(error)
        return
    assert parsed.to and all(isinstance(t, str) for t in parsed.to)
    for name in parsed.documents or ():
        assert ticketfile.check_name(name) == name
    build_or_refuse(
        to=parsed.to,
        cover=parsed.cover,
        cover_text=parsed.cover_text,
        resolution=parsed.resolution,
        send_at=parsed.send_at,
    )


@SETTINGS
@given(st.dictionaries(st.one_of(st.integers(), st.none(), TEXT), JSON_VALUE, max_size=6))
def test_from_mapping_with_any_keys_is_a_ticket_or_one_clear_error(raw: dict[Any, Any]) -> None:
    try:
        ticketfile.from_mapping(raw)
    except TicketError as error:
        assert_clear(error)


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        (b"[" * 200_000, "nested too deeply"),
        (b'{"to": ' * 100_000, "nested too deeply|not valid JSON"),
        (b'{"to": "1", "cover": ' + b"9" * 5000 + b"}", "a number in it is too long"),
        (b'{"to": NaN}', 'needs "to"'),
        (b'{"to": ["5556465589"], "to": 7}', "gives 'to' twice; give it once"),
        (b'{"to": ["5556465589"], "to": ["5550000000"]}', "gives 'to' twice"),  # which?
        (b'{"to": "1", "documents": ["a.pdf"], "documents": []}', "gives 'documents' twice"),
        (b'{"to": [true]}', 'needs "to"'),
        (b'{"to": {"5556465589": "John"}}', 'needs "to"'),
        (b'{"to": "1", "send_at": 1795705350}', '"send_at" must be a string'),
        (b'{"to": "1", "documents": [null]}', "list of file names"),
        (b'{"to": "1", "documents": ["a.pdf", 3]}', "list of file names"),
        (b"\xef\xbb\xbf\xef\xbb\xbf{}", "not valid JSON"),
        (b'{"to": "1", "documents": ["\\udcff\\ud800"]}', "cannot be written as a file name"),
        (b'{"to": "1", "documents": ["' + b"a" * 256 + b'"]}', "longer than a file name"),
        (b'{"to": "1", "documents": ["done"]}', "one of faxprint's folders"),
    ],
)
def test_hostile_ticket_files(data: bytes, complaint: str) -> None:
    with pytest.raises(TicketError, match=complaint) as caught:
        ticketfile.parse(data)
    assert_clear(caught.value)


def test_a_byte_order_mark_is_no_error() -> None:
    parsed = ticketfile.parse(b'\xef\xbb\xbf{"to": "5556465589"}')
    assert parsed.to == ("5556465589",)


def test_unknown_keys_are_named_briefly_and_printably() -> None:
    keys = {f"\x1b[{i}m" + "k" * 1000: 1 for i in range(50)}
    with pytest.raises(TicketError, match=r"unknown keys: .* and 45 more \(known:") as caught:
        ticketfile.parse(json.dumps({"to": "1", **keys}).encode())
    assert_clear(caught.value)
    assert "\\x1b" in caught.value.message


@pytest.mark.parametrize(
    "name",
    [
        "../invoice.pdf",
        "..",
        ".",
        "/etc/passwd",
        "sub/a.pdf",
        "C:\\a.pdf",
        "a\x00.pdf",
        ".hidden",
        "a" * 10_000,
        "é" * 128,  # 256 bytes in UTF-8
        "processing",
        "held",
        "x.fax.json",
        "",
    ],
)
def test_document_names_that_leave_the_folder_are_refused(name: str) -> None:
    with pytest.raises(TicketError) as caught:
        ticketfile.check_name(name)
    assert_clear(caught.value)


@SETTINGS
@given(st.one_of(TEXT, st.text(min_size=200, max_size=400)))
def test_an_accepted_document_name_stays_in_its_folder(name: str) -> None:
    try:
        checked = ticketfile.check_name(name)
    except TicketError as error:
        assert_clear(error)
        return
    folder = Path("/srv/fax/processing/job")
    assert (folder / checked).parent == folder
    assert checked not in (".", "..") and not checked.startswith(".")
    assert "\x00" not in checked and len(checked.encode("utf-8", "surrogateescape")) <= 255


def test_ten_thousand_recipients(caplog: pytest.LogCaptureFixture) -> None:
    numbers = [f"+1555{n:07d}|Person {n}" for n in range(10_000)]
    parsed = ticketfile.parse(json.dumps({"to": numbers}).encode())
    ticket = build_or_refuse(to=parsed.to)
    assert ticket is not None and len(ticket.recipients) == 10_000
    with caplog.at_level(logging.WARNING, logger="faxprint.ticket"):
        twice = build_or_refuse(to=["5556465589|Same"] * 10_000 + ["5555568552"] * 10)
    assert twice is not None and len(twice.recipients) == 2
    assert [r.getMessage() for r in caplog.records] == [
        "recipient 5556465589, 5555568552 listed more than once; faxing each number once"
    ]


# -- Ticket.build -----------------------------------------------------------------------


@SETTINGS
@given(
    to=st.lists(RECIPIENT, max_size=5),
    cover=st.one_of(st.none(), TEXT),
    cover_text=st.one_of(st.none(), TEXT, st.text(max_size=300)),
    resolution=st.one_of(st.none(), TEXT, st.sampled_from(["low", "HIGH", " fine ", "Standard"])),
    send_at=st.one_of(st.none(), SEND_TIMES),
)
def test_any_request_is_a_sendable_ticket_or_one_clear_error(
    to: list[str],
    cover: str | None,
    cover_text: str | None,
    resolution: str | None,
    send_at: str | None,
) -> None:
    build_or_refuse(
        to=to,
        cover=cover,
        cover_text=cover_text,
        resolution=resolution,
        send_at=send_at,
        local_zone=timezone(timedelta(hours=-11)),
    )


@SETTINGS
@given(
    st.builds(lambda n, name: f"{n}|{name}", st.from_regex(r"\+?[0-9]{5,18}", fullmatch=True), TEXT)
)
def test_names_can_never_break_the_number_name_form(text: str) -> None:
    ticket = build_or_refuse(to=[text])
    assert ticket is not None  # a good number is never refused for its name
    (recipient,) = ticket.recipients
    number, _, name = recipient.text().partition("|")
    assert number == recipient.number and name == recipient.name
    assert "|" not in name and len(name) <= MAX_NAME


@pytest.mark.parametrize(
    ("to", "complaint"),
    [
        (["555646558O"], "contains letters"),
        (["555-646-5589 ext 12"], "contains letters"),
        (["٥٥٥٦٤٦٥٥٨٩"], "may hold only digits"),
        (["５５５６４６５５８９"], "may hold only digits"),
        (["5556465589\x00"], "may hold only digits"),
        (["1" * 1_000_000], "has 1000000 digits"),
        (["x" * 1_000_000], "contains letters"),
        (["\x1b[05556465589"], "may hold only digits"),
        (["|John"], "no fax number"),
        ([], "no recipient"),
    ],
)
def test_bad_numbers_get_one_short_message(to: list[str], complaint: str) -> None:
    with pytest.raises(TicketError, match=complaint) as caught:
        Ticket.build(to)
    assert_clear(caught.value)


@pytest.mark.parametrize("cover", ["\x01", "\u200b", "\udc80", "\x1b"])
def test_a_cover_name_of_nothing_printable_means_the_default(cover: str) -> None:
    assert Ticket.build(["5556465589"], cover=cover).cover == protocol.COVER_DEFAULT


# -- send times -------------------------------------------------------------------------


@SETTINGS
@given(SEND_TIMES, st.one_of(st.none(), st.timezones()))
def test_any_send_time_is_a_moment_in_range_or_one_clear_error(text: str, zone: Any) -> None:
    try:
        moment = parse_send_time(text, local_zone=zone)
    except TicketError as error:
        assert_clear(error)
        return
    assert moment.utcoffset() == timedelta(0) and 2000 <= moment.year <= 2099
    assert parse_send_time(format_send_time(moment)) == moment.replace(second=0, microsecond=0)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("0001-01-01T00:00+01:00", "outside the years 2000-2099"),
        ("9999-12-31T23:59-01:00", "outside the years 2000-2099"),
        ("0001-01-01 00:00", "outside the years 2000-2099"),
        ("9999-12-31 23:59", "outside the years 2000-2099"),
        ("٠١:١٢:٢٦ ٠٩:٠٠", "not a date and time"),
        ("x" * 1_000_000, "not a date and time"),
        ("2026-12-01T09:00\n", None),
        ("2026-12-01T09:00\x00", "not a date and time"),
    ],
)
def test_send_times_at_the_edges(text: str, complaint: str | None) -> None:
    if complaint is None:
        assert parse_send_time(text).year == 2026
        return
    with pytest.raises(TicketError, match=complaint) as caught:
        parse_send_time(text, local_zone=timezone(timedelta(hours=14)))
    assert_clear(caught.value)


# -- CUPS job options into tickets ------------------------------------------------------

OPTION_NAMES = [
    "fax-to",
    "phone",
    "faxPrefix",
    "fax-cover",
    "faxCoverPage",
    "fax-cover-text",
    "faxCoverText",
    "fax-resolution",
    "faxResolution",
    "fax-send-at",
    "faxSendAt",
    "FAX-TO",
]


@SETTINGS
@given(
    st.dictionaries(
        st.sampled_from(OPTION_NAMES),
        st.one_of(
            TEXT,
            RECIPIENT,
            SEND_TIMES,
            st.builds("Custom.{}".format, TEXT),
            st.lists(RECIPIENT, max_size=4).map(",".join),
            st.lists(RECIPIENT, max_size=4).map(";".join),
        ),
        max_size=6,
    )
)
def test_any_job_options_are_a_sendable_ticket_or_one_clear_error(options: dict[str, str]) -> None:
    try:
        ticket = ticket_from_options(options)
    except TicketError as error:
        assert_clear(error)
        return
    assert_sendable(ticket)


@pytest.mark.parametrize(
    "text",
    [
        "1" + " " * 1_000_000 + "2",
        "1" + "\t " * 500_000 + ",2",
        "," * 1_000_000,
        ", " * 500_000 + "5556465589",
        "5556465589|" + "Doe, " * 200_000,
    ],
)
def test_splitting_a_huge_recipient_list_takes_linear_time(text: str) -> None:
    # The old separator pattern backtracked quadratically on a run of blanks: hours for
    # a megabyte. Linear work finishes in well under a second even on a busy machine.
    started = time.monotonic()
    parts = split_recipients(text)
    assert time.monotonic() - started < 5
    assert all(part == part.strip() and part for part in parts)
