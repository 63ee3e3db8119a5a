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
from collections.abc import Mapping

from faxprint.errors import TicketError
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


def ticket_from_options(options: Mapping[str, str]) -> Ticket:
    """Build the ticket a job's options ask for; raise TicketError with what to fix."""
    folded = {name.lower(): value for name, value in options.items()}
    return Ticket.build(
        recipients(folded),
        cover=_first(folded, COVER_OPTIONS, keep_none=True),
        cover_text=_first(folded, COVER_TEXT_OPTIONS),
        resolution=_first(folded, RESOLUTION_OPTIONS),
        send_at=_first(folded, SEND_AT_OPTIONS),
    )


def recipients(options: Mapping[str, str]) -> list[Recipient]:
    """Read the job's recipients from ``fax-to``, else ``phone`` (with ``faxPrefix``)."""
    to = _value(options.get("fax-to"))
    if to:
        return [Recipient.parse(part) for part in split_recipients(to)]
    phone = _value(options.get("phone"))
    if phone:
        prefix = re.sub(r"[^\d+]", "", _value(options.get("faxprefix")) or "")
        return [_prefixed(prefix, Recipient.parse(part)) for part in split_recipients(phone)]
    raise TicketError(
        "no recipient: print with -o 'fax-to=NUMBER' (or NUMBER|NAME, several separated "
        "by commas), or type the fax number in the print dialog's Fax Number box"
    )


def split_recipients(text: str) -> list[str]:
    """Split a list of recipients at commas and semicolons that precede a number."""
    parts = (part.strip() for part in _SEPARATOR.split(text.strip(" ,;")))
    return [part for part in parts if part]


def _prefixed(prefix: str, recipient: Recipient) -> Recipient:
    if not prefix or recipient.number.startswith("+"):
        return recipient
    return Recipient(prefix + recipient.number, recipient.name)


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
