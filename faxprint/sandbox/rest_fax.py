"""The fax call's request rules: the JSON root part, its fields, and the attachments.

Sources: [docs] ``docs/messaging/fax/sending-faxes.md`` (root JSON part, supported file
types, "Attachment Limitations"); [spec] ``createFaxMessage`` request body,
``FaxRequestTo``, ``FaxResolutionEnum``, ``CountryIsoCode``; the error codes of the
official swagger's fax-post listing and [docs] ``docs/basics/errors.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from faxprint.sandbox.headers import HeaderError, parse_media_type
from faxprint.sandbox.rest_replies import UNDOCUMENTED, Reply, error, invalid

#: The en-US cover pages, index = id ([spec] ``FaxCoverPageInfo``: "0-13 (for language
#: setting en-US)"; names as the dictionary lists them). There is no "Default": the
#: account's default cover is what a request that leaves ``coverIndex`` out gets.
COVER_PAGES = (
    "None", "Ancient", "Birthday", "Blank", "Clasmod", "Classic", "Confidential",
    "Contempo", "Elegant", "Express", "Formal", "Jazzy", "Modern", "Urgent",
)  # fmt: skip
#: "RingCentral platform supported FAX content types" (sending-faxes.md), by extension.
FAX_EXTENSIONS = frozenset({
    "pdf", "psd", "doc", "docx", "dot", "mcw", "xls", "xlsx", "xlsb", "ppt", "pptx", "vsd",
    "vdx", "pub", "wps", "wri", "awd", "tif", "tiff", "gif", "jpg", "jpeg", "bmp", "png",
    "pcx", "tga", "rtf", "txt", "log", "h", "cpp", "c", "err", "hpp", "wk1", "wk3", "wk4",
    "wq1", "xml", "html", "htm", "csv",
})  # fmt: skip
#: "The combined size of all attachments does not exceed 50 MB" (sending-faxes.md; the
#: spec says "50Mb"). The documentation is silent on whether a MB is 10^6 or 2^20
#: bytes; the sandbox takes the strict reading: 50,000,000 bytes.
MAX_ATTACHMENTS = 50_000_000
MAX_PAGES = 200  # "The attachments does not exceed 200 pages" (sending-faxes.md)
MAX_FILENAME = 256  # MSG-370 "filename is too long, 256 characters allowed"
MAX_COVER_TEXT = 1024  # [spec] coverPageText maxLength
#: The fields of the JSON root part ([spec] createFaxMessage multipart/form-data body).
FIELDS = frozenset({"to", "faxResolution", "sendTime", "isoCode", "coverIndex", "coverPageText"})
#: The names RingCentral's SDKs give the JSON root part (ringcentral-python's
#: multipart builder: ``json``; ringcentral-extensible: ``request``/``request.json``).
JSON_PART_NAMES = ("json", "request")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_ISO_CODE = re.compile(r"[A-Z]{2}")
#: RFC 3339 date-time, the spec's ``format: date-time``: a zone (Z or +hh:mm) required.
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
#: sending-faxes.md: file names must not include "ampersands (e.g. &) or other special
#: characters such as @#$%^&*, etc...". The documentation is silent on the rest of the
#: "etc."; the sandbox takes the strict reading: only ASCII letters, digits, space, dot,
#: hyphen and underscore.
_FILENAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-_")


@dataclass(frozen=True)
class FaxRequest:
    """The JSON root part, checked. ``cover_index`` None: left out, the default cover."""

    to: tuple[dict[str, str], ...]
    resolution: str
    cover_index: int | None
    cover_text: str
    send_time: str | None
    iso_code: str | None


def check_json_part(name: str, content_type: str | None) -> Reply | None:
    """Refuse a first part that is not the JSON root (with or without a file name)."""
    if name not in JSON_PART_NAMES or not _is_json(content_type):
        return error(400, "MSG-349", "Unable to parse fax envelope: the first part must be"
                     " the JSON request (form-data name \"json\" or \"request\","
                     " Content-Type: application/json)")  # fmt: skip
    return None


def parse_request(raw: bytes) -> FaxRequest | Reply:
    """Decode the JSON root part (UTF-8, as RFC 8259 says JSON is) and check its fields."""
    try:
        spec = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates,
                          parse_constant=_no_constant)  # fmt: skip
    except ValueError:  # UnicodeDecodeError and JSONDecodeError included
        return error(400, "CMN-103", "JSON can't be parsed.")
    if not isinstance(spec, dict):
        return error(400, "MSG-349", "Unable to parse fax envelope: the JSON is not an object")
    # The documentation is silent on fields it does not list; the sandbox takes the
    # strict reading: a field the spec does not name is refused.
    unknown = sorted(set(spec) - FIELDS)
    if unknown:
        return invalid(unknown[0], f"Parameter [{unknown[0]}] is not a field of the fax request.")
    return _check_fields(spec)


def _check_fields(spec: dict[str, Any]) -> FaxRequest | Reply:
    to = _recipients(spec.get("to"))
    if isinstance(to, Reply):
        return to
    resolution = spec.get("faxResolution", "Low")  # silent on the default: Low is shown
    if resolution not in ("High", "Low"):
        return invalid("faxResolution", "Parameter [faxResolution] must be High or Low.")
    cover = spec.get("coverIndex")
    if cover is not None and not (type(cover) is int and 0 <= cover < len(COVER_PAGES)):
        return invalid("coverIndex", f"Parameter [coverIndex] must be 0..{len(COVER_PAGES) - 1}.")
    text = spec.get("coverPageText", "")
    if not isinstance(text, str) or _symbols(text) > MAX_COVER_TEXT:
        return invalid("coverPageText", f"Parameter [coverPageText] must be text of at"
                       f" most {MAX_COVER_TEXT} characters.")  # fmt: skip
    when = spec.get("sendTime")
    if when is not None and not is_date_time(when):
        return invalid("sendTime", "Parameter [sendTime] must be an RFC 3339 date-time"
                       " with a zone, e.g. 2030-03-19T08:00:00.000Z.")  # fmt: skip
    iso = spec.get("isoCode")
    if iso is not None and not (isinstance(iso, str) and _ISO_CODE.fullmatch(iso)):
        return invalid("isoCode", "Parameter [isoCode] must be two capital letters.")
    return FaxRequest(to, resolution, cover, text, when, iso)


def _recipients(to: object) -> tuple[dict[str, str], ...] | Reply:
    """``to``: a non-empty list of ``{phoneNumber: E.164 with +, name?}``, the name
    (text for the cover page) kept exactly as sent."""
    if not isinstance(to, list) or not to:
        return invalid("to", "Parameter [to] is required: a list of {phoneNumber, name}.")
    recipients = []
    for item in to:
        if not isinstance(item, dict) or set(item) - {"phoneNumber", "name"}:
            return invalid("to", f"Parameter [to] value is invalid: {item!r}.")
        number, name = item.get("phoneNumber"), item.get("name")
        if not isinstance(number, str) or not _E164.fullmatch(number):
            return invalid("to", f"Parameter [to] value is invalid: phoneNumber {number!r}"
                           " is not E.164 (+ and digits).")  # fmt: skip
        if name is not None and not isinstance(name, str):
            return invalid("to", f"Parameter [to] value is invalid: name {name!r}.")
        recipients.append({"phoneNumber": number} | ({} if name is None else {"name": name}))
    return tuple(recipients)


def check_attachments(attachments: Sequence[Mapping[str, Any]]) -> Reply | None:
    """Refuse attachments as the documentation does, each file in turn, then in all."""
    if not attachments:
        # The documentation is silent on the code for no attachment (the spec requires
        # one): the sandbox answers its own.
        return error(400, UNDOCUMENTED["no-attachment"], "A fax needs at least one attachment",
                     {"parameterName": "attachment"})  # fmt: skip
    for attachment in attachments:
        problem = _check_file(attachment)
        if problem is not None:
            return problem
    if sum(int(a["size"]) for a in attachments) > MAX_ATTACHMENTS:
        return error(400, "MSG-337", "Attachment size limit exceeded")
    pages = sum(a.get("pages") or 1 for a in attachments)  # a file is at least a page
    if pages > MAX_PAGES:
        # The 200-page limit is documented, its code is not: the sandbox answers its own.
        message = f"The attachments have {pages} pages; at most {MAX_PAGES} are allowed"
        return error(400, UNDOCUMENTED["pages"], message)
    return None


def _check_file(attachment: Mapping[str, Any]) -> Reply | None:
    name: str | None = attachment.get("fileName")
    if name is None:
        return error(400, "MSG-351", "No file name in content disposition")
    if len(name) > MAX_FILENAME:
        return error(400, "MSG-370", f"filename is too long, {MAX_FILENAME} characters allowed")
    bad = next((char for char in name if char not in _FILENAME_CHARS), None)
    if bad is not None:
        # Documented as a limitation without an error code: the sandbox answers its own.
        message = f"Attachment [{name}]: the file name holds the special character {bad!r}"
        return error(400, UNDOCUMENTED["filename"], message)
    # The table lists extensions in lower case and the documentation is silent on case;
    # the sandbox takes the strict reading: "A.PDF" is not in the table.
    extension = PurePosixPath(name).suffix.removeprefix(".")
    if not extension:
        if not attachment.get("contentType"):
            return error(415, "MSG-353", "No file extension or content type specified")
        return error(400, "MSG-355", "For binary data filename with extension should be specified")
    if extension not in FAX_EXTENSIONS:
        return error(415, "MSG-348", "Unsupported attachment media type",
                     {"fileName": name})  # fmt: skip
    if int(attachment["size"]) == 0:
        return error(400, "MSG-347", f"Attachment [{name}] body is empty")
    return None


def timestamp(value: str) -> float:
    """The POSIX time of a checked date-time."""
    return datetime.fromisoformat(value.upper().replace("Z", "+00:00")).timestamp()


def is_date_time(value: object) -> bool:
    """Tell whether value is an RFC 3339 date-time with a zone (what the spec's
    ``format: date-time`` and the list's "ISO 8601 format including timezone" ask)."""
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        return False
    try:
        timestamp(value)
    except ValueError:
        return False
    return True


def _symbols(text: str) -> int:
    """The length of text for "1024 symbols": the documentation is silent on what a
    symbol is; the sandbox takes the strict reading, UTF-16 code units (a character
    outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return False
    try:
        media = parse_media_type(content_type)
    except HeaderError:
        return False
    charset = media.params.get("charset", "utf-8").lower()
    return media.value == "application/json" and charset == "utf-8"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Refuse a JSON object that names a field twice (the documentation is silent;
    which one a service would take is unknowable, so the sandbox takes neither)."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"field {key!r} given twice")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259)")
