"""A printed job as faxes: its pages read for codes, the codes erased, and the pages cut
into one fax per recipient section (mail merge).

A page whose codes name other recipients than the fax before it starts a new fax; pages
without codes belong to the fax before them (pages before the first code, to the first
fax). A page with nothing but codes (a control page) addresses the pages after it and is
not faxed itself. A job without codes is one fax, its documents untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError

from faxprint.addressing.codes import Addressee, PageCodes, find
from faxprint.addressing.erase import erase
from faxprint.addressing.fonts import Decoder
from faxprint.addressing.pagetext import read_page
from faxprint.errors import DocumentError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Section:
    """One fax of a job: the pages it sends, and whom its codes address."""

    number: int  # 1-based, in the job's order
    first_page: int  # the 1-based page of the job that starts it (a control page too)
    pages: tuple[int, ...]  # 0-based pages of the job it sends
    addressees: tuple[Addressee, ...]
    no_cover: bool = False


@dataclass
class Document:
    """A PDF of the job, read, and with its codes erased (in memory) when it has any."""

    pdf: PdfReader | PdfWriter
    codes: list[PageCodes]
    stream: BinaryIO  # the file, read as pages are needed


class CodedJob:
    """The documents of a print job, read for addressing codes."""

    def __init__(self, documents: Sequence[Path], *, max_pages: int) -> None:
        self.documents: list[Document] = []
        self.pages: list[tuple[int, int]] = []  # (document, page) in job order
        try:
            for number, path in enumerate(documents):
                document = _read(path, max_pages - len(self.pages))
                self.documents.append(document)
                self.pages += [(number, page) for page in range(len(document.codes))]
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Let go of the documents' files."""
        for document in self.documents:
            document.stream.close()

    def __enter__(self) -> CodedJob:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def codes(self) -> list[PageCodes]:
        """Every page's codes, in job order."""
        return [self.documents[d].codes[p] for d, p in self.pages]

    @property
    def coded(self) -> bool:
        """Tell whether any page carries a code."""
        return any(page.codes for page in self.codes)

    def sections(self) -> list[Section]:
        """Cut the job into faxes where the codes change; one section when none does."""
        codes = self.codes
        starts: list[tuple[int, PageCodes]] = []
        for index, page in enumerate(codes):
            if page.codes and (not starts or _target(page) != _target(starts[-1][1])):
                starts.append((index, page))
        if not starts:
            return [Section(1, 1, tuple(range(len(codes))), ())]
        sections = []
        for number, (start, page) in enumerate(starts, 1):
            begin = 0 if number == 1 else start  # pages before the first code: the first fax's
            end = starts[number][0] if number < len(starts) else len(codes)
            pages = tuple(i for i in range(begin, end) if not codes[i].only_codes)
            no_cover = any(codes[i].no_cover for i in range(start, end))
            sections.append(Section(number, start + 1, pages, page.addressees, no_cover))
        return sections

    def write(self, section: Section, path: Path) -> Path:
        """Write a section's pages, codes erased, as one PDF."""
        out = PdfWriter()
        for index in section.pages:
            document, page = self.pages[index]
            out.add_page(self.documents[document].pdf.pages[page])
        with path.open("wb") as stream:
            out.write(stream)
        return path


def _target(page: PageCodes) -> tuple[Addressee, ...]:
    return page.addressees


def _read(path: Path, room: int) -> Document:
    """Read a PDF's pages for codes (at most ``room`` pages) and erase them: the document
    is read as it is, and copied into memory to be changed only when it has codes."""
    try:
        stream = path.open("rb")  # read as needed, not whole into memory
    except OSError as exc:
        raise Unreadable(f"{path.name}: {exc.strerror}") from None
    try:
        reader = PdfReader(stream)
        if len(reader.pages) > room:
            raise DocumentError(
                f"the job has more than {room} pages: too many to read its addressing codes"
            )
        fonts: dict[int, Decoder] = {}  # read once for every page that uses them
        codes = [find(read_page(page, reader, fonts)) for page in reader.pages]
        if not any(found.codes for found in codes):
            return Document(reader, codes, stream)
        writer = PdfWriter(clone_from=reader)
        fonts = {}
        for page, found in zip(writer.pages, codes, strict=True):
            if found.codes:
                text = read_page(page, writer, fonts)
                erase(page, text, find(text).glyphs)
    except (PyPdfError, ValueError, KeyError, TypeError, RecursionError, OSError) as exc:
        stream.close()
        raise Unreadable(f"{type(exc).__name__}: {exc}") from None
    except BaseException:
        stream.close()
        raise
    return Document(writer, codes, stream)


class Unreadable(Exception):
    """A document whose pages cannot be read for codes (damaged: sending it says why)."""
