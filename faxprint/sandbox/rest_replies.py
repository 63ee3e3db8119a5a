"""The REST side's answers and error bodies, in the shapes RingCentral documents.

* API errors (every call but the token endpoint): ``{"errors": [{"errorCode", "message",
  ...additional fields such as "parameterName"}]}`` and nothing else at the top level
  ([docs] ``docs/basics/errors.md`` and ``code-samples/basics/sample-error.json``; the
  spec's ``ApiErrorResponseModel`` / ``ParameterizedErrorResponseModel`` require only
  ``errors``). :func:`observed` adds what answers captured from the live service also
  carry, undocumented: the first error's fields repeated at the top level.
* OAuth errors (``/restapi/oauth/token``): ``{"error": <RFC 6749 code>,
  "error_description", "errors": [{"errorCode": "OAU-...", "message"}]}`` (the spec's
  ``OauthInvalidRequest`` response; ``error_description`` as real answers show it,
  ringcentral-api-docs PR #33).

Where the documentation gives no code for a refusal the sandbox makes, it answers one of
its own ``SBX-`` codes (:data:`UNDOCUMENTED`), so a client cannot come to depend on a
guessed RingCentral code: it must go by the HTTP status (and ``error``) alone there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Codes of the sandbox's own, for refusals whose RingCentral code is not documented.
UNDOCUMENTED = {
    "jwt": "SBX-101",  # a JWT assertion that is not the app's (RFC 7523: invalid_grant)
    "filename": "SBX-102",  # a file name with & @ # $ % ^ * or another special character
    "pages": "SBX-103",  # attachments over 200 pages
    "no-attachment": "SBX-104",  # a fax request without a document
    "token-media": "SBX-105",  # a token request that is not a form (the spec says 415)
    "token-form": "SBX-106",  # a token request parameter missing or unknown
    "method": "SBX-107",  # a method the resource does not take
}


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, JSON body, extra headers."""

    status: int
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RestRecord:
    """What the REST side's request log says about one request: when (on the service's
    clock), the method and path (never the query, which may carry a token), the HTTP
    status answered (None: the connection closed unanswered) and the first error's code."""

    time: float
    method: str
    path: str
    status: int | None
    error: str | None

    @classmethod
    def of(cls, time: float, method: str, path: str, reply: Reply | None) -> RestRecord:
        """Describe the reply given to method and path at time."""
        if reply is None:
            return cls(time, method, path, None, None)
        errors = reply.body.get("errors")
        first = errors[0] if isinstance(errors, list) and errors else {}
        code = first.get("errorCode") if isinstance(first, dict) else None
        return cls(time, method, path, reply.status, code)


def error(
    status: int, code: str, message: str, fields: Mapping[str, str] | None = None, /,
    **headers: str,
) -> Reply:  # fmt: skip
    """An API error in the documented shape: only ``errors[]``, its one entry carrying
    ``fields`` (e.g. ``parameterName``) beside the code and message."""
    entry = {"errorCode": code, "message": message, **(fields or {})}
    return Reply(status, {"errors": [entry]}, headers)


def invalid(name: str, message: str | None = None, status: int = 400) -> Reply:
    """CMN-101, the documented code for a parameter whose value is refused."""
    text = message or f"Parameter [{name}] value is invalid."
    return error(status, "CMN-101", text, {"parameterName": name})


def oauth_error(status: int, kind: str, code: str, message: str, **headers: str) -> Reply:
    """An error of the token endpoint: the RFC 6749 ``error`` and RingCentral's code."""
    body = {"error": kind, "error_description": message,
            "errors": [{"errorCode": code, "message": message}]}  # fmt: skip
    return Reply(status, body, headers)


def observed(reply: Reply) -> Reply:
    """Return an API error with its first error's fields also at the top level, as the
    live service was seen to answer (undocumented); other replies unchanged."""
    errors = reply.body.get("errors")
    if "error" in reply.body or not isinstance(errors, list) or not errors:
        return reply
    return Reply(reply.status, {**errors[0], **reply.body}, reply.headers)
