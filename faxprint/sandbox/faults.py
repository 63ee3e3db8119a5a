"""Faults a test can make the sandbox commit, one per request, in the order pushed, and
the FaxOut side's optional rate limit.

Each POST to the FaxOut endpoint that gets past the rate limit (if any) and the HTTP
checks (Content-Length present) takes the next fault from the queue, if any. What each
does, and whether the fax is stored (it is only ever stored if the rules accept it):

===================  =======================================================  ======
fault                what the client sees                                     stored
===================  =======================================================  ======
code(n)              body read, then 200 text/plain ``n``                     no
http_status(s)       body read, then status s with a short text body          no
html()               body read, then 200 text/html page (no code)             no
body(data, type)     body read, then 200 with exactly those bytes             no
hang(seconds)        body read, silence for seconds, then closed unanswered   no
close_after_body()   body read, then closed unanswered                        no
close_mid_body()     half the body (at most 64 KiB) read, then closed         no
stall_mid_body(ev)   half the body read, then closed once ev is set           no
trickle(rate)        body read at rate bytes per second, then judged          if 0
accept_then_drop()   body read and judged, then closed unanswered             if 0
delay(seconds)       judged normally, answered after seconds                  if 0
hold(event)          judged normally, answered once event is set              if 0
===================  =======================================================  ======

``accept_then_drop`` is the lost reply after acceptance: the fax exists but the client
never hears so. Waits end early when the server stops.

The rate limit (:class:`RateLimit`, ``SandboxServer(faxout_rate=(N, SECONDS))``) is the
sandbox's own assumption: the FaxOut documentation says nothing about rate limiting (no
limit, no status, no header; its only answers are the result codes 0-5). It lets N
requests in over any SECONDS (a sliding window) and refuses the next with HTTP 429 and
``Retry-After``, the whole seconds until the window lets one in again, as an HTTP
service in front of FaxOut would (RFC 6585 section 4). A refused request does not count
and restarts nothing: there is no penalty, unlike the REST side's documented "429 trap"
(``rest_limits``), which FaxOut gives no grounds to copy. The body of a refused request
is read and dropped, so the answer reaches a client still uploading.
"""

from __future__ import annotations

import enum
import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from faxprint.sandbox.accounts import SandboxConfigError


class FaultKind(enum.Enum):
    """What a fault does; see the module docstring."""

    CODE = "code"
    HTTP_STATUS = "http_status"
    HTML = "html"
    BODY = "body"
    HANG = "hang"
    CLOSE_AFTER_BODY = "close_after_body"
    CLOSE_MID_BODY = "close_mid_body"
    STALL_MID_BODY = "stall_mid_body"
    TRICKLE = "trickle"
    ACCEPT_THEN_DROP = "accept_then_drop"
    DELAY = "delay"
    HOLD = "hold"


@dataclass(frozen=True)
class Fault:
    """One misbehaviour for one request; build with the class methods."""

    kind: FaultKind
    number: int = 0
    seconds: float = 0.0
    data: bytes = b""
    content_type: str = "text/plain"
    release: threading.Event | None = field(default=None, compare=False)

    @classmethod
    def code(cls, code: int) -> Fault:
        """Answer this result code (any integer, to test unknown codes) instead."""
        return cls(FaultKind.CODE, number=code)

    @classmethod
    def http_status(cls, status: int) -> Fault:
        """Answer this HTTP status instead of 200."""
        if not 100 <= status <= 599:
            raise ValueError(f"HTTP status {status} is not 100-599")
        return cls(FaultKind.HTTP_STATUS, number=status)

    @classmethod
    def html(cls) -> Fault:
        """Answer 200 with an HTML page, as a misrouted request would get."""
        return cls(FaultKind.HTML)

    @classmethod
    def body(cls, data: bytes, content_type: str = "text/plain") -> Fault:
        """Answer 200 with exactly these bytes."""
        return cls(FaultKind.BODY, data=data, content_type=content_type)

    @classmethod
    def hang(cls, seconds: float) -> Fault:
        """Read the body, say nothing for seconds, then close."""
        return cls(FaultKind.HANG, seconds=_seconds(seconds))

    @classmethod
    def close_after_body(cls) -> Fault:
        """Read the body, then close without answering."""
        return cls(FaultKind.CLOSE_AFTER_BODY)

    @classmethod
    def close_mid_body(cls) -> Fault:
        """Close the connection halfway through reading the body."""
        return cls(FaultKind.CLOSE_MID_BODY)

    @classmethod
    def stall_mid_body(cls, release: threading.Event, timeout: float = 60.0) -> Fault:
        """Read half the body, record the request, then close once release is set: an
        upload a test can stop the sender in the middle of."""
        return cls(FaultKind.STALL_MID_BODY, seconds=_seconds(timeout), release=release)

    @classmethod
    def trickle(cls, rate: int) -> Fault:
        """Read the body at ``rate`` bytes per second, as a congested link would."""
        if rate < 1:
            raise ValueError(f"trickle rate {rate} is not a positive number of bytes")
        return cls(FaultKind.TRICKLE, number=rate)

    @classmethod
    def accept_then_drop(cls) -> Fault:
        """Judge and store the fax as usual, then close without answering."""
        return cls(FaultKind.ACCEPT_THEN_DROP)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Judge and store as usual, then wait seconds before answering."""
        return cls(FaultKind.DELAY, seconds=_seconds(seconds))

    @classmethod
    def hold(cls, release: threading.Event, timeout: float = 60.0) -> Fault:
        """Judge and store as usual, then answer once release is set (or timeout passes)."""
        return cls(FaultKind.HOLD, seconds=_seconds(timeout), release=release)

    def __str__(self) -> str:
        match self.kind:
            case FaultKind.CODE | FaultKind.HTTP_STATUS | FaultKind.TRICKLE:
                return f"{self.kind.value}({self.number})"
            case FaultKind.HANG | FaultKind.DELAY:
                return f"{self.kind.value}({self.seconds:g})"
            case FaultKind.BODY:
                return f"body({self.data!r})"
            case _:
                return f"{self.kind.value}()"

    @property
    def stores(self) -> bool:
        """Tell whether a request under this fault stores an accepted fax."""
        stored = (FaultKind.ACCEPT_THEN_DROP, FaultKind.DELAY, FaultKind.HOLD, FaultKind.TRICKLE)
        return self.kind in stored


class FaultQueue:
    """Faults waiting for the next requests; safe to use from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Fault] = deque()

    def push(self, *faults: Fault) -> None:
        """Apply these faults to the next requests, in order."""
        with self._lock:
            self._queue.extend(faults)

    def pop(self) -> Fault | None:
        """Take the fault for the request in hand, if any."""
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def clear(self) -> None:
        """Drop every fault not yet applied."""
        with self._lock:
            self._queue.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue)


class RateLimit:
    """At most ``requests`` FaxOut requests in any ``window`` seconds of ``clock``; safe to
    use from any thread. See the module docstring: the limit is the sandbox's assumption."""

    def __init__(self, requests: int, window: float, *, clock: Callable[[], float]) -> None:
        if isinstance(requests, bool) or not isinstance(requests, int) or requests < 1:
            raise SandboxConfigError(f"a FaxOut rate of {requests!r} requests is not 1 or more")
        if not 0 < window < math.inf:
            raise SandboxConfigError(
                f"a FaxOut rate window of {window!r} is not a number of seconds above 0"
            )
        self.requests = requests
        self.window = float(window)
        self.clock = clock
        self._lock = threading.Lock()
        self._times: deque[float] = deque()  # when the requests let in were, oldest first

    def take(self) -> int | None:
        """Let a request in and count it; or return the Retry-After seconds refusing it."""
        with self._lock:
            now = self.clock()
            while self._times and self._times[0] <= now - self.window:
                self._times.popleft()
            if len(self._times) < self.requests:
                self._times.append(now)
                return None
            # The oldest request leaves the window at _times[0] + window: round up, so a
            # client that waits that long is let in.
            return max(1, math.ceil(self._times[0] + self.window - now))

    def __str__(self) -> str:
        return f"{self.requests} requests in any {self.window:g} s"


def _seconds(seconds: float) -> float:
    if not seconds >= 0:
        raise ValueError(f"{seconds} seconds is not a duration")
    return float(seconds)
