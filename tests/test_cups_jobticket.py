from __future__ import annotations

import pytest

from faxprint.cups.jobticket import split_recipients, ticket_from_options
from faxprint.errors import TicketError
from faxprint.ticket import Recipient, Resolution


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("5556465589|John Doe,5555568552", ["5556465589|John Doe", "5555568552"]),
        ("5556465589|Doe, John; 5555568552", ["5556465589|Doe, John", "5555568552"]),
        ("+1 555 646 5589 , (555) 556-8552", ["+1 555 646 5589", "(555) 556-8552"]),
        (" 5556465589, ", ["5556465589"]),
    ],
)
def test_recipient_lists_split_only_before_numbers(text: str, parts: list[str]) -> None:
    assert split_recipients(text) == parts


def test_fax_to_and_every_other_option() -> None:
    ticket = ticket_from_options(
        {
            "fax-to": "5556465589|José Müller,5555568552",
            "fax-cover": "None",
            "fax-cover-text": "Hello\nthere",
            "fax-resolution": "low",
            "fax-send-at": "2030-01-01T10:00Z",
        }
    )
    assert ticket.recipients == (Recipient("5556465589", "José Müller"), Recipient("5555568552"))
    assert (ticket.cover, ticket.cover_text, ticket.resolution) == (
        "None",
        "Hello\nthere",
        Resolution.LOW,
    )
    assert ticket.send_at is not None and ticket.send_at.year == 2030


def test_ppd_options_with_custom_values() -> None:
    ticket = ticket_from_options(
        {
            "phone": "Custom.555 646 5589",
            "faxPrefix": "None",
            "faxCoverPage": "Custom.Confidential",
            "faxCoverText": "Custom.Invoice 42",
            "faxResolution": "Low",
        }
    )
    assert ticket.recipients == (Recipient("5556465589"),)
    assert (ticket.cover, ticket.cover_text, ticket.resolution) == (
        "Confidential",
        "Invoice 42",
        Resolution.LOW,
    )


def test_the_dialing_prefix_goes_before_phone_numbers_but_not_international_ones() -> None:
    ticket = ticket_from_options(
        {"phone": "Custom.5556465589,+44 20 7946 0000", "faxPrefix": "Custom.9"}
    )
    assert [r.number for r in ticket.recipients] == ["95556465589", "+442079460000"]


def test_fax_to_wins_over_a_default_phone() -> None:
    ticket = ticket_from_options({"phone": "Custom.5550000000", "fax-to": "5556465589"})
    assert [r.number for r in ticket.recipients] == ["5556465589"]


def test_ppd_none_values_mean_unset_except_for_the_cover() -> None:
    ticket = ticket_from_options(
        {"fax-to": "5556465589", "faxCoverText": "None", "faxCoverPage": "None"}
    )
    assert (ticket.cover_text, ticket.cover) == ("", "None")


@pytest.mark.parametrize("options", [{}, {"phone": "None"}, {"fax-to": ""}, {"phone": "Custom."}])
def test_no_recipient_says_how_to_give_one(options: dict[str, str]) -> None:
    with pytest.raises(TicketError, match="fax-to=NUMBER"):
        ticket_from_options(options)


def test_option_names_are_case_insensitive() -> None:
    assert ticket_from_options({"FAX-TO": "5556465589"}).recipients == (Recipient("5556465589"),)
