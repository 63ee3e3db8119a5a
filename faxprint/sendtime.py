"""Parse the send times people write, and render the one the FaxOut protocol wants.

Accepted: ISO 8601 with an offset or ``Z`` (``2026-12-01T09:00:00+01:00``), a naive ISO
time taken in the server's local zone (``2026-12-01 09:00``), and the protocol's own
``dd:mm:yy hh:mm``, which is GMT by definition. The service silently sends at once when
it cannot read a Sendtime, so anything else is refused here, loudly.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

from faxprint.errors import TicketError
from faxprint.text import printable

_PROTOCOL = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2}) ([0-9]{2}):([0-9]{2})")
_EXAMPLES = "2026-12-01T09:00+01:00, 2026-12-01 09:00 (local time) or 01:12:26 09:00 (GMT)"


def parse_send_time(text: str, *, local_zone: tzinfo | None = None) -> datetime:
    """Return the moment ``text`` names, as an aware UTC datetime."""
    value = text.strip()
    if not value:
        raise TicketError(f"send time is empty; write it like {_EXAMPLES}")
    match = _PROTOCOL.fullmatch(value)
    if match:
        return _from_protocol(value, match)
    try:
        if not value.isprintable():  # fromisoformat stops at a NUL, as C would
            raise ValueError(value)
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise TicketError(
            f"send time '{printable(value, limit=40)}' is not a date and time faxprint "
            f"understands; write it like {_EXAMPLES}"
        ) from None
    try:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=local_zone) if local_zone else moment.astimezone()
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):  # year 1 or 9999 shifted past the calendar's end
        raise TicketError(f"send time {moment.date()} is outside the years 2000-2099") from None
    return _in_range(moment)


def _in_range(moment: datetime) -> datetime:
    # The protocol writes two-digit years: only 2000-2099 survive the trip.
    if not 2000 <= moment.year <= 2099:
        raise TicketError(f"send time {moment.date()} is outside the years 2000-2099")
    return moment


def _from_protocol(value: str, match: re.Match[str]) -> datetime:
    day, month, year, hour, minute = (int(part) for part in match.groups())
    try:
        return datetime(2000 + year, month, day, hour, minute, tzinfo=UTC)
    except ValueError:
        raise TicketError(
            f"send time '{value}' is no real date: the protocol form is dd:mm:yy hh:mm, "
            "day first, in GMT"
        ) from None


def format_send_time(moment: datetime) -> str:
    """Render ``moment`` as the protocol's GMT ``dd:mm:yy hh:mm``."""
    if moment.tzinfo is None:
        raise ValueError("format_send_time needs an aware datetime")
    return _in_range(moment.astimezone(UTC)).strftime("%d:%m:%y %H:%M")
