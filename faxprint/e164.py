"""Fax numbers in E.164 (``+4930123456``), as RingCentral's REST API requires them.

A ticket's number keeps what its sender typed, reduced to digits and a leading ``+``.
A number with ``+`` is international already; any other is read as dialled in the
account's country (``default_country``, ISO 3166 alpha-2: ``US``, ``DE``), including
that country's international prefix (``011`` from the US, ``00`` from most of Europe).
Google's libphonenumber rules (``phonenumberslite``) do the reading: no hand-written
dialling plans. A number that cannot be a phone number anywhere is refused; whether it is
assigned is for the service to say.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from faxprint.errors import ConfigError, TicketError
from faxprint.text import printable

if TYPE_CHECKING:
    from phonenumbers import PhoneNumber


def check_country(country: str) -> str:
    """Return ``country`` upper-cased if libphonenumber knows its dialling plan."""
    import phonenumbers

    code = country.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(
            f"default_country {printable(country)!r} is not an ISO 3166 country code "
            "with a dialling plan (US, DE, GB, ...)"
        )
    return code


def to_e164(number: str, default_country: str) -> str:
    """Return ``number`` in E.164, reading a national number as dialled in the country.

    Refused: a number of a length no number has there, a local number without its area
    code, and one that fits none of the country's numbers (a German ``030 ...`` read as
    dialled in the US: no US number starts with 0).
    """
    import phonenumbers

    shown = printable(number)
    international = number.startswith("+")
    where = "" if international else f" dialled in {default_country}"
    try:
        parsed = phonenumbers.parse(number, None if international else default_country)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise TicketError(f"{shown} starts with no country code that exists") from None
        raise TicketError(f"{shown} is not a fax number (E.164 needs a country code)") from None
    # Not is_possible_number: it also passes a local number without its area code
    # (IS_POSSIBLE_LOCAL_ONLY), which no one can dial in E.164.
    result = phonenumbers.is_possible_number_with_reason(parsed)
    if result != phonenumbers.ValidationResult.IS_POSSIBLE:
        reason = _REASONS.get(result, "impossible")
        raise TicketError(f"{shown}{where} is not a possible fax number ({reason})")
    if not _in_plan(parsed):
        raise TicketError(
            f"{shown}{where} is not a possible fax number (no number there starts like that)"
        )
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def _in_plan(parsed: PhoneNumber) -> bool:
    """Tell whether the number fits the general pattern of any country sharing its code.

    Only the pattern of all numbers (not the stricter per-type ones of is_valid_number,
    which refuse the fictional 555 numbers people test with)."""
    import re

    import phonenumbers

    national = phonenumbers.national_significant_number(parsed)
    for region in phonenumbers.region_codes_for_country_code(parsed.country_code or 0):
        metadata = (
            phonenumbers.PhoneMetadata.metadata_for_nongeo_region(parsed.country_code or 0)
            if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY  # +800, +870, +882...
            else phonenumbers.PhoneMetadata.metadata_for_region(region)
        )
        general = metadata.general_desc if metadata else None
        pattern = general.national_number_pattern if general else None
        if pattern and re.fullmatch(pattern, national):
            return True
    return False


# libphonenumber's ValidationResult values, named here to keep its import lazy.
_REASONS = {
    1: "unknown country code",  # INVALID_COUNTRY_CODE
    2: "too short",  # TOO_SHORT
    3: "too long",  # TOO_LONG
    4: "a local number: give the area code",  # IS_POSSIBLE_LOCAL_ONLY
    5: "a length no number there has",  # INVALID_LENGTH
}
