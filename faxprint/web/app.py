"""The outbox: a web page and a JSON API where people see their faxes and address the
printer jobs that wait for a number.

Pages are rendered on the server (Jinja2, every value escaped); a small script refreshes
the states while the page is open. The API (``/api/``) carries what the page does, with
a session or HTTP Basic credentials. A user sees and acts on her own jobs only (admins,
members of ``[web] admin_group``, on everyone's): any other job is 404, whatever key is
typed; no account's secret is ever in an answer.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, abort, g, jsonify, redirect, render_template, request, session

from faxprint import config as configuration
from faxprint.errors import FaxPrintError
from faxprint.web import guard, jobs
from faxprint.web.auth import AuthUnavailable, check_password

Ask = Callable[[str, str], bool]
OPEN = frozenset({"signin", "signin_post", "static"})  # the endpoints anyone may reach


def create_app(settings: configuration.Config, *, ask: Ask | None = None,
               secure: bool = False) -> Flask:  # fmt: skip
    """The outbox for ``settings``' journal; ``ask`` checks a password (the root helper
    by default); ``secure``: served over TLS."""
    app = Flask("faxprint.web")
    key = guard.secret_key(settings.journal.parent)
    app.secret_key = key
    app.config.update(
        SESSION_COOKIE_NAME="faxprint_session", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=8 * 3600, MAX_CONTENT_LENGTH=64 * 1024,
    )  # fmt: skip
    auth_socket = settings.web.auth_socket
    checker: Ask = ask or (lambda user, password: check_password(user, password, auth_socket))  # type: ignore[arg-type]
    door = _Door(checker, guard.SignInLimits(), guard.BasicMemory(key), settings)

    app.add_template_filter(jobs.words, "words")
    app.add_template_filter(jobs.when, "when")
    app.before_request(door.admit)
    app.after_request(lambda answer: _headers(answer, secure))
    _pages(app, door, settings)
    _api(app, settings)
    return app


class _Door:
    """Who asks, and whether they may."""

    def __init__(self, ask: Ask, limits: guard.SignInLimits, memory: guard.BasicMemory,
                 settings: configuration.Config) -> None:  # fmt: skip
        self.ask, self.limits, self.memory, self.settings = ask, limits, memory, settings

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
            known = self.memory.known(user, password)
            verdict = True if known else self.check(user, password)
            if verdict is True:
                self.memory.remember(user, password)
                g.user, g.basic = user, True
            elif verdict is not False:
                return _too_many(float(verdict))
        elif session.get("user"):
            g.user = session["user"]
        if g.user is None and request.endpoint not in OPEN:
            if request.path.startswith("/api/"):
                answer = jsonify(error="sign in: a session, or HTTP Basic credentials")
                answer.status_code = 401
                answer.headers["WWW-Authenticate"] = 'Basic realm="faxprint outbox"'
                return answer
            return redirect("/signin")  # type: ignore[return-value]
        if request.method == "POST" and g.user is not None and request.endpoint not in OPEN:
            self._csrf()
        g.admin = g.user is not None and jobs.is_admin(g.user, self.settings.web.admin_group)
        return None

    @staticmethod
    def _csrf() -> None:
        if g.basic:
            if not request.is_json:  # no other site's form can send JSON
                abort(400, "send JSON with Basic credentials")
            return
        given = request.headers.get("X-CSRF-Token") or request.form.get("csrf")
        if not guard.same_token(given, session.get("csrf")):
            abort(403, "the form is stale or came from another site: reload the page")


def _too_many(wait: float) -> Response:
    answer = jsonify(error=f"too many failed sign-ins: try again in {wait:.0f} s")
    answer.status_code = 429
    answer.headers["Retry-After"] = str(max(1, int(wait + 0.5)))
    return answer


def _headers(answer: Response, secure: bool) -> Response:
    answer.headers.update(guard.headers(secure))
    return answer


def _pages(app: Flask, door: _Door, settings: configuration.Config) -> None:
    @app.get("/signin")
    def signin() -> str:
        return render_template("signin.html", error="")

    @app.post("/signin")
    def signin_post() -> Any:
        user = request.form.get("user", "").strip()
        verdict = door.check(user, request.form.get("password", ""))
        if verdict is not True:
            wait = 0.0 if verdict is False else float(verdict)
            error = f"too many failed sign-ins: try again in {wait:.0f} s" if wait else (
                "wrong name or password")  # fmt: skip
            return render_template("signin.html", error=error), 401 if verdict is False else 429
        session.clear()
        session.permanent = True
        session.update(user=user, csrf=secrets.token_urlsafe(32))
        return redirect("/")

    @app.post("/signout")
    def signout() -> Any:
        session.clear()
        return redirect("/signin")

    @app.get("/")
    def home() -> str:
        listed = jobs.listed(settings, g.user, g.admin)
        return render_template("jobs.html", jobs=listed, user=g.user, admin=g.admin,
                               csrf=session.get("csrf", ""))  # fmt: skip

    @app.get("/jobs/<path:key>")
    def job(key: str) -> str:
        found = jobs.one(settings, key, g.user, g.admin)
        return render_template("job.html", job=found, user=g.user, admin=g.admin, said="",
                               csrf=session.get("csrf", ""))  # fmt: skip

    @app.post("/jobs/<path:key>/address")
    def address_form(key: str) -> Any:
        found = jobs.one(settings, key, g.user, g.admin)
        to = [line.strip() for line in request.form.get("to", "").splitlines() if line.strip()]
        try:
            said = jobs.address(found, to, request.form.get("cover") or None,
                                request.form.get("cover_text") or None)  # fmt: skip
        except FaxPrintError as error:
            page = render_template("job.html", job=found, user=g.user, admin=g.admin,
                                   said=error.message, csrf=session.get("csrf", ""))  # fmt: skip
            return page, 400
        return render_template("job.html", job=jobs.one(settings, key, g.user, g.admin),
                               user=g.user, admin=g.admin, said=said,
                               csrf=session.get("csrf", ""))  # fmt: skip


def _api(app: Flask, settings: configuration.Config) -> None:
    @app.get("/api/jobs")
    def api_jobs() -> Response:
        return jsonify(jobs=jobs.listed(settings, g.user, g.admin))

    @app.get("/api/jobs/<path:key>")
    def api_job(key: str) -> Response:
        return jsonify(jobs.one(settings, key, g.user, g.admin))

    @app.post("/api/jobs/<path:key>/address")
    def api_address(key: str) -> Any:
        found = jobs.one(settings, key, g.user, g.admin)
        asked = request.get_json(silent=True)
        if not isinstance(asked, dict) or not isinstance(asked.get("to"), list):
            return jsonify(error='send {"to": ["NUMBER|NAME", ...]}'), 400
        to = [str(item) for item in asked["to"]]
        cover, text = asked.get("cover"), asked.get("cover_text")
        try:
            said = jobs.address(found, to, None if cover is None else str(cover),
                                None if text is None else str(text))  # fmt: skip
        except FaxPrintError as error:
            return jsonify(error=error.message), 400
        return jsonify(key=found["key"], said=said), 202

    @app.errorhandler(404)
    def missing(error: Exception) -> Any:
        if request.path.startswith("/api/"):
            return jsonify(error="no such job"), 404
        return render_template("error.html", status=404, message="no such job or page"), 404

    @app.errorhandler(400)
    @app.errorhandler(403)
    @app.errorhandler(503)
    def refused(error: Any) -> Any:
        status = int(getattr(error, "code", 400))
        message = str(getattr(error, "description", "refused"))
        if request.path.startswith("/api/"):
            return jsonify(error=message), status
        return render_template("error.html", status=status, message=message), status
