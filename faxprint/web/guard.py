"""The outbox's door: who is asking (a session, or HTTP Basic for scripts), how often a
name or an address may fail to sign in, and the checks every request passes (CSRF on
what changes something, security headers on every answer).

A session is Flask's signed cookie (HttpOnly, SameSite=Strict, Secure under TLS) holding
the user's name and a CSRF token, signed with a key kept 0600 beside the journal. Forms
and the page's scripts send the token back; a script using Basic credentials sends JSON,
which no other site's form can. Passwords are checked by the root helper
(:mod:`faxprint.web.auth`); a Basic check is remembered for a minute by an HMAC of the
credentials, never the password itself.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

#: Failed sign-ins allowed per user and per address within the window, then 429.
PER_USER, PER_ADDRESS, WINDOW = 5, 20, 300.0
BASIC_MEMORY = 60.0
#: A session lasts this long from its sign-in, used or not (signing out ends it sooner).
SESSION_SECONDS = 8 * 3600

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


def secret_key(folder: Path) -> bytes:
    """The key that signs sessions: made once, 0600, in the journal's folder."""
    path = folder / "web-secret"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        key = secrets.token_bytes(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile
            return path.read_bytes()
        with os.fdopen(fd, "wb") as out:
            out.write(key)
        return key


class SignInLimits:
    """Failed sign-ins per user and per address in a sliding window. Only failures make
    entries (asking makes none), and the table is bounded: names nobody signs in with
    cannot fill the memory."""

    MAX_ENTRIES = 10_000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def wait(self, user: str, address: str) -> float:
        """Seconds before ``user`` from ``address`` may try again (0: now)."""
        now = self.clock()
        with self._lock:
            waits = [self._wait(f"user:{user.casefold()}", PER_USER, now),
                     self._wait(f"addr:{address}", PER_ADDRESS, now)]  # fmt: skip
        return max(waits)

    def failed(self, user: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) >= self.MAX_ENTRIES:
                self._prune(now)
            for name in (f"user:{user.casefold()}", f"addr:{address}"):
                self._failures.setdefault(name, deque()).append(now)

    def _wait(self, name: str, limit: int, now: float) -> float:
        failures = self._failures.get(name)
        if failures is None:
            return 0.0
        while failures and failures[0] <= now - WINDOW:
            failures.popleft()
        if not failures:
            del self._failures[name]
            return 0.0
        return failures[0] + WINDOW - now if len(failures) >= limit else 0.0

    def _prune(self, now: float) -> None:
        for name in list(self._failures):
            self._wait(name, 1, now)
        if len(self._failures) >= self.MAX_ENTRIES:  # all recent: the oldest half goes
            for name in sorted(self._failures, key=lambda n: self._failures[n][-1])[
                : self.MAX_ENTRIES // 2
            ]:
                del self._failures[name]


class BasicMemory:
    """Basic credentials that passed, for a minute, by an HMAC (never the password)."""

    def __init__(self, key: bytes, clock: Callable[[], float] = time.monotonic) -> None:
        self.key = key
        self.clock = clock
        self._lock = threading.Lock()
        self._passed: dict[str, float] = {}

    def _mac(self, user: str, password: str) -> str:
        data = f"{user}\0{password}".encode("utf-8", "surrogatepass")
        return hmac.new(self.key, data, hashlib.sha256).hexdigest()

    def known(self, user: str, password: str) -> bool:
        mac, now = self._mac(user, password), self.clock()
        with self._lock:
            until = self._passed.get(mac, 0.0)
            if until <= now:
                self._passed.pop(mac, None)
            return until > now

    def remember(self, user: str, password: str) -> None:
        with self._lock:
            if len(self._passed) > 1000:
                self._passed.clear()
            self._passed[self._mac(user, password)] = self.clock() + BASIC_MEMORY


def same_token(given: str | None, expected: str | None) -> bool:
    """Compare CSRF tokens in constant time; nothing matches a missing one."""
    if not (given and expected):
        return False
    return hmac.compare_digest(str(given).encode("utf-8", "replace"),
                               str(expected).encode("utf-8", "replace"))  # fmt: skip


def same_origin(origin: str | None, fetch_site: str | None, host: str) -> bool:
    """Whether a request that has no session yet (signing in) comes from this site: the
    browser's Sec-Fetch-Site says so, or (older browsers) its Origin names this host; a
    script that sends neither is let through (it is not a browser led by another site).
    An Origin of "null" (a page that sends no referrer, a sandboxed frame) alone proves
    nothing either way: refused unless Sec-Fetch-Site vouches."""
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    if origin is None:
        return True
    return origin != "null" and origin.split("://", 1)[-1] == host


class Revoked:
    """Sessions signed out before their cookie expired, refused until it would have."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}

    def revoke(self, sid: str, until: float) -> None:
        with self._lock:
            now = self.clock()
            self._until = {s: u for s, u in self._until.items() if u > now}
            self._until[sid] = until

    def __contains__(self, sid: object) -> bool:
        with self._lock:
            return self._until.get(str(sid), 0.0) > self.clock()


def headers(secure: bool) -> dict[str, str]:
    """The security headers of every answer."""
    sent = {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if secure:
        sent["Strict-Transport-Security"] = "max-age=31536000"
    return sent
