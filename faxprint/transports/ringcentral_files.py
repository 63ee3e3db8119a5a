"""Which documents RingCentral's REST fax API takes, and under which file names.

From the developer guide, ``docs/messaging/fax/sending-faxes.md`` (ringcentral-api-docs
@ 64067a50d93c; ../shared/ringcentral-rest.md s2):

- "RingCentral platform supported FAX content types": a table of file extensions
  (:data:`FAX_EXTENSIONS`). The service types an attachment by its file name (error
  MSG-355 "For binary data filename with extension should be specified"), so the name
  sent must end in an extension of the table that fits the content.
- "Attachment Limitations": at most 50 MB together, at most 200 pages, and "the file name
  of the attached files does not include ampersands (e.g. &) or other special characters
  such as @#$%^&*, etc...". The list is open ("etc."), so faxprint takes the safe
  reading: a wire name holds ASCII letters, digits, ``.``, ``-`` and ``_`` only.

PostScript is not in the table: it is made PDF (:mod:`faxprint.convert`) before the job
is sent. Any other type outside the table is refused before any request, naming the
types the API takes. The person's own file name stays in the journal; only the wire
name changes (``R&D #1 (50%).pdf`` goes as ``R_D_1_50.pdf``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path, PurePath

from faxprint import documents as docs
from faxprint.convert import postscript_to_pdf
from faxprint.documents import Document
from faxprint.errors import DocumentError
from faxprint.text import printable, to_ascii

#: sending-faxes.md, "RingCentral platform supported FAX content types", in its order.
FAX_EXTENSIONS = (
    "pdf", "psd", "doc", "docx", "dot", "mcw", "xls", "xlsx", "xlsb", "ppt", "pptx", "vsd",
    "vdx", "pub", "wps", "wri", "awd", "tif", "tiff", "gif", "jpg", "jpeg", "bmp", "png",
    "pcx", "tga", "rtf", "txt", "log", "h", "cpp", "c", "err", "hpp", "wk1", "wk3", "wk4",
    "wq1", "xml", "html", "htm", "csv",
)  # fmt: skip
#: "The combined size of all attachments does not exceed 50 MB." Which megabyte it means
#: is not said: the smaller reading, 50,000,000 bytes.
MAX_BYTES = 50_000_000
MAX_PAGES = 200  # "The attachments does not exceed 200 pages."
MAX_NAME = 100  # the API allows 256 (MSG-370); faxprint's names stay shorter
POSTSCRIPT = "application/postscript"

#: Types known by their first bytes, and the extensions that name each (the first is used
#: when the file's own name does not end in one of them).
_BY_CONTENT = {
    "application/pdf": ("pdf",),
    "image/tiff": ("tif", "tiff"),
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg"),
    "image/gif": ("gif",),
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def prepare(documents: Sequence[Document], workdir: Path) -> list[Document]:
    """Return the documents as the API takes them: PostScript made PDF in ``workdir``,
    every one under a wire name it accepts; raise DocumentError for any it cannot take."""
    for document in documents:  # a type it cannot take is refused before any conversion
        if document.content_type != POSTSCRIPT:
            wire_name(document)
    ready = []
    for index, given in enumerate(documents, 1):
        document = (
            _to_pdf(given, workdir / f"{index}.pdf") if given.content_type == POSTSCRIPT else given
        )
        ready.append(replace(document, filename=wire_name(document)))
    check(ready)
    return ready


def check(documents: Sequence[Document]) -> None:
    """Refuse what the API would refuse: a wire name it does not take, more than 50 MB,
    more than 200 pages (where the pages are known)."""
    for document in documents:
        if _extension(document.filename) not in FAX_EXTENSIONS or _UNSAFE.search(document.filename):
            raise DocumentError(_not_taken(document))
    total = sum(d.size for d in documents)
    if total > MAX_BYTES:
        raise DocumentError(
            f"the documents come to {total / 1e6:.1f} MB; this service takes at most "
            "50 MB (50,000,000 bytes) per fax"
        )
    pages = sum(d.pages or 0 for d in documents)
    if pages > MAX_PAGES:
        raise DocumentError(f"{pages} pages; this service takes at most {MAX_PAGES} per fax")


def wire_name(document: Document) -> str:
    """Return the name the document is sent under; raise DocumentError if its type is
    not one the API takes."""
    name = PurePath(to_ascii(document.filename).replace("\\", "/")).name
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    extension = extension.lower()
    known = _BY_CONTENT.get(document.content_type)
    if known is not None:  # known by content: the name must say the same
        if extension not in known:
            stem, extension = name, known[0]
    elif extension not in FAX_EXTENSIONS:
        if not document.content_type.startswith("text/"):
            raise DocumentError(_not_taken(document))
        stem, extension = name, "txt"  # text by any other name (notes.md) is text
    safe = _UNSAFE.sub("_", stem).strip("._-") or "document"
    return f"{safe[: MAX_NAME - len(extension) - 1].rstrip('._-')}.{extension}"


def _to_pdf(document: Document, target: Path) -> Document:
    shown = printable(document.filename)
    postscript_to_pdf(document.path, target, shown=shown)
    stem = document.filename.rpartition(".")[0] or document.filename
    return docs.inspect(target, filename=f"{stem}.pdf")


def _extension(name: str) -> str:
    stem, dot, extension = name.rpartition(".")
    return extension.lower() if dot and stem else ""


def _not_taken(document: Document) -> str:
    kind = document.content_type
    return (
        f"{printable(document.filename)}: this service does not fax {kind} files; it takes "
        f"{', '.join('.' + e for e in FAX_EXTENSIONS)} (and PostScript, made PDF here)"
    )
