"""How the service and its clients talk: JSON objects, one a line, over a Unix socket
beside the journal.

The socket lives in the journal's folder, which only its owner (``lp`` on a print server)
and root may enter; a client also refuses a socket that is a link or belongs to anyone
else. A line is at most 64 KiB: anything longer, or not a JSON object, is garbage, said
in one line and dropped.
"""

from __future__ import annotations

import json
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MAX_LINE = 64 * 1024


class WireError(Exception):
    """The other end said something that is not a message, or went away."""


def socket_path(journal: Path) -> Path:
    """The service's socket for this journal."""
    return journal.parent / "serve.sock"


def lock_path(journal: Path) -> Path:
    """The file only one service per journal may hold locked."""
    return journal.parent / "serve.lock"


def connect(path: Path, timeout: float = 1.0) -> socket.socket | None:
    """Connect to the service; None when it is not there (or not to be trusted: a link, or
    another user's socket), so the caller does the work itself."""
    reached = reach(path, timeout)
    return reached if isinstance(reached, socket.socket) else None


def reach(path: Path, timeout: float = 1.0) -> socket.socket | str:
    """Connect to the service, or say in words why not: ``""`` when none runs (no socket),
    else one line (a socket of another user, one this user may not reach, a dead one)."""
    try:
        info = path.lstat()
        folder = path.parent.stat()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        return f"the faxprint serve socket {path} cannot be reached ({exc.strerror})"
    trusted = {0, os.geteuid(), folder.st_uid}
    if not stat.S_ISSOCK(info.st_mode):
        return f"{path} is not a socket: not used"
    if info.st_uid not in trusted:
        return (f"the socket {path} belongs to uid {info.st_uid}, not to root or the "
                "journal's owner: not used")  # fmt: skip
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(timeout)
    try:
        client.connect(str(path))
    except FileNotFoundError:  # it went away meanwhile: the service stopped
        client.close()
        return ""
    except OSError as exc:
        client.close()
        return f"faxprint serve does not answer on {path} ({exc.strerror or exc})"
    return client


def send(connection: socket.socket, message: dict[str, Any]) -> None:
    """Write one message."""
    data = json.dumps(message, separators=(",", ":")).encode() + b"\n"
    if len(data) > MAX_LINE:
        raise WireError("a message over 64 KiB")
    connection.sendall(data)


def messages(connection: socket.socket) -> Iterator[dict[str, Any]]:
    """Read messages until the other end closes; WireError for garbage."""
    buffered = b""
    while True:
        while b"\n" not in buffered:
            if len(buffered) > MAX_LINE:
                raise WireError("a line over 64 KiB")
            chunk = connection.recv(65536)
            if not chunk:
                if buffered.strip():
                    raise WireError("the connection ended inside a message")
                return
            buffered += chunk
        line, _, buffered = buffered.partition(b"\n")
        try:
            message = json.loads(line)
        except ValueError:
            raise WireError("a line that is not JSON") from None
        if not isinstance(message, dict):
            raise WireError("a line that is not a JSON object")
        yield message
