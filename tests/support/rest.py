"""The sandbox's REST side as the tests drive it: clocks a test moves, and a service that
notes what it was asked. tests/conftest.py makes fixtures of them (``clock``,
``service``, ``server``)."""

from __future__ import annotations

import time
from typing import Any

from faxprint.sandbox.rest import RestService
from faxprint.sandbox.rest_oauth import RestApp
from faxprint.sandbox.rest_replies import Reply
from tests.support.secrets import TEST_APPS

#: The sandbox fails delivery to this number.
FAILING = "+15556460000"
#: A delivery time longer than any test: on a :class:`RunningClock` a fax stays Queued
#: until the test moves the clock past it.
QUEUED_FOR = 600.0


class Clock:
    """Time that stands still until the test moves it (``now += seconds``), or something
    sleeps on it: one clock for the sandbox, the token cache, the journal and the
    submitter."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class RunningClock:
    """Real time that a test can move forward (``ahead += seconds``): the sandbox's clock
    when faxprint runs on real time, so a token expires or a fax is delivered at the
    service when the test says."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead


class CountingRest(RestService):
    """The sandbox's REST side, noting every message read (``GET .../message-store/ID``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.asked: list[str] = []

    def message(self, app: RestApp, number: str) -> Reply:
        self.asked.append(number)
        return super().message(app, number)


def queued_rest(clock: RunningClock) -> CountingRest:
    """The REST side for tests on real time: a fax accepted stays Queued until the test
    moves ``clock`` past :data:`QUEUED_FOR`; delivery to :data:`FAILING` fails."""
    return CountingRest(
        TEST_APPS, clock=clock, delivery_seconds=QUEUED_FOR, failing_numbers=[FAILING]
    )
