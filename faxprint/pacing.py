"""Pacing: an account's uploads kept inside its service's rate, by every process at once.

Services limit how many faxes an account may send in a window (RingCentral: 10 a minute
in the Heavy group by default, and over the limit a penalty that every further request
restarts). faxprint does not find the limit by bouncing off it: before each upload a
process takes a turn from the account's record of recent uploads, shared by every process
that sends for the account (the backends, the watcher, `faxprint serve`, `faxprint send`)
through a file and a lock beside the journal, and waits (or defers the job) when the window
is full (with a journal several servers share, the record is in the journal: every
server's uploads count). The service's own count, where it gives one (RingCentral's
``X-Rate-Limit-*`` headers on every answer), corrects the record: what another client of
the same account sent counts too.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faxprint.errors import ConfigError, FaxPrintError
from faxprint.journal import Placed

logger = logging.getLogger(__name__)

_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)?\s*")
_UNIT = {None: 1.0, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
#: The most timestamps kept: a limit above this is treated as this.
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class Rate:
    """At most ``limit`` uploads in any ``window`` seconds."""

    limit: int
    window: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        """Read ``"10/60s"`` (also ``10/1m``, ``10/60``); raise ValueError otherwise."""
        match = _RATE.fullmatch(text)
        if match is None:
            raise ValueError(f'rate {text!r} is not N/SECONDS (e.g. "10/60s")')
        limit, window = int(match[1]), float(match[2]) * _UNIT[match[3]]
        if limit < 1 or window <= 0:
            raise ValueError(f"rate {text!r} must allow at least 1 upload in a window over 0")
        return cls(min(limit, MAX_LIMIT), window)

    def __str__(self) -> str:
        return f"{self.limit} per {self.window:g} s"


class Pacer:
    """An account's recent uploads, in a file every process of the account shares."""

    def __init__(
        self, path: Path, rate: Rate | None, *, clock: Callable[[], float] = time.time,
        shared: Callable[[], AbstractContextManager[dict[str, Any]]] | None = None,
    ) -> None:  # fmt: skip
        self.path = path
        self.rate = rate  # None: no limit known, nothing recorded
        self.clock = clock
        self.shared = shared  # the record in a journal several servers share, else the file

    def turn(self) -> float:
        """Take a turn to upload now if the window has room (return 0), else return the
        seconds until it has (and take nothing)."""
        return self._ask(take=True)

    def wait(self) -> float:
        """The seconds until a turn would be given (0: now); takes nothing."""
        return self._ask(take=False)

    def _ask(self, *, take: bool) -> float:
        if self.rate is None:
            return 0.0
        with self._locked() as record:
            rate = self._rate(record)
            now, window = self.clock(), _padded(rate)
            sent = _recent(record, now - window)
            if take:
                record["sent"] = sent if len(sent) >= rate.limit else [*sent, now]
            if len(sent) < rate.limit:
                return 0.0
            return max(0.01, sent[len(sent) - rate.limit] + window - now)

    def learned(self, limit: int, remaining: int, window: float) -> None:
        """Take the service's own count from an answer: its limit and window, and as many
        recent uploads as it counted (a client elsewhere may have sent some). A record
        that cannot be written now (a shared journal down) is left as it is: this runs
        after the service has answered, and the answer must stand (a fault here would
        turn an accepted fax into one to send again)."""
        if self.rate is None or limit < 1 or window <= 0:
            return
        try:
            with self._locked() as record:
                now = self.clock()
                record.update(limit=min(limit, MAX_LIMIT), window=window)
                sent = _recent(record, now - window)
                used = max(0, min(limit, limit - remaining))
                record["sent"] = sent + [now] * max(0, used - len(sent))
        except FaxPrintError as error:
            logger.warning("the account's rate record was not updated: %s", error.message)

    def learn(self, headers: dict[str, str]) -> None:
        """Take the service's count from an answer's headers: "every answer carries
        X-Rate-Limit-Limit, -Remaining and -Window" (RingCentral, [docs]
        rate-limits.md); an answer without them (a proxy's) changes nothing."""
        said = {name.lower(): value for name, value in headers.items()}
        try:
            limit = int(said["x-rate-limit-limit"])
            remaining = int(said["x-rate-limit-remaining"])
            window = float(said["x-rate-limit-window"])
        except (KeyError, ValueError):
            return
        self.learned(limit, remaining, window)

    def current(self) -> Rate | None:
        """The rate in force: what the service said last, else what was configured."""
        if self.rate is None:
            return None
        with self._locked() as record:
            return self._rate(record)

    def _rate(self, record: dict[str, Any]) -> Rate:
        assert self.rate is not None
        limit, window = record.get("limit"), record.get("window")
        if isinstance(limit, int) and isinstance(window, (int, float)) and limit > 0:
            return Rate(limit, float(window))
        return self.rate

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """The record, locked; written back whole when the block ends."""
        if self.shared is not None:
            with self.shared() as record:
                yield record
            return
        self._folder()
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            raise ConfigError(f"rate record {self.path}: {exc.strerror}") from None
        with os.fdopen(fd, "r+b") as stream:
            fcntl.flock(stream.fileno(), fcntl.LOCK_EX)  # released when the file closes
            try:
                record = json.loads(stream.read(1024 * 1024) or b"{}")
            except ValueError:
                record = {}
            if not isinstance(record, dict):
                record = {}
            yield record
            data = json.dumps(record).encode()
            stream.seek(0)
            stream.truncate()
            stream.write(data)

    def _folder(self) -> None:
        folder = self.path.parent
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"rate record folder {folder}: {exc.strerror}") from None


def _padded(rate: Rate) -> float:
    """The window as counted here: a little longer than the service's, as a turn is taken
    just before the upload and the service counts the request when it arrives (the next
    upload may arrive sooner than the one a window before it: its bytes are fewer)."""
    return rate.window + min(1.0, max(0.25, 0.02 * rate.window))


def _recent(record: dict[str, Any], since: float) -> list[float]:
    """The record's uploads after ``since``, oldest first (a damaged record: none)."""
    sent = record.get("sent")
    if not isinstance(sent, list):
        return []
    return sorted(float(t) for t in sent if isinstance(t, (int, float)) and t > since)


def pacer_for(
    account_name: str, rate: Rate | None, state: Path, journal: Placed | None = None
) -> Pacer:
    """The pacer of an account: its record in the transports' state folder (one per
    user), or, when ``journal`` (a config) names a journal several servers share, in the
    journal: then every server's uploads count against the one rate."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", account_name) or "_"
    if journal is None or not journal.database:
        return Pacer(state / f"pace-{safe}.json", rate)
    settings = journal

    @contextlib.contextmanager
    def shared() -> Iterator[dict[str, Any]]:
        from faxprint.journal import open_journal

        with (
            open_journal(settings) as opened,
            opened.pacing_record(f"account:{account_name}") as record,
        ):
            yield record

    return Pacer(state / f"pace-{safe}.json", rate, shared=shared)
