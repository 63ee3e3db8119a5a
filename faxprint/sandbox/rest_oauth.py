"""The REST side's sign-in: apps, the token endpoint, sessions and bearer tokens.

Written from RingCentral's documentation alone, as the rest of the REST side (sources in
:mod:`faxprint.sandbox.rest`).

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
  ``max_sessions`` (usually five) parallel sessions; ``RestService.end_sessions`` and
  ``RestService.expire_tokens`` end or expire them for tests.
* Every API call: ``Authorization: Bearer <token>`` (or the ``access_token`` query
  parameter, [docs] tokens.md "Option 2"). No header: 401 AGW-401; not Bearer: 401
  AGW-402; unknown token: 401 OAU-213 "Token not found"; expired: 401 OAU-128 "Access
  token expired" (the swagger's per-endpoint tables, [docs] errors.md).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from faxprint.sandbox.rest_replies import UNDOCUMENTED, Reply, error, oauth_error

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
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
class Session:
    """An authorization session: what a JWT grant opens and refreshes continue."""

    id: str
    client_id: str
    until: float  # when its last token expires
    ended: str | None = None  # the 401 code its access tokens answer once ended


@dataclass(frozen=True)
class Token:
    session: Session
    expires: float


class Sessions:
    """The sessions granted so far and their access and refresh tokens.

    Not locked: ``RestService`` holds its lock around every call, as around the rest of
    its state.
    """

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        token_seconds: float,
        refresh_seconds: float,
        max_sessions: int,
    ) -> None:
        self.clock = clock
        self.token_seconds = token_seconds
        self.refresh_seconds = refresh_seconds
        self.max_sessions = max_sessions
        self.access: dict[str, Token] = {}  # clear() revokes every access token
        self.refresh: dict[str, Token] = {}
        self.granted: list[Session] = []

    def grant(self, app: RestApp, form: Mapping[str, list[str]]) -> Reply:
        """Check a token request's form, then grant tokens for the JWT grant or a
        refresh token."""
        problem = _check_form(form)
        if problem is not None:
            return problem
        grant = form["grant_type"][0]
        if grant == JWT_GRANT:
            return self._jwt(app, form)
        if grant == "refresh_token":
            return self._refreshed(app, form)
        return oauth_error(400, "invalid_request", "OAU-250", f"Unsupported grant type: {grant}")

    def end(self, code: str) -> None:
        """End every session granted so far: its access tokens answer 401 ``code``."""
        for session in self.granted:
            if session.ended is None:
                session.ended = code

    def expire(self) -> None:
        """Make every access token granted so far expired."""
        now = self.clock()
        for key, token in list(self.access.items()):
            self.access[key] = replace(token, expires=min(token.expires, now))

    def _jwt(self, app: RestApp, form: Mapping[str, list[str]]) -> Reply:
        if "assertion" not in form:
            return _missing("assertion")
        if not secrets.compare_digest(form["assertion"][0].encode(), app.jwt.encode()):
            # RFC 7523 s3.1: invalid_grant, 400 (RFC 6749 s5.2). The documentation is
            # silent on the OAU code; the sandbox answers its own.
            return oauth_error(400, "invalid_grant", UNDOCUMENTED["jwt"], "Invalid assertion")
        now = self.clock()
        live = [s for s in self.granted
                if s.client_id == app.client_id and s.ended is None and s.until > now]  # fmt: skip
        # tokens.md: an app reaches "the limit (usually five) of parallel active sessions
        # for the same user". The documentation is silent on which session a new one
        # ends; the sandbox takes the strict reading: the oldest, its tokens OAU-213.
        for old in live[: max(0, len(live) - self.max_sessions + 1)]:
            old.ended = "OAU-213"
        session = Session(secrets.token_urlsafe(12), app.client_id, now)
        self.granted.append(session)
        return self._issue(app, session, form)

    def _refreshed(self, app: RestApp, form: Mapping[str, list[str]]) -> Reply:
        if "refresh_token" not in form:
            return _missing("refresh_token")
        old = self.refresh.get(form["refresh_token"][0])
        if old is not None and old.session.client_id == app.client_id:
            del self.refresh[form["refresh_token"][0]]  # single-use (tokens.md)
        # The documentation gives OAU-213 "Token not found" for unknown access tokens
        # only; it is silent on unknown refresh tokens, and the sandbox uses the same.
        if old is None or old.session.client_id != app.client_id or old.session.ended:
            return oauth_error(400, "invalid_grant", "OAU-213", "Token not found")
        if old.expires <= self.clock():
            return oauth_error(400, "invalid_grant", "OAU-210", "Token expired")
        # A refresh invalidates the session's old access token (community q. 94694;
        # the guide is silent, and this is the strict reading): it answers OAU-213.
        for key in [k for k, t in self.access.items() if t.session is old.session]:
            del self.access[key]
        return self._issue(app, old.session, form)

    def _issue(self, app: RestApp, session: Session, form: Mapping[str, list[str]]) -> Reply:
        ttl = self.token_seconds
        if "access_token_ttl" in form:  # clamped, not refused (auth-token-params.inc)
            ttl = min(max(int(form["access_token_ttl"][0]), _MIN_TOKEN_TTL), ttl)
        refresh_ttl = self.refresh_seconds
        if "refresh_token_ttl" in form:
            refresh_ttl = min(int(form["refresh_token_ttl"][0]), refresh_ttl)
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        now = self.clock()
        self.access[access] = Token(session, now + ttl)
        self.refresh[refresh] = Token(session, now + refresh_ttl)
        session.until = now + max(ttl, refresh_ttl)
        endpoint = form.get("endpoint_id", [secrets.token_urlsafe(12)])[0]
        return Reply(200, {
            "access_token": access, "token_type": "bearer", "expires_in": int(ttl),
            "refresh_token": refresh, "refresh_token_expires_in": int(refresh_ttl),
            "scope": "Faxes ReadMessages", "owner_id": app.extension,
            "endpoint_id": endpoint, "session_id": session.id,
        })  # fmt: skip


def client(
    apps: Mapping[str, RestApp], authorization: str | None, form: Mapping[str, list[str]]
) -> RestApp | Reply:
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
    app = apps.get(client_id)
    if (app is None or not secrets.compare_digest(app.client_secret.encode(), secret.encode())
            or form.get("client_id", [client_id]) != [client_id]):  # fmt: skip
        return oauth_error(401, "invalid_client", "OAU-146", "Invalid client credentials",
                           **challenge)  # fmt: skip
    return app


def bearer(authorization: str | None) -> str | Reply:
    """The access token an Authorization header carries, or the 401 to answer."""
    if authorization is None:
        return error(401, "AGW-401", "Authorization header is not specified")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not _B64TOKEN.fullmatch(token):
        return error(401, "AGW-402", "Invalid Authorization header")
    return token


def owner(found: Token | None, clock: Callable[[], float]) -> str | Reply:
    """The client id a looked-up access token was granted to, or the 401 it answers."""
    if found is None:
        return error(401, "OAU-213", "Token not found")
    if found.session.ended is not None:
        code = found.session.ended
        return error(401, code, SESSION_END_CODES[code])
    if found.expires <= clock():
        return error(401, "OAU-128", "Access token expired")
    return found.session.client_id


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
