"""How the service and its clients talk: JSON objects, one a line, over a Unix socket
beside the journal.

The socket lives in the journal's folder, which only its owner (``lp`` on a print server)
and root may enter; a client also refuses a socket that is a link or belongs to anyone
else. A line is at most 64 KiB: anything longer, or not a JSON object, is garbage, said
in one line and dropped.
"""

from __future__ import annotations

import _json
import _socket
import math
import os
import stat

TYPE_CHECKING = False  # every printed job imports this: typing only for the checker
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    Socket = _socket.socket  # a client's Client, or the service's socket.socket

MAX_LINE = 64 * 1024


class Client(_socket.socket):
    """A connection to the service: the socket module's context manager, without the
    module (it imports enum and more, which every printed job would pay for)."""

    __slots__ = ()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class WireError(Exception):
    """The other end said something that is not a message, or went away."""


def socket_path(journal: str | os.PathLike[str]) -> str:
    """The service's socket for this journal."""
    return os.path.join(os.path.dirname(os.fspath(journal)), "serve.sock")


def lock_path(journal: str | os.PathLike[str]) -> str:
    """The file only one service per journal may hold locked."""
    return os.path.join(os.path.dirname(os.fspath(journal)), "serve.lock")


def connect(path: str | os.PathLike[str], timeout: float = 1.0) -> Client | None:
    """Connect to the service; None when it is not there (or not to be trusted: a link, or
    another user's socket), so the caller does the work itself."""
    reached = reach(path, timeout)
    return None if isinstance(reached, str) else reached


def reach(path: str | os.PathLike[str], timeout: float = 1.0) -> Client | str:
    """Connect to the service, or say in words why not: ``""`` when none runs (no socket),
    else one line (a socket of another user, one this user may not reach, a dead one)."""
    path = os.fspath(path)
    try:
        info = os.lstat(path)
        folder = os.stat(os.path.dirname(path) or ".")
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
    client = Client(_socket.AF_UNIX, _socket.SOCK_STREAM)
    client.settimeout(timeout)
    try:
        client.connect(path)
    except FileNotFoundError:  # it went away meanwhile: the service stopped
        client.close()
        return ""
    except OSError as exc:
        client.close()
        return f"faxprint serve does not answer on {path} ({exc.strerror or exc})"
    return client


def send(connection: Socket, message: dict[str, Any]) -> None:
    """Write one message."""
    data = dumps(message).encode("ascii") + b"\n"
    if len(data) > MAX_LINE:
        raise WireError("a message over 64 KiB")
    connection.sendall(data)


def messages(connection: Socket) -> Iterator[dict[str, Any]]:
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
        message = loads(line)
        if not isinstance(message, dict):
            raise WireError("a line that is not a JSON object")
        yield message


# JSON through the json module's C core (_json): the json package imports re, and with
# it enum, which a printed job would pay for on every run. A test keeps these two in
# agreement with the json module.


def dumps(value: Any) -> str:
    """One JSON text, ASCII only, no spaces: of strings, numbers, booleans, None, lists
    and dicts (keys made strings); ValueError for anything else (NaN included)."""
    if isinstance(value, str):
        return str(_json.encode_basestring_ascii(value))
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not JSON")
        return float.__repr__(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    raise ValueError(f"a {type(value).__name__} is not JSON")


class _Decoding:
    """What the C scanner asks of its decoder (json.JSONDecoder's defaults, strict)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    @staticmethod
    def parse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")


_scan = _json.make_scanner(_Decoding())  # type: ignore[arg-type]


def loads(line: bytes | str) -> Any:
    """The JSON value of one line; WireError if it is not exactly one JSON value."""
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
        start = len(text) - len(text.lstrip(" \t\r\n"))
        value, end = _scan(text, start)
    except (StopIteration, ValueError, RecursionError):
        raise WireError("a line that is not JSON") from None
    if text[end:].strip(" \t\r\n"):
        raise WireError("a line that is not JSON")
    return value
