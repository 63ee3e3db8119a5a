"""A cover template: a PDF form of one page, read and checked, then filled.

Filling draws each value into its field's rectangle (:mod:`.draw`: any script, embedded
fonts, wrapped and shrunk to fit) on a layer merged onto the page, and removes the form:
the widgets (and their boxes) go, the text stays, as real text. Fields are found as a
form editor writes them: a widget that is its own field (LibreOffice) or the kid of a
named field; its type size and alignment are read from its ``/DA`` and ``/Q``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faxprint.covers.draw import Box, Sheet
from faxprint.errors import DocumentError
from faxprint.text import printable

MAX_TEMPLATE = 10 * 1024 * 1024
#: Ff bit 13: a text field of several lines.
MULTILINE = 1 << 12
_SIZE = re.compile(rb"([0-9.]+)\s+Tf")


@dataclass(frozen=True)
class Field:
    """One widget of a text field: its name, where it is, and how it wants its text."""

    name: str
    kind: str
    rect: tuple[float, float, float, float]
    size: float
    multiline: bool


def read(path: Path) -> tuple[Any, list[Field]]:
    """The template's reader and its fields' widgets; DocumentError (one line) if it
    cannot be a template: not a PDF, too big, encrypted, not one page, unreadable."""
    reader = _reader(path)
    try:
        return reader, _fields(reader)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DocumentError(f"{printable(path.name)}: its form cannot be read ({exc})") from None


def _reader(path: Path) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    shown = printable(path.name)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentError(f"{shown}: {exc.strerror}") from None
    if size > MAX_TEMPLATE:
        raise DocumentError(f"{shown}: {size // 1048576} MB; a cover template may have "
                            f"{MAX_TEMPLATE // 1048576} MB at most")  # fmt: skip
    try:
        with path.open("rb") as stream:
            if stream.read(5) != b"%PDF-":
                raise DocumentError(f"{shown}: not a PDF")
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise DocumentError(f"{shown}: encrypted; save it without a password")
        pages = len(reader.pages)
    except (PyPdfError, ValueError, OSError) as exc:
        raise DocumentError(f"{shown}: not a readable PDF ({exc})") from None
    if pages != 1:
        raise DocumentError(f"{shown}: {pages} pages; a cover template has one")
    if int(reader.pages[0].get("/Rotate", 0) or 0) % 360:
        raise DocumentError(f"{shown}: its page is rotated; save it upright (portrait)")
    return reader


def _fields(reader: Any) -> list[Field]:
    fields = []
    for annotation in reader.pages[0].get("/Annots") or []:
        widget = annotation.get_object()
        if widget.get("/Subtype") != "/Widget":
            continue
        owner = widget if "/T" in widget else widget.get("/Parent", {}).get_object()
        name = str(owner.get("/T", ""))
        if not name:
            continue
        x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
        da = str(widget.get("/DA") or owner.get("/DA") or "").encode("latin-1", "replace")
        found = _SIZE.search(da)
        flags = int(owner.get("/Ff", 0))
        fields.append(Field(name, str(owner.get("/FT", "")),
                            (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)),
                            float(found.group(1)) if found else 0.0,
                            bool(flags & MULTILINE)))  # fmt: skip
    return fields


def fill(
    reader: Any, fields: list[Field], values: Mapping[str, str], names: tuple[str, ...]
) -> tuple[bytes, str, int]:
    """The template (its reader and fields, from :func:`read`) with ``values`` drawn in
    its fields named in ``names``, the form removed: the PDF, the characters no font
    could show, and the cover's page count (more than one when the comments continue on
    pages of their own)."""
    from pypdf import PdfReader, PdfWriter, Transformation

    box = reader.pages[0].mediabox
    left, bottom = float(box.left), float(box.bottom)
    width, height = float(box.width), float(box.height)
    sheet = Sheet(width, height, "".join(str(values.get(f.name, "")) for f in fields))
    sheet.page()
    rest = ""
    for found in (f for f in fields if f.name in names and values.get(f.name)):
        x0, y0, x1, y1 = found.rect
        area = Box(x0 - left + 2, height - (y1 - bottom) + 1, x1 - x0 - 4, y1 - y0 - 2,
                   found.size, found.multiline or found.name == "comments")  # fmt: skip
        over = sheet.fit(area, str(values[found.name]))
        if found.name == "comments":
            rest = over
    if rest:
        continued(sheet, rest)
    layer = PdfReader(io.BytesIO(sheet.output()))
    writer = PdfWriter(clone_from=reader)
    page = writer.pages[0]
    writer.remove_annotations(subtypes="/Widget")
    page.merge_transformed_page(layer.pages[0], Transformation().translate(left, bottom))
    for extra in layer.pages[1:]:
        writer.add_page(extra)
    if "/AcroForm" in writer._root_object:
        del writer._root_object["/AcroForm"]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), sheet.missing, len(writer.pages)


#: Margins of a page of comments that did not fit on the cover.
MARGIN = 72.0


def continued(sheet: Sheet, text: str) -> None:
    """The comments the cover had no room for, on pages of their own."""
    while text:
        sheet.page()
        sheet.line(MARGIN, MARGIN - 24, "Comments (continued)", 14, bold=True)
        text = sheet.fit(Box(MARGIN, MARGIN, sheet.width - 2 * MARGIN,
                             sheet.height - 2 * MARGIN, 11, True, 11), text)  # fmt: skip
