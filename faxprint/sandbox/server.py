"""SandboxServer: a FaxOut-compatible server on loopback, to try faxprint against and test it.

Use it in-process::

    with SandboxServer(store=tmp_path) as sandbox:
        sandbox.faults.push(Fault.code(5))
        ...post to sandbox.url...
        assert sandbox.requests[-1].code == 5

``faxout_rate=(N, SECONDS)`` limits the FaxOut endpoint to N requests in any SECONDS,
read on ``clock`` (``faults.RateLimit``: 429 with Retry-After beyond, an assumption of
the sandbox's own). The request log has one record per fax request, its HTTP status
included (None: closed unanswered); the REST side keeps its own (``rest.requests``).

It listens when built (so ``url`` has the port), serves once started, and on stop lets
requests in hand finish (up to a grace period) before closing every connection and
joining every thread.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from faxprint.sandbox.accounts import DEFAULT_ACCOUNTS, Account, SandboxConfigError, check_accounts
from faxprint.sandbox.connections import Connections
from faxprint.sandbox.exchange import Sandbox
from faxprint.sandbox.faults import FaultQueue, RateLimit
from faxprint.sandbox.handler import ENDPOINT, Handler
from faxprint.sandbox.rest import RestService
from faxprint.sandbox.rules import DEFAULT_COVER_PAGES, Rules
from faxprint.sandbox.store import RequestRecord, Store, StoredFax

logger = logging.getLogger(__name__)

#: How often serve_forever looks for a stop request; stop() waits up to this long.
_POLL = 0.02


def address_family(host: str, port: int) -> int:
    """Return the socket family to listen on host with."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    return int(infos[0][0])


def is_loopback(host: str) -> bool:
    """Tell whether host names only loopback addresses."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


class SandboxServer:
    """A strict FaxOut server with a store, a request log and injectable faults."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        store: Path | str,
        accounts: Mapping[str, Account] | None = None,
        cover_pages: Iterable[str] | None = None,
        delay: float = 0.0,
        public: bool = False,
        timeout: float = 60.0,
        rest: RestService | None = None,
        faxout_rate: tuple[int, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not public and not is_loopback(host):
            raise SandboxConfigError(
                f"{host} is not a loopback address; the sandbox has well-known passwords,"
                " so listening there needs public=True (--public)"
            )
        if not delay >= 0:
            raise SandboxConfigError(f"delay {delay} is not a number of seconds")
        self.accounts = check_accounts(DEFAULT_ACCOUNTS if accounts is None else accounts)
        self.cover_pages = tuple(DEFAULT_COVER_PAGES if cover_pages is None else cover_pages)
        self.rules = Rules(self.accounts, self.cover_pages)
        self.store = Store(Path(store))
        self.delay = float(delay)
        self.timeout = timeout
        self.faults = FaultQueue()
        self.faxout_limit = None if faxout_rate is None else RateLimit(*faxout_rate, clock=clock)
        self.rest = rest or RestService()  # the RingCentral REST side
        self.stopping = threading.Event()
        self.connections = Connections()
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self._thread: threading.Thread | None = None
        self._httpd = HTTPServer((host, port), address_family(host, port), self)
        self.rest.base_url = self.url.removesuffix(ENDPOINT)  # the answers' URIs are absolute

    @property
    def url(self) -> str:
        """Return the FaxOut endpoint's URL."""
        host, port = self._httpd.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode("ascii")
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}{ENDPOINT}"

    @property
    def requests(self) -> list[RequestRecord]:
        """Return the request log so far, oldest first."""
        with self._lock:
            return list(self._records)

    @property
    def in_flight(self) -> int:
        """Return how many fax requests are being handled now."""
        with self._lock:
            return self._in_flight

    @property
    def max_in_flight(self) -> int:
        """Return the most fax requests ever handled at once."""
        with self._lock:
            return self._max_in_flight

    def faxes(self) -> list[StoredFax]:
        """Return the accepted faxes in the store, oldest first."""
        return self.store.faxes()

    def start(self) -> SandboxServer:
        """Serve in a background thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, args=(_POLL,), name="faxprint-sandbox"
            )
            self._thread.start()
        return self

    def stop(self, grace: float = 5.0) -> None:
        """Stop accepting, let requests in hand finish for up to grace seconds, join threads."""
        self.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self.connections.close_idle()
        self.connections.wait_quiet(grace)
        self.connections.close_all()
        self._httpd.server_close()

    def abort(self) -> None:
        """Close every connection now, requests in hand included."""
        self.stopping.set()
        self.connections.close_all()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @contextlib.contextmanager
    def track(self) -> Iterator[int]:
        """Count a fax request as in flight while the block runs; yield the count with it."""
        with self._lock:
            self._in_flight += 1
            count = self._in_flight
            self._max_in_flight = max(self._max_in_flight, count)
        try:
            yield count
        finally:
            with self._lock:
                self._in_flight -= 1

    def record(self, record: RequestRecord) -> None:
        """Add a request to the log in memory and on disk; log it at INFO."""
        with self._lock:
            self._records.append(record)
        self.store.log(record)
        stored = f" as {record.seq:06d}" if record.seq is not None else ""
        logger.info(
            "FaxOut request: code %s, HTTP %s%s: %s",
            record.code,
            record.status,
            stored,
            record.reason,
        )

    def wait_for(self, event: threading.Event, timeout: float) -> None:
        """Wait until event is set, the server stops, or timeout passes."""
        deadline = time.monotonic() + timeout
        while not self.stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or event.wait(min(left, 0.05)):
                return


class HTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that joins its threads on close and knows its sandbox."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], family: int, sandbox: Sandbox) -> None:
        self.address_family = family
        self.sandbox = sandbox
        super().__init__(address, Handler)

    def server_bind(self) -> None:
        """Bind without the reverse DNS lookup HTTPServer does for server_name."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log an unexpected error in a request thread."""
        logger.exception("sandbox: unexpected error serving %s", client_address)
