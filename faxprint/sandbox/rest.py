"""The sandbox's RingCentral REST side, as RingCentral's public documentation describes it.

Written from the documentation alone, not from faxprint's client, so that a misreading of
the API cannot hide by being shared. Sources: [docs] the developer guide
(``ringcentral/ringcentral-api-docs``), [spec] the public OpenAPI spec
(``rc-public-openapi.yml``), and the per-endpoint error tables of the official swagger.
Where the documentation is silent the sandbox takes the reading strictest for a client,
and says so where it does.

* ``POST /restapi/oauth/token`` ([docs] ``authentication/jwt-flow.md``): a form
  (``application/x-www-form-urlencoded``, else 415), HTTP Basic client credentials,
  ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`` with ``assertion``, or
  ``grant_type=refresh_token``. Errors as the spec's ``OauthInvalidRequest`` plus
  ``error_description``: no client authentication 401 ``invalid_client`` OAU-123, wrong
  client credentials 401 ``invalid_client`` OAU-146 "Invalid client credentials"
  ([docs] ``basics/errors.md``; 401 with ``WWW-Authenticate`` per RFC 6749 s5.2), a JWT
  that is not the app's 400 ``invalid_grant`` (RFC 7523 s3.1; the OAU code is
  undocumented), an expired refresh token 400 ``invalid_grant`` OAU-210 "Token expired",
  an unknown or used one 400 ``invalid_grant`` OAU-213 "Token not found", an unsupported
  grant 400 ``invalid_request`` OAU-250, a parameter given twice 400 OAU-111.
  ``access_token_ttl`` is clamped to 600..the default ([docs] ``auth-token-params.inc``).
* Sessions ([docs] ``authentication/tokens.md``): refresh tokens are single-use and a
  refresh continues its session, invalidating the old access token; an app has at most
  ``max_sessions`` (usually five) parallel sessions; :meth:`RestService.end_sessions` and
  :meth:`RestService.expire_tokens` end or expire them for tests.
* Every API call: ``Authorization: Bearer <token>`` (or the ``access_token`` query
  parameter, [docs] tokens.md "Option 2"). No header: 401 AGW-401; not Bearer: 401
  AGW-402; unknown token: 401 OAU-213 "Token not found"; expired: 401 OAU-128 "Access
  token expired" (the swagger's per-endpoint tables, [docs] errors.md).
* ``POST /restapi/v1.0/account/~/extension/~/fax`` ([docs] ``messaging/fax/
  sending-faxes.md``, [spec] ``createFaxMessage``): multipart/form-data, the JSON root
  part first, then the documents; the rules are in :mod:`faxprint.sandbox.rest_fax`.
  The documented flat-field layout and ``multipart/mixed`` are not taken (MSG-349).
  Answer: the spec's ``FaxResponse``.
* ``GET .../message-store/ID`` and ``GET .../message-store`` ([spec] ``readMessage``,
  ``listMessages``): each recipient ``Queued`` until ``delivery_seconds`` after the
  send time, then ``Sent``, or ``SendingFailed`` with ``faxErrorCode`` for a number in
  ``failing_numbers``; the message's status aggregated as ``MessageStatusEnum`` says for
  outbound faxes (any Queued: Queued; any SendingFailed: SendingFailed; else Sent, never
  Delivered). The list takes the documented parameters only and answers ``paging`` and
  ``navigation``; ``dateFrom`` defaults to 24 hours before ``dateTo``.
* ``GET /restapi/v1.0/dictionary/fax-cover-page`` ([spec] ``listFaxCoverPages``): the
  en-US cover pages, ids "0".."13", no "Default" (:data:`COVER_PAGES`).
* Rate limits ([docs] ``basics/rate-limits.md``, :mod:`faxprint.sandbox.rest_limits`):
  Heavy (the fax call, ``fax_per_minute``, enforced), Light (message store, dictionary;
  ``light_per_minute``) and Auth (``auth_per_minute``), with the 60 s penalty that each
  new request restarts; ``X-Rate-Limit-*`` headers on the answers.
* Error bodies ([docs] errors.md): ``{"errors": [...]}`` only; ``error_shape="observed"``
  adds the undocumented top-level ``errorCode``/``message`` of live answers
  (:mod:`faxprint.sandbox.rest_replies`).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import math
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.client import responses
from typing import Any, Literal
from urllib.parse import urlencode

from faxprint.sandbox.rest_fax import (
    COVER_PAGES,
    FAX_EXTENSIONS,
    MAX_ATTACHMENTS,
    MAX_COVER_TEXT,
    FaxRequest,
    check_attachments,
    is_date_time,
    parse_request,
    timestamp,
)
from faxprint.sandbox.rest_limits import RateLimits
from faxprint.sandbox.rest_replies import UNDOCUMENTED, Reply, error, invalid, oauth_error, observed

__all__ = [
    "API", "COVERS_PATH", "COVER_PAGES", "FAX_EXTENSIONS", "FAX_PATH", "JWT_GRANT",
    "MAX_ATTACHMENTS", "MAX_COVER_TEXT", "MESSAGES_PATH", "TOKEN_PATH", "Message", "Reply",
    "RestApp", "RestService", "error", "oauth_error",
]  # fmt: skip

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
API = "/restapi/v1.0"
FAX_PATH = f"{API}/account/~/extension/~/fax"
MESSAGES_PATH = f"{API}/account/~/extension/~/message-store"
COVERS_PATH = f"{API}/dictionary/fax-cover-page"
TOKEN_PATH = "/restapi/oauth/token"  # noqa: S105 -- a path, not a password
#: The 401 answers an ended session's access tokens can give ([docs] errors.md and the
#: swagger's per-endpoint tables).
SESSION_END_CODES = {
    "OAU-213": "Token not found",
    "OAU-128": "Access token expired",
    "OAU-129": "Access token corrupted",
    "OAU-149": "Unparsable access token",
    "CMN-405": "Login to extension required",
}
#: RFC 6750 s2.1 b64token: what may follow "Bearer ".
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_TOKEN_FORM = frozenset({
    "grant_type", "assertion", "refresh_token", "scope", "endpoint_id", "access_token_ttl",
    "refresh_token_ttl", "client_id",
})  # fmt: skip
_MIN_TOKEN_TTL = 600  # [docs] auth-token-params.inc: "from 600 sec (10 min) to 3600 sec"
#: listMessages' documented query parameters; the repeatable ones with their values.
_LIST_ENUMS = {
    "messageType": {"Fax", "SMS", "VoiceMail", "Pager"},
    "direction": {"Inbound", "Outbound"},
    "availability": {"Alive", "Deleted", "Purged"},
    "readStatus": {"Read", "Unread"},
}
_LIST_SINGLE = frozenset({
    "dateFrom", "dateTo", "page", "perPage", "phoneNumber", "conversationId",
    "distinctConversations",
})  # fmt: skip


@dataclass(frozen=True)
class RestApp:
    """A RingCentral app and the user it acts for: what faxprint's config holds."""

    client_id: str
    client_secret: str
    jwt: str
    extension: str = "101"
    account: str = "100"

    def __repr__(self) -> str:
        return f"RestApp(client_id={self.client_id!r}, secrets=<hidden>)"


DEFAULT_APPS: Mapping[str, RestApp] = {
    "sandbox-client": RestApp("sandbox-client", "sandbox-secret", "sandbox-jwt"),
}


@dataclass
class Message:
    """A fax the REST side accepted. ``cover_index`` None: the request left it out, so
    the account's default cover page is attached. ``json_part``: how the JSON root part
    came (``name``, ``filename`` or None, ``content_type``)."""

    id: int
    app: str
    to: list[dict[str, str]]
    resolution: str
    cover_index: int | None
    cover_text: str
    send_time: str | None
    attachments: list[dict[str, Any]]
    created: float
    iso_code: str | None = None
    json_part: dict[str, str | None] = field(default_factory=dict)

    @property
    def starts(self) -> float:
        """When sending starts: now, or a later ``sendTime``."""
        return max(self.created, timestamp(self.send_time) if self.send_time else 0.0)

    def status(self, now: float, delivery_seconds: float, failing: Container[str]) -> str:
        """The aggregated status ([spec] MessageStatusEnum, outbound faxes): Queued if a
        recipient is, SendingFailed if one failed, otherwise Sent."""
        each = {self.recipient_status(r["phoneNumber"], now, delivery_seconds, failing)
                for r in self.to}  # fmt: skip
        for status in ("Queued", "SendingFailed"):
            if status in each:
                return status
        return "Sent"

    def recipient_status(
        self, number: str, now: float, delivery_seconds: float, failing: Container[str]
    ) -> str:
        """Queued until sent; then Sent ("sent successfully", [faq]) or SendingFailed."""
        if now - self.starts < delivery_seconds:
            return "Queued"
        return "SendingFailed" if number in failing else "Sent"

    @property
    def pages(self) -> int:
        """The fax's pages once rendered: the documents' (a file is at least one) and
        the cover page unless ``coverIndex`` was 0."""
        cover = 0 if self.cover_index == 0 else 1
        return cover + sum(a.get("pages") or 1 for a in self.attachments)


@dataclass
class _Session:
    """An authorization session: what a JWT grant opens and refreshes continue."""

    id: str
    client_id: str
    until: float  # when its last token expires
    ended: str | None = None  # the 401 code its access tokens answer once ended


@dataclass(frozen=True)
class _Token:
    session: _Session
    expires: float


class RestService:
    """The state of the REST side: apps, sessions, tokens, messages, rate limits.
    Thread-safe.

    ``failing_numbers``: numbers whose faxes fail, a sequence (``faxErrorCode``
    NoAnswer) or a mapping of number to ``FaxErrorCodeEnum`` value. ``error_shape``:
    ``"documented"`` (only ``errors[]``) or ``"observed"`` (the first error's fields also
    at the top level). ``*_per_minute``: the usage plan groups' limits; None reports the
    documented default (Light 50, Auth 5) without enforcing it. ``penalty_seconds``: how
    long a group refuses after its limit is hit, restarted by each request meanwhile.
    """

    def __init__(
        self,
        apps: Mapping[str, RestApp] = DEFAULT_APPS,
        *,
        clock: Callable[[], float] = time.time,
        token_seconds: float = 3600.0,
        refresh_seconds: float = 604800.0,
        fax_per_minute: int = 10,
        light_per_minute: int | None = None,
        auth_per_minute: int | None = None,
        penalty_seconds: float = 60.0,
        delivery_seconds: float = 1.0,
        failing_numbers: Sequence[str] | Mapping[str, str] = (),
        max_sessions: int = 5,
        error_shape: Literal["documented", "observed"] = "documented",
    ) -> None:
        if error_shape not in ("documented", "observed"):
            raise ValueError(f"error_shape {error_shape!r} is not 'documented' or 'observed'")
        self.apps = dict(apps)
        self.clock = clock
        self.token_seconds = token_seconds
        self.refresh_seconds = refresh_seconds
        self.fax_per_minute = fax_per_minute
        self.delivery_seconds = delivery_seconds
        self.fax_errors = (dict(failing_numbers) if isinstance(failing_numbers, Mapping)
                           else dict.fromkeys(failing_numbers, "NoAnswer"))  # fmt: skip
        self.failing = frozenset(self.fax_errors)
        self.max_sessions = max_sessions
        self.error_shape = error_shape
        self.base_url = ""  # set by the server: makes the answers' URIs absolute
        self.token_requests = 0
        self.fax_requests = 0  # fax requests past the bearer check, answered or not
        self.refused_429 = 0  # 429s answered, pushed and forced ones included
        self.messages: dict[int, Message] = {}
        self._lock = threading.Lock()
        self._access: dict[str, _Token] = {}  # clear() revokes every access token
        self._refresh: dict[str, _Token] = {}
        self._sessions: list[_Session] = []
        self._ids = itertools.count(1)  # ids: int64 JSON numbers ([spec] FaxResponse.id)
        self._limits = RateLimits(
            {"Heavy": fax_per_minute, "Light": light_per_minute, "Auth": auth_per_minute},
            clock=clock, penalty=penalty_seconds,
        )  # fmt: skip
        self._forced_429: deque[float] = deque()  # Retry-After values, one per request
        self._forced_status: deque[int] = deque()  # 5xx statuses, one per request
        self.lost_answers = 0  # accept this many faxes without answering
        self.ignored_requests = 0  # read this many fax requests whole, accept none, answer none
        self.limited_grants = 0  # answer this many token requests 429 (Retry-After: 5)

    # -- OAuth ----------------------------------------------------------------------

    def token(self, authorization: str | None, form: Mapping[str, list[str]]) -> Reply:
        """Grant tokens for the JWT grant or a refresh token."""
        app = self._client(authorization, form)
        if isinstance(app, Reply):
            return app
        with self._lock:
            self.token_requests += 1
            reply = self._grant(app, form)
            if reply.status == 429:
                self.refused_429 += 1
            headers = self._limits.headers(app.client_id, "Auth")
        return replace(reply, headers={**headers, **reply.headers})

    def _grant(self, app: RestApp, form: Mapping[str, list[str]]) -> Reply:
        if self.limited_grants > 0:  # the Auth group's rate limit, on demand
            self.limited_grants -= 1
            return error(429, "CMN-301", "Request rate exceeded", **{"Retry-After": "5"})
        limited = self._limits.take(app.client_id, "Auth")
        if limited is not None:
            return limited
        problem = _check_form(form)
        if problem is not None:
            return problem
        grant = form["grant_type"][0]
        if grant == JWT_GRANT:
            return self._jwt(app, form)
        if grant == "refresh_token":
            return self._refreshed(app, form)
        return oauth_error(400, "invalid_request", "OAU-250", f"Unsupported grant type: {grant}")

    def _jwt(self, app: RestApp, form: Mapping[str, list[str]]) -> Reply:
        if "assertion" not in form:
            return _missing("assertion")
        if not secrets.compare_digest(form["assertion"][0].encode(), app.jwt.encode()):
            # RFC 7523 s3.1: invalid_grant, 400 (RFC 6749 s5.2). The documentation is
            # silent on the OAU code; the sandbox answers its own.
            return oauth_error(400, "invalid_grant", UNDOCUMENTED["jwt"], "Invalid assertion")
        now = self.clock()
        live = [s for s in self._sessions
                if s.client_id == app.client_id and s.ended is None and s.until > now]  # fmt: skip
        # tokens.md: an app reaches "the limit (usually five) of parallel active sessions
        # for the same user". The documentation is silent on which session a new one
        # ends; the sandbox takes the strict reading: the oldest, its tokens OAU-213.
        for old in live[: max(0, len(live) - self.max_sessions + 1)]:
            old.ended = "OAU-213"
        session = _Session(secrets.token_urlsafe(12), app.client_id, now)
        self._sessions.append(session)
        return self._issue(app, session, form)

    def _refreshed(self, app: RestApp, form: Mapping[str, list[str]]) -> Reply:
        if "refresh_token" not in form:
            return _missing("refresh_token")
        old = self._refresh.get(form["refresh_token"][0])
        if old is not None and old.session.client_id == app.client_id:
            del self._refresh[form["refresh_token"][0]]  # single-use (tokens.md)
        # The documentation gives OAU-213 "Token not found" for unknown access tokens
        # only; it is silent on unknown refresh tokens, and the sandbox uses the same.
        if old is None or old.session.client_id != app.client_id or old.session.ended:
            return oauth_error(400, "invalid_grant", "OAU-213", "Token not found")
        if old.expires <= self.clock():
            return oauth_error(400, "invalid_grant", "OAU-210", "Token expired")
        # A refresh invalidates the session's old access token (community q. 94694;
        # the guide is silent, and this is the strict reading): it answers OAU-213.
        for key in [k for k, t in self._access.items() if t.session is old.session]:
            del self._access[key]
        return self._issue(app, old.session, form)

    def _issue(self, app: RestApp, session: _Session, form: Mapping[str, list[str]]) -> Reply:
        ttl = self.token_seconds
        if "access_token_ttl" in form:  # clamped, not refused (auth-token-params.inc)
            ttl = min(max(int(form["access_token_ttl"][0]), _MIN_TOKEN_TTL), ttl)
        refresh_ttl = self.refresh_seconds
        if "refresh_token_ttl" in form:
            refresh_ttl = min(int(form["refresh_token_ttl"][0]), refresh_ttl)
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        now = self.clock()
        self._access[access] = _Token(session, now + ttl)
        self._refresh[refresh] = _Token(session, now + refresh_ttl)
        session.until = now + max(ttl, refresh_ttl)
        endpoint = form.get("endpoint_id", [secrets.token_urlsafe(12)])[0]
        return Reply(200, {
            "access_token": access, "token_type": "bearer", "expires_in": int(ttl),
            "refresh_token": refresh, "refresh_token_expires_in": int(refresh_ttl),
            "scope": "Faxes ReadMessages", "owner_id": app.extension,
            "endpoint_id": endpoint, "session_id": session.id,
        })  # fmt: skip

    def _client(self, authorization: str | None, form: Mapping[str, list[str]]) -> RestApp | Reply:
        """The app whose HTTP Basic credentials came, or the 401 to answer (RFC 6749
        s5.2: 401 with WWW-Authenticate when the client tried the Authorization header)."""
        challenge = {"WWW-Authenticate": 'Basic realm="RingCentral"'}
        if authorization is None:
            return oauth_error(401, "invalid_client", "OAU-123",
                               "Client authentication is required", **challenge)  # fmt: skip
        scheme, _, encoded = authorization.partition(" ")
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        if scheme.lower() != "basic" or ":" not in decoded:
            return oauth_error(401, "invalid_client", "OAU-123",
                               "Invalid Authorization header value", **challenge)  # fmt: skip
        client_id, _, secret = decoded.partition(":")
        app = self.apps.get(client_id)
        if (app is None or not secrets.compare_digest(app.client_secret.encode(), secret.encode())
                or form.get("client_id", [client_id]) != [client_id]):  # fmt: skip
            return oauth_error(401, "invalid_client", "OAU-146", "Invalid client credentials",
                               **challenge)  # fmt: skip
        return app

    def authorize(self, authorization: str | None) -> RestApp | Reply:
        """Return the app a bearer token belongs to, or the 401 to answer."""
        if authorization is None:
            return error(401, "AGW-401", "Authorization header is not specified")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not _B64TOKEN.fullmatch(token):
            return error(401, "AGW-402", "Invalid Authorization header")
        with self._lock:
            found = self._access.get(token)
        if found is None:
            return error(401, "OAU-213", "Token not found")
        if found.session.ended is not None:
            code = found.session.ended
            return error(401, code, SESSION_END_CODES[code])
        if found.expires <= self.clock():
            return error(401, "OAU-128", "Access token expired")
        return self.apps[found.session.client_id]

    def end_sessions(self, code: str = "OAU-213") -> None:
        """End every session granted so far: its access tokens answer 401 ``code``, its
        refresh tokens 400 ``invalid_grant`` (tokens.md: a session terminated by the
        user, a password change, an administrator's timeout)."""
        if code not in SESSION_END_CODES:
            raise ValueError(f"{code} is not one of {', '.join(SESSION_END_CODES)}")
        with self._lock:
            for session in self._sessions:
                if session.ended is None:
                    session.ended = code

    def expire_tokens(self) -> None:
        """Make every access token granted so far expired (401 OAU-128 from now on); the
        refresh tokens stay good."""
        with self._lock:
            now = self.clock()
            for key, token in list(self._access.items()):
                self._access[key] = replace(token, expires=min(token.expires, now))

    # -- rate limits and answers ----------------------------------------------------

    def throttle(self, app: RestApp, group: str) -> Reply | None:
        """Count a request of the app in the group; return the 429 if it is refused."""
        with self._lock:
            limited = self._limits.take(app.client_id, group)
            if limited is not None:
                self.refused_429 += 1
        return limited

    def rate_headers(self, app: RestApp, group: str) -> dict[str, str]:
        """The X-Rate-Limit-* headers for an answer to the app in the group."""
        with self._lock:
            return self._limits.headers(app.client_id, group)

    def shape(self, reply: Reply) -> Reply:
        """The reply in the configured error shape."""
        return observed(reply) if self.error_shape == "observed" else reply

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
        with self._lock:
            self.fax_requests += 1
            if self._forced_status:
                status = self._forced_status.popleft()
                return error(status, "CMN-201", responses.get(status, "Server Error"))
            if self._forced_429:
                wait = self._forced_429.popleft()
                self.refused_429 += 1
                return error(
                    429, "CMN-301", "Request rate exceeded", **{"Retry-After": f"{wait:g}"}
                )
            limited = self._limits.take(app.client_id, "Heavy")
            if limited is not None:
                self.refused_429 += 1
            return limited

    def fax(
        self,
        app: RestApp,
        request: bytes,
        attachments: Sequence[dict[str, Any]],
        json_part: Mapping[str, str | None] | None = None,
    ) -> Reply:
        """Accept a fax: ``request`` is the JSON root part's bytes, then the documents
        (``fileName``, ``contentType``, ``size``, ``sha256``, ``pages``)."""
        spec = parse_request(request)
        if isinstance(spec, Reply):
            return spec
        problem = check_attachments(attachments)
        if problem is not None:
            return problem
        with self._lock:
            message = self._keep(app, spec, attachments, json_part)
        return Reply(200, self.describe(message))

    def _keep(
        self, app: RestApp, spec: FaxRequest, attachments: Sequence[dict[str, Any]],
        json_part: Mapping[str, str | None] | None,
    ) -> Message:  # fmt: skip
        message = Message(
            next(self._ids), app.client_id, [dict(r) for r in spec.to], spec.resolution,
            spec.cover_index, spec.cover_text, spec.send_time, list(attachments),
            self.clock(), spec.iso_code, dict(json_part or {}),
        )  # fmt: skip
        self.messages[message.id] = message
        return message

    def describe(self, message: Message) -> dict[str, Any]:
        """The message as the spec's ``FaxResponse`` / ``GetMessageInfoResponse``."""
        now = self.clock()
        status = message.status(now, self.delivery_seconds, self.failing)
        uri = self._message_uri(message)
        answer: dict[str, Any] = {
            "id": message.id, "uri": uri, "type": "Fax", "direction": "Outbound",
            "availability": "Alive", "readStatus": "Read", "priority": "Normal",
            "messageStatus": status, "faxResolution": message.resolution,
            "faxPageCount": 0 if status == "Queued" else message.pages,
            "creationTime": _iso(message.created),
            "lastModifiedTime": _iso(message.created if status == "Queued"
                                     else message.starts + self.delivery_seconds),
            "to": [self._recipient(message, n, r, now) for n, r in enumerate(message.to, 1)],
            # The rendered fax, one PDF ([spec] MessageAttachmentInfoIntId, RenderedDocument).
            "attachments": [{"id": message.id, "uri": f"{uri}/content/{message.id}",
                             "type": "RenderedDocument", "contentType": "application/pdf"}],
        }  # fmt: skip
        # The documentation is silent on what coverIndex an answer shows when the request
        # left it out (the account's default): the sandbox leaves the field out then.
        if message.cover_index is not None:
            answer["coverIndex"] = message.cover_index
        if message.cover_text:
            answer["coverPageText"] = message.cover_text
        return answer

    def _recipient(
        self, message: Message, number: int, recipient: dict[str, str], now: float
    ) -> dict[str, str]:
        phone = recipient["phoneNumber"]
        status = message.recipient_status(phone, now, self.delivery_seconds, self.failing)
        entry = {**recipient, "messageStatus": status, "recipientId": str(number)}
        if status == "SendingFailed":
            entry["faxErrorCode"] = self.fax_errors[phone]
        return entry

    def _message_uri(self, message: Message) -> str:
        app = self.apps.get(message.app) or RestApp(message.app, "", "")
        return (f"{self.base_url}{API}/account/{app.account}/extension/{app.extension}"
                f"/message-store/{message.id}")  # fmt: skip

    # -- message store and dictionary -----------------------------------------------

    def message(self, app: RestApp, number: str) -> Reply:
        """One message; an id that is not the app's (bulk ids included) is 404."""
        message = self.messages.get(int(number)) if number.isdigit() else None
        if message is None or message.app != app.client_id:
            return error(404, "CMN-102", "Resource for parameter [messageId] is not found",
                         {"parameterName": "messageId"})  # fmt: skip
        return Reply(200, self.describe(message))

    def list_messages(self, app: RestApp, query: Mapping[str, list[str]]) -> Reply:
        """The app's messages, newest first, one page ([spec] listMessages)."""
        problem = _check_list(query)
        if problem is not None:
            return problem
        date_to = timestamp(query["dateTo"][0]) if "dateTo" in query else self.clock()
        date_from = timestamp(query["dateFrom"][0]) if "dateFrom" in query else date_to - 86400
        mine = [m for m in reversed(self.messages.values())
                if m.app == app.client_id and date_from <= m.created <= date_to
                and _listed(m, query)]  # fmt: skip
        # perPage: "If perPage value in the request is greater than 1000, the maximum
        # value (1000) is applied" ([spec] MessagingPagingInfo).
        per_page = min(int(query.get("perPage", ["100"])[0]), 1000)
        path = f"{API}/account/{app.account}/extension/{app.extension}/message-store"
        return self._page(path, query, mine, per_page)

    def cover_pages(self, query: Mapping[str, list[str]] | None = None) -> Reply:
        """The en-US cover page dictionary ([spec] listFaxCoverPages)."""
        query = query or {}
        for name in query:
            if name not in ("page", "perPage") or len(query[name]) != 1:
                return invalid(name)
            value = query[name][0]
            if not value.isdigit() or not 1 <= int(value) <= 1000:
                return invalid(name)  # "Only positive number values are accepted"
        records = [{"id": str(n), "name": name} for n, name in enumerate(COVER_PAGES)]
        return self._page(COVERS_PATH, query, records, int(query.get("perPage", ["100"])[0]))

    def _page(
        self, path: str, query: Mapping[str, list[str]], items: Sequence[Any], per_page: int
    ) -> Reply:
        """One page of items with ``paging`` and ``navigation`` as the spec's paging
        models describe them (start/end omitted on an empty page, next only if any)."""
        page = int(query.get("page", ["1"])[0])
        total_pages = math.ceil(len(items) / per_page) if per_page else 0
        shown = list(items[(page - 1) * per_page : page * per_page])

        def link(number: int) -> dict[str, str]:
            wanted = {**query, "page": [str(number)]}
            return {"uri": f"{self.base_url}{path}?{urlencode(wanted, doseq=True)}"}

        paging = {"page": page, "perPage": per_page, "totalPages": total_pages,
                  "totalElements": len(items)}  # fmt: skip
        if shown:
            paging |= {"pageStart": (page - 1) * per_page,
                       "pageEnd": (page - 1) * per_page + len(shown) - 1}  # fmt: skip
        navigation = {"firstPage": link(1), "lastPage": link(max(1, total_pages))}
        if page < total_pages:
            navigation["nextPage"] = link(page + 1)
        if page > 1:
            navigation["previousPage"] = link(page - 1)
        records = [self.describe(i) if isinstance(i, Message) else i for i in shown]
        return Reply(200, {"uri": link(page)["uri"], "records": records,
                           "paging": paging, "navigation": navigation})  # fmt: skip


def _check_form(form: Mapping[str, list[str]]) -> Reply | None:
    """A token request's parameters: each once ([docs] errors.md OAU-111), known, and
    the TTLs integers. The documentation is silent on unknown parameters; the sandbox
    takes the strict reading and refuses them."""
    for name, values in form.items():
        if len(values) > 1:
            return oauth_error(400, "invalid_request", "OAU-111",
                               "Request parameter duplication detected")  # fmt: skip
        if name not in _TOKEN_FORM:
            return oauth_error(400, "invalid_request", UNDOCUMENTED["token-form"],
                               f"Unknown parameter [{name}]")  # fmt: skip
    for name in ("access_token_ttl", "refresh_token_ttl"):
        if name in form and not form[name][0].isdigit():
            return oauth_error(400, "invalid_request", UNDOCUMENTED["token-form"],
                               f"Parameter [{name}] is not a number of seconds")  # fmt: skip
    if "grant_type" not in form:
        return _missing("grant_type")
    return None


def _missing(name: str) -> Reply:
    return oauth_error(400, "invalid_request", UNDOCUMENTED["token-form"],
                       f"Parameter [{name}] is required")  # fmt: skip


def _check_list(query: Mapping[str, list[str]]) -> Reply | None:
    """listMessages' parameters as documented. The spec also names ``owner``,
    ``voicemailOwner`` and ``ownerExtensionType``, "supported if the 'SharedVoicemail'
    or 'CallQueueSmsRecipient' feature is enabled": the sandbox's extension has neither,
    and it refuses them, as it refuses undocumented parameters (the documentation is
    silent on both; this is the strict reading)."""
    for name, values in query.items():
        if name in _LIST_ENUMS:
            if any(v not in _LIST_ENUMS[name] for v in values):
                return invalid(name)
        elif name not in _LIST_SINGLE or len(values) != 1:
            return invalid(name)
    for name in ("dateFrom", "dateTo"):
        if name in query and not is_date_time(query[name][0]):
            return invalid(name, f"Parameter [{name}] must be ISO 8601 including timezone.")
    for name, low in (("page", 1), ("perPage", 0)):
        value = query.get(name, ["1"])[0]
        if not value.isdigit() or int(value) < low:
            return invalid(name)
    if query.get("distinctConversations", ["false"])[0] not in ("true", "false"):
        return invalid("distinctConversations")
    return None


def _listed(message: Message, query: Mapping[str, list[str]]) -> bool:
    """Whether a (sent, read, alive, conversation-less) fax passes the list's filters."""
    wanted = {"messageType": "Fax", "direction": "Outbound", "availability": "Alive",
              "readStatus": "Read"}  # fmt: skip
    if any(value not in query.get(name, [value]) for name, value in wanted.items()):
        return False
    if "conversationId" in query:
        return False  # faxes belong to no conversation
    if "phoneNumber" in query:
        digits = query["phoneNumber"][0].removeprefix("+")
        return any(r["phoneNumber"].removeprefix("+") == digits for r in message.to)
    return True


def _iso(moment: float) -> str:
    """ISO 8601 with milliseconds and Z, as the spec's examples (2016-03-10T18:07:52.534Z)."""
    text = datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")
