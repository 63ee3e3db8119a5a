from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from faxprint.errors import TicketError
from faxprint.sendtime import format_send_time, parse_send_time

PARIS_WINTER = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-12-01T09:00:00+01:00", datetime(2026, 12, 1, 8, 0, tzinfo=UTC)),
        ("2026-12-01T09:00Z", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
        ("2026-12-01t09:00z", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
        ("2026-12-01 09:00", datetime(2026, 12, 1, 8, 0, tzinfo=UTC)),  # naive: local zone
        ("01:12:26 09:00", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),  # protocol form: GMT
        ("31:12:99 23:59", datetime(2099, 12, 31, 23, 59, tzinfo=UTC)),
    ],
)
def test_accepted_forms(text: str, moment: datetime) -> None:
    assert parse_send_time(text, local_zone=PARIS_WINTER) == moment


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "empty"),
        ("tomorrow", "not a date and time"),
        ("12/01/2026 09:00", "not a date and time"),
        ("32:01:26 10:00", "no real date"),
        ("01:13:26 10:00", "no real date"),
        ("01:12:26 24:00", "no real date"),
        ("1:12:26 9:00", "not a date and time"),
        ("1999-12-31T10:00Z", "outside the years 2000-2099"),
    ],
)
def test_refused_forms(text: str, complaint: str) -> None:
    with pytest.raises(TicketError, match=complaint):
        parse_send_time(text, local_zone=PARIS_WINTER)


def test_naive_times_default_to_the_server_zone() -> None:
    expected = datetime(2030, 6, 1, 9, 0).astimezone().astimezone(UTC)
    assert parse_send_time("2030-06-01T09:00") == expected


@pytest.mark.parametrize(
    ("moment", "wire"),
    [
        (datetime(2026, 12, 1, 9, 5, tzinfo=UTC), "01:12:26 09:05"),
        (datetime(2026, 12, 1, 0, 30, tzinfo=PARIS_WINTER), "30:11:26 23:30"),
    ],
)
def test_wire_form_is_gmt_day_first(moment: datetime, wire: str) -> None:
    assert format_send_time(moment) == wire


def test_round_trip_through_the_protocol_form() -> None:
    moment = datetime(2031, 2, 28, 17, 45, tzinfo=UTC)
    assert parse_send_time(format_send_time(moment)) == moment


def test_format_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="aware"):
        format_send_time(datetime(2030, 1, 1))
