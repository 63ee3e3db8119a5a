"""Streaming multipart/form-data parser (RFC 7578 over RFC 2046), strict on purpose.

Feed the body in chunks of any size; get back part events. Memory stays bounded by the
chunk size plus one header block, whatever the size of a part. The grammar accepted::

    body   = "--" boundary CRLF part *(CRLF "--" boundary CRLF part)
             CRLF "--" boundary "--" [CRLF]
    part   = 1*(header-line CRLF) CRLF content

No preamble, no transport padding after a boundary, no epilogue beyond one CRLF. Header
lines end in CRLF (a bare LF or CR is an error), are not folded, and may only be
``Content-Disposition: form-data; name=...[; filename=...]`` (required, once) and
``Content-Type`` (optional, once). ``filename*`` is refused (RFC 7578 section 4.2),
as is ``Content-Transfer-Encoding`` (section 4.7), and so is a backslash anywhere in
Content-Disposition: RFC 2045 makes it an escape, browsers (and the FaxOut spec's own
``filename="C:\\example.doc"``) a character, so a client must not depend on either.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from faxprint.sandbox.headers import (
    HeaderError,
    HeaderValue,
    is_token,
    parse_disposition,
    parse_media_type,
)

MAX_HEADER_LINE = 8192
MAX_HEADER_LINES = 16


class MultipartError(ValueError):
    """A body that is not well-formed multipart/form-data."""


@dataclass(frozen=True)
class PartHeaders:
    """What a part's headers say: field name, filename parameter, Content-Type."""

    name: str
    filename: str | None
    content_type: str | None


@dataclass(frozen=True)
class PartStart:
    """A part begins; its content follows as PartData events."""

    headers: PartHeaders


@dataclass(frozen=True)
class PartData:
    """A piece of the current part's content."""

    data: bytes


@dataclass(frozen=True)
class PartEnd:
    """The current part is complete."""


Event = PartStart | PartData | PartEnd


class _State(enum.Enum):
    START = enum.auto()
    AFTER_BOUNDARY = enum.auto()
    HEADERS = enum.auto()
    CONTENT = enum.auto()
    END = enum.auto()


class MultipartParser:
    """Split a multipart/form-data body, fed in chunks of any size, into part events."""

    def __init__(self, boundary: str) -> None:
        self._dash_boundary = b"--" + boundary.encode("ascii")
        self._delimiter = b"\r\n" + self._dash_boundary
        self._buffer = bytearray()
        self._state = _State.START
        self._part = 0
        self._lines: list[str] = []

    def feed(self, data: bytes) -> list[Event]:
        """Consume a chunk and return the events it completes."""
        self._buffer += data
        events: list[Event] = []
        while self._step(events):
            pass
        return events

    def finish(self) -> None:
        """Check that the body ended right after the closing boundary."""
        if self._state is not _State.END:
            raise MultipartError(f"body ended before the closing boundary (in part {self._part})")
        if bytes(self._buffer) not in (b"", b"\r\n"):
            raise MultipartError("data after the closing boundary")

    def _step(self, events: list[Event]) -> bool:
        match self._state:
            case _State.START:
                return self._start()
            case _State.AFTER_BOUNDARY:
                return self._after_boundary()
            case _State.HEADERS:
                return self._header_line(events)
            case _State.CONTENT:
                return self._content(events)
            case _State.END:
                if not b"\r\n".startswith(self._buffer):
                    raise MultipartError("data after the closing boundary")
                return False

    def _start(self) -> bool:
        size = len(self._dash_boundary)
        if not self._dash_boundary.startswith(self._buffer[:size]):
            raise MultipartError("body does not start with '--' and the boundary")
        if len(self._buffer) < size:
            return False
        del self._buffer[:size]
        self._state = _State.AFTER_BOUNDARY
        return True

    def _after_boundary(self) -> bool:
        if len(self._buffer) < 2:
            return False
        follow = bytes(self._buffer[:2])
        del self._buffer[:2]
        if follow == b"\r\n":
            self._part += 1
            self._lines = []
            self._state = _State.HEADERS
        elif follow == b"--":
            self._state = _State.END
        else:
            raise MultipartError(
                f"boundary after part {self._part} is followed by neither CRLF nor '--'"
            )
        return True

    def _header_line(self, events: list[Event]) -> bool:
        end = self._buffer.find(b"\n")
        if end < 0:
            if len(self._buffer) > MAX_HEADER_LINE:
                raise MultipartError(f"part {self._part}: header line over {MAX_HEADER_LINE} bytes")
            return False
        line = bytes(self._buffer[: end + 1])
        del self._buffer[: end + 1]
        if len(line) > MAX_HEADER_LINE:
            raise MultipartError(f"part {self._part}: header line over {MAX_HEADER_LINE} bytes")
        if not line.endswith(b"\r\n") or b"\r" in line[:-2]:
            raise MultipartError(f"part {self._part}: header lines must end in CRLF")
        if line == b"\r\n":
            events.append(PartStart(self._headers()))
            self._state = _State.CONTENT
            return True
        if len(self._lines) == MAX_HEADER_LINES:
            raise MultipartError(f"part {self._part}: more than {MAX_HEADER_LINES} header lines")
        self._lines.append(line[:-2].decode("utf-8", "surrogateescape"))
        return True

    def _content(self, events: list[Event]) -> bool:
        found = self._buffer.find(self._delimiter)
        if found >= 0:
            if found:
                events.append(PartData(bytes(self._buffer[:found])))
            events.append(PartEnd())
            del self._buffer[: found + len(self._delimiter)]
            self._state = _State.AFTER_BOUNDARY
            return True
        # Keep a tail that could be the start of a delimiter split across chunks.
        keep = len(self._delimiter) - 1
        if len(self._buffer) > keep:
            cut = len(self._buffer) - keep
            events.append(PartData(bytes(self._buffer[:cut])))
            del self._buffer[:cut]
        return False

    def _headers(self) -> PartHeaders:
        where = f"part {self._part}"
        fields: dict[str, str] = {}
        for number, line in enumerate(self._lines, start=1):
            name, value = _split_header(line, f"{where}, header line {number}")
            if name == "content-transfer-encoding":
                raise MultipartError(
                    f"{where}: Content-Transfer-Encoding is not allowed (RFC 7578 section 4.7)"
                )
            if name not in _ALLOWED:
                # The name is not echoed: a misframed part may have put a secret there.
                raise MultipartError(
                    f"{where}, header line {number}: only Content-Disposition and"
                    " Content-Type are allowed in form-data"
                )
            if name in fields:
                raise MultipartError(f"{where}: {_ALLOWED[name]} given twice")
            fields[name] = value
        if "content-disposition" not in fields:
            raise MultipartError(f"{where} has no Content-Disposition header")
        if "\\" in fields["content-disposition"]:
            # RFC 2045 reads a backslash in a quoted-string as an escape; browsers, curl's
            # rivals and the FaxOut spec's own example read it as a character.
            raise MultipartError(
                f"{where}: Content-Disposition holds a backslash, which servers read"
                " differently; send a bare filename without backslashes or quotes"
            )
        content_type = fields.get("content-type")
        try:
            disposition = parse_disposition(fields["content-disposition"])
            if content_type is not None:
                parse_media_type(content_type)
        except HeaderError as exc:
            raise MultipartError(f"{where}: {exc}") from exc
        return _part_headers(where, disposition, content_type)


_ALLOWED = {"content-disposition": "Content-Disposition", "content-type": "Content-Type"}


def _split_header(line: str, where: str) -> tuple[str, str]:
    if line[:1] in (" ", "\t"):
        raise MultipartError(f"{where} is folded (starts with whitespace)")
    name, colon, value = line.partition(":")
    if not colon:
        raise MultipartError(f"{where} has no ':'")
    if not is_token(name):
        raise MultipartError(f"{where}: field name is not a token")
    value = value.strip(" \t")
    if any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in value):
        raise MultipartError(f"{where} holds a control character")
    return name.lower(), value


def _part_headers(where: str, disposition: HeaderValue, content_type: str | None) -> PartHeaders:
    if disposition.value != "form-data":
        raise MultipartError(f"{where}: Content-Disposition type is not form-data")
    params = disposition.params
    if "filename*" in params:
        raise MultipartError(f"{where}: filename* is not allowed (RFC 7578 section 4.2)")
    if "name" not in params:
        raise MultipartError(f"{where}: Content-Disposition has no name parameter")
    return PartHeaders(params["name"], params.get("filename"), content_type)
