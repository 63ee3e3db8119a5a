"""What the sandbox's HTTP modules share: the answer, and the sandbox and one request as
they see them.

``server`` builds the HTTP server that runs ``handler.Handler``; the handler serves the
FaxOut side and hands REST paths to ``rest_http``. Each knows the others only through
these protocols, so imports run one way: ``server`` -> ``handler`` -> ``rest_http``, all
-> ``exchange``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from http.client import HTTPMessage
from io import BufferedIOBase
from typing import Protocol

from faxprint.sandbox.accounts import Account
from faxprint.sandbox.connections import Connections
from faxprint.sandbox.faults import FaultQueue, RateLimit
from faxprint.sandbox.rest import RestService
from faxprint.sandbox.rules import Rules
from faxprint.sandbox.store import RequestRecord, Store


@dataclass(frozen=True)
class Answer:
    """What goes back: a status and body, or (status None) a closed connection."""

    status: int | None
    body: bytes = b""
    content_type: str = "text/plain"
    code: int | None = None


class Sandbox(Protocol):
    """What a request may use of its sandbox (``server.SandboxServer``)."""

    accounts: Mapping[str, Account]
    rules: Rules
    store: Store
    delay: float
    timeout: float
    faults: FaultQueue
    faxout_limit: RateLimit | None
    rest: RestService
    stopping: threading.Event
    connections: Connections

    @property
    def url(self) -> str: ...

    def track(self) -> AbstractContextManager[int]: ...

    def record(self, record: RequestRecord) -> None: ...

    def wait_for(self, event: threading.Event, timeout: float) -> None: ...


class Hosting(Protocol):
    """The HTTP server a request comes in on (``server.HTTPServer``)."""

    sandbox: Sandbox


class Exchange(Protocol):
    """One request on its connection, as the REST side reads and answers it
    (``handler.Handler``)."""

    command: str
    close_connection: bool

    @property
    def sandbox(self) -> Sandbox: ...

    @property
    def headers(self) -> HTTPMessage: ...

    @property
    def rfile(self) -> BufferedIOBase: ...

    def skip_body(self) -> None: ...

    def content_length(self) -> int | None: ...

    def send_answer(self, answer: Answer, headers: dict[str, str] | None = None) -> None: ...
