"""Who waits for news of which job: the backends and commands connected to the service,
each told what became of its job (and of every fax a printer job became)."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections import defaultdict
from typing import Any

from faxprint.link import wire
from faxprint.outcome import JobKey

logger = logging.getLogger(__name__)


def base(key: str) -> str:
    """The job a fax belongs to: itself, or the printer job a mail merge was cut from."""
    parsed = JobKey.parse(key)
    return str(parsed.base) if parsed is not None else key


class Hub:
    """Connections by the job they wait for."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, list[socket.socket]] = defaultdict(list)

    def subscribe(self, key: str, connection: socket.socket) -> None:
        with self._lock:
            self._waiting[base(key)].append(connection)

    def unsubscribe(self, connection: socket.socket) -> None:
        with self._lock:
            for connections in self._waiting.values():
                if connection in connections:
                    connections.remove(connection)

    def waiting(self, key: str) -> bool:
        """Tell whether anyone waits for news of ``key``'s job."""
        with self._lock:
            return bool(self._waiting.get(base(key)))

    def publish(self, key: str, message: dict[str, Any], *, last: bool = False) -> None:
        """Tell everyone waiting for ``key``'s job; ``last``: and let them go."""
        with self._lock:
            connections = list(self._waiting.get(base(key), ()))
            if last:
                self._waiting.pop(base(key), None)
        for connection in connections:
            try:
                wire.send(connection, {**message, "key": key})
            except (OSError, wire.WireError) as exc:  # it went away: the journal tells
                logger.debug("a client waiting for %s left: %s", key, exc)
            if last:
                _close(connection)


def _close(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    connection.close()
