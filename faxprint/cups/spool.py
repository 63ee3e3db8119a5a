"""Spool a job's data from cupsd into private files, one per document.

cupsd runs the backend once per job and, for a job of several documents, writes their
filtered output (PDF, with faxprint's PPD) back to back on stdin. A PDF is read from its
end, so two PDFs in one file would show as the last one alone: the spooler cuts the
stream where a new ``%PDF-`` header follows an ``%%EOF`` marker. Data is copied in 64 KiB
chunks; memory does not grow with the size of the job.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # the printer's thin path imports this module: no typing at run time
if TYPE_CHECKING:
    from typing import BinaryIO

CHUNK_SIZE = 64 * 1024
# The end of one PDF (%%EOF, spaces or tabs, a line end or none) then the next's header.
_MARK = b"%%EOF"
_HEADER = b"%PDF-"
_OVERLAP = 16  # longer than any boundary, shorter than any document


class Spooled:
    """The documents of one job, on disk (their paths), and a digest of all their bytes
    (or ""). A plain class: the printer's hand-off imports this, and every printed job
    pays for what it imports (a named tuple would bring typing, a dataclass more)."""

    __slots__ = ("digest", "paths", "size")

    def __init__(self, paths: tuple[str, ...], digest: str, size: int) -> None:
        self.paths = paths
        self.digest = digest
        self.size = size

    def __repr__(self) -> str:
        return f"Spooled({self.paths!r}, {self.digest!r}, {self.size!r})"


def spool(
    stream: BinaryIO, folder: str | os.PathLike[str], *, stem: str = "document",
    digest: bool = True, sync: bool = False,
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
        end = _boundary_end(data, position)
        if end is not None:
            writer.write(view[start:end])
            writer.next_document()
            start = end
        position = data.find(_MARK, position + len(_MARK))
    keep = max(start, len(data) - _OVERLAP)
    writer.write(view[start:keep])
    return data[keep:]


def _boundary_end(data: bytes, at: int) -> int | None:
    """Where the next document starts, if the ``%%EOF`` at ``at`` ends one and a PDF
    header follows (past spaces or tabs and one line end); None if not."""
    end = at + len(_MARK)
    while data[end : end + 1] in (b" ", b"\t"):
        end += 1
    if data.startswith(b"\r\n", end):
        end += 2
    elif data[end : end + 1] in (b"\r", b"\n"):
        end += 1
    return end if data.startswith(_HEADER, end) else None


class _Writer:
    def __init__(self, folder: str | os.PathLike[str], stem: str, sync: bool = False) -> None:
        self.folder = os.fspath(folder)
        self.stem = stem
        self.sync = sync  # each document on disk before it is closed (a hand-off's)
        self.paths: list[str] = []
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
        path = os.path.join(self.folder, f"{self.stem}-{len(self.paths) + 1}")
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.paths.append(path)

    def close(self) -> None:
        if self._fd is not None:
            if self.sync:
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
