"""What every HTTP transport shares: its session, and requests' exceptions translated.

requests' exceptions become faxprint's here and nowhere else. How far the request body
got decides between "not sent" (safe to retry) and "maybe sent" (uncertain).

A body handed to the kernel is not yet the service's: a slow service may leave the last
megabytes in this server's socket buffer. The session's connections say which socket the
request goes out on (:data:`_wire`, per thread), so that a cancel can ask the kernel how
much of the request has not even left this server (:func:`unsent`, SIOCOUTQNSD) and,
while that is anything, cut the connection at once (:func:`cut`, a reset: the kernel
drops what it still holds): the service can then never complete, and accept, the
request. Bytes sent but not yet acknowledged do not count: the service (or a proxy on
the way) may have them all already.

:func:`probe` reaches an account's endpoint step by step (DNS, TCP, TLS, a GET) without
sending a fax or a secret, for ``faxprint doctor`` to say which step fails.
"""

from __future__ import annotations

import contextlib
import fcntl
import re
import socket
import struct
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from faxprint.config import Account
from faxprint.errors import ConfigError, FaxPrintError, ServiceUnavailable, UncertainError
from faxprint.text import printable
from faxprint.transports.multipart import CHUNK_SIZE, MultipartBody

if TYPE_CHECKING:
    import ssl

    import requests


def new_session() -> requests.Session:
    """A session whose connections send the body in CHUNK_SIZE blocks.

    urllib3 reads a file-like body 16 KiB at a time: a 200 MB upload took 12,000 reads
    and as many send calls, a third of its time (measured, bench/large.py).
    """
    import requests.adapters
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class Connection(HTTPConnection):
        def endheaders(self, *args: Any, **kwargs: Any) -> None:
            super().endheaders(*args, **kwargs)
            _wire.sock = self.sock  # connected now: the body goes out on it

    class TlsConnection(HTTPSConnection):
        def endheaders(self, *args: Any, **kwargs: Any) -> None:
            super().endheaders(*args, **kwargs)
            _wire.sock = self.sock

    class Pool(HTTPConnectionPool):
        ConnectionCls = Connection

    class TlsPool(HTTPSConnectionPool):
        ConnectionCls = TlsConnection

    class Adapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, blocksize=CHUNK_SIZE, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TlsPool}

    session = requests.Session()
    for prefix in ("https://", "http://"):
        session.mount(prefix, Adapter())
    return session


class _Wire(threading.local):
    sock: socket.socket | None = None
    cut: bool = False  # this request's connection was cut before the service had it all


_wire = _Wire()


def starting() -> None:
    """Forget the last request's connection: a new request begins on this thread."""
    _wire.sock, _wire.cut = None, False


#: linux/sockios.h: the bytes of a socket's send queue not yet transmitted (SIOCOUTQ
#: would count those transmitted and not yet acknowledged too: the peer may have them).
SIOCOUTQNSD = 0x894B


def unsent() -> int | None:
    """Return how many bytes of this thread's request have not left this server yet;
    None when it cannot be told."""
    sock = _wire.sock
    if sock is None or sock.fileno() < 0:
        return None
    try:
        answer = fcntl.ioctl(sock.fileno(), SIOCOUTQNSD, b"\0" * 4)
    except OSError:
        return None
    return int(struct.unpack("i", answer)[0])


def cut() -> bool:
    """Reset this thread's connection now, dropping whatever the kernel still holds of the
    request: the service can never have all of it. Return whether there was one."""
    sock = _wire.sock
    if sock is None or sock.fileno() < 0:
        return False
    with contextlib.suppress(OSError):  # a reset, not a close: the rest is dropped
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    _wire.cut = True
    return True


def delivered(body: MultipartBody | None) -> bool:
    """Tell whether the service may have the whole request: every byte handed out, and
    the connection not cut before it had them."""
    return body is not None and body.complete and not _wire.cut


def translate(exc: Exception, body: MultipartBody | None = None) -> FaxPrintError:
    """Map a requests exception to faxprint's tree; the body says how far the upload got
    (a request without one, such as a GET, can never have sent a fax)."""
    import requests

    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return ConfigError("the account's URL is not usable")
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return ServiceUnavailable("the service did not answer the connection (timeout)")
    if isinstance(exc, requests.exceptions.SSLError) and _certificate_refused(exc):
        # Found before a byte of the fax is sent, and no retry can change it: the admin
        # must fix the URL or name the CA, so the queue stops instead of retrying forever.
        return ConfigError(
            "the service's TLS certificate could not be verified: check the account's url, "
            'or name the CA that signed it with verify = "/path/to/ca.pem"'
        )
    if delivered(body):
        return UncertainError(LOST_ANSWER)
    if isinstance(exc, requests.exceptions.SSLError):
        return ServiceUnavailable(f"the TLS connection to the service failed: {_reason(exc)}")
    if isinstance(exc, requests.exceptions.Timeout):
        return ServiceUnavailable("the service stopped responding during the upload")
    if isinstance(exc, requests.exceptions.ConnectionError):
        return ServiceUnavailable(f"cannot reach the service: {_reason(exc)}")
    return ServiceUnavailable(f"the upload failed: {_reason(exc)}")


def check_verify(account: Account) -> None:
    """Refuse a ``verify`` CA file that is not there (requests would raise a bare OSError)."""
    import os

    if isinstance(account.verify, str) and not os.path.exists(account.verify):
        raise ConfigError(
            f"account {account.name!r}: verify names {account.verify}, which does not exist; "
            "give the CA file (PEM) that signed the service's certificate"
        )


def _certificate_refused(exc: BaseException) -> bool:
    """Tell whether the service's certificate failed verification (untrusted, wrong name).

    requests wraps ssl's error in urllib3's, in its own: follow causes and arguments.
    """
    import ssl

    pending: list[object] = [exc]
    seen: set[int] = set()
    while pending:
        error = pending.pop()
        if not isinstance(error, BaseException) or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, ssl.SSLCertVerificationError):
            return True
        pending += [*error.args, error.__cause__, error.__context__, getattr(error, "reason", None)]
    return False


LOST_ANSWER = (
    "the whole fax was uploaded but the service's answer was lost: it may have been "
    "accepted. Check the account's sent faxes before sending it again"
)


def _reason(exc: Exception) -> str:
    # requests' messages repeat the URL; the URL holds no secret, but keep lines short.
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "Connection reset"):
        if marker in text:
            return marker.lower()
    return type(exc).__name__


# -- probing an endpoint ----------------------------------------------------------------

PROBE_TIMEOUT = 10.0  # seconds for each step of a probe


@dataclass(frozen=True)
class Probe:
    """How far reaching an endpoint got: ``failed`` names the step that failed (empty when
    the endpoint answered HTTP); ``detail`` says what was found, or why the step failed."""

    failed: Literal["", "resolve", "connect", "tls", "http"]
    detail: str


def probe(account: Account) -> Probe:
    """Reach the account's endpoint without sending a fax or its password: DNS, TCP, TLS
    (verified as sending verifies it), then an HTTP GET (the FaxOut API answers it without
    faxing anything)."""
    parts = urlsplit(account.url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return Probe("resolve", f"{host} does not resolve: {exc.strerror or exc}")
    try:
        connection = socket.create_connection((host, port), timeout=PROBE_TIMEOUT)
    except OSError as exc:
        return Probe("connect", f"cannot connect to {host}:{port}: {exc.strerror or exc}")
    try:
        if parts.scheme == "https":
            try:
                connection = _tls(account).wrap_socket(connection, server_hostname=host)
            except OSError as exc:  # ssl.SSLError is an OSError
                return Probe("tls", f"TLS with {host}:{port} failed: {printable(str(exc))}")
        status = _http_get(connection, host, parts.path or "/")
    finally:
        connection.close()
    if status is None:
        return Probe("http", f"{host}:{port} does not answer HTTP")
    where = f"{len(addresses)} address{'es' * (len(addresses) != 1)}"
    return Probe("", f"{account.url} reached ({where}, {parts.scheme.upper()}, GET: HTTP {status})")


def _tls(account: Account) -> ssl.SSLContext:
    import ssl

    if account.verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if isinstance(account.verify, str):
        return ssl.create_default_context(cafile=account.verify)
    import certifi  # requests' CA bundle: what sending uses

    return ssl.create_default_context(cafile=certifi.where())


def _http_get(connection: socket.socket, host: str, path: str) -> int | None:
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    try:
        connection.settimeout(PROBE_TIMEOUT)
        connection.sendall(request.encode("ascii", "replace"))
        line = connection.recv(256).split(b"\r\n", 1)[0].decode("latin-1")
    except OSError:
        return None
    match = re.match(r"HTTP/\d(?:\.\d)? (\d{3})", line)
    return int(match[1]) if match else None
