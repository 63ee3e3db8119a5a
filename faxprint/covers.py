"""faxprint's own cover pages (issue 21, first part): an office's fillable PDF template
filled and flattened, or the built-in cover, as a one-page PDF to put before a fax.

A template is a PDF form of one page whose text fields are named after :data:`FIELDS`
(designed in LibreOffice: Form controls, exported as PDF; or any PDF editor). It is
checked whole before it is used (:func:`check_template`): a PDF, not encrypted, one page,
at most :data:`MAX_TEMPLATE` bytes, with text fields only among faxprint's names. Filling
sets the values, makes their appearances and flattens the page (pypdf): what is sent
holds no form, and its text is real text. The built-in cover needs no template.
"""

from __future__ import annotations

import io
import textwrap
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faxprint.errors import DocumentError
from faxprint.text import printable

#: The fields faxprint fills; a template may have any of them.
FIELDS = ("to_name", "to_company", "to_fax", "from_name", "from_company", "from_fax",
          "from_phone", "from_email", "subject", "comments", "pages", "date")  # fmt: skip
MAX_TEMPLATE = 10 * 1024 * 1024
#: Values shown when a template is checked.
SAMPLE = {"to_name": "Jane Doe", "to_company": "Doe & Partners", "to_fax": "+1 555 646 5589",
          "from_name": "ACME Widgets", "from_company": "ACME Widgets Inc.",
          "from_fax": "+1 555 556 8552", "from_phone": "+1 555 556 8500",
          "from_email": "fax@acme.example", "subject": "Your order 4711",
          "comments": "Please sign page 2 and fax it back.", "pages": "3",
          "date": "2026-12-06"}  # fmt: skip


@dataclass(frozen=True)
class TemplateCheck:
    """What a template offers: faxprint's fields it has, those it lacks, and others."""

    fields: tuple[str, ...]
    lacking: tuple[str, ...]
    others: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=())


def check_template(path: Path) -> TemplateCheck:
    """Read a template and say what it has; DocumentError (one line) if it cannot be one."""
    reader = _reader(path)
    found = reader.get_fields() or {}
    if not found:
        raise DocumentError(f"{printable(path.name)}: has no form fields (make text fields "
                            f"named {', '.join(FIELDS[:3])}, ...)")  # fmt: skip
    wrong = sorted(name for name, value in found.items()
                   if name in FIELDS and value.get("/FT") != "/Tx")  # fmt: skip
    if wrong:
        raise DocumentError(f"{printable(path.name)}: {', '.join(wrong)} must be text fields")
    ours = tuple(name for name in FIELDS if name in found)
    others = tuple(sorted(name for name in found if name not in FIELDS))
    return TemplateCheck(ours, tuple(n for n in FIELDS if n not in found), others)


def _reader(path: Path) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentError(f"{printable(path.name)}: {exc.strerror}") from None
    if size > MAX_TEMPLATE:
        raise DocumentError(f"{printable(path.name)}: {size // 1048576} MB; a cover template "
                            f"may have {MAX_TEMPLATE // 1048576} MB at most")  # fmt: skip
    try:
        with path.open("rb") as stream:
            if stream.read(5) != b"%PDF-":
                raise DocumentError(f"{printable(path.name)}: not a PDF")
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise DocumentError(f"{printable(path.name)}: encrypted; save it without a password")
        pages = len(reader.pages)
    except (PyPdfError, ValueError, OSError) as exc:
        raise DocumentError(f"{printable(path.name)}: not a readable PDF ({exc})") from None
    if pages != 1:
        raise DocumentError(f"{printable(path.name)}: {pages} pages; a cover template has one")
    return reader


def fill(template: Path, values: Mapping[str, str]) -> bytes:
    """The template with ``values`` in its fields, flattened: one page of PDF."""
    from pypdf import PdfWriter

    check_template(template)
    writer = PdfWriter(clone_from=_reader(template))
    shown = {name: _field_text(values.get(name, "")) for name in FIELDS}
    writer.update_page_form_field_values(writer.pages[0], shown, auto_regenerate=False,
                                         flatten=True)  # fmt: skip
    writer.remove_annotations(subtypes="/Widget")
    if "/AcroForm" in writer._root_object:
        del writer._root_object["/AcroForm"]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


#: Characters of cover text a cover carries at most (about four pages of comments).
MAX_COMMENTS = 10_000


def _field_text(value: str) -> str:
    text = str(value)
    if len(text) > MAX_COMMENTS:
        raise DocumentError(f"the cover text has {len(text):,} characters; a cover takes "
                            f"{MAX_COMMENTS:,} at most (send the rest as a page of the "
                            "fax)")  # fmt: skip
    return "".join(c if c.isprintable() or c == "\n" else " " for c in text)


def unshowable(values: Mapping[str, str]) -> str:
    """The characters the standard fonts (WinAnsi) cannot show, once each ("" if none)."""
    seen = []
    for value in values.values():
        for character in str(value):
            try:
                character.encode("cp1252")
            except UnicodeEncodeError:
                if character not in seen:
                    seen.append(character)
    return "".join(seen)


WIDTH, HEIGHT, MARGIN = 612.0, 792.0, 72.0
COMMENT_LINES = 24


def builtin(values: Mapping[str, str]) -> bytes:
    """faxprint's own cover: large, plain type that reads at fax resolution; comments too
    long for the page continue on a second one (said at the foot of the first)."""
    return text_pdf(_pages(values, _comment_lines(values.get("comments", ""))))


def text_pdf(pages: list[bytes], metadata: Mapping[str, str] | None = None) -> bytes:
    """A PDF of Letter pages drawn by the content streams ``pages`` (lines of
    :func:`show`), with Helvetica as /F1 and Helvetica-Bold as /F2 (standard fonts,
    WinAnsi: nothing embedded)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                             NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica"),
                             NameObject("/Encoding"): NameObject("/WinAnsiEncoding")})  # fmt: skip
    bold = DictionaryObject({**font, NameObject("/BaseFont"): NameObject("/Helvetica-Bold")})
    fonts = DictionaryObject({NameObject("/F1"): writer._add_object(font),
                              NameObject("/F2"): writer._add_object(bold)})  # fmt: skip
    for text in pages:
        page = writer.add_blank_page(WIDTH, HEIGHT)
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
        content = DecodedStreamObject()
        content.set_data(text)
        page[NameObject("/Contents")] = writer._add_object(content)
    if metadata:
        writer.add_metadata(dict(metadata))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _comment_lines(comments: str) -> list[str]:
    lines: list[str] = []
    for paragraph in _field_text(comments).splitlines() or [""]:
        lines += textwrap.wrap(paragraph, 70) or [""]
    return lines


def _pages(values: Mapping[str, str], lines: list[str]) -> list[bytes]:
    first, rest = lines[:COMMENT_LINES], lines[COMMENT_LINES:]
    y = HEIGHT - MARGIN
    ops = [show("F2", 40, MARGIN, y, "FAX")]
    y -= 50
    date = values.get("date") or time.strftime("%Y-%m-%d")
    for label, value in (("To", _join(values, "to_name", "to_company")),
                         ("Fax", values.get("to_fax", "")),
                         ("From", _join(values, "from_name", "from_company")),
                         ("Fax", values.get("from_fax", "")),
                         ("Phone", values.get("from_phone", "")),
                         ("Email", values.get("from_email", "")),
                         ("Date", date), ("Pages", values.get("pages", "")),
                         ("Subject", values.get("subject", ""))):  # fmt: skip
        if value:
            ops += [show("F2", 14, MARGIN, y, label), show("F1", 14, MARGIN + 80, y, value)]
            y -= 22
    y -= 16
    for line in first:
        ops.append(show("F1", 12, MARGIN, y, line))
        y -= 16
    pages = [ops]
    while rest:
        ops.append(show("F1", 10, MARGIN, MARGIN / 2, "(continued on the next page)"))
        chunk, rest = rest[:40], rest[40:]
        y = HEIGHT - MARGIN
        ops = [show("F2", 14, MARGIN, y, "Comments (continued)")]
        for line in chunk:
            y -= 16
            ops.append(show("F1", 12, MARGIN, y, line))
        pages.append(ops)
    return ["\n".join(page).encode("latin-1") for page in pages]


def _join(values: Mapping[str, str], *names: str) -> str:
    return ", ".join(str(values[n]) for n in names if values.get(n))


def show(font: str, size: int, x: float, y: float, text: str) -> str:
    """One line of text at (x, y) in /F1 or /F2, as a content-stream operation; characters
    WinAnsi lacks become ``?``."""
    shown = "".join(c if c.isprintable() else " " for c in str(text))
    data = shown.encode("cp1252", "replace").decode("latin-1")
    data = data.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"BT /{font} {size} Tf {x:.1f} {y:.1f} Td ({data}) Tj ET"
