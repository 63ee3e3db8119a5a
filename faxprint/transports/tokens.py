"""An OAuth access token shared by every faxprint process of one account, on disk.

Every CUPS job is a new process, and RingCentral's auth endpoints allow only a few calls a
minute: getting a token per job would soon be refused. So the token lives in a file
readable only by its owner (the user the backend runs as), and processes take turns
through a lock beside it (``flock``: released by the kernel when a holder dies, so a
killed backend never leaves the others waiting). Under the lock a process reads the
token; if it is missing or expires within ``margin`` seconds, it gets a new one (with the
refresh token while that is valid, else a full grant) and writes it back atomically.
Everyone else waits for the lock, then finds the fresh token: one token request for any
number of concurrent jobs.

Beside the token lies the account's rate-limit pause: when the service answers 429 with
``Retry-After``, the time it named is written there, and every process of the account
waits it out instead of asking (and being refused) again.

The file holds a secret: it is created 0600 in a folder of the owner's (0700), never
follows a link, and is replaced by rename so a reader never sees half of one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from faxprint.errors import ConfigError, ServiceUnavailable

logger = logging.getLogger(__name__)

MARGIN = 300.0  # renew a token this many seconds before it expires


@dataclass(frozen=True)
class Token:
    """An access token and what renews it; times in seconds since the epoch."""

    access_token: str
    expires_at: float
    refresh_token: str = ""
    refresh_expires_at: float = 0.0

    def __repr__(self) -> str:  # never the secrets
        return f"Token(expires_at={self.expires_at:.0f})"

    def usable(self, now: float, margin: float = MARGIN) -> bool:
        return bool(self.access_token) and self.expires_at - margin > now

    def refreshable(self, now: float, margin: float = MARGIN) -> bool:
        return bool(self.refresh_token) and self.refresh_expires_at - margin > now


#: Get a token: given the cached one when it can be refreshed (else None).
Fetch = Callable[[Token | None], Token]


class TokenCache:
    """The token file of one account, and its lock."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self.pause_path = path.with_name(path.name + ".retry-after")
        self.clock = clock

    def get(self, fetch: Fetch, *, margin: float = MARGIN) -> Token:
        """Return a token valid for at least ``margin`` seconds, fetching one at most once
        among all processes waiting at the same time."""
        with self._locked():
            cached = self._read()
            now = self.clock()
            if cached is not None and cached.usable(now, margin):
                return cached
            token = fetch(cached if cached is not None and cached.refreshable(now) else None)
            self._write(token)
            return token

    def put(self, token: Token) -> None:
        """Keep ``token``, got outside :meth:`get` (a credentials check)."""
        with self._locked():
            self._write(token)

    def renew(self, refused: Token, fetch: Fetch) -> Token:
        """Return a token to use instead of ``refused`` (the service no longer takes it):
        one another process got meanwhile, else a new one, by the refresh token while
        that is valid (a refresh continues the session; a grant opens a new one)."""
        with self._locked():
            cached = self._read()
            now = self.clock()
            if (
                cached is not None
                and cached.access_token != refused.access_token
                and (cached.usable(now))
            ):  # another process got one meanwhile
                return cached
            token = fetch(cached if cached is not None and cached.refreshable(now) else None)
            self._write(token)
            return token

    def pause(self, seconds: float) -> None:
        """Ask every process of the account to wait ``seconds`` (a 429's Retry-After).

        Without the lock (a caller may hold it, getting a token): the file is replaced
        whole, and of two writers at once either pause is a fair one to keep.
        """
        until = self.clock() + seconds
        self._folder()
        if until > self._paused_until():
            write_private(self.pause_path, json.dumps({"until": until}))

    def paused(self) -> float:
        """Return the seconds left of a pause the service asked for (0: none)."""
        return max(0.0, self._paused_until() - self.clock())

    def _paused_until(self) -> float:
        try:
            fd = os.open(self.pause_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return 0.0
        with os.fdopen(fd, "rb") as stream:
            try:
                return float(json.loads(stream.read(4096))["until"])
            except (ValueError, KeyError, TypeError):
                return 0.0

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._folder()
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(self.lock_path, flags, 0o600)
        except OSError as exc:
            raise ConfigError(f"token lock {self.lock_path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _folder(self) -> None:
        folder = self.path.parent
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = folder.lstat()
        except OSError as exc:
            raise ConfigError(f"token folder {folder}: {exc.strerror}") from None
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
            raise ConfigError(
                f"token folder {folder} must be a folder of this user's that no one else can "
                f"enter (chown it to uid {os.geteuid()}, chmod 0700)"
            )

    def _read(self) -> Token | None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(f"token file {self.path}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as stream:
            try:
                data = json.loads(stream.read(64 * 1024))
                return Token(**{key: data[key] for key in Token.__dataclass_fields__})
            except (ValueError, KeyError, TypeError):
                return None  # damaged: get a new one

    def _write(self, token: Token) -> None:
        write_private(self.path, json.dumps(asdict(token)))


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` whole with ``text``, readable by its owner only, never through a
    link; raise ServiceUnavailable when it cannot be written (a full disk)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        temporary.unlink(missing_ok=True)
        fd = os.open(temporary, flags, 0o600)
        with os.fdopen(fd, "w") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as exc:  # nothing was sent: try again later
        raise ServiceUnavailable(f"{path} cannot be written: {exc.strerror}") from None


def read_json(path: Path) -> dict[str, Any] | None:
    """Return the JSON object in ``path``; None when it is missing, unreadable or no object."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Keep ``data`` in ``path`` as :func:`write_private` does, if it can: for a cache,
    which faxing does without."""
    try:
        write_private(path, json.dumps(data))
    except ServiceUnavailable as error:  # a cache: faxing works without it
        logger.debug("%s", error.message)
