"""A server that answers every request by quoting it whole: what proxies, captive portals
and broken services do with an error page that shows "what you sent".

Each answer quotes first the request's credentials (FaxOut's ``Password`` field, the
``Authorization`` header, the sign-in's ``assertion``), as such pages do, then the request
line, every header and the body, as they came, HTML-escaped and URL-encoded, in the status and shape the test asks
for: an HTML page (400, or 200), plain text (500), or a RingCentral-shaped JSON error
whose message is the quote. The RingCentral sign-in (``/restapi/oauth/token``) answers a
token, so that the fax call behind it is reached and its Bearer header quoted too.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote_plus

#: The tokens the echo's sign-in gives: as distinctive as the test secrets, so that every
#: output can be searched for them.
ACCESS_TOKEN = "At-leakcheck-5d1e0a93"
REFRESH_TOKEN = "Rt-leakcheck-c47b2f08"
TOKEN_PATH = "/restapi/oauth/token"


class Echo:
    """Answers with ``status`` and ``shape`` ("html", "wrapped": an HTML page breaking
    what it quotes with markup and line breaks, "text" or "json")."""

    def __init__(self, status: int, shape: str) -> None:
        self.status, self.shape = status, shape
        self.requests: list[str] = []  # the paths asked, in order

    def answer(self, request: str, path: str) -> tuple[int, str, bytes]:
        """The status, content type and body that quote ``request``."""
        self.requests.append(path)
        if path == TOKEN_PATH:
            token = {"access_token": ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3600,
                     "refresh_token": REFRESH_TOKEN, "refresh_token_expires_in": 604800}  # fmt: skip
            return 200, "application/json", json.dumps(token).encode()
        # What such pages show first is what they were built for: the credentials part.
        first = " ".join(_around(request, marker) for marker in MARKERS if marker in request)
        quoted = f"{first}\n{request}\n{html.escape(request)}\n{quote_plus(request)}"
        if self.shape == "json":
            body = {"errors": [{"errorCode": "CMN-101", "message": f"You sent: {quoted}"}]}
            return self.status, "application/json", json.dumps(body).encode()
        if self.shape == "html":
            page = f"<html><body><h1>Request refused</h1><pre>{quoted}</pre></body></html>"
            return self.status, "text/html", page.encode()
        if self.shape == "wrapped":  # markup inside words, lines broken where they fall
            cut = "\n".join("<wbr>".join(line[i : i + 7] for i in range(0, len(line), 7))
                            for line in _lines(html.escape(quoted), 30))  # fmt: skip
            page = f"<html><body><h1>Request refused</h1><p>{cut}</p></body></html>"
            return self.status, "text/html", page.encode()
        return self.status, "text/plain", f"Internal error. Request was:\n{quoted}".encode()


#: Where a request carries credentials: FaxOut's form field, the headers, the sign-in.
MARKERS = ('name="Password"', "Authorization:", "assertion=")


def _lines(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)]


def _around(request: str, marker: str) -> str:
    """The marker and the 60 characters after it, on one line."""
    start = request.index(marker)
    return " ".join(request[start : start + len(marker) + 60].split())


@contextmanager
def echo_server(status: int, shape: str) -> Iterator[tuple[str, Echo]]:
    """Run an echo on loopback; yield its base URL and the Echo."""
    echo = Echo(status, shape)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._echo()

        def do_POST(self) -> None:
            self._echo()

        def _echo(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("latin-1")
            request = f"{self.requestline}\n{self.headers}\n{body}"
            status, kind, answer = echo.answer(request, self.path.split("?")[0])
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}", echo
        finally:
            server.shutdown()
            thread.join()
