"""The REST side's HTTP glue: read the request, ask :class:`RestService`, answer JSON.

Paths take the account and extension as ``~`` or as the signed-in user's own ids ([spec]
parameters ``accountId``, ``extensionId``), so the canonical URIs the answers carry can
be followed. Unknown paths are 404 CMN-120 "Invalid URI" ([docs] errors.md).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs

from faxprint.sandbox.exchange import Answer, Exchange
from faxprint.sandbox.headers import HeaderError, parse_media_type
from faxprint.sandbox.intake import Part, Truncated, receive
from faxprint.sandbox.parser import PartHeaders
from faxprint.sandbox.pdf import count_pages
from faxprint.sandbox.rest import RestService
from faxprint.sandbox.rest_fax import check_json_part
from faxprint.sandbox.rest_oauth import RestApp
from faxprint.sandbox.rest_paths import API, COVERS_PATH, TOKEN_PATH
from faxprint.sandbox.rest_replies import UNDOCUMENTED, Reply, error, invalid, oauth_error

PREFIX = "/restapi/"
MAX_FORM = 64 * 1024
_USER_PATH = re.compile(
    re.escape(API) + r"/account/([^/]+)/extension/([^/]+)/(fax|message-store)(?:/([^/]+))?"
)


@dataclass(frozen=True)
class _Target:
    """What a path names: the resource, its usage plan group, the methods it takes."""

    kind: str  # token, covers, fax, messages, message
    group: str  # Auth, Heavy, Light ([spec] x-throttling-group)
    method: str
    account: str = "~"
    extension: str = "~"
    number: str = ""


def serve(handler: Exchange, path: str, query: str = "") -> None:
    """Answer one REST request."""
    service = handler.sandbox.rest
    reply = _route(handler, path, parse_qs(query, keep_blank_values=True))
    service.record(handler.command, path, reply)  # before answering, as the FaxOut side
    if reply is None:  # the body did not come whole: no answer
        handler.close_connection = True
        return
    reply = service.shape(reply)
    # UTF-8 as is, not \\u escapes: a client must decode the answer as UTF-8.
    body = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
    answer = Answer(reply.status, body, "application/json; charset=UTF-8")
    handler.send_answer(answer, dict(reply.headers))


def _target(path: str) -> _Target | None:
    if path == TOKEN_PATH:
        return _Target("token", "Auth", "POST")
    if path == COVERS_PATH:
        return _Target("covers", "Light", "GET")
    match = _USER_PATH.fullmatch(path)
    if match is None:
        return None
    account, extension, resource, number = match.groups()
    if resource == "fax":
        return None if number else _Target("fax", "Heavy", "POST", account, extension)
    kind = "message" if number else "messages"
    return _Target(kind, "Light", "GET", account, extension, number or "")


def _route(handler: Exchange, path: str, query: dict[str, list[str]]) -> Reply | None:
    service = handler.sandbox.rest
    target = _target(path)
    if target is None or handler.command != target.method:
        handler.skip_body()
        if target is None:
            return error(404, "CMN-120", "Invalid URI")
        # The documentation gives no code for a method a resource does not take.
        return error(405, UNDOCUMENTED["method"], f"{handler.command} is not allowed on {path}",
                     Allow=target.method)  # fmt: skip
    if target.kind == "token":
        return _token(handler, service)
    # X-Rate-Limit-* come on the answers to a known user (rate-limits.md: user-level
    # limits, headers "returned in response to any API request (although, in some rare
    # cases, they may not be absent)"). An answer to an unknown caller (401, unknown
    # path) belongs to no user's bucket: the sandbox sends none, so a client must not
    # rely on them being there.
    authorization = _authorization(handler, query)
    app = authorization if isinstance(authorization, Reply) else service.authorize(authorization)
    if isinstance(app, Reply):
        handler.skip_body()
        return app
    reply = _call(handler, service, app, target, query)
    if reply is None:
        return None
    return replace(reply, headers={**service.rate_headers(app, target.group), **reply.headers})


def _authorization(handler: Exchange, query: dict[str, list[str]]) -> str | Reply | None:
    """The Authorization header, or the ``access_token`` query parameter ([docs]
    tokens.md "Option 2"), taken out of the query. Both at once: the documentation is
    silent; RFC 6750 s2 says a client "MUST NOT use more than one method", and the
    sandbox refuses it."""
    headers = handler.headers.get_all("Authorization") or []
    header = ", ".join(headers) if headers else None
    tokens = query.pop("access_token", None)
    if tokens is None:
        return header
    if header is not None or len(tokens) != 1:
        return invalid("access_token", "Give the access token once: in the Authorization"
                       " header or in the access_token parameter.")  # fmt: skip
    return f"Bearer {tokens[0]}"


def _call(
    handler: Exchange, service: RestService, app: RestApp, target: _Target,
    query: dict[str, list[str]],
) -> Reply | None:  # fmt: skip
    for name, value, own in (("accountId", target.account, app.account),
                             ("extensionId", target.extension, app.extension)):  # fmt: skip
        if value not in ("~", own):
            handler.skip_body()
            return error(404, "CMN-102", f"Resource for parameter [{name}] is not found",
                         {"parameterName": name})  # fmt: skip
    if target.kind == "fax":
        return _fax(handler, app)
    handler.skip_body()
    limited = service.throttle(app, "Light")
    if limited is not None:
        return limited
    if target.kind == "covers":
        return service.cover_pages(query)
    if target.kind == "messages":
        return service.list_messages(app, query)
    return service.message(app, target.number)


def _token(handler: Exchange, service: RestService) -> Reply | None:
    if not _is_form(handler.headers.get("Content-Type")):
        handler.skip_body()
        # The spec lists 415 for this call; its code is undocumented.
        return oauth_error(415, "invalid_request", UNDOCUMENTED["token-media"],
                           "Content-Type must be application/x-www-form-urlencoded")  # fmt: skip
    form = _form(handler)
    if form is None:
        return oauth_error(400, "invalid_request", UNDOCUMENTED["token-form"],
                           "Content-Length and a form body are required")  # fmt: skip
    return service.token(handler.headers.get("Authorization"), form)


def _is_form(content_type: str | None) -> bool:
    try:
        media = parse_media_type(content_type or "")
    except HeaderError:
        return False
    return media.value == "application/x-www-form-urlencoded"


def _form(handler: Exchange) -> dict[str, list[str]] | None:
    length = handler.content_length()
    if length is None or length > MAX_FORM:
        handler.close_connection = True
        return None
    body = handler.rfile.read(length)
    return parse_qs(body.decode("ascii", "replace"), keep_blank_values=True)


def _fax(handler: Exchange, app: RestApp) -> Reply | None:
    service = handler.sandbox.rest
    limited = service.admit(app)
    if limited is not None:
        handler.skip_body()
        return limited
    length = handler.content_length()
    if length is None:
        handler.close_connection = True
        return error(411, "CMN-110", "Header Content-Length should be specified.")
    spool = handler.sandbox.store.open_spool()
    try:
        content_type = handler.headers.get("Content-Type")
        submission = receive(handler.rfile, length, content_type, spool.attachment_path,
                             is_file=_after_the_first())  # fmt: skip
    except Truncated:
        spool.discard()
        return None
    try:
        if submission.error is not None:
            return error(400, "MSG-349", f"Unable to parse fax envelope: {submission.error}")
        if service.take_fault("ignored_requests"):
            return None  # read whole, never accepted: the connection just closes
        reply = _accept(service, app, submission.parts)
        if reply.status == 200 and service.take_fault("lost_answers"):
            return None  # accepted, and the answer lost: the connection just closes
        return reply
    finally:
        spool.discard()


def _after_the_first() -> Callable[[PartHeaders], bool]:
    """Spool every part but the first to disk: the first is the JSON root part, with a
    file name (as RingCentral's SDKs send it, ``request.json``) or without."""
    parts = itertools.count()
    return lambda headers: next(parts) > 0


def _accept(service: RestService, app: RestApp, parts: Sequence[Part]) -> Reply:
    """Check the root part and hand it and the documents to the service."""
    if not parts:
        return error(400, "MSG-349", "Unable to parse fax envelope: no parts")
    first = parts[0]
    problem = check_json_part(first.name, first.content_type)
    if problem is not None:
        return problem
    attachments: list[dict[str, Any]] = [_attachment(part) for part in parts[1:]]
    json_part = {"name": first.name, "filename": first.filename,
                 "content_type": first.content_type}  # fmt: skip
    return service.fax(app, first.value, attachments, json_part)


def _attachment(part: Part) -> dict[str, Any]:
    assert part.file is not None  # every part after the first is spooled
    name = part.filename
    is_pdf = name is not None and name.endswith(".pdf")
    return {"fileName": name, "contentType": part.content_type, "size": part.file.size,
            "sha256": part.file.sha256,
            "pages": count_pages(part.file.path) if is_pdf else None}  # fmt: skip
