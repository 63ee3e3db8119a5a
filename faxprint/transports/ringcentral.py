"""RingCentral's REST fax API: OAuth tokens, one multipart POST, a message to follow.

Built from RingCentral's documentation (../shared/ringcentral-rest.md gathers it, with
sources), never from what the sandbox accepts. The request: ``POST
/restapi/v1.0/account/~/extension/~/fax``, multipart/form-data whose first part is the
JSON root, sent as the SDKs send it (``name="json"; filename="request.json"``,
``application/json``, UTF-8: names and cover text as written): recipients in E.164,
``faxResolution``, ``coverIndex`` (left out for the account's default cover page, 0 for
none), ``coverPageText``, ``sendTime``; then one part per document, under a file name and
of a type the API takes (:mod:`faxprint.transports.ringcentral_files`). The answer is
the message, with an ``id`` and a ``messageStatus`` that moves from ``Queued`` to a final
status; :meth:`RingCentralTransport.delivery` reads it again later.

Tokens come from the JWT bearer grant and are shared on disk by every process of the
account (:mod:`faxprint.transports.tokens`), as is a 429's Retry-After. Cover page names
become indexes through the service's cover page dictionary, cached for a day.

How failures map onto faxprint's errors:

- a grant refused (bad client credentials or JWT), 403 (missing permission), a 401 with
  a token got just now: the account's, the admin must act. Any 401 on an API call with
  an older token (expired, session ended, whatever its code) gets one new token first;
- 400/404/415/422 on the fax request: the job is refused, with the API's own message;
- 429 (with Retry-After; the fax call's is honoured by every process of the account),
  503, network errors before the body was sent: transient;
- an upload that ended without a readable answer, or with 500/502/504 (a gateway may say
  so after the service accepted it): uncertain, and then settled by
  :meth:`RingCentralTransport.lookup`, which looks for the fax in the message store.
- Error texts are the API's own message and code, read from the documented body
  (``errors[]``) or the shape the live service also sends; the sign-in's are its error
  codes only (whatever echoed a sign-in request would hold the secrets).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faxprint.config import Account
from faxprint.documents import Document
from faxprint.errors import (
    AccountError,
    CancelledError,
    ConfigError,
    FaxPrintError,
    RejectedError,
    ServiceUnavailable,
    TicketError,
    UncertainError,
)
from faxprint.protocol import COVER_DEFAULT, COVER_NONE
from faxprint.redact import Redactor, service_text
from faxprint.text import printable, to_ascii
from faxprint.ticket import Ticket
from faxprint.transports import Progress, Receipt, delivery_outcome
from faxprint.transports import ringcentral_files as files
from faxprint.transports.e164 import to_e164
from faxprint.transports.http import (
    LOST_ANSWER,
    check_verify,
    delivered,
    new_session,
    starting,
    translate,
)
from faxprint.transports.multipart import Field, FileField, JsonField, MultipartBody
from faxprint.transports.tokens import Token, TokenCache, write_private

if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_PATH = "/restapi/oauth/token"  # noqa: S105 -- a path, not a password
FAX_PATH = "/restapi/v1.0/account/~/extension/~/fax"
MESSAGES_PATH = "/restapi/v1.0/account/~/extension/~/message-store"
COVERS_PATH = "/restapi/v1.0/dictionary/fax-cover-page"
MAX_COVER_TEXT = 1024
MAX_ANSWER = 8 * 1024 * 1024  # a message store page of 1,000 faxes is about 1 MB
COVERS_SECONDS = 86400.0  # how long the cover page dictionary is trusted
LOOKUP_SKEW = 60.0  # seconds the service's clock may run behind ours when matching a message


@dataclass(frozen=True)
class Delivery:
    """A message's delivery as the service last reported it."""

    message_id: str
    status: str  # the API's messageStatus: Queued, Sent, Delivered, SendingFailed, ...
    known: str = ""  # the outcome, where the status alone does not say it

    @property
    def outcome(self) -> str:
        """Say ``delivered``, ``failed``, or ``pending`` while the status can change."""
        return self.known or delivery_outcome(self.status)


class RingCentralTransport:
    """Send faxes through RingCentral's REST API and follow their delivery."""

    def __init__(
        self,
        account: Account,
        state: Path,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        import requests  # noqa: F401 -- loaded before a job is "sending" (see FaxOutTransport)

        self.account = account
        stem = _file_stem(account)
        self.tokens = TokenCache(state / f"{stem}.token", clock=clock)
        self.covers_path = state / f"{stem}.covers.json"
        self.clock = clock
        # Hides the secrets, and each token as it is got, in whatever the service says.
        self.redact = account.redactor()
        self._session = session

    # -- sending --------------------------------------------------------------------

    def send(
        self,
        ticket: Ticket,
        documents: Sequence[Document],
        *,
        now: datetime,
        progress: Progress | None = None,
    ) -> Receipt:
        """Upload one fax and return its receipt, with the message id and status."""
        files.check(documents)
        request = self.fax_request(ticket, documents, now=now)

        def body() -> MultipartBody:
            # As every documented example and official SDK sends the JSON root part
            # (sending-faxes.md's samples; ringcentral-python multipart_builder.py).
            fields: list[Field] = [JsonField("json", request, filename="request.json")]
            fields += [
                FileField("attachment", d.path, d.filename, d.content_type, d.size, d.identity)
                for d in documents
            ]
            return MultipartBody(fields, progress=progress)

        status, headers, answer, sent = self._call("POST", FAX_PATH, body=body)
        return _receipt(status, headers, answer, sent, self.redact)

    def prepare(self, documents: Sequence[Document], workdir: Path) -> list[Document]:
        """Return the documents as the API takes them (PostScript made PDF in ``workdir``,
        safe file names); refuse, before any request, a type it does not take."""
        return files.prepare(documents, workdir)

    def fax_request(self, ticket: Ticket, documents: Sequence[Document], *, now: datetime) -> bytes:
        """Return the JSON first part of the fax request, in UTF-8 (names and cover text as
        written); refuse what the API would."""
        cover_text = ticket.cover_text
        # The spec's maxLength: 1024. Whether it counts characters or UTF-16 units (as
        # Java does) is not said: the safe reading counts an emoji as two.
        units = len(cover_text.encode("utf-16-le")) // 2
        if units > MAX_COVER_TEXT:
            twice = " (emoji and some rare characters count twice)" * (units > len(cover_text))
            raise TicketError(
                f"the cover text has {units} characters{twice}; "
                f"this service takes at most {MAX_COVER_TEXT}"
            )
        request: dict[str, Any] = {
            "to": [
                {"phoneNumber": to_e164(r.number, self.account.default_country)}
                | ({"name": r.name} if r.name else {})
                for r in ticket.recipients
            ],
            "faxResolution": (ticket.resolution or "Low").title(),
        }
        cover = self.cover_index(ticket.cover)
        if cover is not None:
            request["coverIndex"] = cover
        if cover_text:
            request["coverPageText"] = cover_text
        if ticket.send_at is not None:
            if ticket.send_at > now:
                request["sendTime"] = _iso(ticket.send_at)
            else:
                logger.warning(
                    "send time %s has passed; the fax is sent now", ticket.send_at.isoformat()
                )
        return json.dumps(request, ensure_ascii=False).encode("utf-8")

    def cover_index(self, name: str) -> int | None:
        """Return the index of the cover page template called ``name``: 0 for none, None
        for the account's default (the request leaves ``coverIndex`` out).

        The spec's ``coverIndex``: "If `coverIndex` is set to '0' (zero) a cover page is
        not attached ... If not specified, the default cover page is attached (which is
        configured in 'Outbound Fax Settings')". The dictionary has no "Default" record.
        """
        if name.lower() == COVER_DEFAULT.lower():
            return None
        if name.lower() == COVER_NONE.lower():
            return 0
        covers = self._covers()
        for index, known in covers.items():
            if to_ascii(known).lower() == to_ascii(name).lower():  # as tickets spell them
                return index
        names = ", ".join(covers.values())
        raise TicketError(f"cover page {printable(name)!r} is not one of: {names}")

    def _covers(self) -> dict[int, str]:
        cached = _read_json(self.covers_path)
        if cached and self.clock() - float(cached.get("fetched", 0)) < COVERS_SECONDS:
            return {int(k): str(v) for k, v in cached["covers"].items()}
        answer = self._get(COVERS_PATH)
        try:
            covers = {int(r["id"]): str(r["name"]) for r in answer["records"]}
        except (KeyError, TypeError, ValueError):
            raise ServiceUnavailable("the cover page dictionary could not be read") from None
        _write_json(self.covers_path, {"fetched": self.clock(), "covers": covers})
        return covers

    # -- following a fax ------------------------------------------------------------

    def delivery(self, message_id: str) -> Delivery:
        """Return the message's delivery status as the service reports it now.

        A fax to several recipients is delivered when every recipient's is; one failed
        recipient makes the fax ``failed``, said in its status."""
        if not message_id.isdigit():
            raise ValueError(f"message id {message_id!r} is not a number")
        answer = self._get(f"{MESSAGES_PATH}/{message_id}")
        status = _word(answer.get("messageStatus"))
        recipients = [r for r in answer.get("to") or [] if isinstance(r, dict)]
        failed = [
            r for r in recipients if delivery_outcome(str(r.get("messageStatus"))) == "failed"
        ]
        if (len(failed) == len(recipients) and delivery_outcome(status) == "failed") or not failed:
            return Delivery(message_id, status)
        # Some failed: say how many, and why where the service says (to[].faxErrorCode:
        # NoAnswer, LineBusy, ...). The aggregated status alone hides it: "SendingFailed
        # if at least one recipient is SendingFailed" (the spec's MessageStatusEnum).
        codes = {str(r.get("faxErrorCode", "")) for r in failed}
        reasons = sorted(code for code in codes if _WORD.fullmatch(code))
        why = f" ({', '.join(reasons)})" if reasons else ""
        detail = f"{len(failed)} of {len(recipients)} recipients failed{why}"
        return Delivery(message_id, f"{status or 'Queued'}; {detail}", "failed")

    def lookup(self, ticket: Ticket, since: float, until: float) -> list[Receipt]:
        """Return the outbound faxes that may be the upload begun at ``since`` whose
        answer was lost (times in epoch seconds), best first: to exactly the ticket's
        recipients, at its resolution, created between ``since`` and ``until``.

        Those created after ``since`` come first, oldest first; then those created up to
        ``LOOKUP_SKEW`` seconds before it (the service's clock may run behind ours),
        newest first. The caller skips messages another job already owns. A listing
        the service cut short raises ServiceUnavailable: "not there" must be certain.
        """
        wanted = sorted(to_e164(r.number, self.account.default_country) for r in ticket.recipients)
        resolution = (ticket.resolution or "Low").title()
        window = (since - LOOKUP_SKEW, until + LOOKUP_SKEW)
        dates = "&".join(f"{k}={_iso(datetime.fromtimestamp(t, UTC))}"
                         for k, t in zip(("dateFrom", "dateTo"), window, strict=True))  # fmt: skip
        answer = self._get(
            f"{MESSAGES_PATH}?messageType=Fax&direction=Outbound&{dates}&perPage=1000"
        )
        records = answer.get("records")
        if not isinstance(records, list) or (answer.get("navigation") or {}).get("nextPage"):
            raise ServiceUnavailable("the message store's listing could not be read whole")
        after: list[tuple[float, Receipt]] = []
        before: list[tuple[float, Receipt]] = []
        for record in records:
            try:
                numbers = sorted(str(r.get("phoneNumber")) for r in record.get("to", []))
                created = _epoch(str(record["creationTime"]))
                if numbers != wanted or record.get("faxResolution", resolution) != resolution:
                    continue
                if window[0] <= created <= window[1]:
                    side = after if created >= since else before
                    side.append((created, _record_receipt(record)))
            except (KeyError, TypeError, ValueError, AttributeError):
                continue  # not a message faxprint can match
        after.sort(key=lambda pair: pair[0])
        before.sort(key=lambda pair: -pair[0])
        return [receipt for _, receipt in after + before]

    def paused(self) -> float:
        """Return the seconds left of a wait the service asked for (a 429's Retry-After)."""
        return self.tokens.paused()

    def check(self) -> str:
        """Get a token with the account's JWT (no fax is sent), proving the credentials
        as they are now; say for how long it is valid."""
        token = self._grant(None)
        self.tokens.put(token)
        return f"token valid for {max(0, round((token.expires_at - self.clock()) / 60))} min"

    # -- HTTP -----------------------------------------------------------------------

    def _get(self, path: str) -> dict[str, Any]:
        status, _headers, answer, _sent = self._call("GET", path)
        if status != 200:
            raise _refusal(status, answer, what="the service", redact=self.redact)
        try:
            data = json.loads(answer)
        except ValueError:
            raise ServiceUnavailable(f"the service answered {path} with no JSON") from None
        if not isinstance(data, dict):
            raise ServiceUnavailable(f"the service answered {path} with no JSON object")
        return data

    def _call(
        self, method: str, path: str, *, body: Callable[[], MultipartBody] | None = None
    ) -> tuple[int, dict[str, str], bytes, bool]:
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
        token = self._remembered(self.tokens.get(self._grant))
        for renewed in (False, True):
            payload = body() if body is not None else None
            status, headers, answer = self._request(method, path, token, payload)
            sent = delivered(payload)
            if status == 401 and not renewed:
                logger.info("the service refused the token (%s); getting a new one",
                            _error_code(answer) or "HTTP 401")  # fmt: skip
                token = self._remembered(self.tokens.renew(token, self._grant))
                continue
            if status == 429:
                raise self._limited(headers, "rate limit", shared=body is not None)
            return status, headers, answer, sent
        raise AssertionError("unreachable: the second round always returns")

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

    def _grant(self, cached: Token | None) -> Token:
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
            return self._grant(None)  # the refresh token was refused: a full grant
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


def _receipt(
    status: int, headers: dict[str, str], answer: bytes, sent: bool, redact: Redactor
) -> Receipt:
    """Turn the answer to a fax request into a receipt, or raise what it means."""
    if status == 200:
        try:
            record = json.loads(answer)
            return _record_receipt(record)
        except (ValueError, KeyError, TypeError, AttributeError):
            if sent:
                shown = service_text(answer, redact) or "an empty answer"
                raise UncertainError(_lost(repr(shown)), excerpt=shown) from None
            raise ServiceUnavailable("the service's answer holds no message") from None
    if sent and (status in (500, 502, 504) or 200 < status < 300):
        raise UncertainError(_lost(f"HTTP {status}"), code=status)
    raise _refusal(status, answer, what="the service", redact=redact)


def _record_receipt(record: dict[str, Any]) -> Receipt:
    message_id = str(int(record["id"]))
    status = _word(record.get("messageStatus"))
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
_WORD = re.compile(r"[A-Za-z]{1,40}")
#: The documented form of an error code (errors.md: CMN-101, OAU-213, MSG-348, AGW-401):
#: nothing else a service answers is shown as a code.
_ERROR_CODE = re.compile(r"[A-Z]{3}-[0-9]{3}")


def _word(value: object) -> str:
    """Return a status the service gave (``Queued``, ``SendingFailed``) if it is one word,
    else ``unknown``: it is kept in the journal and shown to people as it is."""
    text = str(value or "")
    return text if _WORD.fullmatch(text) else "unknown" if text else ""


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


def _epoch(text: str) -> float:
    """Read the API's ISO 8601 time (``2026-11-27T03:06:46Z`` or ``.123Z``)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _file_stem(account: Account) -> str:
    """Name the account's cache files: readable, and unique even for odd account names."""
    # The secrets too: new credentials (another user's JWT) must not reuse the old token.
    identity = "\0".join((account.url, account.client_id, account.client_secret, account.jwt))
    tag = hashlib.sha256(identity.encode()).hexdigest()[:12]
    return f"{re.sub(r'[^A-Za-z0-9_.-]', '_', account.name)[:40]}-{tag}"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    try:
        write_private(path, json.dumps(data))
    except ServiceUnavailable as error:  # a cache: faxing works without it
        logger.debug("%s", error.message)
