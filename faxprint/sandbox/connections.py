"""The sandbox's open connections, so that stopping can close idle ones and wait for busy ones."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator


class Connections:
    """Track client sockets as idle (between requests) or busy (serving one)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._idle: set[socket.socket] = set()
        self._busy: set[socket.socket] = set()

    def opened(self, sock: socket.socket) -> None:
        """Register a new connection as idle."""
        with self._changed:
            self._idle.add(sock)

    def closed(self, sock: socket.socket) -> None:
        """Forget a connection."""
        with self._changed:
            self._idle.discard(sock)
            self._busy.discard(sock)
            self._changed.notify_all()

    @contextlib.contextmanager
    def busy(self, sock: socket.socket) -> Iterator[None]:
        """Mark a connection busy while the block runs."""
        with self._changed:
            self._idle.discard(sock)
            self._busy.add(sock)
        try:
            yield
        finally:
            with self._changed:
                self._busy.discard(sock)
                self._idle.add(sock)
                self._changed.notify_all()

    def wait_quiet(self, timeout: float) -> bool:
        """Wait up to timeout seconds for no connection to be busy; tell whether none is."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def close_idle(self) -> None:
        """Shut down connections waiting for a next request."""
        with self._changed:
            _shut(self._idle)

    def close_all(self) -> None:
        """Shut down every connection, busy ones included."""
        with self._changed:
            _shut(self._idle | self._busy)


def _shut(socks: set[socket.socket]) -> None:
    for sock in socks:
        # Shutting down (not closing) wakes the thread blocked on it; it closes its own socket.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
