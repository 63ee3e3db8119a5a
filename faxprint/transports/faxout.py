"""The FaxOut protocol (RingCentral "Send Fax Web API"): one multipart POST, one digit back.

Building the request and reading the answer are pure functions; :class:`FaxOutTransport`
is the one place that speaks HTTP, and :func:`faxprint.transports.http.translate` the one
place where requests' exceptions become faxprint's.

Which failures may be retried:

- codes 1 and 2 (authorization failed, faxing prohibited): permanent, the admin must act;
- codes 3 and 4 (no recipients, no fax data): permanent, the job itself is wrong;
- code 5 (generic error): transient. The answer says the fax was *not* accepted, so sending
  again cannot double it, and the service gives this code for its own passing troubles.
  Retries are bounded by the retry policy, after which the job fails with this message;
- network errors and timeouts: transient while the request body had not been fully sent
  (the service cannot accept half a request); uncertain once it had, since the service may
  have accepted the fax and lost only its answer;
- HTTP 5xx, 408, 429: transient; 401/403: the account; 404/405: the URL is wrong;
- a TLS certificate that fails verification (untrusted, another host's): configuration,
  the admin must act (fix the URL, or name the CA with ``verify``); retrying cannot help.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from faxprint import protocol
from faxprint.config import Account
from faxprint.documents import Document
from faxprint.errors import (
    AccountError,
    CancelledError,
    ConfigError,
    FaxPrintError,
    RejectedError,
    ServiceError,
    ServiceUnavailable,
    UncertainError,
)
from faxprint.protocol import ResultCode
from faxprint.redact import Redactor, service_text
from faxprint.sendtime import format_send_time
from faxprint.text import to_ascii
from faxprint.ticket import MAX_NAME, Recipient, Ticket
from faxprint.transports.base import Progress, Receipt
from faxprint.transports.http import (
    LOST_ANSWER,
    check_verify,
    delivered,
    new_session,
    starting,
    translate,
)
from faxprint.transports.multipart import Field, FileField, MultipartBody, TextField

if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)

MESSAGES: dict[ResultCode, str] = {
    ResultCode.SUCCESSFUL: "fax accepted by the service",
    ResultCode.AUTHORIZATION_FAILED: (
        "authorization failed: check the account's username and password"
    ),
    ResultCode.FAXING_PROHIBITED: (
        "faxing is prohibited for this account: ask the account holder to enable faxing"
    ),
    ResultCode.NO_RECIPIENTS: "the service found no recipients in the fax",
    ResultCode.NO_FAX_DATA: "the service found no fax data (no document it could use)",
    ResultCode.GENERIC_ERROR: "the service reported a generic error; the fax was not accepted",
}

_ERRORS: dict[ResultCode, type[FaxPrintError]] = {
    ResultCode.AUTHORIZATION_FAILED: AccountError,
    ResultCode.FAXING_PROHIBITED: AccountError,
    ResultCode.NO_RECIPIENTS: RejectedError,
    ResultCode.NO_FAX_DATA: RejectedError,
    ResultCode.GENERIC_ERROR: ServiceError,
}


def request_fields(
    account: Account, ticket: Ticket, documents: Sequence[Document], *, now: datetime
) -> list[Field]:
    """Return the form fields of one FaxOut request, in the spec's order.

    Every field is "Format: ASCII string" (faxout-api.txt, 1. Request format): names and
    cover text are folded to ASCII here, the one place that knows this rule."""
    fields: list[Field] = [TextField(protocol.USERNAME, account.username)]
    if account.password:
        fields.append(TextField(protocol.PASSWORD, account.password))
    fields += [TextField(protocol.RECIPIENT, wire_recipient(r)) for r in ticket.recipients]
    fields.append(TextField(protocol.COVERPAGE, ticket.cover))
    cover_text = to_ascii(ticket.cover_text, keep_newlines=True)
    if cover_text:
        fields.append(TextField(protocol.COVERPAGETEXT, cover_text))
    if ticket.resolution is not None:
        fields.append(TextField(protocol.RESOLUTION, ticket.resolution.value))
    if ticket.send_at is not None:
        if ticket.send_at > now:
            fields.append(TextField(protocol.SENDTIME, format_send_time(ticket.send_at)))
        else:
            logger.warning(
                "send time %s has passed; the fax is sent now", ticket.send_at.isoformat()
            )
    fields += [
        FileField(protocol.ATTACHMENT, d.path, d.filename, d.content_type, d.size, d.identity)
        for d in documents
    ]
    return fields


def wire_recipient(recipient: Recipient) -> str:
    """Render the protocol's ``number|name`` in the ASCII it demands (``José`` as ``Jose``)."""
    name = to_ascii(recipient.name).replace("|", "/")[:MAX_NAME].rstrip()
    return f"{recipient.number}|{name}" if name else recipient.number


def parse_answer(status: int, body: bytes, redact: Redactor | None = None) -> Receipt:
    """Turn the service's answer to a complete upload into a receipt, or raise its meaning.

    The whole request reached the service, so only answers that say "not accepted" are
    safe to retry: a result code, or a status that intermediaries give before passing a
    request on (502, 503, 408, 429). A 500, a 504 or a 2xx that holds no result code may
    come after the service accepted the fax: that is uncertain, never retried blindly.
    The answer's text is shown with the account's secrets hidden (``redact``): an error
    page may quote the posted form, password and all.
    """
    excerpt = service_text(body, redact or Redactor())
    if status in (401, 403):
        raise AccountError(f"the service refused the account (HTTP {status})", code=status)
    if status in (404, 405) or 300 <= status < 400:
        raise ConfigError(f"no FaxOut service at the account's URL (HTTP {status})", code=status)
    if status == 413:
        raise RejectedError("the service refused the fax as too large (HTTP 413)", code=status)
    if status in (408, 429, 502, 503):
        raise ServiceUnavailable(f"the service is unavailable (HTTP {status})", code=status)
    if 400 <= status < 500:
        raise RejectedError(
            f"the service refused the request (HTTP {status}: {excerpt})", code=status
        )
    if not 200 <= status < 300:
        raise UncertainError(_answer_lost(f"HTTP {status}: {excerpt or 'no text'}"), code=status)
    text = body.removeprefix(b"\xef\xbb\xbf").strip()  # a UTF-8 byte order mark is no answer
    if not (len(text) == 1 and text.isdigit() and int(text) in ResultCode._value2member_map_):
        shown = excerpt or "an empty answer"
        raise UncertainError(_answer_lost(repr(shown)), excerpt=shown)
    code = ResultCode(int(text))
    if code is ResultCode.SUCCESSFUL:
        return Receipt(code=int(code), message=MESSAGES[code])
    raise _ERRORS[code](MESSAGES[code], code=int(code))


class FaxOutTransport:
    """Send faxes to a FaxOut endpoint over HTTPS."""

    def __init__(self, account: Account, session: requests.Session | None = None) -> None:
        # requests is imported here, before any job is marked "sending": a SIGTERM that
        # lands inside an import can be swallowed by importlib, and a cancel be lost.
        import requests  # noqa: F401 -- loaded for _post

        self.account = account
        self.redact = account.redactor()
        self._session = session

    def send(
        self,
        ticket: Ticket,
        documents: Sequence[Document],
        *,
        now: datetime,
        progress: Progress | None = None,
    ) -> Receipt:
        """Upload one fax and return the service's receipt."""
        body = MultipartBody(request_fields(self.account, ticket, documents, now=now))
        body.progress = progress
        status, answer = self._post(body)
        return parse_answer(status, answer, self.redact)

    def _post(self, body: MultipartBody) -> tuple[int, bytes]:
        import requests  # a job pays for requests only when it really sends

        check_verify(self.account)
        session = self._session or new_session()
        if self.account.url.startswith("http://"):
            # Plain http is allowed only to loopback: an http_proxy from the environment
            # would carry the password, in clear, elsewhere.
            session.trust_env = False
        starting()
        try:
            response = session.post(
                self.account.url,
                data=body,
                headers={"Content-Type": body.content_type, "Accept": "text/plain, */*"},
                timeout=(self.account.connect_timeout, self.account.read_timeout),
                verify=self.account.verify,
                allow_redirects=False,
            )
            return response.status_code, response.content[:4096]
        except requests.RequestException as exc:
            raise translate(exc, body) from exc
        except CancelledError as exc:
            if delivered(body):  # cancelled while waiting for the answer: it may have gone
                raise UncertainError(LOST_ANSWER) from exc
            raise
        finally:
            if self._session is None:
                session.close()


def _answer_lost(answer: str) -> str:
    return (
        f"the whole fax was uploaded but the service answered {answer} instead of a result "
        "code: it may have been accepted. Check the account's sent faxes before sending it again"
    )
