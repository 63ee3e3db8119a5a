from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from faxprint.errors import TicketError
from faxprint.ticket import Recipient, Resolution, Ticket, normalise_number


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("+1 (555) 646-5589", "+15556465589"),
        ("555.646.5589", "5556465589"),
        ("555/646 55 89", "5556465589"),
        (" 0049 30 1234567 ", "0049301234567"),
        ("5556465589", "5556465589"),
    ],
)
def test_numbers_lose_their_formatting(text: str, number: str) -> None:
    assert normalise_number(text) == number


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("555-FAX-1234", "contains letters"),
        ("", "no fax number"),
        ("1234", "has 4 digits"),
        ("1" * 19, "has 19 digits"),
        ("5556465589 5555568552", "has 20 digits"),  # two numbers missing their separator
        ("555#6465589", "only digits"),
        ("++15556465589", "only digits"),
        ("555\u0665646558", "only digits"),  # an Arabic-Indic digit is no ASCII digit
    ],
)
def test_bad_numbers_are_refused_with_a_reason(text: str, complaint: str) -> None:
    with pytest.raises(TicketError, match=complaint):
        normalise_number(text)


def test_recipient_names_stay_as_written_and_keep_the_separator_safe() -> None:
    # Each transport renders the name for its wire (FaxOut in ASCII, REST in UTF-8): the
    # ticket keeps it as the person wrote it.
    recipient = Recipient.parse("5556465589|José Müller | Sales\n")
    assert recipient == Recipient("5556465589", "José Müller / Sales")
    assert recipient.text() == "5556465589|José Müller / Sales"


def test_a_recipient_without_a_name_is_just_the_number() -> None:
    assert Recipient.parse("5555568552").text() == "5555568552"
    assert Recipient.parse("5555568552|").text() == "5555568552"


def test_control_and_format_characters_are_cleaned_from_names() -> None:
    # A bell, a tab run, a right-to-left override and a zero-width space: none survive.
    assert Recipient("5556465589", "Zoë\x07 \t 北京\u202e\u200b").name == "Zoë 北京"
    assert Recipient("5556465589", "Zoe\u0308").name == "Zoë"  # one form (NFC) for a name
    # The joiners stay: a Persian name and an emoji sequence are spelled with them.
    assert Recipient("5556465589", "می\u200cخواهم 👩\u200d💻").name == "می\u200cخواهم 👩\u200d💻"


def test_names_are_cut_to_a_sane_length() -> None:
    assert len(Recipient("5556465589", "x" * 500).name) == 64


def test_a_ticket_needs_a_recipient() -> None:
    with pytest.raises(TicketError, match="no recipient"):
        Ticket.build([])


def test_the_same_number_twice_is_faxed_once() -> None:
    ticket = Ticket.build(["5556465589|A", "555 646 5589|B", "5555568552"])
    assert [r.text() for r in ticket.recipients] == ["5556465589|A", "5555568552"]


def test_build_normalises_every_field() -> None:
    ticket = Ticket.build(
        ["+1 555 646 5589|Renée"],
        cover="none",
        cover_text="Grüße\r\nfrom faxprint\x00",
        resolution="LOW",
        send_at="2030-01-02T03:04:00+02:00",
    )
    assert ticket == Ticket(
        recipients=(Recipient("+15556465589", "Renée"),),
        cover="None",
        cover_text="Grüße\nfrom faxprint",
        resolution=Resolution.LOW,
        send_at=datetime(2030, 1, 2, 1, 4, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("cover", "expected"),
    [(None, "Default"), ("", "Default"), ("DEFAULT", "Default"), ("Confidential", "Confidential")],
)
def test_cover_pages(cover: str | None, expected: str) -> None:
    assert Ticket.build(["5556465589"], cover=cover).cover == expected


def test_unknown_resolution_is_refused() -> None:
    with pytest.raises(TicketError, match="not one of: low, high"):
        Ticket.build(["5556465589"], resolution="ultra")


def test_naive_send_times_are_taken_in_the_given_zone() -> None:
    zone = timezone(timedelta(hours=-5))
    ticket = Ticket.build(["5556465589"], send_at="2030-06-01 09:00", local_zone=zone)
    assert ticket.send_at == datetime(2030, 6, 1, 14, 0, tzinfo=UTC)


def test_a_ticket_is_immutable() -> None:
    ticket = Ticket.build(["5556465589"])
    with pytest.raises(AttributeError):
        ticket.cover = "None"  # type: ignore[misc]
