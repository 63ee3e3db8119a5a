"""The outbox's pages and API calls (registered by :func:`faxprint.web.app.create_app`):
each one the user's own jobs only (:mod:`faxprint.web.jobs` answers 404 for another's)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
)

from faxprint import config as configuration
from faxprint.errors import FaxPrintError
from faxprint.web import book, guard, jobs


def _settings() -> configuration.Config:
    settings: configuration.Config = current_app.config["FAXPRINT_SETTINGS"]
    return settings


def _page(found: dict[str, Any], said: str = "") -> str:
    return render_template("job.html", job=found, user=g.user, admin=g.admin, said=said,
                           csrf=session.get("csrf", ""),
                           covers=jobs.cover_names(_settings(), found))  # fmt: skip


def signin() -> str:
    return render_template("signin.html", error="")


def signin_post() -> Any:
    user = request.form.get("user", "").strip()
    verdict = current_app.config["FAXPRINT_DOOR"].check(user, request.form.get("password", ""))
    if verdict is not True:
        wait = 0.0 if verdict is False else float(verdict)
        error = f"too many failed sign-ins: try again in {wait:.0f} s" if wait else (
            "wrong name or password")  # fmt: skip
        return render_template("signin.html", error=error), 401 if verdict is False else 429
    session.clear()
    session.permanent = True
    session.update(user=user, csrf=secrets.token_urlsafe(32), sid=secrets.token_urlsafe(16),
                   at=time.time())  # fmt: skip
    return redirect("/")


def signout() -> Any:
    """End the session here and on the server: its cookie, replayed, is refused."""
    door = current_app.config["FAXPRINT_DOOR"]
    door.revoked.revoke(
        str(session.get("sid", "")), float(session.get("at", 0)) + guard.SESSION_SECONDS
    )
    session.clear()
    return redirect("/signin")


def home() -> str:
    listed = jobs.listed(_settings(), g.user, g.admin)
    return render_template("jobs.html", jobs=listed, user=g.user, admin=g.admin,
                           csrf=session.get("csrf", ""))  # fmt: skip


def job(key: str) -> str:
    return _page(jobs.one(_settings(), key, g.user, g.admin))


def act_form(key: str, action: str) -> Any:
    settings = _settings()
    found = jobs.one(settings, key, g.user, g.admin)
    to = [line.strip() for line in request.form.get("to", "").splitlines() if line.strip()]
    try:
        if action == "address":
            said = jobs.address(found, to, request.form.get("cover") or None,
                                request.form.get("cover_text") or None,
                                request.form.get("send_at") or None)  # fmt: skip
        elif action == "resend":
            said = jobs.resend(settings, found, to or list(found["recipients"]))
        else:
            said = jobs.cancel(settings, found)
    except (FaxPrintError, ValueError) as error:
        return _page(found, getattr(error, "message", str(error))), 400
    return _page(jobs.one(settings, key, g.user, g.admin), said)


def cover_form(key: str) -> Any:
    """The address form's cover, drawn as it would be sent (a PNG, in a tab of its own)."""
    settings = _settings()
    found = jobs.one(settings, key, g.user, g.admin)
    to = [line.strip() for line in request.form.get("to", "").splitlines() if line.strip()]
    try:
        image = jobs.cover_image(settings, found, to, request.form.get("cover") or None,
                                 request.form.get("cover_text") or None)  # fmt: skip
    except (FaxPrintError, ValueError) as error:
        return _page(found, getattr(error, "message", str(error))), 400
    return Response(image, mimetype="image/png")


def api_jobs() -> Response:
    return jsonify(jobs=jobs.listed(_settings(), g.user, g.admin))


def api_job(key: str) -> Response:
    return jsonify(jobs.one(_settings(), key, g.user, g.admin))


def admin() -> str:
    from faxprint.web.health import health

    if not g.admin:
        abort(404)
    return render_template("admin.html", health=health(_settings()), user=g.user, admin=True,
                           csrf=session.get("csrf", ""))  # fmt: skip


def api_health() -> Response:
    from faxprint.web.health import health

    if not g.admin:
        abort(404)
    return jsonify(health(_settings()))


def api_proof(key: str) -> Response:
    from faxprint.web.proof import proof_pdf

    found = jobs.one(_settings(), key, g.user, g.admin)
    answer = Response(proof_pdf(found), mimetype="application/pdf")
    answer.headers["Content-Disposition"] = 'attachment; filename="fax-record.pdf"'
    return answer


def api_contacts() -> Response:
    return jsonify(contacts=book.search(_settings(), request.args.get("q", "")[:100]))


def contacts_page() -> str:
    query = request.args.get("q", "")[:100]
    return render_template("contacts.html", contacts=book.search(_settings(), query, 500),
                           q=query, user=g.user, admin=g.admin, said="",
                           csrf=session.get("csrf", ""))  # fmt: skip


def contacts_form(action: str) -> Any:
    if not g.admin:
        abort(404)
    settings = _settings()
    try:
        if action == "add":
            said = book.add(settings, dict(request.form))
        elif action == "remove":
            said = book.remove(settings, request.form.get("name", ""), request.form.get("number"))
        else:
            upload = request.files.get("file")
            if upload is None:
                abort(400, "choose a .vcf or .csv file")
            said = book.import_file(settings, upload.filename or "book", upload.read())
    except FaxPrintError as error:
        said = error.message
    return render_template("contacts.html", contacts=book.search(settings, "", 500), q="",
                           user=g.user, admin=True, said=said,
                           csrf=session.get("csrf", ""))  # fmt: skip


def api_contacts_change(action: str) -> Any:
    if not g.admin:
        abort(404)
    asked = request.get_json(silent=True)
    if not isinstance(asked, dict):
        return jsonify(error="send a JSON object"), 400
    settings = _settings()
    try:
        if action == "add":
            said = book.add(settings, asked)
        elif action == "remove":
            said = book.remove(settings, str(asked.get("name", "")), asked.get("number"))
        else:
            said = book.import_file(settings, str(asked.get("filename", "book.vcf")),
                                    str(asked.get("data", "")).encode())  # fmt: skip
    except FaxPrintError as error:
        return jsonify(error=error.message), 400
    return jsonify(said=said)


def api_page(key: str, number: int) -> Response:
    settings = _settings()
    jobs.one(settings, key, g.user, g.admin)  # 404 unless the user may see it
    size = request.args.get("size", "thumb")
    if size not in jobs.SIZES:
        abort(400, "size is thumb or large")
    return Response(jobs.render_page(jobs.kept(settings, key), number, size),
                    mimetype="image/png")  # fmt: skip


def api_address(key: str) -> Any:
    asked = request.get_json(silent=True)
    if not isinstance(asked, dict) or not isinstance(asked.get("to"), list):
        return jsonify(error='send {"to": ["NUMBER|NAME", ...]}'), 400
    to = [str(item) for item in asked["to"]]
    cover, text, when = asked.get("cover"), asked.get("cover_text"), asked.get("send_at")
    return _act(lambda found: jobs.address(found, to, None if cover is None else str(cover),
                                           None if text is None else str(text),
                                           None if when is None else str(when)), key)  # fmt: skip


def api_cancel(key: str) -> Any:
    return _act(lambda found: jobs.cancel(_settings(), found), key)


def api_resend(key: str) -> Any:
    asked = request.get_json(silent=True)
    to = asked.get("to") if isinstance(asked, dict) else None
    return _act(lambda found: jobs.resend(_settings(), found, [str(t) for t in
                                          (to or found["recipients"])]), key)  # fmt: skip


def _act(action: Callable[[dict[str, Any]], str], key: str) -> Any:
    found = jobs.one(_settings(), key, g.user, g.admin)
    try:
        said = action(found)
    except (FaxPrintError, ValueError) as error:
        return jsonify(error=getattr(error, "message", str(error))), 400
    return jsonify(key=found["key"], said=said), 202


def missing(error: Exception) -> Any:
    if request.path.startswith("/api/"):
        return jsonify(error="no such job"), 404
    return render_template("error.html", status=404, message="no such job or page"), 404


def refused(error: Any) -> Any:
    status = int(getattr(error, "code", 400))
    message = str(getattr(error, "description", "refused"))
    if request.path.startswith("/api/"):
        return jsonify(error=message), status
    return render_template("error.html", status=status, message=message), status
