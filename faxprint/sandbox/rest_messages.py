"""The REST side's message store: the faxes it accepted, and how it shows and lists them.

* ``GET .../message-store/ID`` and ``GET .../message-store`` ([spec] ``readMessage``,
  ``listMessages``): each recipient ``Queued`` until ``delivery_seconds`` after the
  send time, then ``Sent``, or ``SendingFailed`` with ``faxErrorCode`` for a number in
  ``failing_numbers``; the message's status aggregated as ``MessageStatusEnum`` says for
  outbound faxes (any Queued: Queued; any SendingFailed: SendingFailed; else Sent, never
  Delivered). The list takes the documented parameters only and answers ``paging`` and
  ``navigation``; ``dateFrom`` defaults to 24 hours before ``dateTo``.
* The cover page dictionary ([spec] ``listFaxCoverPages``) pages as the list does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from faxprint.sandbox.rest_fax import is_date_time, timestamp
from faxprint.sandbox.rest_replies import Reply, invalid

#: listMessages' documented query parameters; the repeatable ones with their values.
_LIST_ENUMS = {
    "messageType": {"Fax", "SMS", "VoiceMail", "Pager"},
    "direction": {"Inbound", "Outbound"},
    "availability": {"Alive", "Deleted", "Purged"},
    "readStatus": {"Read", "Unread"},
}
_LIST_SINGLE = frozenset({
    "dateFrom", "dateTo", "page", "perPage", "phoneNumber", "conversationId",
    "distinctConversations",
})  # fmt: skip


@dataclass
class Message:
    """A fax the REST side accepted. ``cover_index`` None: the request left it out, so
    the account's default cover page is attached. ``json_part``: how the JSON root part
    came (``name``, ``filename`` or None, ``content_type``)."""

    id: int
    app: str
    to: list[dict[str, str]]
    resolution: str
    cover_index: int | None
    cover_text: str
    send_time: str | None
    attachments: list[dict[str, Any]]
    created: float
    iso_code: str | None = None
    json_part: dict[str, str | None] = field(default_factory=dict)

    @property
    def starts(self) -> float:
        """When sending starts: now, or a later ``sendTime``."""
        return max(self.created, timestamp(self.send_time) if self.send_time else 0.0)

    def status(self, now: float, delivery_seconds: float, failing: Container[str]) -> str:
        """The aggregated status ([spec] MessageStatusEnum, outbound faxes): Queued if a
        recipient is, SendingFailed if one failed, otherwise Sent."""
        each = {self.recipient_status(r["phoneNumber"], now, delivery_seconds, failing)
                for r in self.to}  # fmt: skip
        for status in ("Queued", "SendingFailed"):
            if status in each:
                return status
        return "Sent"

    def recipient_status(
        self, number: str, now: float, delivery_seconds: float, failing: Container[str]
    ) -> str:
        """Queued until sent; then Sent ("sent successfully", [faq]) or SendingFailed."""
        if now - self.starts < delivery_seconds:
            return "Queued"
        return "SendingFailed" if number in failing else "Sent"

    @property
    def pages(self) -> int:
        """The fax's pages once rendered: the documents' (a file is at least one) and
        the cover page unless ``coverIndex`` was 0."""
        cover = 0 if self.cover_index == 0 else 1
        return cover + sum(a.get("pages") or 1 for a in self.attachments)


@dataclass(frozen=True)
class Delivery:
    """How accepted faxes go: ``seconds`` after their send time, except to the numbers
    in ``errors``, which fail with that ``faxErrorCode`` (``failing`` holds them)."""

    seconds: float
    failing: Container[str]
    errors: Mapping[str, str]


def describe(message: Message, uri: str, now: float, delivery: Delivery) -> dict[str, Any]:
    """The message as the spec's ``FaxResponse`` / ``GetMessageInfoResponse``, its URI
    ``uri``, as it stands at ``now``."""
    status = message.status(now, delivery.seconds, delivery.failing)
    answer: dict[str, Any] = {
        "id": message.id, "uri": uri, "type": "Fax", "direction": "Outbound",
        "availability": "Alive", "readStatus": "Read", "priority": "Normal",
        "messageStatus": status, "faxResolution": message.resolution,
        "faxPageCount": 0 if status == "Queued" else message.pages,
        "creationTime": _iso(message.created),
        "lastModifiedTime": _iso(message.created if status == "Queued"
                                 else message.starts + delivery.seconds),
        "to": [_recipient(message, n, r, now, delivery) for n, r in enumerate(message.to, 1)],
        # The rendered fax, one PDF ([spec] MessageAttachmentInfoIntId, RenderedDocument).
        "attachments": [{"id": message.id, "uri": f"{uri}/content/{message.id}",
                         "type": "RenderedDocument", "contentType": "application/pdf"}],
    }  # fmt: skip
    # The documentation is silent on what coverIndex an answer shows when the request
    # left it out (the account's default): the sandbox leaves the field out then.
    if message.cover_index is not None:
        answer["coverIndex"] = message.cover_index
    if message.cover_text:
        answer["coverPageText"] = message.cover_text
    return answer


def _recipient(
    message: Message, number: int, recipient: dict[str, str], now: float, delivery: Delivery
) -> dict[str, str]:
    phone = recipient["phoneNumber"]
    status = message.recipient_status(phone, now, delivery.seconds, delivery.failing)
    entry = {**recipient, "messageStatus": status, "recipientId": str(number)}
    if status == "SendingFailed":
        entry["faxErrorCode"] = delivery.errors[phone]
    return entry


def check_list(query: Mapping[str, list[str]]) -> Reply | None:
    """listMessages' parameters as documented. The spec also names ``owner``,
    ``voicemailOwner`` and ``ownerExtensionType``, "supported if the 'SharedVoicemail'
    or 'CallQueueSmsRecipient' feature is enabled": the sandbox's extension has neither,
    and it refuses them, as it refuses undocumented parameters (the documentation is
    silent on both; this is the strict reading)."""
    for name, values in query.items():
        if name in _LIST_ENUMS:
            if any(v not in _LIST_ENUMS[name] for v in values):
                return invalid(name)
        elif name not in _LIST_SINGLE or len(values) != 1:
            return invalid(name)
    for name in ("dateFrom", "dateTo"):
        if name in query and not is_date_time(query[name][0]):
            return invalid(name, f"Parameter [{name}] must be ISO 8601 including timezone.")
    for name, low in (("page", 1), ("perPage", 0)):
        value = query.get(name, ["1"])[0]
        if not value.isdigit() or int(value) < low:
            return invalid(name)
    if query.get("distinctConversations", ["false"])[0] not in ("true", "false"):
        return invalid("distinctConversations")
    return None


def listed(message: Message, query: Mapping[str, list[str]]) -> bool:
    """Whether a (sent, read, alive, conversation-less) fax passes the list's filters."""
    wanted = {"messageType": "Fax", "direction": "Outbound", "availability": "Alive",
              "readStatus": "Read"}  # fmt: skip
    if any(value not in query.get(name, [value]) for name, value in wanted.items()):
        return False
    if "conversationId" in query:
        return False  # faxes belong to no conversation
    if "phoneNumber" in query:
        digits = query["phoneNumber"][0].removeprefix("+")
        return any(r["phoneNumber"].removeprefix("+") == digits for r in message.to)
    return True


def check_paging(query: Mapping[str, list[str]]) -> Reply | None:
    """The cover page dictionary's parameters: ``page`` and ``perPage``, once each,
    1..1000 ("Only positive number values are accepted")."""
    for name in query:
        if name not in ("page", "perPage") or len(query[name]) != 1:
            return invalid(name)
        value = query[name][0]
        if not value.isdigit() or not 1 <= int(value) <= 1000:
            return invalid(name)
    return None


def page(
    url: str, query: Mapping[str, list[str]], items: Sequence[Any], per_page: int,
    show: Callable[[Message], dict[str, Any]],
) -> Reply:  # fmt: skip
    """One page of the items listed at ``url`` with ``paging`` and ``navigation`` as the
    spec's paging models describe them (start/end omitted on an empty page, next only if
    any); ``show`` turns a message into its record."""
    number = int(query.get("page", ["1"])[0])
    total_pages = math.ceil(len(items) / per_page) if per_page else 0
    shown = list(items[(number - 1) * per_page : number * per_page])

    def link(to: int) -> dict[str, str]:
        wanted = {**query, "page": [str(to)]}
        return {"uri": f"{url}?{urlencode(wanted, doseq=True)}"}

    paging = {"page": number, "perPage": per_page, "totalPages": total_pages,
              "totalElements": len(items)}  # fmt: skip
    if shown:
        paging |= {"pageStart": (number - 1) * per_page,
                   "pageEnd": (number - 1) * per_page + len(shown) - 1}  # fmt: skip
    navigation = {"firstPage": link(1), "lastPage": link(max(1, total_pages))}
    if number < total_pages:
        navigation["nextPage"] = link(number + 1)
    if number > 1:
        navigation["previousPage"] = link(number - 1)
    records = [show(i) if isinstance(i, Message) else i for i in shown]
    return Reply(200, {"uri": link(number)["uri"], "records": records,
                       "paging": paging, "navigation": navigation})  # fmt: skip


def _iso(moment: float) -> str:
    """ISO 8601 with milliseconds and Z, as the spec's examples (2016-03-10T18:07:52.534Z)."""
    text = datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")
