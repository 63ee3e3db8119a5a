"""Spool a job's data from cupsd into private files, one per document.

cupsd runs the backend once per job and, for a job of several documents, writes their
filtered output (PDF, with faxprint's PPD) back to back on stdin. A PDF is read from its
end, so two PDFs in one file would show as the last one alone: the spooler cuts the
stream where a new ``%PDF-`` header follows an ``%%EOF`` marker. Data is copied in 64 KiB
chunks; memory does not grow with the size of the job.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import BinaryIO, NamedTuple

CHUNK_SIZE = 64 * 1024
# The end of one PDF and the header of the next, with the line end between them.
_BOUNDARY = re.compile(rb"%%EOF[ \t]*(?:\r\n|\r|\n)?(?=%PDF-)")
_MARK = b"%%EOF"
_OVERLAP = 16  # longer than any boundary match, shorter than any document


class Spooled(NamedTuple):
    """The documents of one job, on disk, and a digest of all their bytes (or "").

    (A named tuple, not a dataclass: the printer's hand-off to the service imports this,
    and every printed job pays for what it imports.)"""

    paths: tuple[Path, ...]
    digest: str
    size: int


def spool(
    stream: BinaryIO, folder: Path, *, stem: str = "document", digest: bool = True,
    sync: bool = False,
) -> Spooled:  # fmt: skip
    """Copy ``stream`` into ``folder`` (files 0600), one file per PDF document.

    ``digest=False`` skips the digest (``Spooled.digest`` is then empty): hashing costs
    about as much as the copy, and a job that has its UUID does not need it.
    """
    writer = _Writer(folder, stem, sync)
    if digest:
        import hashlib  # only when the job has no uuid: the thin path stays light

    hasher = hashlib.sha256() if digest else None
    carry = b""
    try:
        while chunk := stream.read(CHUNK_SIZE):
            if hasher is not None:
                hasher.update(chunk)
            carry = _cut(writer, carry + chunk)
        writer.write(carry)
    finally:
        writer.close()
    return Spooled(tuple(writer.paths), hasher.hexdigest() if hasher else "", writer.total)


def _cut(writer: _Writer, data: bytes) -> bytes:
    """Write ``data`` up to each document boundary; return the tail still undecided.

    Boundaries are looked for where ``%%EOF`` occurs (``bytes.find`` scans far faster
    than the regular expression would), and the data is written through views, uncopied.
    """
    view = memoryview(data)
    start = 0
    position = data.find(_MARK)
    while position >= 0:
        if match := _BOUNDARY.match(data, position):
            writer.write(view[start : match.end()])
            writer.next_document()
            start = match.end()
        position = data.find(_MARK, position + len(_MARK))
    keep = max(start, len(data) - _OVERLAP)
    writer.write(view[start:keep])
    return data[keep:]


class _Writer:
    def __init__(self, folder: Path, stem: str, sync: bool = False) -> None:
        self.folder = folder
        self.stem = stem
        self.sync = sync  # each document on disk before it is closed (a hand-off's)
        self.paths: list[Path] = []
        self.total = 0
        self._fd: int | None = None

    def write(self, data: bytes | memoryview) -> None:
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
            if self.sync:
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
