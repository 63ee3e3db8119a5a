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
#: The table's extensions for text; text under any other name goes as ``.txt``.
_TEXT = {"txt": "text/plain", "log": "text/plain", "h": "text/plain", "cpp": "text/plain",
         "c": "text/plain", "err": "text/plain", "hpp": "text/plain", "csv": "text/csv",
         "xml": "text/xml", "html": "text/html", "htm": "text/html", "rtf": "text/rtf"}  # fmt: skip
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def prepare(documents: Sequence[Document], workdir: Path) -> list[Document]:
    """Return the documents as the API takes them: PostScript made PDF in ``workdir``,
    every one under a wire name it accepts, no two alike, with the type that name says;
    raise DocumentError for any it cannot take (before converting any)."""
    for document in documents:
        if document.content_type != POSTSCRIPT:
            wire_name(document)
    ready: list[Document] = []
    taken: set[str] = set()
    for index, given in enumerate(documents, 1):
        document = given
        if given.content_type == POSTSCRIPT:
            document = _to_pdf(given, workdir / f"{index}.pdf")
        name = _unique(wire_name(document), taken)
        ready.append(replace(document, filename=name, content_type=_wire_type(name, document)))
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
    not one the API takes. The service types a file by its extension, so the extension
    must say what the content is."""
    name = PurePath(to_ascii(document.filename).replace("\\", "/")).name
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    extension = extension.lower()
    known = _BY_CONTENT.get(document.content_type)
    if known is not None:  # known by content: the name must say the same
        if extension not in known:
            stem, extension = name, known[0]
    elif document.content_type.startswith("text/"):
        if extension not in _TEXT:  # text by any other name (notes.md, scan.tif) is text
            stem, extension = name, "txt"
    elif extension not in FAX_EXTENSIONS or extension in _TEXT:
        raise DocumentError(_not_taken(document))
    safe = _UNSAFE.sub("_", stem).strip("._-") or "document"
    return f"{safe[: MAX_NAME - len(extension) - 1].rstrip('._-')}.{extension}"


def _wire_type(name: str, document: Document) -> str:
    """The content type the wire name says (the documentation is silent on how the
    service reads a part's type: name and type are made to agree)."""
    extension = _extension(name)
    if extension in _TEXT:
        return _TEXT[extension]
    return document.content_type


def _unique(name: str, taken: set[str]) -> str:
    """Make a wire name unique in its fax (``a&b.pdf`` and ``a#b.pdf`` both make
    ``a_b.pdf``; the documentation is silent on two attachments of one name)."""
    stem, _, extension = name.rpartition(".")
    candidate, number = name, 1
    while candidate.lower() in taken:
        number += 1
        candidate = f"{stem[: MAX_NAME - len(extension) - 8]}-{number}.{extension}"
    taken.add(candidate.lower())
    return candidate


def _to_pdf(document: Document, target: Path) -> Document:
    shown = printable(document.filename)
    postscript_to_pdf(document.path, target, shown=shown, identity=document.identity,
                      max_bytes=MAX_BYTES + 1, max_pages=MAX_PAGES)  # fmt: skip
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
