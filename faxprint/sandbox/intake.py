"""Receive a request body: stream it through the parser, spool attachments to disk.

The body is always read to its Content-Length, even after the multipart turned out
malformed, so the client can read the answer instead of a reset connection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from faxprint.protocol import ATTACHMENT
from faxprint.sandbox.headers import HeaderError, check_boundary, parse_media_type
from faxprint.sandbox.parser import (
    Event,
    MultipartError,
    MultipartParser,
    PartData,
    PartEnd,
    PartHeaders,
    PartStart,
)

CHUNK = 64 * 1024
MAX_TEXT_FIELD = 64 * 1024
MAX_TEXT_TOTAL = 1024 * 1024

#: Where to spool attachment number N (1-based) given its filename parameter.
SpoolPath = Callable[[int, str | None], Path]


class Readable(Protocol):
    """The part of a buffered binary stream intake needs."""

    def read1(self, size: int, /) -> bytes: ...


class Truncated(Exception):
    """The body ended (or stalled) before Content-Length bytes arrived."""

    def __init__(self, received: int, expected: int, why: str) -> None:
        super().__init__(f"body {why} after {received} of {expected} bytes")
        self.received = received
        self.expected = expected


@dataclass(frozen=True)
class SpooledFile:
    """An attachment's content, written to disk while it arrived."""

    path: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class Part:
    """One form-data part as received: text parts keep a value, Attachments a file."""

    name: str
    filename: str | None
    content_type: str | None
    value: bytes = b""
    file: SpooledFile | None = None


@dataclass(frozen=True)
class Submission:
    """A request body as received, with the reason it is malformed if it is."""

    parts: tuple[Part, ...]
    length: int
    error: str | None = None

    def values(self, name: str) -> list[bytes]:
        """Return the values of the text parts called name, in order."""
        return [part.value for part in self.parts if part.name == name and part.file is None]

    def texts(self, name: str) -> list[str]:
        """Return those values as text, non-ASCII bytes escaped, for logs."""
        return [value.decode("ascii", "backslashreplace") for value in self.values(name)]

    @property
    def attachments(self) -> list[Part]:
        """Return the Attachment parts, in order."""
        return [part for part in self.parts if part.file is not None]


def receive(
    stream: Readable,
    length: int,
    content_type: str | None,
    spool: SpoolPath,
    *,
    is_file: Callable[[PartHeaders], bool] = lambda headers: headers.name == ATTACHMENT,
) -> Submission:
    """Read length bytes of body from stream; raise Truncated if they do not all come.

    Parts ``is_file`` picks go to disk (FaxOut's Attachment fields by default)."""
    chunks = _chunks(stream, length)
    collector = _Collector(spool, is_file)
    try:
        parser = MultipartParser(boundary_of(content_type))
        for chunk in chunks:
            for event in parser.feed(chunk):
                collector.handle(event)
        parser.finish()
    except MultipartError as exc:
        collector.close()  # now, not after a possibly long drain
        for _ in chunks:
            pass
        return Submission(tuple(collector.parts), length, str(exc))
    finally:
        collector.close()
    return Submission(tuple(collector.parts), length)


def boundary_of(content_type: str | None) -> str:
    """Return the boundary of a multipart/form-data Content-Type, or raise MultipartError."""
    expected = "expected multipart/form-data; boundary=..."
    if content_type is None:
        raise MultipartError(f"Content-Type missing; {expected}")
    try:
        media = parse_media_type(content_type)
        if media.value != "multipart/form-data":
            raise MultipartError(f"Content-Type is {media.value}; {expected}")
        if "boundary" not in media.params:
            raise MultipartError(f"Content-Type has no boundary; {expected}")
        check_boundary(media.params["boundary"])
    except HeaderError as exc:
        raise MultipartError(f"Content-Type: {exc}") from exc
    return media.params["boundary"]


def drain(stream: Readable, length: int) -> int:
    """Read and discard up to length bytes; return how many came."""
    received = 0
    try:
        for chunk in _chunks(stream, length):
            received += len(chunk)
    except Truncated as exc:
        return exc.received
    return received


def _chunks(stream: Readable, length: int) -> Iterator[bytes]:
    received = 0
    while received < length:
        try:
            # read1: take what has arrived, so a stall is counted to the byte.
            chunk = stream.read1(min(CHUNK, length - received))
        except TimeoutError as exc:
            raise Truncated(received, length, "stalled") from exc
        except ConnectionError as exc:
            raise Truncated(received, length, "cut off") from exc
        if not chunk:
            raise Truncated(received, length, "ended")
        received += len(chunk)
        yield chunk


class _Collector:
    """Turn parser events into Parts: text kept in memory (capped), files on disk."""

    def __init__(self, spool: SpoolPath, is_file: Callable[[PartHeaders], bool]) -> None:
        self._spool = spool
        self._is_file = is_file
        self.parts: list[Part] = []
        self._headers: PartHeaders | None = None
        self._text = bytearray()
        self._text_total = 0
        self._file: BinaryIO | None = None
        self._path = Path()
        self._hash = hashlib.sha256()
        self._size = 0
        self._attachments = 0

    def handle(self, event: Event) -> None:
        match event:
            case PartStart(headers):
                self._start(headers)
            case PartData(data):
                self._data(data)
            case PartEnd():
                self._end()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _start(self, headers: PartHeaders) -> None:
        self._headers = headers
        self._text.clear()
        if self._is_file(headers):
            self._attachments += 1
            self._path = self._spool(self._attachments, headers.filename)
            self._file = self._path.open("xb")
            self._hash = hashlib.sha256()
            self._size = 0

    def _data(self, data: bytes) -> None:
        if self._file is not None:
            self._file.write(data)
            self._hash.update(data)
            self._size += len(data)
            return
        self._text += data
        self._text_total += len(data)
        if len(self._text) > MAX_TEXT_FIELD or self._text_total > MAX_TEXT_TOTAL:
            assert self._headers is not None
            raise MultipartError(
                f"field {self._headers.name!r} is longer than {MAX_TEXT_FIELD} bytes"
                f" or text fields total over {MAX_TEXT_TOTAL} bytes"
            )

    def _end(self) -> None:
        headers = self._headers
        assert headers is not None
        if self._file is not None:
            self.close()
            spooled = SpooledFile(self._path, self._size, self._hash.hexdigest())
            self.parts.append(
                Part(headers.name, headers.filename, headers.content_type, file=spooled)
            )
        else:
            part = Part(headers.name, headers.filename, headers.content_type, bytes(self._text))
            self.parts.append(part)
        self._headers = None
