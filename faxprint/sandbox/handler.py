"""The sandbox's HTTP side: routes, HTTP-level checks, faults, and the answer on the wire.

``POST /faxapi.asp`` answers 200 ``text/plain`` with just the result code. ``GET /`` is a
home page. Other paths are 404, other methods 405 (a method http.server does not know, 501).
A fax request without Content-Length (chunked included) is 411; a bad Content-Length is
400; both close the connection. Over the FaxOut rate limit, if one is set, a fax request is
429 with Retry-After before any of that (``faults.RateLimit``). Every fax request goes in
the request log with its HTTP status.
"""

from __future__ import annotations

import datetime
import logging
import re
import threading
from http.client import HTTPMessage
from http.server import BaseHTTPRequestHandler
from typing import Any, cast
from urllib.parse import urlsplit

from faxprint.protocol import RECIPIENT, USERNAME
from faxprint.sandbox import rest_http
from faxprint.sandbox.exchange import Answer, Hosting, Sandbox
from faxprint.sandbox.faults import Fault, FaultKind
from faxprint.sandbox.intake import CHUNK, Submission, Truncated, drain, receive
from faxprint.sandbox.pages import FAULT_PAGE, home_page
from faxprint.sandbox.rules import Decision
from faxprint.sandbox.store import RequestRecord, Spool

logger = logging.getLogger(__name__)

ENDPOINT = "/faxapi.asp"
_ROUTES = {"/": ("GET", "HEAD"), ENDPOINT: ("POST",)}
_DIGITS = re.compile(r"[0-9]+")
_DROPS = (FaultKind.HANG, FaultKind.CLOSE_AFTER_BODY, FaultKind.ACCEPT_THEN_DROP)


class Handler(BaseHTTPRequestHandler):
    """Serve one connection of the sandbox."""

    protocol_version = "HTTP/1.1"
    server_version = "faxprint-sandbox"
    headers: HTTPMessage  # what http.server parses them into (its MessageClass)

    @property
    def sandbox(self) -> Sandbox:
        """Return the sandbox this connection belongs to."""
        return cast(Hosting, self.server).sandbox

    def setup(self) -> None:
        """Apply the socket timeout and register the connection."""
        super().setup()
        self.request.settimeout(self.sandbox.timeout)
        self.sandbox.connections.opened(self.request)

    _linger = False

    def finish(self) -> None:
        """Unregister the connection."""
        try:
            super().finish()
            if self._linger:
                _lingering_close(self.request)
        finally:
            self.sandbox.connections.closed(self.request)

    def log_message(self, format: str, *args: Any) -> None:
        """Send http.server's access log to debug logging instead of stderr."""
        logger.debug("%s " + format, self.address_string(), *args)

    def dispatch(self) -> None:
        """Route the request by path, then method."""
        path = urlsplit(self.path).path
        allowed = _ROUTES.get(path)
        with self.sandbox.connections.busy(self.request):
            if path.startswith("/restapi/"):  # RingCentral's REST API
                rest_http.serve(self, path, urlsplit(self.path).query)
            elif allowed is None:
                self._refuse(404, f"No such page: {path}\n")
            elif self.command not in allowed:
                self._refuse(405, f"{path} allows {', '.join(allowed)} only\n", allowed)
            elif path == ENDPOINT:
                self._fax()
            else:
                self._home()

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = dispatch

    def _home(self) -> None:
        sandbox = self.sandbox
        accounts = [(name, account.prohibited) for name, account in sandbox.accounts.items()]
        page = home_page(sandbox.url, sandbox.store.count(), str(sandbox.store.root), accounts)
        self.skip_body()
        self.send_answer(Answer(200, page, "text/html; charset=utf-8"))

    def _refuse(self, status: int, message: str, allow: tuple[str, ...] = ()) -> None:
        self.skip_body()
        headers = {"Allow": ", ".join(allow)} if allow else {}
        self.send_answer(Answer(status, message.encode("ascii", "replace")), headers)

    def skip_body(self) -> None:
        """Read and drop a body this route has no use for; close if its length is unknown."""
        if "Transfer-Encoding" not in self.headers and not self.headers.get_all("Content-Length"):
            return
        length = self.content_length()
        if length is None or drain(self.rfile, length) < length:
            self.close_connection = True

    def content_length(self) -> int | None:
        """Return the body's length, None unless one Content-Length gives it."""
        if "Transfer-Encoding" in self.headers:
            return None
        values = {value.strip() for value in self.headers.get_all("Content-Length") or []}
        if len(values) != 1:
            return None
        value = values.pop()
        return int(value) if _DIGITS.fullmatch(value) else None

    def _fax(self) -> None:
        # In flight until the answer is ready, so a client's next request never overlaps.
        with self.sandbox.track() as concurrency:
            limit = self.sandbox.faxout_limit
            wait = None if limit is None else limit.take()
            if wait is None:
                answer, headers = self._handle_fax(concurrency), {}
            else:
                answer, headers = self._limited(wait, concurrency), {"Retry-After": str(wait)}
        self.send_answer(answer, headers)

    def _limited(self, wait: int, concurrency: int) -> Answer:
        """Refuse a fax request over the rate limit: read its body off, take no fault."""
        self.skip_body()
        self._linger = self.close_connection  # a body of unknown length may still come
        why = f"Rate limited: over {self.sandbox.faxout_limit}; retry after {wait} s"
        self.sandbox.record(self._record(None, None, 429, why, in_flight=concurrency))
        return Answer(429, why.encode("ascii") + b"\n")

    def _handle_fax(self, concurrency: int) -> Answer:
        length = self.content_length()
        if length is None:
            return self._bad_length(concurrency)
        fault = self.sandbox.faults.pop()
        if fault is not None and fault.kind in (FaultKind.CLOSE_MID_BODY, FaultKind.STALL_MID_BODY):
            return self._close_mid_body(length, fault, concurrency)
        spool = self.sandbox.store.open_spool()
        try:
            answer, record = self._judge(length, fault, spool, concurrency)
        finally:
            spool.discard()
        # Record, then answer: whoever reads the answer finds the log and store settled.
        self.sandbox.record(record)
        if record.decided is not None:  # the body came whole
            self._wait(fault)
        return answer

    def _close_mid_body(self, length: int, fault: Fault, concurrency: int) -> Answer:
        got = drain(self.rfile, min(length // 2, CHUNK))
        why = f"No answer: closed after {got} of {length} bytes"
        record = self._record(None, None, None, why, fault=fault, in_flight=concurrency, size=got)
        self.sandbox.record(record)
        if fault.release is not None:  # stalled: the sender is mid-upload until released
            self.sandbox.wait_for(fault.release, fault.seconds)
        return Answer(None)

    def _bad_length(self, concurrency: int) -> Answer:
        if "Transfer-Encoding" in self.headers or not self.headers.get_all("Content-Length"):
            status, why = 411, "Content-Length required (Transfer-Encoding is not accepted)"
        else:
            status, why = 400, "Content-Length is not one decimal number"
        self.sandbox.record(self._record(None, None, status, why, in_flight=concurrency))
        self.close_connection = True
        self._linger = True  # the body is still coming: read it off before closing
        return Answer(status, why.encode("ascii") + b"\n")

    def _judge(
        self, length: int, fault: Fault | None, spool: Spool, concurrency: int
    ) -> tuple[Answer, RequestRecord]:
        """Receive, decide and store; return the answer and the record."""
        received = _now()
        content_type = ", ".join(self.headers.get_all("Content-Type") or []) or None
        try:
            source: Any = self.rfile
            if fault is not None and fault.kind is FaultKind.TRICKLE:
                source = _Trickle(self.rfile, fault.number, self.sandbox.stopping)
            submission = receive(source, length, content_type, spool.attachment_path)
        except Truncated as exc:
            why = f"No answer: {exc}"
            return Answer(None), self._record(
                None,
                None,
                None,
                why,
                fault=fault,
                in_flight=concurrency,
                size=exc.received,
                time=received,
            )
        decision = self.sandbox.rules.decide(submission)
        seq = None
        if decision.accepted and (fault is None or fault.stores):
            seq = self.sandbox.store.commit(spool, submission, received)
        answer = _plan(decision, fault)
        reason = decision.reason if fault is None else f"{decision.reason} [fault {fault}]"
        record = self._record(
            answer.code,
            int(decision.code),
            answer.status,
            reason,
            submission=submission,
            seq=seq,
            fault=fault,
            in_flight=concurrency,
            size=length,
            time=received,
        )
        return answer, record

    def _wait(self, fault: Fault | None) -> None:
        sandbox = self.sandbox
        sandbox.stopping.wait(sandbox.delay)
        if fault is None:
            return
        if fault.kind in (FaultKind.DELAY, FaultKind.HANG):
            sandbox.stopping.wait(fault.seconds)
        elif fault.kind is FaultKind.HOLD and fault.release is not None:
            sandbox.wait_for(fault.release, fault.seconds)

    def send_answer(self, answer: Answer, headers: dict[str, str] | None = None) -> None:
        """Send the answer with these extra headers, or close the connection for none."""
        if answer.status is None:
            self.close_connection = True
            return
        if self.sandbox.stopping.is_set():
            self.close_connection = True
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)
        except OSError as exc:
            logger.debug("sandbox: client went away before the answer: %s", exc)
            self.close_connection = True

    def _record(
        self,
        code: int | None,
        decided: int | None,
        status: int | None,
        reason: str,
        *,
        submission: Submission | None = None,
        seq: int | None = None,
        fault: Fault | None = None,
        in_flight: int = 0,
        size: int = 0,
        time: str | None = None,
    ) -> RequestRecord:
        usernames = submission.texts(USERNAME) if submission else []
        return RequestRecord(
            seq=seq,
            time=time or _now(),
            code=code,
            decided=decided,
            status=status,
            reason=reason,
            username=usernames[0] if usernames else None,
            recipients=tuple(submission.texts(RECIPIENT)) if submission else (),
            attachments=len(submission.attachments) if submission else 0,
            bytes=size,
            fault=None if fault is None else str(fault),
            in_flight=in_flight,
        )


def _plan(decision: Decision, fault: Fault | None) -> Answer:
    code = int(decision.code)
    if fault is None or fault.kind in (FaultKind.DELAY, FaultKind.HOLD, FaultKind.TRICKLE):
        return Answer(200, str(code).encode("ascii"), code=code)
    if fault.kind is FaultKind.CODE:
        return Answer(200, str(fault.number).encode("ascii"), code=fault.number)
    if fault.kind is FaultKind.HTTP_STATUS:
        return Answer(fault.number, f"HTTP {fault.number} (sandbox fault)\n".encode("ascii"))
    if fault.kind is FaultKind.HTML:
        return Answer(200, FAULT_PAGE, "text/html; charset=utf-8")
    if fault.kind is FaultKind.BODY:
        return Answer(200, fault.data, fault.content_type)
    assert fault.kind in _DROPS, fault
    return Answer(None)


class _Trickle:
    """A reader that hands out at most ``rate`` bytes per second."""

    def __init__(self, stream: Any, rate: int, stopping: threading.Event) -> None:
        self.stream, self.rate, self.stopping = stream, rate, stopping
        self.slice = max(1, rate // 10)

    def read1(self, size: int = -1) -> bytes:
        wanted = self.slice if size < 0 else min(size, self.slice)
        self.stopping.wait(wanted / self.rate)
        return cast(bytes, self.stream.read1(wanted))


def _now() -> str:
    moment = datetime.datetime.now(datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _lingering_close(sock: Any, seconds: float = 2.0, limit: int = 1 << 20) -> None:
    """Half-close, then read and drop what the client still sends (RFC 9112 section 9.6),
    so that closing with unread data does not reset the connection under the answer."""
    import socket
    import time

    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + seconds
        read = 0
        while read < limit and (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            chunk = sock.recv(65536)
            if not chunk:
                break
            read += len(chunk)
    except OSError:
        pass
