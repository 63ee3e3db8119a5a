"""The sandbox's RingCentral REST side: OAuth tokens, the fax endpoint, the message store.

Strict where faxprint could go wrong against the real API, and small elsewhere:

* ``POST /restapi/oauth/token``: HTTP Basic with a client id and secret; the JWT bearer
  grant (``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``, ``assertion=JWT``)
  or ``grant_type=refresh_token``. Access tokens expire (``token_seconds``); every
  grant is counted (``token_requests``), so tests can prove tokens are shared.
* Bearer-authenticated API calls: an unknown token is 401 ``TokenInvalid``, an expired
  one 401 ``TokenExpired``.
* ``POST .../extension/~/fax``: multipart/form-data whose first part is the JSON request
  (``to``: ``[{phoneNumber: E.164, name}]``, ``faxResolution`` High|Low, ``coverIndex``,
  ``coverPageText`` up to 1024 characters, ``sendTime`` ISO 8601), then one part per
  document with a file name and content type, 50 MB in all. The "Heavy" rate limit
  (``fax_per_minute``, per account) answers 429 with ``Retry-After``.
* ``GET .../message-store/ID``: the message; its status moves from ``Queued`` to
  ``Sent``/``Delivered`` (or ``SendingFailed`` for numbers in ``failing_numbers``) once
  ``delivery_seconds`` have passed. ``GET .../message-store`` lists outbound faxes.
* ``GET /restapi/v1.0/dictionary/fax-cover-page``: the cover page templates.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.client import responses
from typing import Any

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
API = "/restapi/v1.0"
FAX_PATH = f"{API}/account/~/extension/~/fax"
MESSAGES_PATH = f"{API}/account/~/extension/~/message-store"
COVERS_PATH = f"{API}/dictionary/fax-cover-page"
TOKEN_PATH = "/restapi/oauth/token"  # noqa: S105 -- a path, not a password
MAX_ATTACHMENTS = 50 * 1024 * 1024
MAX_COVER_TEXT = 1024
COVER_PAGES = ("None", "Ancient", "Default", "Urgent", "Confidential")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


@dataclass(frozen=True)
class RestApp:
    """A RingCentral app and the user it acts for: what faxprint's config holds."""

    client_id: str
    client_secret: str
    jwt: str
    extension: str = "101"

    def __repr__(self) -> str:
        return f"RestApp(client_id={self.client_id!r}, secrets=<hidden>)"


DEFAULT_APPS: Mapping[str, RestApp] = {
    "sandbox-client": RestApp("sandbox-client", "sandbox-secret", "sandbox-jwt"),
}


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, JSON body, extra headers."""

    status: int
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Message:
    """A fax the REST side accepted."""

    id: int
    app: str
    to: list[dict[str, str]]
    resolution: str
    cover_index: int
    cover_text: str
    send_time: str | None
    attachments: list[dict[str, Any]]
    created: float

    def status(self, now: float, delivery_seconds: float, failing: frozenset[str]) -> str:
        """The message's status: Queued, then Delivered; SendingFailed when every
        recipient failed, Sent when some did (each recipient says which)."""
        if now - self.created < delivery_seconds:
            return "Queued"
        each = [self.recipient_status(r["phoneNumber"], now, delivery_seconds, failing)
                for r in self.to]  # fmt: skip
        if "SendingFailed" not in each:
            return "Delivered"
        return "SendingFailed" if set(each) == {"SendingFailed"} else "Sent"

    def recipient_status(
        self, number: str, now: float, delivery_seconds: float, failing: frozenset[str]
    ) -> str:
        if now - self.created < delivery_seconds:
            return "Queued"
        return "SendingFailed" if number in failing else "Delivered"


def error(status: int, code: str, message: str, **headers: str) -> Reply:
    return Reply(status, {"errorCode": code, "message": message, "errors": [
        {"errorCode": code, "message": message}]}, headers)  # fmt: skip


class RestService:
    """The state of the REST side: apps, tokens, messages, rate limits. Thread-safe."""

    def __init__(
        self,
        apps: Mapping[str, RestApp] = DEFAULT_APPS,
        *,
        clock: Callable[[], float] = time.time,
        token_seconds: float = 3600.0,
        refresh_seconds: float = 604800.0,
        fax_per_minute: int = 10,
        delivery_seconds: float = 1.0,
        failing_numbers: Sequence[str] = (),
    ) -> None:
        self.apps = dict(apps)
        self.clock = clock
        self.token_seconds = token_seconds
        self.refresh_seconds = refresh_seconds
        self.fax_per_minute = fax_per_minute
        self.delivery_seconds = delivery_seconds
        self.failing = frozenset(failing_numbers)
        self.token_requests = 0
        self.fax_requests = 0  # fax requests past the bearer check, answered or not
        self.messages: dict[int, Message] = {}
        self._lock = threading.Lock()
        self._access: dict[str, tuple[str, float]] = {}  # token: (client id, expiry)
        self._refresh: dict[str, tuple[str, float]] = {}
        self._recent: dict[str, deque[float]] = {}  # client id: times of fax requests
        self._forced_429: deque[float] = deque()  # Retry-After values, one per request
        self._forced_status: deque[int] = deque()  # 5xx statuses, one per request
        self.lost_answers = 0  # accept this many faxes without answering
        self.ignored_requests = 0  # read this many fax requests whole, accept none, answer none
        self.limited_grants = 0  # answer this many token requests 429 (Retry-After: 5)

    # -- OAuth ----------------------------------------------------------------------

    def token(self, authorization: str | None, form: Mapping[str, list[str]]) -> Reply:
        """Grant a token for the JWT grant or a refresh token."""
        app = self._client(authorization)
        if app is None:
            return Reply(401, {"error": "invalid_client",
                               "error_description": "Invalid client credentials"})  # fmt: skip
        grant = _one(form, "grant_type")
        with self._lock:
            self.token_requests += 1
            if self.limited_grants > 0:  # the Auth group's rate limit, on demand
                self.limited_grants -= 1
                return error(429, "CMN-301", "Request rate exceeded", **{"Retry-After": "5"})
            if grant == JWT_GRANT:
                if _one(form, "assertion") != app.jwt:
                    return Reply(400, {"error": "invalid_grant",
                                       "error_description": "Invalid assertion"})  # fmt: skip
            elif grant == "refresh_token":
                owner = self._refresh.pop(_one(form, "refresh_token") or "", None)
                if owner is None or owner[0] != app.client_id or owner[1] <= self.clock():
                    return Reply(400, {"error": "invalid_grant",
                                       "error_description": "Token not found"})  # fmt: skip
            else:
                return Reply(400, {"error": "unsupported_grant_type",
                                   "error_description": f"grant_type {grant!r}"})  # fmt: skip
            access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
            now = self.clock()
            self._access[access] = (app.client_id, now + self.token_seconds)
            self._refresh[refresh] = (app.client_id, now + self.refresh_seconds)
        return Reply(200, {
            "access_token": access, "token_type": "bearer", "expires_in": int(self.token_seconds),
            "refresh_token": refresh, "refresh_token_expires_in": int(self.refresh_seconds),
            "scope": "Faxes ReadMessages", "owner_id": app.extension,
        })  # fmt: skip

    def _client(self, authorization: str | None) -> RestApp | None:
        scheme, _, encoded = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        app = self.apps.get(client_id)
        if app is None or not secrets.compare_digest(app.client_secret, secret):
            return None
        return app

    def authorize(self, authorization: str | None) -> RestApp | Reply:
        """Return the app a bearer token belongs to, or the 401 to answer."""
        scheme, _, token = (authorization or "").partition(" ")
        with self._lock:
            owner = self._access.get(token) if scheme.lower() == "bearer" else None
        if owner is None:
            return error(401, "TokenInvalid", "Token not found")
        if owner[1] <= self.clock():
            return error(401, "TokenExpired", "Access token expired")
        return self.apps[owner[0]]

    # -- faxes ----------------------------------------------------------------------

    def push_429(self, retry_after: float) -> None:
        """Answer the next fax request 429 with this Retry-After."""
        self._forced_429.append(retry_after)

    def push_status(self, status: int) -> None:
        """Answer the next fax request with this 5xx status once its body is read whole,
        accepting nothing (a pushed status comes before a pushed 429)."""
        if not 500 <= status <= 599:
            raise ValueError(f"HTTP status {status} is not a server error (500-599)")
        self._forced_status.append(status)

    def take_fault(self, name: str) -> bool:
        """Tell whether the fault counter ``name`` (``lost_answers``, ``ignored_requests``)
        applies to this request, counting it down."""
        with self._lock:
            if getattr(self, name) <= 0:
                return False
            setattr(self, name, getattr(self, name) - 1)
            return True

    def admit(self, app: RestApp) -> Reply | None:
        """Apply a pushed fault, then the Heavy group's rate limit; return the error to
        answer, if any."""
        now = self.clock()
        with self._lock:
            self.fax_requests += 1
            if self._forced_status:
                status = self._forced_status.popleft()
                return error(status, "CMN-201", responses.get(status, "Server Error"))
            if self._forced_429:
                wait = self._forced_429.popleft()
                return error(
                    429, "CMN-301", "Request rate exceeded", **{"Retry-After": f"{wait:g}"}
                )
            recent = self._recent.setdefault(app.client_id, deque())
            while recent and recent[0] <= now - 60:
                recent.popleft()
            if len(recent) >= self.fax_per_minute:
                wait = max(1, int(recent[0] + 60 - now) + 1)
                return error(429, "CMN-301", "Request rate exceeded", **{"Retry-After": str(wait)})
            recent.append(now)
        return None

    def fax(self, app: RestApp, request: bytes, attachments: Sequence[dict[str, Any]]) -> Reply:
        """Accept a fax: ``request`` is the first part's JSON, then the documents."""
        try:
            spec = json.loads(request)
        except ValueError:
            return error(400, "CMN-101", "The first part must be the JSON request")
        problem = _check_request(spec) or _check_attachments(attachments)
        if problem:
            return error(400, "CMN-101", problem)
        with self._lock:
            number = len(self.messages) + 1
            message = Message(
                number, app.client_id,
                [{"phoneNumber": r["phoneNumber"], "name": r.get("name", "")} for r in spec["to"]],
                spec.get("faxResolution", "Low"), int(spec.get("coverIndex", 0)),
                spec.get("coverPageText", ""), spec.get("sendTime"), list(attachments),
                self.clock(),
            )  # fmt: skip
            self.messages[number] = message
        return Reply(200, self.describe(message))

    def describe(self, message: Message) -> dict[str, Any]:
        status = message.status(self.clock(), self.delivery_seconds, self.failing)
        created = datetime.fromtimestamp(message.created, UTC).isoformat(timespec="seconds")
        return {
            "id": message.id, "type": "Fax", "direction": "Outbound",
            "uri": f"{MESSAGES_PATH}/{message.id}", "messageStatus": status,
            "faxResolution": message.resolution, "coverIndex": message.cover_index,
            "coverPageText": message.cover_text, "creationTime": created.replace("+00:00", "Z"),
            "to": [{**r, "messageStatus": message.recipient_status(
                r["phoneNumber"], self.clock(), self.delivery_seconds, self.failing)}
                for r in message.to],
            "attachments": [{"fileName": a["fileName"], "contentType": a["contentType"],
                             "size": a["size"]} for a in message.attachments],
        }  # fmt: skip

    def message(self, app: RestApp, number: str) -> Reply:
        message = self.messages.get(int(number)) if number.isdigit() else None
        if message is None or message.app != app.client_id:
            return error(404, "CMN-102", f"Message {number} not found")
        return Reply(200, self.describe(message))

    def list_messages(self, app: RestApp, query: Mapping[str, list[str]]) -> Reply:
        """List the app's faxes, newest first, one page of ``perPage`` (100 unless
        given, at most 1000); filters as the real API names them."""
        unknown = set(query) - {"messageType", "direction", "dateFrom", "dateTo", "perPage"}
        if unknown:
            return error(400, "CMN-101", f"Unknown parameters: {', '.join(sorted(unknown))}")
        bounds = [0.0, float("inf")]
        for index, name in enumerate(("dateFrom", "dateTo")):
            if name in query:
                try:
                    bounds[index] = datetime.fromisoformat(
                        query[name][0].replace("Z", "+00:00")).timestamp()  # fmt: skip
                except ValueError:
                    return error(400, "CMN-101", f"{name} must be ISO 8601")
        per_page = query.get("perPage", ["100"])[0]
        if not per_page.isdigit() or not 1 <= int(per_page) <= 1000:
            return error(400, "CMN-101", "perPage must be 1..1000")
        if query.get("messageType", ["Fax"]) != ["Fax"] or query.get(
            "direction", ["Outbound"]) != ["Outbound"]:  # fmt: skip
            return Reply(200, {"records": []})  # the sandbox keeps outbound faxes only
        mine = [m for m in reversed(self.messages.values())
                if m.app == app.client_id and bounds[0] <= m.created <= bounds[1]]  # fmt: skip
        page = mine[: int(per_page)]
        navigation = {"nextPage": {"uri": "page=2"}} if len(mine) > len(page) else {}
        return Reply(200, {"records": [self.describe(m) for m in page],
                           "navigation": navigation})  # fmt: skip

    def cover_pages(self) -> Reply:
        return Reply(200, {"records": [{"id": str(n), "name": name}
                                       for n, name in enumerate(COVER_PAGES)]})  # fmt: skip


def _one(form: Mapping[str, list[str]], name: str) -> str | None:
    values = form.get(name, [])
    return values[0] if len(values) == 1 else None


def _check_request(spec: Any) -> str | None:
    if not isinstance(spec, dict):
        return "The JSON request must be an object"
    unknown = set(spec) - {"to", "faxResolution", "coverIndex", "coverPageText", "sendTime"}
    if unknown:
        return f"Unknown fields: {', '.join(sorted(unknown))}"
    to = spec.get("to")
    if not isinstance(to, list) or not to:
        return "[to] is required: a list of {phoneNumber, name}"
    for recipient in to:
        if not isinstance(recipient, dict) or not _E164.fullmatch(
            str(recipient.get("phoneNumber"))
        ):
            return f"Invalid phoneNumber in {recipient!r}: E.164 (+ and digits) expected"
    if spec.get("faxResolution", "Low") not in ("High", "Low"):
        return "faxResolution must be High or Low"
    cover = spec.get("coverIndex", 0)
    if not isinstance(cover, int) or not 0 <= cover < len(COVER_PAGES):
        return f"coverIndex must be 0..{len(COVER_PAGES) - 1}"
    text = spec.get("coverPageText", "")
    if not isinstance(text, str) or len(text) > MAX_COVER_TEXT:
        return f"coverPageText must be text of at most {MAX_COVER_TEXT} characters"
    when = spec.get("sendTime")
    if when is not None:
        try:
            datetime.fromisoformat(str(when).replace("Z", "+00:00"))
        except ValueError:
            return "sendTime must be ISO 8601"
    return None


def _check_attachments(attachments: Sequence[dict[str, Any]]) -> str | None:
    if not attachments:
        return "At least one attachment is required"
    for attachment in attachments:
        if not attachment.get("fileName") or not attachment.get("contentType"):
            return "Each attachment needs a file name and a content type"
    if sum(int(a["size"]) for a in attachments) > MAX_ATTACHMENTS:
        return "Attachments exceed 50 MB"
    return None
