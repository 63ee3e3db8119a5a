"""RingCentral's REST API as :mod:`faxprint.transports.ringcentral` speaks it: authorized
requests, the sign-in, and what the answers mean.

Built from RingCentral's documentation (../shared/ringcentral-rest.md gathers it, with
sources), never from what the sandbox accepts. Tokens come from the JWT bearer grant and
are shared on disk by every process of the account (:mod:`faxprint.transports.tokens`),
as is a 429's Retry-After.

How failures map onto faxprint's errors:

- a grant refused (bad client credentials or JWT), 403 (missing permission), a 401 with
  a token got just now: the account's, the admin must act. Any 401 on an API call with
  an older token (expired, session ended, whatever its code) gets one new token first;
- 400/404/415/422 on the fax request: the job is refused, with the API's own message;
- 429 (with Retry-After; the fax call's is honoured by every process of the account),
  503, network errors before the body was sent: transient;
- an upload that ended without a readable answer, or with 500/502/504 (a gateway may say
  so after the service accepted it): uncertain, and then settled by
  :meth:`~faxprint.transports.ringcentral.RingCentralTransport.lookup`, which looks for
  the fax in the message store.
- Error texts are the API's own message and code, read from the documented body
  (``errors[]``) or the shape the live service also sends; the sign-in's are its error
  codes only (whatever echoed a sign-in request would hold the secrets).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from faxprint.config import Account
from faxprint.errors import (
    AccountError,
    CancelledError,
    ConfigError,
    FaxPrintError,
    RejectedError,
    ServiceUnavailable,
    UncertainError,
)
from faxprint.pacing import Pacer
from faxprint.redact import Redactor, service_text
from faxprint.transports.base import Receipt
from faxprint.transports.http import (
    LOST_ANSWER,
    check_verify,
    delivered,
    new_session,
    starting,
    translate,
)
from faxprint.transports.multipart import MultipartBody
from faxprint.transports.tokens import Token, TokenCache

if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_PATH = "/restapi/oauth/token"  # noqa: S105 -- a path, not a password
MAX_ANSWER = 8 * 1024 * 1024  # a message store page of 1,000 faxes is about 1 MB

#: An answer: its HTTP status, headers, the start of its body, and whether a body was
#: sent whole.
Answer = tuple[int, dict[str, str], bytes, bool]


class Client:
    """One account's RingCentral API: authorized requests, tokens got and renewed."""

    def __init__(
        self,
        account: Account,
        tokens: TokenCache,
        redact: Redactor,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.account = account
        self.tokens = tokens
        self.redact = redact  # each token is added to it as it is got
        self.clock = clock
        self._session = session
        self.pacer: Pacer | None = None  # told the fax call's rate from every answer

    def get(self, path: str) -> dict[str, Any]:
        """Return the JSON object the API answers a GET of ``path`` with."""
        status, _headers, answer, _sent = self.call("GET", path)
        if status != 200:
            raise _refusal(status, answer, what="the service", redact=self.redact)
        try:
            data = json.loads(answer)
        except ValueError:
            raise ServiceUnavailable(f"the service answered {path} with no JSON") from None
        if not isinstance(data, dict):
            raise ServiceUnavailable(f"the service answered {path} with no JSON object")
        return data

    def call(
        self, method: str, path: str, *, body: Callable[[], MultipartBody] | None = None
    ) -> Answer:
        """Make an authorized request; on a 401, get a new token and make it once more.

        Whatever the 401's code (OAU-128 expired, OAU-213 not found, OAU-129, OAU-149, ...):
        "If an expired or invalidated token is used, RingCentral rejects the request with
        an HTTP 401 ... applications must obtain a new access token" (tokens.md). Sessions
        end early (the user's five parallel sessions, a password change, an admin's
        policy), so a new grant is tried once; a 401 with a fresh token is the account's.

        Return the status, headers, the start of the answer, and whether a body was sent
        whole.
        """
        waiting = self.tokens.paused() if body is not None else 0.0  # the fax call's limit
        if waiting > 0:
            raise ServiceUnavailable(
                f"the service asked to wait {waiting:.0f} s more (rate limit)",
                retry_after=waiting,
            )
        token = self._remembered(self.tokens.get(self.grant))
        for renewed in (False, True):
            payload = body() if body is not None else None
            status, headers, answer = self._request(method, path, token, payload)
            sent = delivered(payload)
            if body is not None and self.pacer is not None:  # the fax call's rate, as counted
                self.pacer.learn(headers)
            if status == 401 and not renewed:
                logger.info("the service refused the token (%s); getting a new one",
                            _error_code(answer) or "HTTP 401")  # fmt: skip
                token = self._remembered(self.tokens.renew(token, self.grant))
                continue
            if status == 429:
                raise self._limited(headers, "rate limit", shared=body is not None)
            return status, headers, answer, sent
        raise AssertionError("unreachable: the second round always returns")

    def grant(self, cached: Token | None) -> Token:
        """Get a token: refresh ``cached`` if given, else the JWT bearer grant."""
        form = (
            {"grant_type": "refresh_token", "refresh_token": cached.refresh_token}
            if cached is not None
            else {"grant_type": JWT_GRANT, "assertion": self.account.jwt}
        )
        status, headers, answer = self._http(
            "POST", TOKEN_PATH, data=form, auth=(self.account.client_id, self.account.client_secret)
        )
        if status == 400 and cached is not None:
            return self.grant(None)  # the refresh token was refused: a full grant
        if status == 429:
            raise self._limited(headers, "sign-in rate limit", shared=False)
        if status in (400, 401, 403):
            raise AccountError(
                f"the service refused the app's credentials (HTTP {status}: "
                f"{_oauth_error(answer)}): check the account's client_id, client_secret and jwt",
                code=status,
            )
        if status != 200:
            if status >= 500:
                # never its text: _oauth_error
                raise _refusal(status, b"", what="the sign-in", redact=self.redact)
            raise ConfigError(  # a wrong url, a proxy: no retry with this config can help
                f"no RingCentral sign-in at the account's url (HTTP {status}): check the url",
                code=status,
            )
        try:
            data = json.loads(answer)
            now = self.clock()
            return Token(
                access_token=str(data["access_token"]),
                expires_at=now + float(data["expires_in"]),
                refresh_token=str(data.get("refresh_token", "")),
                refresh_expires_at=now + float(data.get("refresh_token_expires_in", 0)),
            )
        except (ValueError, KeyError, TypeError):
            raise ServiceUnavailable("the service's sign-in answer holds no token") from None

    def _remembered(self, token: Token) -> Token:
        """Return ``token``, hidden from now on in whatever the service says."""
        self.redact.add(token.access_token)
        self.redact.add(token.refresh_token)
        return token

    def _limited(self, headers: dict[str, str], limit: str, *, shared: bool) -> ServiceUnavailable:
        """Return the error of a 429; for the fax call, whose limit every process of the
        account shares, make them all wait what it asked (the other calls have their
        own limits: a refused status read must not stop faxing)."""
        wait = _retry_after(headers)
        if shared:
            try:
                self.tokens.pause(wait)
            except ServiceUnavailable as error:  # the 429 is the news; the pause helps
                logger.warning("%s", error.message)
        return ServiceUnavailable(
            f"the service's {limit} was reached; it asked to wait {wait:g} s",
            code=429,
            retry_after=wait,
        )

    def _request(
        self, method: str, path: str, token: Token, body: MultipartBody | None
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Authorization": f"Bearer {token.access_token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = body.content_type
        return self._http(method, path, headers=headers, data=body)

    def _http(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        data: MultipartBody | dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        import requests

        check_verify(self.account)
        session = self._session or new_session()
        if self.account.url.startswith("http://"):
            session.trust_env = False  # never let a proxy carry credentials in clear
        body = data if isinstance(data, MultipartBody) else None
        starting()
        try:
            response = session.request(
                method,
                self.account.url.rstrip("/") + path,
                data=data,
                headers=headers,
                auth=auth,
                timeout=(self.account.connect_timeout, self.account.read_timeout),
                verify=self.account.verify,
                allow_redirects=False,
            )
            return response.status_code, dict(response.headers), response.content[:MAX_ANSWER]
        except requests.RequestException as exc:
            raise translate(exc, body) from exc
        except CancelledError as exc:
            if delivered(body):
                raise UncertainError(LOST_ANSWER) from exc
            raise
        finally:
            if self._session is None:
                session.close()


# -- what the answers mean -------------------------------------------------------------


def receipt(answer: Answer, redact: Redactor) -> Receipt:
    """Turn the answer to a fax request into a receipt, or raise what it means."""
    status, _headers, body, sent = answer
    if status == 200:
        try:
            record = json.loads(body)
            return record_receipt(record)
        except (ValueError, KeyError, TypeError, AttributeError):
            if sent:
                shown = service_text(body, redact) or "an empty answer"
                raise UncertainError(_lost(repr(shown)), excerpt=shown) from None
            raise ServiceUnavailable("the service's answer holds no message") from None
    if sent and (status in (500, 502, 504) or 200 < status < 300):
        raise UncertainError(_lost(f"HTTP {status}"), code=status)
    raise _refusal(status, body, what="the service", redact=redact)


def record_receipt(record: dict[str, Any]) -> Receipt:
    """Return the receipt of a message record (the fax request's answer, or the store's)."""
    message_id = str(int(record["id"]))
    status = word(record.get("messageStatus"))
    return Receipt(
        code=0,
        message=f"fax accepted by the service as message {message_id} ({status})",
        message_id=message_id,
        delivery=status,
    )


def _refusal(status: int, answer: bytes, *, what: str, redact: Redactor) -> FaxPrintError:
    """Map an HTTP status other than success onto faxprint's errors."""
    shown = f"HTTP {status}: {_api_message(answer, redact)}"
    if status in (401, 403):
        return AccountError(
            f"{what} refused the account ({shown}): check the app's permissions "
            "(Faxes, ReadMessages) and the user's JWT",
            code=status,
        )
    if 300 <= status < 400 or status == 405:
        return ConfigError(f"no RingCentral API at the account's url ({shown})", code=status)
    if status == 413:
        return RejectedError(f"the service refused the fax as too large ({shown})", code=status)
    if status in (408, 502, 503) or status >= 500:
        return ServiceUnavailable(f"{what} is unavailable ({shown})", code=status)
    return RejectedError(f"{what} refused the request ({shown})", code=status)


def _oauth_error(answer: bytes) -> str:
    """Return the sign-in's error codes only (``invalid_grant, OAU-xxx``): the endpoint was
    sent the secrets, and a proxy or wrong server that echoes its request must not put
    them in a message."""
    data = _json_object(answer)
    error = data.get("error")
    codes = [str(error)] if isinstance(error, str) and _OAUTH_CODE.fullmatch(error) else []
    codes += [code] if (code := _error_code(answer)) else []
    return ", ".join(codes) or "no OAuth error code"


def _api_message(answer: bytes, redact: Redactor) -> str:
    """Return the API's own message from an error answer, with its code, fit to show:
    secrets hidden, markup stripped, one short line."""
    _, message = _first_error(answer)
    code = _error_code(answer)
    if not message:
        return code or service_text(answer, redact) or "no text"
    shown = service_text(message, redact)
    return f"{shown} ({code})" if code else shown


def _error_code(answer: bytes) -> str:
    """Return the first error's code (``OAU-213``, ``CMN-101``), if it has the form of one."""
    code, _ = _first_error(answer)
    return code if _ERROR_CODE.fullmatch(code) else ""


def _first_error(answer: bytes) -> tuple[str, str]:
    """Return the code and message of an error answer's first error.

    The documented body is ``{"errors": [{"errorCode", "message", ...}]}`` only (errors.md;
    the spec's ApiErrorResponseModel and ParameterizedErrorResponseModel); answers
    captured from the live service repeat both at the top level; the OAuth endpoints say
    ``error`` and ``error_description`` beside ``errors[]``. All three are read, the
    documented one first.
    """
    data = _json_object(answer)
    errors = data.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else {}
    first = first if isinstance(first, dict) else {}
    code = first.get("errorCode") or data.get("errorCode") or ""
    message = (first.get("message") or data.get("message") or data.get("error_description")
               or data.get("error") or "")  # fmt: skip
    return str(code), str(message)


def _json_object(answer: bytes) -> dict[str, Any]:
    try:
        data = json.loads(answer)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


_OAUTH_CODE = re.compile(r"[a-z_]{1,40}")
#: One word of the service's (a status, a fax error code): shown to people as it is.
WORD = re.compile(r"[A-Za-z]{1,40}")
#: The documented form of an error code (errors.md: CMN-101, OAU-213, MSG-348, AGW-401):
#: nothing else a service answers is shown as a code.
_ERROR_CODE = re.compile(r"[A-Z]{3}-[0-9]{3}")


def word(value: object) -> str:
    """Return a status the service gave (``Queued``, ``SendingFailed``) if it is one word,
    else ``unknown``: it is kept in the journal and shown to people as it is."""
    text = str(value or "")
    return text if WORD.fullmatch(text) else "unknown" if text else ""


def _retry_after(headers: dict[str, str]) -> float:
    """Return the seconds of a Retry-After header (60 when missing or unreadable)."""
    value = {k.lower(): v for k, v in headers.items()}.get("retry-after", "")
    try:
        return min(max(float(value), 1.0), 3600.0)
    except ValueError:
        return 60.0


def _lost(answer: str) -> str:
    return (
        f"the whole fax was uploaded but the service answered {answer}: it may have been "
        "accepted; faxprint looks for it in the account's message store"
    )


def epoch(text: str) -> float:
    """Read the API's ISO 8601 time (``2026-11-27T03:06:46Z`` or ``.123Z``)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def iso(moment: datetime) -> str:
    """Write a time as the API takes it (``2026-11-27T03:06:46Z``)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
