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

from faxprint.errors import DocumentError
from faxprint.text import to_ascii

logger = logging.getLogger(__name__)

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"%!PS", "application/postscript"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_SNIFF_BYTES = 1024
_UNSAFE_IN_FILENAME = str.maketrans({'"': "'", "\\": "_", "/": "_", ";": "_", "%": "_"})


@dataclass(frozen=True)
class Document:
    """A readable, non-empty file and what faxprint knows about it."""

    path: Path
    filename: str
    content_type: str
    size: int
    pages: int | None = None


def inspect(path: str | os.PathLike[str], *, filename: str | None = None) -> Document:
    """Check that ``path`` can be faxed and describe it; raise DocumentError if not."""
    path = Path(path)
    shown = filename or path.name
    try:
        info = path.stat()
    except FileNotFoundError:
        raise DocumentError(f"{shown}: no such file") from None
    except OSError as exc:
        raise DocumentError(f"{shown}: cannot be read ({exc.strerror})") from exc
    if not stat.S_ISREG(info.st_mode):
        raise DocumentError(f"{shown}: not a regular file; only files can be faxed")
    if info.st_size == 0:
        raise DocumentError(f"{shown}: the file is empty")
    try:
        with path.open("rb") as stream:
            head = stream.read(_SNIFF_BYTES)
    except OSError as exc:
        raise DocumentError(f"{shown}: cannot be read ({exc.strerror})") from exc
    content_type = sniff(head, shown)
    pages = count_pdf_pages(path, shown) if content_type == "application/pdf" else None
    return Document(
        path=path,
        filename=wire_filename(shown, content_type),
        content_type=content_type,
        size=info.st_size,
        pages=pages,
    )


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
    if guessed and guessed != "application/pdf":  # a PDF is known by its header alone
        return guessed
    return "text/plain" if _looks_like_text(head) else "application/octet-stream"


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in head


def count_pdf_pages(path: Path, shown: str) -> int:
    """Open a PDF with pypdf and return its page count; refuse damaged or encrypted ones."""
    from pypdf import PdfReader  # imported here: a job without PDFs never pays for it

    try:
        # An open file, not a path: given a path, pypdf reads the whole file into memory.
        with path.open("rb") as stream:
            reader = PdfReader(stream, strict=False)
            if reader.is_encrypted:
                raise DocumentError(
                    f"{shown}: the PDF is encrypted; save or print an unprotected copy and fax that"
                )
            pages = len(reader.pages)
    except DocumentError:
        raise
    except RecursionError:
        raise DocumentError(f"{shown}: the PDF is nested too deeply to read") from None
    except Exception as exc:  # pypdf raises many types on damaged input; all mean the same
        logger.debug("pypdf could not read %s: %r", shown, exc)
        raise DocumentError(f"{shown}: the PDF is damaged and cannot be read") from exc
    if pages == 0:
        raise DocumentError(f"{shown}: the PDF has no pages")
    return pages


def wire_filename(name: str, content_type: str) -> str:
    """Make the file name sent in the upload: a base name in printable ASCII."""
    base = to_ascii(Path(name.replace("\\", "/")).name).translate(_UNSAFE_IN_FILENAME).strip()
    if base.strip("._ "):
        return base
    extension = mimetypes.guess_extension(content_type, strict=False) or ".bin"
    return f"document{extension}"
