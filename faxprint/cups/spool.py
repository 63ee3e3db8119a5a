"""Spool a job's data from cupsd into private files, one per document.

cupsd runs the backend once per job and, for a job of several documents, writes their
filtered output (PDF, with faxprint's PPD) back to back on stdin. A PDF is read from its
end, so two PDFs in one file would show as the last one alone: the spooler cuts the
stream where a new ``%PDF-`` header follows an ``%%EOF`` marker. Data is copied in 64 KiB
chunks; memory does not grow with the size of the job.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK_SIZE = 64 * 1024
# The end of one PDF and the header of the next, with the line end between them.
_BOUNDARY = re.compile(rb"%%EOF[ \t]*(?:\r\n|\r|\n)?(?=%PDF-)")
_OVERLAP = 16  # longer than any boundary match, shorter than any document


@dataclass(frozen=True)
class Spooled:
    """The documents of one job, on disk, and a digest of all their bytes."""

    paths: tuple[Path, ...]
    digest: str
    size: int


def spool(stream: BinaryIO, folder: Path, *, stem: str = "document") -> Spooled:
    """Copy ``stream`` into ``folder`` (files 0600), one file per PDF document."""
    writer = _Writer(folder, stem)
    digest = hashlib.sha256()
    carry = b""
    try:
        while chunk := stream.read(CHUNK_SIZE):
            digest.update(chunk)
            carry = _cut(writer, carry + chunk)
        writer.write(carry)
    finally:
        writer.close()
    return Spooled(tuple(writer.paths), digest.hexdigest(), writer.total)


def _cut(writer: _Writer, data: bytes) -> bytes:
    """Write ``data`` up to each document boundary; return the tail still undecided."""
    start = 0
    for match in _BOUNDARY.finditer(data):
        writer.write(data[start : match.end()])
        writer.next_document()
        start = match.end()
    keep = max(start, len(data) - _OVERLAP)
    writer.write(data[start:keep])
    return data[keep:]


class _Writer:
    def __init__(self, folder: Path, stem: str) -> None:
        self.folder = folder
        self.stem = stem
        self.paths: list[Path] = []
        self.total = 0
        self._fd: int | None = None

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self._fd is None:
            self._open()
        assert self._fd is not None
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        self.total += len(data)

    def next_document(self) -> None:
        self.close()

    def _open(self) -> None:
        path = self.folder / f"{self.stem}-{len(self.paths) + 1}"
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.paths.append(path)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
