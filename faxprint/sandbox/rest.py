"""The sandbox's RingCentral REST side, as RingCentral's public documentation describes it.

Written from the documentation alone, not from faxprint's client, so that a misreading of
the API cannot hide by being shared. Sources: [docs] the developer guide
(``ringcentral/ringcentral-api-docs``), [spec] the public OpenAPI spec
(``rc-public-openapi.yml``), and the per-endpoint error tables of the official swagger.
Where the documentation is silent the sandbox takes the reading strictest for a client,
and says so where it does.

:class:`RestService` holds the REST side's state; each part of the API has its module:

* ``POST /restapi/oauth/token``, sessions, and the bearer token of every API call
  ([docs] ``authentication/jwt-flow.md``, ``authentication/tokens.md``):
  :mod:`faxprint.sandbox.rest_oauth`.
* ``POST /restapi/v1.0/account/~/extension/~/fax`` ([docs] ``messaging/fax/
  sending-faxes.md``, [spec] ``createFaxMessage``): multipart/form-data, the JSON root
  part first, then the documents; the rules are in :mod:`faxprint.sandbox.rest_fax`.
  The documented flat-field layout and ``multipart/mixed`` are not taken (MSG-349).
  Answer: the spec's ``FaxResponse``.
* ``GET .../message-store/ID`` and ``GET .../message-store`` ([spec] ``readMessage``,
  ``listMessages``): :mod:`faxprint.sandbox.rest_messages`.
* ``GET /restapi/v1.0/dictionary/fax-cover-page`` ([spec] ``listFaxCoverPages``): the
  en-US cover pages, ids "0".."13", no "Default" (``rest_fax.COVER_PAGES``).
* Rate limits ([docs] ``basics/rate-limits.md``, :mod:`faxprint.sandbox.rest_limits`):
  Heavy (the fax call, ``fax_per_minute``, enforced), Light (message store, dictionary;
  ``light_per_minute``) and Auth (``auth_per_minute``), with the 60 s penalty that each
  new request restarts; ``X-Rate-Limit-*`` headers on the answers.
* Error bodies ([docs] errors.md): ``{"errors": [...]}`` only; ``error_shape="observed"``
  adds the undocumented top-level ``errorCode``/``message`` of live answers
  (:mod:`faxprint.sandbox.rest_replies`).
* The request log (``requests``): one :class:`~faxprint.sandbox.rest_replies.RestRecord`
  per request, with the HTTP status answered (429s included); in memory only.
* Paths: :mod:`faxprint.sandbox.rest_paths`; HTTP: :mod:`faxprint.sandbox.rest_http`.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from http.client import responses
from typing import Any, Literal

from faxprint.sandbox.rest_fax import (
    COVER_PAGES,
    FaxRequest,
    check_attachments,
    parse_request,
    timestamp,
)
from faxprint.sandbox.rest_limits import RateLimits
from faxprint.sandbox.rest_messages import (
    Delivery,
    Message,
    check_list,
    check_paging,
    describe,
    listed,
    page,
)
from faxprint.sandbox.rest_oauth import (
    DEFAULT_APPS,
    SESSION_END_CODES,
    RestApp,
    Sessions,
    Token,
    bearer,
    client,
    owner,
)
from faxprint.sandbox.rest_paths import API, COVERS_PATH
from faxprint.sandbox.rest_replies import Reply, RestRecord, error, observed


class RestService:
    """The state of the REST side: apps, sessions, tokens, messages, rate limits.
    Thread-safe.

    ``failing_numbers``: numbers whose faxes fail, a sequence (``faxErrorCode``
    NoAnswer) or a mapping of number to ``FaxErrorCodeEnum`` value. ``error_shape``:
    ``"documented"`` (only ``errors[]``) or ``"observed"`` (the first error's fields also
    at the top level). ``*_per_minute``: the usage plan groups' limits; None reports the
    documented default (Light 50, Auth 5) without enforcing it. ``penalty_seconds``: how
    long a group refuses after its limit is hit, restarted by each request meanwhile.
    ``window_seconds``: the limits' sliding window (the documented 60 s; shorter makes
    "per minute" per that many seconds, for tests of pacing that cannot wait minutes).
    """

    def __init__(
        self,
        apps: Mapping[str, RestApp] = DEFAULT_APPS,
        *,
        clock: Callable[[], float] = time.time,
        token_seconds: float = 3600.0,
        refresh_seconds: float = 604800.0,
        fax_per_minute: int = 10,
        window_seconds: float = 60.0,
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
        self.fax_per_minute = fax_per_minute
        self.delivery_seconds = delivery_seconds
        self.fax_errors = (dict(failing_numbers) if isinstance(failing_numbers, Mapping)
                           else dict.fromkeys(failing_numbers, "NoAnswer"))  # fmt: skip
        self.failing = frozenset(self.fax_errors)
        self.error_shape = error_shape
        self.base_url = ""  # set by the server: makes the answers' URIs absolute
        self.token_requests = 0
        self.fax_requests = 0  # fax requests past the bearer check, answered or not
        self.refused_429 = 0  # 429s answered, pushed and forced ones included
        self.messages: dict[int, Message] = {}
        self._lock = threading.Lock()
        self._records: list[RestRecord] = []
        self._sessions = Sessions(
            clock, token_seconds=token_seconds, refresh_seconds=refresh_seconds,
            max_sessions=max_sessions,
        )  # fmt: skip
        self._ids = itertools.count(1)  # ids: int64 JSON numbers ([spec] FaxResponse.id)
        self._limits = RateLimits(
            {"Heavy": fax_per_minute, "Light": light_per_minute, "Auth": auth_per_minute},
            clock=clock, penalty=penalty_seconds, window=window_seconds,
        )  # fmt: skip
        self._forced_429: deque[float] = deque()  # Retry-After values, one per request
        self._forced_status: deque[int] = deque()  # 5xx statuses, one per request
        self.lost_answers = 0  # accept this many faxes without answering
        self.ignored_requests = 0  # read this many fax requests whole, accept none, answer none
        self.limited_grants = 0  # answer this many token requests 429 (Retry-After: 5)

    @property
    def token_seconds(self) -> float:
        """How long an access token lasts unless the request asks for less."""
        return self._sessions.token_seconds

    @property
    def refresh_seconds(self) -> float:
        """How long a refresh token lasts unless the request asks for less."""
        return self._sessions.refresh_seconds

    @property
    def max_sessions(self) -> int:
        """How many parallel sessions an app may have; a new one ends the oldest."""
        return self._sessions.max_sessions

    @property
    def _access(self) -> dict[str, Token]:
        # The live access tokens: tests clear them, as a service that forgot them would.
        return self._sessions.access

    # -- OAuth ----------------------------------------------------------------------

    def token(self, authorization: str | None, form: Mapping[str, list[str]]) -> Reply:
        """Grant tokens for the JWT grant or a refresh token."""
        app = client(self.apps, authorization, form)
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
        return self._sessions.grant(app, form)

    def authorize(self, authorization: str | None) -> RestApp | Reply:
        """Return the app a bearer token belongs to, or the 401 to answer."""
        token = bearer(authorization)
        if isinstance(token, Reply):
            return token
        with self._lock:
            found = self._sessions.access.get(token)
        client_id = owner(found, self.clock)
        return client_id if isinstance(client_id, Reply) else self.apps[client_id]

    def end_sessions(self, code: str = "OAU-213") -> None:
        """End every session granted so far: its access tokens answer 401 ``code``, its
        refresh tokens 400 ``invalid_grant`` (tokens.md: a session terminated by the
        user, a password change, an administrator's timeout)."""
        if code not in SESSION_END_CODES:
            raise ValueError(f"{code} is not one of {', '.join(SESSION_END_CODES)}")
        with self._lock:
            self._sessions.end(code)

    def expire_tokens(self) -> None:
        """Make every access token granted so far expired (401 OAU-128 from now on); the
        refresh tokens stay good."""
        with self._lock:
            self._sessions.expire()

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

    def record(self, method: str, path: str, reply: Reply | None) -> None:
        """Add a request and its reply (None: no answer) to the request log."""
        entry = RestRecord.of(self.clock(), method, path, reply)
        with self._lock:
            self._records.append(entry)

    @property
    def requests(self) -> list[RestRecord]:
        """Return the request log so far, oldest first."""
        with self._lock:
            return list(self._records)

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

    # -- message store and dictionary -----------------------------------------------

    def describe(self, message: Message) -> dict[str, Any]:
        """The message as the spec's ``FaxResponse`` / ``GetMessageInfoResponse``."""
        delivery = Delivery(self.delivery_seconds, self.failing, self.fax_errors)
        return describe(message, self._message_uri(message), self.clock(), delivery)

    def _message_uri(self, message: Message) -> str:
        app = self.apps.get(message.app) or RestApp(message.app, "", "")
        return (f"{self.base_url}{API}/account/{app.account}/extension/{app.extension}"
                f"/message-store/{message.id}")  # fmt: skip

    def message(self, app: RestApp, number: str) -> Reply:
        """One message; an id that is not the app's (bulk ids included) is 404."""
        message = self.messages.get(int(number)) if number.isdigit() else None
        if message is None or message.app != app.client_id:
            return error(404, "CMN-102", "Resource for parameter [messageId] is not found",
                         {"parameterName": "messageId"})  # fmt: skip
        return Reply(200, self.describe(message))

    def list_messages(self, app: RestApp, query: Mapping[str, list[str]]) -> Reply:
        """The app's messages, newest first, one page ([spec] listMessages)."""
        problem = check_list(query)
        if problem is not None:
            return problem
        date_to = timestamp(query["dateTo"][0]) if "dateTo" in query else self.clock()
        date_from = timestamp(query["dateFrom"][0]) if "dateFrom" in query else date_to - 86400
        mine = [m for m in reversed(self.messages.values())
                if m.app == app.client_id and date_from <= m.created <= date_to
                and listed(m, query)]  # fmt: skip
        # perPage: "If perPage value in the request is greater than 1000, the maximum
        # value (1000) is applied" ([spec] MessagingPagingInfo).
        per_page = min(int(query.get("perPage", ["100"])[0]), 1000)
        path = f"{API}/account/{app.account}/extension/{app.extension}/message-store"
        return page(f"{self.base_url}{path}", query, mine, per_page, self.describe)

    def cover_pages(self, query: Mapping[str, list[str]] | None = None) -> Reply:
        """The en-US cover page dictionary ([spec] listFaxCoverPages)."""
        query = query or {}
        problem = check_paging(query)
        if problem is not None:
            return problem
        records = [{"id": str(n), "name": name} for n, name in enumerate(COVER_PAGES)]
        per_page = int(query.get("perPage", ["100"])[0])
        return page(f"{self.base_url}{COVERS_PATH}", query, records, per_page, self.describe)
