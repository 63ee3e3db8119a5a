"""The outbox: a web page and a JSON API where people see their faxes and address the
printer jobs that wait for a number.

Pages are rendered on the server (Jinja2, every value escaped); a small script refreshes
the states while the page is open. The API (``/api/``) carries what the page does, with
a session or HTTP Basic credentials. A user sees and acts on her own jobs only (admins,
members of ``[web] admin_group``, on everyone's): any other job is 404, whatever key is
typed; no account's secret is ever in an answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, abort, g, jsonify, redirect, request, session

from faxprint import config as configuration
from faxprint.web import guard, jobs, views
from faxprint.web.auth import AuthUnavailable, check_password, valid_user_name

Ask = Callable[[str, str], bool]
OPEN = frozenset({"signin", "signin_post", "static"})
SESSION_SECONDS = guard.SESSION_SECONDS  # the endpoints anyone may reach


def create_app(settings: configuration.Config, *, ask: Ask | None = None,
               secure: bool = False) -> Flask:  # fmt: skip
    """The outbox for ``settings``' journal; ``ask`` checks a password (the root helper
    by default); ``secure``: served over TLS."""
    app = Flask("faxprint.web")
    key = guard.secret_key(settings.journal.parent)
    app.secret_key = key
    secure = secure or settings.web.proxy  # a proxy in front serves it over TLS
    if settings.web.proxy:  # its address and scheme are the ones the proxy saw
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    app.config.update(
        SESSION_COOKIE_NAME="faxprint_session", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=SESSION_SECONDS, SESSION_REFRESH_EACH_REQUEST=False,
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
    )  # fmt: skip
    auth_socket = settings.web.auth_socket
    checker: Ask = ask or (lambda user, password: check_password(user, password, auth_socket))  # type: ignore[arg-type]
    door = _Door(checker, guard.SignInLimits(), guard.BasicMemory(key), settings)

    app.add_template_filter(jobs.words, "words")
    app.add_template_filter(jobs.when, "when")
    app.before_request(door.admit)
    app.after_request(lambda answer: _headers(answer, secure))
    app.config.update(FAXPRINT_SETTINGS=settings, FAXPRINT_DOOR=door)
    _routes(app)
    return app


class _Door:
    """Who asks, and whether they may."""

    def __init__(self, ask: Ask, limits: guard.SignInLimits, memory: guard.BasicMemory,
                 settings: configuration.Config) -> None:  # fmt: skip
        self.ask, self.limits, self.memory, self.settings = ask, limits, memory, settings
        self.revoked = guard.Revoked()

    def check(self, user: str, password: str) -> bool | float:
        """True if the password is the user's; False if not; seconds to wait if limited."""
        address = request.remote_addr or "?"
        wait = self.limits.wait(user, address)
        if wait > 0:
            return wait
        try:
            ok = self.ask(user, password)
        except AuthUnavailable:
            abort(503, "signing in is not possible now: the sign-in helper does not answer")
        if not ok:
            self.limits.failed(user, address)
        return ok

    def admit(self) -> Response | None:
        g.user, g.basic = None, False
        basic = request.authorization
        if basic is not None and basic.type == "basic":
            user, password = basic.username or "", basic.password or ""
            if not valid_user_name(user):  # no PAM, no count: nobody is called that
                return _unauthorized()
            known = self.memory.known(user, password)
            verdict = True if known else self.check(user, password)
            if verdict is True:
                self.memory.remember(user, password)
                g.user, g.basic = user, True
            elif verdict is not False:
                return _too_many(float(verdict))
        elif session.get("user"):
            if self._current(session):
                g.user = session["user"]
            else:
                session.clear()
        if g.user is None and request.endpoint not in OPEN:
            if request.path.startswith("/api/"):
                return _unauthorized()
            return redirect("/signin")  # type: ignore[return-value]
        if request.endpoint == "signin_post" and not guard.same_origin(
            request.headers.get("Origin"), request.headers.get("Sec-Fetch-Site"), request.host
        ):  # another site's form signing the browser in as someone else
            abort(403, "signing in from another site's page is refused")
        if request.method == "POST" and g.user is not None and request.endpoint not in OPEN:
            self._csrf()
        g.admin = g.user is not None and jobs.is_admin(g.user, self.settings.web.admin_group)
        return None

    def _current(self, cookie: Any) -> bool:
        """A session signed in less than SESSION_SECONDS ago and not signed out."""
        since = cookie.get("at")
        return (isinstance(since, int | float) and time.time() - since < SESSION_SECONDS
                and cookie.get("sid") not in self.revoked)  # fmt: skip

    @staticmethod
    def _csrf() -> None:
        if g.basic:
            if not request.is_json:  # no other site's form can send JSON
                abort(400, "send JSON with Basic credentials")
            return
        given = request.headers.get("X-CSRF-Token") or request.form.get("csrf")
        if not guard.same_token(given, session.get("csrf")):
            abort(403, "the form is stale or came from another site: reload the page")


def _unauthorized() -> Response:
    answer = jsonify(error="sign in: a session, or HTTP Basic credentials")
    answer.status_code = 401
    answer.headers["WWW-Authenticate"] = 'Basic realm="faxprint outbox"'
    return answer


def _too_many(wait: float) -> Response:
    answer = jsonify(error=f"too many failed sign-ins: try again in {wait:.0f} s")
    answer.status_code = 429
    answer.headers["Retry-After"] = str(max(1, int(wait + 0.5)))
    return answer


def _headers(answer: Response, secure: bool) -> Response:
    answer.headers.update(guard.headers(secure))
    return answer


def _routes(app: Flask) -> None:
    """Every page and API call (:mod:`faxprint.web.views`), and the error pages."""
    rules: list[tuple[str, Any, list[str]]] = [
        ("/signin", views.signin, ["GET"]), ("/signin", views.signin_post, ["POST"]),
        ("/signout", views.signout, ["POST"]), ("/", views.home, ["GET"]),
        ("/jobs/<path:key>", views.job, ["GET"]),
        ("/jobs/<path:key>/<any(address, resend, cancel):action>", views.act_form, ["POST"]),
        ("/jobs/<path:key>/cover.png", views.cover_form, ["POST"]),
        ("/api/jobs", views.api_jobs, ["GET"]), ("/api/jobs/<path:key>", views.api_job, ["GET"]),
        ("/api/jobs/<path:key>/pages/<int:number>.png", views.api_page, ["GET"]),
        ("/api/jobs/<path:key>/address", views.api_address, ["POST"]),
        ("/api/jobs/<path:key>/cancel", views.api_cancel, ["POST"]),
        ("/api/jobs/<path:key>/resend", views.api_resend, ["POST"]),
        ("/api/contacts", views.api_contacts, ["GET"]),
        ("/api/contacts/<any(add, remove, import):action>", views.api_contacts_change, ["POST"]),
        ("/contacts", views.contacts_page, ["GET"]),
        ("/contacts/<any(add, remove, import):action>", views.contacts_form, ["POST"]),
        ("/api/jobs/<path:key>/proof.pdf", views.api_proof, ["GET"]),
        ("/admin", views.admin, ["GET"]), ("/api/health", views.api_health, ["GET"]),
    ]  # fmt: skip
    for rule, view, methods in rules:
        app.add_url_rule(rule, view.__name__, view, methods=methods)
    app.register_error_handler(404, views.missing)
    for status in (400, 403, 503):
        app.register_error_handler(status, views.refused)
