"""Turn a CUPS job's options into a fax ticket.

A job names its recipients in one of three ways, read in this order (the first one
present wins, so a queue default never adds a recipient the user did not ask for):

1. ``fax-to`` (``lp -o 'fax-to="5556465589|John Doe,5555568552"'``);
2. ``phone``: what GTK print dialogs (through the PPD's custom text) and macOS send;
   ``faxPrefix`` (a dialing prefix) is put before each of its numbers.

Values the PPD's custom choices produce arrive as ``Custom.<text>``; ``None`` or an
empty value means "not set". Cover page, cover text, resolution and send time come from
``fax-cover``/``faxCoverPage``, ``fax-cover-text``/``faxCoverText``,
``fax-resolution``/``faxResolution`` and ``fax-send-at``/``faxSendAt``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from faxprint.errors import TicketError
from faxprint.protocol import COVER_NONE
from faxprint.ticket import Recipient, Ticket

# A comma or semicolon separates recipients only where a number follows, so that a
# name such as "Doe, John" survives: "5556465589|Doe, John;5555568552". No "\s*" before
# the separator: on a long run of blanks it backtracks quadratically (1 MB: hours).
_SEPARATOR = re.compile(r"[,;](?=\s*[+(\d])")

RECIPIENT_OPTIONS = ("fax-to", "phone")
COVER_OPTIONS = ("fax-cover", "faxCoverPage")
COVER_TEXT_OPTIONS = ("fax-cover-text", "faxCoverText")
RESOLUTION_OPTIONS = ("fax-resolution", "faxResolution")
SEND_AT_OPTIONS = ("fax-send-at", "faxSendAt")


@dataclass(frozen=True)
class Request:
    """What a job's options ask for, as written: recipients (numbers, ``NUMBER|NAME`` or
    contact names), cover page, cover text, resolution and send time."""

    recipients: tuple[str, ...] = ()
    cover: str | None = None
    cover_text: str | None = None
    resolution: str | None = None
    send_at: str | None = None

    def ticket(self, recipients: Sequence[str], *, no_cover: bool = False) -> Ticket:
        """The ticket to ``recipients`` (as resolved); ``no_cover``: the document's codes
        asked for no cover page, which a cover the options name overrides."""
        cover = self.cover if self.cover is not None else (COVER_NONE if no_cover else None)
        return Ticket.build(recipients, cover=cover, cover_text=self.cover_text,
                            resolution=self.resolution, send_at=self.send_at)  # fmt: skip


def request(options: Mapping[str, str]) -> Request:
    """Read what a job's options ask for; a job that names no recipient may still be
    addressed by its document's codes, its queue's default or a person."""
    folded = {name.lower(): value for name, value in options.items()}
    return Request(
        tuple(written_recipients(folded)),
        cover=_first(folded, COVER_OPTIONS, keep_none=True),
        cover_text=_first(folded, COVER_TEXT_OPTIONS),
        resolution=_first(folded, RESOLUTION_OPTIONS),
        send_at=_first(folded, SEND_AT_OPTIONS),
    )


def ticket_from_options(options: Mapping[str, str]) -> Ticket:
    """Build the ticket a job's options ask for; raise TicketError with what to fix."""
    asked = request(options)
    if not asked.recipients:
        raise TicketError(NO_RECIPIENT)
    return asked.ticket(asked.recipients)


NO_RECIPIENT = (
    "no recipient: print with -o 'fax-to=NUMBER' (or NUMBER|NAME, several separated by "
    "commas, or a contact's name), type the fax number in the print dialog's Fax Number "
    "box, or write an addressing code such as <TOFAXNUM:NUMBER> in the document"
)


def written_recipients(options: Mapping[str, str]) -> list[str]:
    """The job's recipients as written in ``fax-to``, else ``phone`` (its numbers with
    ``faxPrefix`` before them); none when neither is set."""
    to = _value(options.get("fax-to"))
    if to:
        return split_recipients(to)
    phone = _value(options.get("phone"))
    if not phone:
        return []
    prefix = re.sub(r"[^\d+]", "", _value(options.get("faxprefix")) or "")
    return [_prefixed(prefix, part) for part in split_recipients(phone)]


def recipients(options: Mapping[str, str]) -> list[Recipient]:
    """Read the job's recipients (numbers only) from ``fax-to``, else ``phone``."""
    written = written_recipients(options)
    if not written:
        raise TicketError(NO_RECIPIENT)
    return [Recipient.parse(part) for part in written]


def split_recipients(text: str) -> list[str]:
    """Split a list of recipients at commas and semicolons that precede a number."""
    parts = (part.strip() for part in _SEPARATOR.split(text.strip(" ,;")))
    return [part for part in parts if part]


def _prefixed(prefix: str, written: str) -> str:
    number = written.partition("|")[0].strip()
    if not prefix or number.startswith("+") or not any(c.isdigit() for c in number):
        return written  # an international number, or a contact's name
    return prefix + written.strip()


def _value(raw: str | None, *, keep_none: bool = False) -> str | None:
    if raw is None:
        return None
    value = raw[len("Custom.") :] if raw.startswith("Custom.") else raw
    if not value.strip() or (value.strip() == "None" and not keep_none):
        return None
    return value


def _first(
    options: Mapping[str, str], names: tuple[str, ...], *, keep_none: bool = False
) -> str | None:
    for name in names:
        value = _value(options.get(name.lower()), keep_none=keep_none)
        if value is not None:
            return value
    return None
