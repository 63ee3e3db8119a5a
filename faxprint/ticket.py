"""The ticket: who gets a fax, with which cover page, resolution and send time.

A ticket is validated and normalised when it is built, so every ticket that exists can be
sent: numbers are digits (with an optional leading ``+``), names and cover text are kept as
written but cleaned of control characters (:func:`faxprint.text.clean`), and a name can
never break the ``number|name`` form. Each transport renders them for its wire: FaxOut in
ASCII, RingCentral's REST API in UTF-8. Documents travel beside the ticket (see
:mod:`faxprint.documents`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from faxprint import protocol
from faxprint.errors import TicketError
from faxprint.sendtime import parse_send_time
from faxprint.text import clean, printable, some, to_ascii

logger = logging.getLogger(__name__)

MIN_DIGITS = 5
MAX_DIGITS = 18  # E.164's 15 digits after an international prefix of up to 3
MAX_NAME = 64
MAX_COVER_NAME = 64

# Characters people put in numbers for readability; everything else but digits is an error.
_FORMATTING = re.compile(r"[\s().\-/]")
_LETTERS = re.compile(r"[A-Za-z]")


class Resolution(StrEnum):
    """Fax resolution, spelled as the protocol spells it."""

    LOW = "Low"
    HIGH = "High"

    @classmethod
    def parse(cls, text: str) -> Resolution:
        """Read ``low``/``high`` in any case (also ``standard``/``fine``)."""
        word = text.strip().lower()
        aliases = {"low": cls.LOW, "standard": cls.LOW, "high": cls.HIGH, "fine": cls.HIGH}
        if word not in aliases:
            raise TicketError(f"resolution '{printable(text, limit=20)}' is not one of: low, high")
        return aliases[word]


@dataclass(frozen=True)
class Recipient:
    """One fax number and the name printed on the cover page."""

    number: str
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "number", normalise_number(self.number))
        object.__setattr__(self, "name", normalise_name(self.name))

    @classmethod
    def parse(cls, text: str) -> Recipient:
        """Read ``NUMBER`` or ``NUMBER|NAME``; only the first ``|`` separates."""
        number, _, name = text.partition("|")
        return cls(number, name)

    def text(self) -> str:
        """Render ``number|name`` (or just the number), as it was given and is journaled."""
        return f"{self.number}|{self.name}" if self.name else self.number

    def __str__(self) -> str:
        return f"{self.name} <{self.number}>" if self.name else self.number


def normalise_number(text: str) -> str:
    """Strip readability characters from a fax number, keeping a leading ``+``."""
    raw = text.strip()
    stripped = _FORMATTING.sub("", raw)
    plus = stripped.startswith("+")
    digits = stripped[1:] if plus else stripped
    shown = printable(raw, limit=40)
    if not raw:
        raise TicketError("a recipient has no fax number")
    if _LETTERS.search(digits):
        raise TicketError(f"fax number '{shown}' contains letters; type the digits")
    if not digits.isascii() or not digits.isdigit():
        raise TicketError(
            f"fax number '{shown}' may hold only digits, a leading +, spaces, dots, "
            "dashes and parentheses"
        )
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        raise TicketError(
            f"fax number '{shown}' has {len(digits)} digits; a fax number has "
            f"{MIN_DIGITS} to {MAX_DIGITS}"
        )
    return ("+" if plus else "") + digits


def normalise_name(text: str) -> str:
    """Make a recipient name one clean line, without the ``|`` separator."""
    name = clean(text).replace("|", "/").strip()
    return name[:MAX_NAME].rstrip()


def _normalise_cover(text: str | None) -> str:
    if text is None or not text.strip():
        return protocol.COVER_DEFAULT
    word = to_ascii(text)
    if not word:  # only characters the wire cannot carry: the protocol's "empty" is Default
        return protocol.COVER_DEFAULT
    for fixed in (protocol.COVER_NONE, protocol.COVER_DEFAULT):
        if word.lower() == fixed.lower():
            return fixed
    if len(word) > MAX_COVER_NAME:
        raise TicketError(f"cover page name is longer than {MAX_COVER_NAME} characters")
    return word


@dataclass(frozen=True)
class Ticket:
    """Everything about a fax but its documents. Build one with :meth:`build`."""

    recipients: tuple[Recipient, ...]
    cover: str = protocol.COVER_DEFAULT
    cover_text: str = ""
    resolution: Resolution | None = None
    send_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.recipients:
            raise TicketError("no recipient: give at least one fax number")
        if self.send_at is not None and self.send_at.tzinfo is None:
            raise TicketError("send time must carry a time zone")

    @classmethod
    def build(
        cls,
        to: Iterable[str | Recipient],
        *,
        cover: str | None = None,
        cover_text: str | None = None,
        resolution: str | Resolution | None = None,
        send_at: str | datetime | None = None,
        local_zone: tzinfo | None = None,
    ) -> Ticket:
        """Validate and normalise what a person or program asked for."""
        recipients = _unique(r if isinstance(r, Recipient) else Recipient.parse(r) for r in to)
        if isinstance(resolution, str) and not isinstance(resolution, Resolution):
            resolution = Resolution.parse(resolution) if resolution.strip() else None
        if isinstance(send_at, str):
            send_at = parse_send_time(send_at, local_zone=local_zone) if send_at.strip() else None
        return cls(
            recipients=recipients,
            cover=_normalise_cover(cover),
            cover_text=clean(cover_text or "", keep_newlines=True),
            resolution=resolution,
            send_at=send_at,
        )


def _unique(recipients: Iterable[Recipient]) -> tuple[Recipient, ...]:
    # The same number twice would fax the same pages twice to one machine.
    seen: dict[str, Recipient] = {}
    repeated: dict[str, None] = {}
    for recipient in recipients:
        if recipient.number in seen:
            repeated[recipient.number] = None
            continue
        seen[recipient.number] = recipient
    if repeated:  # one line, however many: a pasted list must not flood the job's log
        logger.warning(
            "recipient %s listed more than once; faxing each number once", some(list(repeated), 3)
        )
    return tuple(seen.values())
