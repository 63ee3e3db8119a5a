"""A local number (no area code) is no E.164 number: refused, not sent as "+1" + 7 digits.

libphonenumber's is_possible_number also passes IS_POSSIBLE_LOCAL_ONLY; to_e164 must not.
"""

from __future__ import annotations

import pytest

from faxprint.e164 import to_e164
from faxprint.errors import TicketError


@pytest.mark.parametrize(("number", "country"), [("555 1234", "US"), ("234 5678", "CA")])
def test_a_local_number_is_refused_with_the_reason(number: str, country: str) -> None:
    with pytest.raises(TicketError, match=r"\(a local number: give the area code\)"):
        to_e164(number, country)


def test_the_same_number_with_its_area_code_is_taken() -> None:
    assert to_e164("(555) 646-5589", "US") == "+15556465589"
    assert to_e164("030 1234567", "DE") == "+49301234567"
