"""A multipart/form-data body (RFC 7578) that streams its files from disk.

The body knows its length before a byte is sent (so the request carries a
Content-Length, as the FaxOut service expects) and reads each file in 64 KiB chunks while
it is being sent, so memory stays flat whatever the size of the documents. It also counts
what it has handed out: after a lost connection, that count says whether the whole request
reached the wire, which is what separates "not sent" from "maybe sent".
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from faxprint.documents import Identity, identity_of, open_document
from faxprint.errors import DocumentError

CHUNK_SIZE = 64 * 1024
CRLF = b"\r\n"

Progress = Callable[[int, int], None]


def _param(value: str) -> str:
    if not value.isascii() or any(ch in value for ch in '"\\\r\n') or not value.isprintable():
        raise ValueError(f"header parameter {value!r} must be printable ASCII without quotes")
    return value


@dataclass(frozen=True)
class TextField:
    """A form field whose value is ASCII text."""

    name: str
    value: str

    def head(self) -> bytes:
        """Render the part's headers and the blank line that ends them."""
        return f'Content-Disposition: form-data; name="{_param(self.name)}"\r\n\r\n'.encode()

    def payload_size(self) -> int:
        """Return the size of the value in bytes."""
        return len(self.value.encode("ascii"))

    def payload(self) -> Iterator[bytes]:
        """Yield the value."""
        yield self.value.encode("ascii")


@dataclass(frozen=True)
class JsonField:
    """A form field whose value is a JSON document (``Content-Type: application/json``),
    UTF-8 as JSON is (RFC 8259 s8.1), sent with a file name where one is given."""

    name: str
    value: bytes
    filename: str | None = None

    def head(self) -> bytes:
        """Render the part's headers and the blank line that ends them."""
        named = f'; filename="{_param(self.filename)}"' if self.filename is not None else ""
        return (
            f'Content-Disposition: form-data; name="{_param(self.name)}"{named}\r\n'
            "Content-Type: application/json\r\n\r\n"
        ).encode()

    def payload_size(self) -> int:
        """Return the size of the document in bytes."""
        return len(self.value)

    def payload(self) -> Iterator[bytes]:
        """Yield the document."""
        yield self.value


@dataclass(frozen=True)
class FileField:
    """A form field whose value is a file on disk, sent with its name and type.

    ``identity`` (from :func:`faxprint.documents.identity_of`) is the file as it was
    inspected; the upload stops if the file is another or has changed since.
    """

    name: str
    path: Path
    filename: str
    content_type: str
    size: int
    identity: Identity | None = None

    def head(self) -> bytes:
        """Render the part's headers and the blank line that ends them."""
        return (
            f'Content-Disposition: form-data; name="{_param(self.name)}"; '
            f'filename="{_param(self.filename)}"\r\n'
            f"Content-Type: {_param(self.content_type)}\r\n\r\n"
        ).encode()

    def payload_size(self) -> int:
        """Return the file size the Content-Length was computed from."""
        return self.size

    def payload(self) -> Iterator[bytes]:
        """Yield the file in chunks; fail if it is not the file that was measured.

        Every check runs before the file's last chunk is handed out, so a file that
        changed can never complete the body: the service cannot accept it.
        """
        with open_document(self.path, self.filename) as stream:
            self._check(stream, "changed after it was checked")
            remaining = self.size
            while True:
                chunk = self._read(stream, min(CHUNK_SIZE, remaining))
                remaining -= len(chunk)
                if remaining and not chunk:
                    raise DocumentError(f"{self.filename}: the file shrank while it was sent")
                if not remaining:
                    break
                yield chunk
            # The last chunk waits until the file is known to be whole and unchanged.
            if self._read(stream, 1):
                raise DocumentError(f"{self.filename}: the file grew while it was sent")
            self._check(stream, "changed while it was sent")
            yield chunk

    def _read(self, stream: BinaryIO, size: int) -> bytes:
        try:
            return stream.read(size)
        except OSError as exc:
            raise DocumentError(f"{self.filename}: cannot be read ({exc.strerror})") from exc

    def _check(self, stream: BinaryIO, what: str) -> None:
        if self.identity is None:
            return
        if identity_of(os.fstat(stream.fileno())) != self.identity:
            raise DocumentError(f"{self.filename}: the file {what}; send it again")


Field = TextField | JsonField | FileField


class MultipartBody:
    """A file-like request body: ``len()`` is its Content-Length, ``read()`` streams it."""

    def __init__(
        self,
        fields: Sequence[Field],
        *,
        boundary: str | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.fields = tuple(fields)
        self.boundary = boundary or f"faxprint-{secrets.token_hex(16)}"
        self.progress = progress
        self.sent = 0
        self._length = sum(self._part_size(field) for field in self.fields) + len(self._closing())
        self._chunks: Iterator[bytes] | None = None
        self._buffer = memoryview(b"")

    @property
    def content_type(self) -> str:
        """Return the request's Content-Type header value."""
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def complete(self) -> bool:
        """Tell whether every byte of the body has been handed out."""
        return self.sent >= self._length

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[bytes]:
        for field in self.fields:
            yield self._delimiter() + field.head()
            yield from field.payload()
            yield CRLF
        yield self._closing()

    def read(self, size: int = -1) -> bytes:
        """Return up to ``size`` bytes of the body (all that is left for -1)."""
        if self._chunks is None:
            self._chunks = iter(self)
        if size < 0:
            rest = bytes(self._buffer) + b"".join(self._chunks)
            self._buffer = memoryview(b"")
            return self._take(rest)
        pieces, wanted = [], size  # fill the read: a part's head, value and CRLF in one
        while wanted > 0:
            if not self._buffer:
                chunk = next(self._chunks, None)
                if chunk is None:
                    break
                self._buffer = memoryview(chunk)
            piece, self._buffer = self._buffer[:wanted], self._buffer[wanted:]
            pieces.append(piece)
            wanted -= len(piece)
        return self._take(b"".join(pieces))

    def _take(self, piece: bytes) -> bytes:
        self.sent += len(piece)
        if self.progress is not None and piece:
            self.progress(self.sent, self._length)
        return piece

    def _delimiter(self) -> bytes:
        return b"--" + self.boundary.encode("ascii") + CRLF

    def _closing(self) -> bytes:
        return b"--" + self.boundary.encode("ascii") + b"--" + CRLF

    def _part_size(self, field: Field) -> int:
        return len(self._delimiter()) + len(field.head()) + field.payload_size() + len(CRLF)
