"""The service's socket: backends and commands hand jobs over and wait for their news.

Messages (:mod:`faxprint.link.wire`): ``{"op": "queued", "key": K}`` after the job was
written to the queue (the service answers ``accepted``, then ``fax`` events and one
``verdict``, and closes); ``{"op": "cancel", "key": K}``; ``{"op": "ping"}``. Anything
else is answered with one ``error`` line and the connection closed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import socketserver
from collections.abc import Callable
from pathlib import Path
from typing import Any

from faxprint.link import wire

logger = logging.getLogger(__name__)

#: Handles one message of a connection; False ends the connection.
Dispatch = Callable[[dict[str, Any], socket.socket], bool]


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, path: Path, dispatch: Dispatch) -> None:
        self.dispatch = dispatch
        super().__init__(str(path), _Handler)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        connection: socket.socket = self.request
        connection.settimeout(None)
        try:
            for message in wire.messages(connection):
                if not self.server.dispatch(message, connection):
                    return
        except wire.WireError as exc:
            logger.warning("a client sent garbage (%s); it was told so", exc)
            with contextlib.suppress(OSError):
                wire.send(connection, {"event": "error", "message": f"not understood: {exc}"})
        except OSError as exc:  # it went away
            logger.debug("a client left: %s", exc)


def listen(path: Path, dispatch: Dispatch) -> _Server:
    """Bind the socket (replacing a dead service's), private to this user, and return the
    server (``serve_forever`` in a thread)."""
    path.unlink(missing_ok=True)  # the caller holds the journal's service lock
    previous = os.umask(0o177)
    try:
        server = _Server(path, dispatch)
    finally:
        os.umask(previous)
    os.chmod(path, 0o600)
    return server
