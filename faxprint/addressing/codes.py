"""Addressing codes: recipients written into the document itself, in the dialects offices
already use, so templates made for other fax servers work unchanged.

=========  ==========================================  =========================================
dialect    codes                                       notes
=========  ==========================================  =========================================
RightFax   ``<TOFAXNUM:555-646-5589>`` ``<TONAME:...>``  ``<TOCOMPANY:...>`` ``<FROMNAME:...>``
                                                       ``<NOCOVER>``; any case
Zetafax    ``%%[Fax: 020 7203 4005]`` ``%%[To: ...]``  any case
pascom     ``@@+FAX:0991 123@@``                       the HylaFAX gateways' form
=========  ==========================================  =========================================

Codes are matched on the page's text with all whitespace left out, as text extractors split
and merge characters (``< TOFAX NUM:`` is a code too); a value is read back with its spaces.
A number code starts a recipient, and the name and company codes around it belong to it:
``<TONAME:Jane><TOFAXNUM:1>`` and ``<TOFAXNUM:1><TONAME:Jane>`` both give ``1|Jane``; a name
with no number is looked up in the contacts. Several numbers give several recipients.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from faxprint.addressing.pagetext import PageText

#: The longest value a code may hold: a stray ``<TONAME:`` never swallows a page.
MAX_VALUE = 120


class Field(StrEnum):
    """What a code says."""

    NUMBER = "number"
    NAME = "name"
    COMPANY = "company"
    SENDER = "sender"
    NO_COVER = "no cover"


_RIGHTFAX = {"TOFAXNUM": Field.NUMBER, "TONAME": Field.NAME, "TOCOMPANY": Field.COMPANY,
             "FROMNAME": Field.SENDER}  # fmt: skip
_ZETAFAX = {"FAX": Field.NUMBER, "TO": Field.NAME}
_PATTERN = re.compile(
    rf"<(?P<rf>{'|'.join(_RIGHTFAX)}):(?P<rfv>[^<>]{{0,{MAX_VALUE}}})>"
    r"|<(?P<nocover>NOCOVER)>"
    rf"|%%\[(?P<zf>FAX|TO):(?P<zfv>[^\[\]]{{0,{MAX_VALUE}}})\]"
    rf"|@@\+(?P<pc>FAX):(?P<pcv>.{{0,{MAX_VALUE}}}?)@@",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Code:
    """One addressing code on a page: what it says, and the glyphs that show it."""

    field: Field
    value: str
    first: int  # its first glyph
    last: int  # its last glyph


@dataclass(frozen=True)
class Addressee:
    """A recipient the codes name: a number, or a name to look up in the contacts."""

    number: str = ""
    name: str = ""
    company: str = ""

    def text(self) -> str:
        """As a recipient is written: ``NUMBER|NAME`` (the company after the name), or
        the name alone for the contacts."""
        name = ", ".join(part for part in (self.name, self.company) if part)
        if not self.number:
            return name
        return f"{self.number}|{name}" if name else self.number


@dataclass(frozen=True)
class PageCodes:
    """The codes of one page, and what they address."""

    codes: tuple[Code, ...] = ()
    addressees: tuple[Addressee, ...] = ()
    no_cover: bool = False
    sender: str = ""
    only_codes: bool = False  # nothing else on the page: a control page, never faxed

    @property
    def glyphs(self) -> set[int]:
        """The glyphs to erase."""
        return {i for code in self.codes for i in range(code.first, code.last + 1)}


def find(page: PageText) -> PageCodes:
    """Read the addressing codes of a page."""
    compact: list[str] = []
    owner: list[int] = []
    for index, glyph in enumerate(page.glyphs):
        for char in glyph.text:
            if not char.isspace():
                compact.append(char)
                owner.append(index)
    text = "".join(compact)
    codes = [_code(page, match, owner) for match in _PATTERN.finditer(text)]
    if not codes:
        return PageCodes()
    erased = {i for code in codes for i in range(code.first, code.last + 1)}
    rest = any(not g.text.isspace() and g.text and i not in erased
               for i, g in enumerate(page.glyphs))  # fmt: skip
    return PageCodes(
        tuple(codes),
        _addressees(codes),
        no_cover=any(code.field is Field.NO_COVER for code in codes),
        sender=next((code.value for code in codes if code.field is Field.SENDER), ""),
        only_codes=not rest and not page.images,
    )


def _code(page: PageText, match: re.Match[str], owner: Sequence[int]) -> Code:
    first, last = owner[match.start()], owner[match.end() - 1]
    if match["nocover"]:
        return Code(Field.NO_COVER, "", first, last)
    for key, table in (("rf", _RIGHTFAX), ("zf", _ZETAFAX), ("pc", {"FAX": Field.NUMBER})):
        if match[key]:
            value_group = f"{key}v"
            start, end = match.span(value_group)
            value = ""
            if end > start:  # read back from the glyphs, with the spaces between words
                value = page.text(owner[start], owner[end - 1] + 1).strip()
            return Code(table[match[key].upper()], " ".join(value.split()), first, last)
    raise AssertionError("a match of no dialect")


def _addressees(codes: Sequence[Code]) -> tuple[Addressee, ...]:
    """Pair each number with the name and company codes next to it."""
    found: list[Addressee] = []
    current: dict[Field, str] = {}
    for code in codes:
        if code.field not in (Field.NUMBER, Field.NAME, Field.COMPANY) or not code.value:
            continue
        if code.field in current:  # a second number (or name): the next recipient's
            found.append(_addressee(current))
            current = {}
        current[code.field] = code.value
    if current:
        found.append(_addressee(current))
    return tuple(found)


def _addressee(fields: dict[Field, str]) -> Addressee:
    return Addressee(fields.get(Field.NUMBER, ""), fields.get(Field.NAME, ""),
                     fields.get(Field.COMPANY, ""))  # fmt: skip
