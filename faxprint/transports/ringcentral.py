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

The authorized requests, the sign-in, and how each answer maps onto faxprint's errors
are :mod:`faxprint.transports.ringcentral_api`'s; this module says what to ask.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import faxprint.transports.ringcentral_files as files
from faxprint.config import Account
from faxprint.documents import Document
from faxprint.e164 import to_e164
from faxprint.errors import ServiceUnavailable, TicketError
from faxprint.pacing import Pacer, pacer_for
from faxprint.protocol import COVER_DEFAULT, COVER_NONE
from faxprint.text import printable, to_ascii
from faxprint.ticket import Ticket
from faxprint.transports.base import Delivery, Progress, Receipt, delivery_outcome
from faxprint.transports.multipart import Field, FileField, JsonField, MultipartBody
from faxprint.transports.ringcentral_api import (
    WORD,
    Client,
    epoch,
    iso,
    receipt,
    record_receipt,
    word,
)
from faxprint.transports.tokens import TokenCache, read_json, write_json

if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)

FAX_PATH = "/restapi/v1.0/account/~/extension/~/fax"
MESSAGES_PATH = "/restapi/v1.0/account/~/extension/~/message-store"
COVERS_PATH = "/restapi/v1.0/dictionary/fax-cover-page"
MAX_COVER_TEXT = 1024
COVERS_SECONDS = 86400.0  # how long the cover page dictionary is trusted
LOOKUP_SKEW = 60.0  # seconds the service's clock may run behind ours when matching a message


class RingCentralTransport:
    """Send faxes through RingCentral's REST API and follow their delivery."""

    def __init__(
        self,
        account: Account,
        state: Path,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        pacer: Pacer | None = None,
    ) -> None:
        import requests  # noqa: F401 -- loaded before a job is "sending" (see FaxOutTransport)

        self.account = account
        stem = _file_stem(account)
        self.tokens = TokenCache(state / f"{stem}.token", clock=clock)
        self.covers_path = state / f"{stem}.covers.json"
        self.clock = clock
        # Hides the secrets, and each token as it is got, in whatever the service says.
        self.redact = account.redactor()
        self.api = Client(account, self.tokens, self.redact, session=session, clock=clock)
        # Told the fax call's rate from each answer: the sender's own pacer when it has one
        # (a record several servers share), else the account's in ``state``.
        self.api.pacer = pacer or pacer_for(account.name, account.pace(), state)

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

        return receipt(self.api.call("POST", FAX_PATH, body=body), self.redact)

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
                request["sendTime"] = iso(ticket.send_at)
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
        cached = read_json(self.covers_path)
        if cached and self.clock() - float(cached.get("fetched", 0)) < COVERS_SECONDS:
            return {int(k): str(v) for k, v in cached["covers"].items()}
        answer = self.api.get(COVERS_PATH)
        try:
            covers = {int(r["id"]): str(r["name"]) for r in answer["records"]}
        except (KeyError, TypeError, ValueError):
            raise ServiceUnavailable("the cover page dictionary could not be read") from None
        write_json(self.covers_path, {"fetched": self.clock(), "covers": covers})
        return covers

    # -- following a fax ------------------------------------------------------------

    def delivery(self, message_id: str) -> Delivery:
        """Return the message's delivery status as the service reports it now.

        A fax to several recipients is delivered when every recipient's is; one failed
        recipient makes the fax ``failed``, said in its status."""
        if not message_id.isdigit():
            raise ValueError(f"message id {message_id!r} is not a number")
        answer = self.api.get(f"{MESSAGES_PATH}/{message_id}")
        status = word(answer.get("messageStatus"))
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
        reasons = sorted(code for code in codes if WORD.fullmatch(code))
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
        dates = "&".join(f"{k}={iso(datetime.fromtimestamp(t, UTC))}"
                         for k, t in zip(("dateFrom", "dateTo"), window, strict=True))  # fmt: skip
        answer = self.api.get(
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
                created = epoch(str(record["creationTime"]))
                if numbers != wanted or record.get("faxResolution", resolution) != resolution:
                    continue
                if window[0] <= created <= window[1]:
                    side = after if created >= since else before
                    side.append((created, record_receipt(record)))
            except (KeyError, TypeError, ValueError, AttributeError):
                continue  # not a message faxprint can match
        after.sort(key=lambda pair: pair[0])
        before.sort(key=lambda pair: -pair[0])
        return [found for _, found in after + before]

    # -- the account ----------------------------------------------------------------

    def paused(self) -> float:
        """Return the seconds left of a wait the service asked for (a 429's Retry-After)."""
        return self.tokens.paused()

    def check(self) -> str:
        """Get a token with the account's JWT (no fax is sent), proving the credentials
        as they are now; say for how long it is valid."""
        token = self.api.grant(None)
        self.tokens.put(token)
        return f"token valid for {max(0, round((token.expires_at - self.clock()) / 60))} min"


def _file_stem(account: Account) -> str:
    """Name the account's cache files: readable, and unique even for odd account names."""
    # The secrets too: new credentials (another user's JWT) must not reuse the old token.
    identity = "\0".join((account.url, account.client_id, account.client_secret, account.jwt))
    tag = hashlib.sha256(identity.encode()).hexdigest()[:12]
    return f"{re.sub(r'[^A-Za-z0-9_.-]', '_', account.name)[:40]}-{tag}"
