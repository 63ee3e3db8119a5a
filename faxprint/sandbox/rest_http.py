"""The REST side's HTTP glue: read the request, ask :class:`RestService`, answer JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from faxprint.sandbox.intake import Part, Truncated, receive
from faxprint.sandbox.rest import (
    COVERS_PATH,
    FAX_PATH,
    MESSAGES_PATH,
    TOKEN_PATH,
    Reply,
    RestApp,
    RestService,
    error,
)

if TYPE_CHECKING:
    from faxprint.sandbox.handler import Handler

PREFIX = "/restapi/"
MAX_FORM = 64 * 1024
#: (method, path) of each route; a path ending in "/" takes an id after it.
ROUTES = {
    ("POST", TOKEN_PATH), ("GET", COVERS_PATH), ("POST", FAX_PATH),
    ("GET", MESSAGES_PATH), ("GET", MESSAGES_PATH + "/"),
}  # fmt: skip


def serve(handler: Handler, path: str, query: str = "") -> None:
    """Answer one REST request."""
    from faxprint.sandbox.handler import _Answer

    reply = _route(handler, path, parse_qs(query, keep_blank_values=True))
    if reply is None:  # the body did not come whole: no answer
        handler.close_connection = True
        return
    body = json.dumps(reply.body).encode()
    handler._send(_Answer(reply.status, body, "application/json"), dict(reply.headers))


def _route(handler: Handler, path: str, query: dict[str, list[str]]) -> Reply | None:
    service = handler.sandbox.rest
    method = handler.command
    one_message = path.startswith(MESSAGES_PATH + "/")
    route = (method, MESSAGES_PATH + "/" if one_message else path)
    if route not in ROUTES:
        handler._skip_body()
        known = {p for _, p in ROUTES}
        if path in known or one_message:
            return error(405, "CMN-405", f"{method} is not allowed on {path}")
        return error(404, "CMN-404", f"Resource not found: {path}")
    if path == TOKEN_PATH:
        form = _form(handler)
        if form is None:
            return error(400, "CMN-101", "Content-Length and a form body are required")
        return service.token(handler.headers.get("Authorization"), form)
    app = service.authorize(handler.headers.get("Authorization"))
    if isinstance(app, Reply):
        handler._skip_body()
        return app
    if path == FAX_PATH:
        return _fax(handler, app)
    handler._skip_body()
    if path == COVERS_PATH:
        return service.cover_pages()
    if path == MESSAGES_PATH:
        return service.list_messages(app, query)
    return service.message(app, path.removeprefix(MESSAGES_PATH + "/"))


def _form(handler: Handler) -> dict[str, list[str]] | None:
    length = handler._length()
    if length is None or length > MAX_FORM:
        handler.close_connection = True
        return None
    body = handler.rfile.read(length)
    return parse_qs(body.decode("ascii", "replace"), keep_blank_values=True)


def _fax(handler: Handler, app: RestApp) -> Reply | None:
    service = handler.sandbox.rest
    limited = service.admit(app)
    if limited is not None:
        handler._skip_body()
        return limited
    length = handler._length()
    if length is None:
        handler.close_connection = True
        return error(411, "CMN-101", "Content-Length is required")
    spool = handler.sandbox.store.open_spool()
    try:
        content_type = handler.headers.get("Content-Type")
        submission = receive(handler.rfile, length, content_type, spool.attachment_path,
                             is_file=lambda headers: headers.filename is not None)  # fmt: skip
    except Truncated:
        spool.discard()
        return None
    try:
        if submission.error is not None:
            return error(400, "CMN-101", f"Malformed multipart body: {submission.error}")
        if service.take_fault("ignored_requests"):
            return None  # read whole, never accepted: the connection just closes
        reply = _accept(service, app, submission.parts)
        if reply.status == 200 and service.take_fault("lost_answers"):
            return None  # accepted, and the answer lost: the connection just closes
        return reply
    finally:
        spool.discard()


def _accept(service: RestService, app: RestApp, parts: Sequence[Part]) -> Reply:
    """Check the parts of a fax request and hand them to the service."""
    first = parts[0] if parts else None
    if first is None or first.file is not None or not _is_json(first.content_type):
        return error(400, "CMN-101", "The first part must be the JSON request "
                     "(Content-Type: application/json)")  # fmt: skip
    attachments: list[dict[str, Any]] = [
        {"fileName": part.filename, "contentType": part.content_type,
         "size": part.file.size, "sha256": part.file.sha256}
        for part in parts[1:] if part.file is not None
    ]  # fmt: skip
    if len(attachments) != len(parts) - 1:
        return error(400, "CMN-101", "Every part after the first must be a file")
    return service.fax(app, first.value, attachments)


def _is_json(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == "application/json"
