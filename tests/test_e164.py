"""Fax numbers to E.164 for the REST transport, by libphonenumber's dialling plans."""

from __future__ import annotations

import phonenumbers
import pytest

from faxprint.e164 import _REASONS, check_country, to_e164
from faxprint.errors import ConfigError, TicketError
from faxprint.ticket import Recipient


@pytest.mark.parametrize(
    ("typed", "country", "e164"),
    [
        ("(555) 646-5589", "US", "+15556465589"),  # national, as people type it
        ("1 555 646 5589", "US", "+15556465589"),  # with the trunk prefix
        ("011 44 20 7946 0958", "US", "+442079460958"),  # the US international prefix
        ("0044 20 7946 0958", "DE", "+442079460958"),  # Europe's international prefix
        ("030 1234567", "DE", "+49301234567"),  # German national, trunk 0 dropped
        ("+44 20 7946 0958", "US", "+442079460958"),  # international: the country is moot
    ],
)
def test_numbers_people_type_become_e164(typed: str, country: str, e164: str) -> None:
    assert to_e164(Recipient.parse(typed).number, country) == e164


@pytest.mark.parametrize(
    ("number", "words"),
    [
        ("12", "too short"),
        ("+999123", "no country code that exists"),
        ("123456789012345678", "long"),
    ],
)
def test_impossible_numbers_are_refused_with_the_reason(number: str, words: str) -> None:
    with pytest.raises(TicketError, match=words):
        to_e164(number, "US")


def test_the_country_must_have_a_dialling_plan() -> None:
    assert check_country(" de ") == "DE"
    with pytest.raises(ConfigError, match="not an ISO 3166"):
        check_country("XX")


def test_the_reasons_match_libphonenumbers_values() -> None:
    result = phonenumbers.ValidationResult
    assert {
        result.INVALID_COUNTRY_CODE, result.TOO_SHORT, result.TOO_LONG,
        result.IS_POSSIBLE_LOCAL_ONLY, result.INVALID_LENGTH,
    } == set(_REASONS)  # fmt: skip


@pytest.mark.parametrize(
    "number", ["+800 1234 5678", "+870 301 234 567", "+882 342 1234", "+883 510 012 345"]
)
def test_numbers_of_no_country_are_taken(number: str) -> None:
    # International freephone, Inmarsat (ships' faxes), international networks.
    assert to_e164(number, "US") == "+" + "".join(ch for ch in number if ch.isdigit())
