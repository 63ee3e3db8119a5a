"""Documents to fax: checked before anything is sent.

The FaxOut service renders documents itself ("un-rendered fax data"), so faxprint passes
every type through as it is. PDFs are opened with pypdf first: their page count feeds
status lines and accounting, and a damaged or encrypted PDF is refused here, with a
message that says what to do, rather than failing somewhere the sender cannot see.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from faxprint.errors import DocumentError
from faxprint.text import printable, to_ascii

logger = logging.getLogger(__name__)

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"%!PS", "application/postscript"),  # %!PS-Adobe-3.0
    (b"%!\n", "application/postscript"),  # a bare %! line (not %!TEX and such)
    (b"%!\r", "application/postscript"),
    (b"\x04%!", "application/postscript"),  # after a Ctrl-D, as Windows drivers write
    (b"\xc5\xd0\xd3\xc6", "application/postscript"),  # DOS EPS binary header
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_SNIFF_BYTES = 1024
MiB = 1024 * 1024
#: How much of a PDF pypdf may read to count its pages. A sound PDF needs a small part
#: (trailer, xref, page tree) whatever its size; only repairing a damaged one reads it all.
READ_BUDGET = 32 * MiB
MAX_FILENAME = 100  # file names in the upload's headers; the service's limit is unknown
_UNSAFE_IN_FILENAME = str.maketrans({'"': "'", "\\": "_", "/": "_", ";": "_", "%": "_"})


#: Types known by their first bytes: a name that says one of them is believed only then.
_BY_CONTENT = frozenset(content_type for _, content_type in _MAGIC)
#: The extension to add to a document whose name says another type than its bytes.
_EXTENSION = {"application/pdf": ".pdf", "application/postscript": ".ps", "image/png": ".png",
              "image/jpeg": ".jpg", "image/tiff": ".tif", "image/gif": ".gif",
              "text/plain": ".txt"}  # fmt: skip


#: What identifies a file's content on disk: device, inode, size, modification time.
Identity = tuple[int, int, int, int]


@dataclass(frozen=True)
class DocumentSource:
    """A document to fax: where it is and the name its sender knows it by."""

    path: Path
    name: str | None = None


@dataclass(frozen=True)
class Document:
    """A readable, non-empty file and what faxprint knows about it.

    ``identity`` is the file as it was inspected: the upload refuses a file that has
    changed since, so a fax never carries other pages than the ones counted.
    """

    path: Path
    filename: str
    content_type: str
    size: int
    pages: int | None = None
    identity: Identity | None = None


def inspect(path: str | os.PathLike[str], *, filename: str | None = None) -> Document:
    """Check that ``path`` can be faxed and describe it; raise DocumentError if not."""
    path = Path(path)
    shown = printable(filename or path.name)
    with open_document(path, shown) as stream:
        info = os.fstat(stream.fileno())
        if info.st_size == 0:
            raise DocumentError(f"{shown}: the file is empty")
        try:
            head = stream.read(_SNIFF_BYTES)
        except OSError as exc:
            raise DocumentError(f"{shown}: cannot be read ({exc.strerror})") from exc
        content_type = sniff(head, filename or path.name)
        pages = count_pdf_pages(stream, shown) if content_type == "application/pdf" else None
    return Document(
        path=path,
        filename=wire_filename(true_name(filename or path.name, content_type, shown), content_type),
        content_type=content_type,
        size=info.st_size,
        pages=pages,
        identity=identity_of(info),
    )


def open_document(path: Path, shown: str) -> BinaryIO:
    """Open a regular file for reading; never block on a FIFO or open a device for long.

    ``stat`` first keeps devices and FIFOs closed in the usual case; the open itself is
    non-blocking and checked with ``fstat``, because the name may be swapped for a FIFO
    between the two (opening a FIFO waits for a writer, forever).
    """
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise DocumentError(f"{shown}: not a regular file; only files can be faxed")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise DocumentError(f"{shown}: no such file") from None
    except OSError as exc:
        raise DocumentError(f"{shown}: cannot be read ({exc.strerror})") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise DocumentError(f"{shown}: not a regular file; only files can be faxed")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def identity_of(info: os.stat_result) -> Identity:
    """Return what tells a file's content from another's: device, inode, size, mtime."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def sniff(head: bytes, filename: str) -> str:
    """Name a document's type from its first bytes, else from its file name."""
    # A PDF starts with its header (after white space at most): a text that quotes
    # "%PDF-" somewhere is a text.
    if head.lstrip(b" \t\r\n\x00\xef\xbb\xbf").startswith(b"%PDF-"):
        return "application/pdf"
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    if guessed and guessed not in _BY_CONTENT:  # a PDF, an image is known by its bytes alone
        return guessed
    return "text/plain" if _looks_like_text(head) else "application/octet-stream"


def true_name(name: str, content_type: str, shown: str) -> str:
    """Return ``name``, or ``name`` with the extension of what the file really holds when
    its name says a type its bytes are not (``notes.pdf`` holding text goes as
    ``notes.pdf.txt``: a service that types by name would fail it later, by email). A file
    that is neither what its name says nor anything faxprint can tell is refused."""
    said, _ = mimetypes.guess_type(name, strict=False)
    if said not in _BY_CONTENT or said == content_type:
        return name
    if content_type not in _EXTENSION:
        kind = "PDF" if said == "application/pdf" else said.split("/")[-1].upper()
        raise DocumentError(
            f"{shown}: its name says {kind}, but it holds no {kind}; fax the document itself"
        )
    return name + _EXTENSION[content_type]


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in head


def count_pdf_pages(stream: BinaryIO, shown: str) -> int:
    """Read a PDF's page count with pypdf; refuse damaged or encrypted ones.

    pypdf repairs a damaged PDF by reading all of it into memory: it reads through a
    :class:`_Budget`, so a huge damaged file is refused instead (see READ_BUDGET).
    """
    from pypdf import PdfReader  # imported here: a job without PDFs never pays for it

    budget = _Budget(stream, READ_BUDGET)
    try:
        reader = PdfReader(cast(BinaryIO, budget), strict=False)  # it reads, seeks, tells
        if reader.is_encrypted:
            raise DocumentError(
                f"{shown}: the PDF is encrypted; save or print an unprotected copy and fax that"
            )
        pages = len(reader.pages)
    except DocumentError:
        raise
    except _OverBudget:
        size = os.fstat(stream.fileno()).st_size
        raise DocumentError(
            f"{shown}: the PDF is damaged, and at {size // MiB} MB too large to repair "
            f"(faxprint reads at most {READ_BUDGET // MiB} MB of a PDF to count its pages); "
            "save or print it again and fax the new copy"
        ) from None
    except RecursionError:
        raise DocumentError(f"{shown}: the PDF is nested too deeply to read") from None
    except Exception as exc:  # pypdf raises many types on damaged input; all mean the same
        logger.debug("pypdf could not read %s: %r", shown, exc)
        raise DocumentError(f"{shown}: the PDF is damaged and cannot be read") from exc
    if pages == 0:
        raise DocumentError(f"{shown}: the PDF has no pages")
    return pages


class _OverBudget(BaseException):
    """pypdf read more than its budget. A BaseException: pypdf's repair code catches every
    Exception and tries again, and this must end the reading at once."""


class _Budget:
    """A read-only view of a stream that refuses to hand out more than ``limit`` bytes."""

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self._stream = stream
        self._left = limit

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            here = self._stream.tell()
            size = self._stream.seek(0, os.SEEK_END) - here
            self._stream.seek(here)
        if size > self._left:
            raise _OverBudget
        data = self._stream.read(size)
        self._left -= len(data)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()


def wire_filename(name: str, content_type: str) -> str:
    """Make the file name sent in the upload: a short base name in printable ASCII."""
    base = to_ascii(Path(name.replace("\\", "/")).name).translate(_UNSAFE_IN_FILENAME).strip()
    if not base.strip("._ "):
        extension = mimetypes.guess_extension(content_type, strict=False) or ".bin"
        return f"document{extension}"
    if len(base) <= MAX_FILENAME:
        return base
    stem, dot, suffix = base.rpartition(".")
    if dot and stem and len(suffix) <= 10:  # keep the extension: the service types by it
        return f"{stem[: MAX_FILENAME - len(suffix) - 1].rstrip()}.{suffix}"
    return base[:MAX_FILENAME].rstrip()
