"""User-level rate limits as [docs] ``docs/basics/rate-limits.md`` describes them.

Requests are counted per (user, app) and usage plan group over a sliding window (60
seconds by default). Once the limit is reached the server "applies a penalty by
rejecting any requests (within the corresponding group) from the same user and app sent
during penalty interval. With each new request the penalty interval is reset": every
request refused during the penalty starts it again (the "429 trap"). The answer is
``429`` with ``Retry-After`` in seconds and CMN-301 "Request rate exceeded"
([docs] ``errors.md``). Every answer carries ``X-Rate-Limit-Group``, ``-Limit``,
``-Remaining`` and ``-Window``. The sandbox has one user per app, so the app's client id
stands for the pair.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from faxprint.sandbox.rest_replies import Reply, error

#: The documented default limits per user and minute, by usage plan group.
DEFAULT_LIMITS = {"Light": 50, "Medium": 40, "Heavy": 10, "Auth": 5}
WINDOW = 60.0


@dataclass
class _Bucket:
    """One (app, group)'s requests in the window and its penalty, if any."""

    times: deque[float] = field(default_factory=deque)
    penalty_until: float | None = None


class RateLimits:
    """Count requests per (app, group); refuse over a limit. Not locked: the caller holds
    the service's lock."""

    def __init__(
        self,
        limits: dict[str, int | None],
        *,
        clock: Callable[[], float],
        penalty: float = 60.0,
        window: float = WINDOW,
    ) -> None:
        self.limits = limits  # None: report the documented default, enforce nothing
        self.clock = clock
        self.penalty = penalty
        self.window = window
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def take(self, client_id: str, group: str) -> Reply | None:
        """Count a request; return the 429 to answer if the group's limit refuses it."""
        now = self.clock()
        bucket = self._bucket(client_id, group, now)
        limit = self.limits.get(group)
        if bucket.penalty_until is not None and now < bucket.penalty_until:
            return self._penalise(bucket, now)  # a request in the penalty restarts it
        bucket.penalty_until = None
        if limit is not None and len(bucket.times) >= limit:
            return self._penalise(bucket, now)
        bucket.times.append(now)
        return None

    def headers(self, client_id: str, group: str) -> dict[str, str]:
        """The X-Rate-Limit headers of an answer to this app in this group."""
        limit = self.limit(group)
        used = len(self._bucket(client_id, group, self.clock()).times)
        return {
            "X-Rate-Limit-Group": group, "X-Rate-Limit-Limit": str(limit),
            "X-Rate-Limit-Remaining": str(max(0, limit - used)),
            "X-Rate-Limit-Window": f"{self.window:g}",
        }  # fmt: skip

    def limit(self, group: str) -> int:
        """The group's limit: the configured one, or the documented default."""
        configured = self.limits.get(group)
        return DEFAULT_LIMITS[group] if configured is None else configured

    def _bucket(self, client_id: str, group: str, now: float) -> _Bucket:
        bucket = self._buckets.setdefault((client_id, group), _Bucket())
        while bucket.times and bucket.times[0] <= now - self.window:
            bucket.times.popleft()
        return bucket

    def _penalise(self, bucket: _Bucket, now: float) -> Reply:
        bucket.penalty_until = now + self.penalty
        wait = str(max(1, math.ceil(self.penalty)))
        return error(429, "CMN-301", "Request rate exceeded", **{"Retry-After": wait})
