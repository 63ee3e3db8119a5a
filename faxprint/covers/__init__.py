"""faxprint's own cover pages: an office's fillable PDF template filled and flattened,
or the built-in cover, as the page to put before a fax.

A template is a PDF form of one page whose text fields are named after :data:`FIELDS`
(designed in LibreOffice: Form controls, exported as PDF; or any PDF editor). It is
checked whole before it is used (:func:`check_template`): a PDF, not encrypted, one page,
at most :data:`MAX_TEMPLATE` bytes, with text fields only among faxprint's names. Filling
draws the values into the fields (:mod:`.template`, :mod:`.draw`: any script, embedded
fonts, long text wrapped and shrunk, then continued on a page of its own) and removes the
form: what is sent holds no form, and its text is real text. The built-in cover needs no
template.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from faxprint.covers import template
from faxprint.covers.draw import Box, Sheet
from faxprint.covers.template import MAX_TEMPLATE as MAX_TEMPLATE
from faxprint.errors import DocumentError
from faxprint.text import printable

#: The fields faxprint fills; a template may have any of them.
FIELDS = ("to_name", "to_company", "to_fax", "from_name", "from_company", "from_fax",
          "from_phone", "from_email", "subject", "comments", "pages", "date")  # fmt: skip
#: Values shown when a template is checked.
SAMPLE = {"to_name": "Jane Doe", "to_company": "Doe & Partners", "to_fax": "+1 555 646 5589",
          "from_name": "Anna Schmidt", "from_company": "ACME Widgets Inc.",
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

    @property
    def names_recipient(self) -> bool:
        """Whether it names its recipient (a to_ field): then each gets her own cover."""
        return any(name.startswith("to_") for name in self.fields)


@dataclass(frozen=True)
class Rendered:
    """A cover as it is sent: the PDF, its pages (more than one when the comments
    continue), and the characters no installed font could show (left out)."""

    data: bytes
    pages: int
    missing: str = ""
    lost_text: bool = False  # a cover text the template has no comments field for

    def notes(self) -> list[str]:
        """What to tell the sender about how the cover came out."""
        said = []
        if self.lost_text:
            said.append("the cover template has no comments field: the cover text is not "
                        "on the fax")  # fmt: skip
        if self.pages > 1:
            said.append(f"the cover text did not fit on the cover page and continues on "
                        f"{self.pages - 1} more")  # fmt: skip
        if self.missing:
            said.append(f"the cover could not show {self.missing!r} (no installed font has "
                        "them; for Chinese, Japanese, Korean: apt-get install "
                        "fonts-noto-cjk)")  # fmt: skip
        return said


def check_template(path: Path) -> TemplateCheck:
    """Read a template and say what it has; DocumentError (one line) if it cannot be one."""
    return _checked(path, template.read(path)[1])


def _checked(path: Path, found: list[template.Field]) -> TemplateCheck:
    """What a template's fields offer (read already); DocumentError if it cannot be one."""
    if not found:
        raise DocumentError(f"{printable(path.name)}: has no form fields (make text fields "
                            f"named {', '.join(FIELDS[:3])}, ...)")  # fmt: skip
    wrong = sorted({f.name for f in found if f.name in FIELDS and f.kind != "/Tx"})
    if wrong:
        raise DocumentError(f"{printable(path.name)}: {', '.join(wrong)} must be text fields")
    small = sorted({f.name for f in found if f.name in FIELDS
                    and min(f.rect[2] - f.rect[0], f.rect[3] - f.rect[1]) < MIN_BOX})  # fmt: skip
    if small:
        raise DocumentError(f"{printable(path.name)}: {', '.join(small)} too small to write "
                            f"in (a field needs {MIN_BOX:g} points each way at least)")  # fmt: skip
    names = {f.name for f in found}
    ours = tuple(name for name in FIELDS if name in names)
    others = tuple(sorted(names - set(FIELDS)))
    return TemplateCheck(ours, tuple(n for n in FIELDS if n not in names), others)


def fill(path: Path, values: Mapping[str, str]) -> Rendered:
    """The template with ``values`` in its fields, flattened: real text, no form."""
    reader, found = template.read(path)  # read once, checked, then filled
    checked = _checked(path, found)
    shown = {name: _field_text(values.get(name, "")) for name in checked.fields}
    data, missing, pages = template.fill(reader, found, shown, checked.fields)
    lost = str(values.get("comments", "")).strip() and "comments" not in checked.fields
    return Rendered(data, pages, missing, lost_text=bool(lost))


#: The least width and height of a field faxprint writes in, in points (about 2.8 mm).
MIN_BOX = 8.0
#: Characters of cover text a cover carries at most (about four pages of comments).
MAX_COMMENTS = 10_000


def _field_text(value: str) -> str:
    text = str(value)
    if len(text) > MAX_COMMENTS:
        raise DocumentError(f"the cover text has {len(text):,} characters; a cover takes "
                            f"{MAX_COMMENTS:,} at most (send the rest as a page of the "
                            "fax)")  # fmt: skip
    return "".join(c if c.isprintable() or c == "\n" else " " for c in text)


WIDTH, HEIGHT, MARGIN = 612.0, 792.0, 72.0


def builtin(values: Mapping[str, str]) -> Rendered:
    """faxprint's own cover: large, plain type that reads at fax resolution; comments too
    long for the page continue on pages of their own."""
    shown = {name: _field_text(values.get(name, "")) for name in FIELDS}
    shown["date"] = shown["date"] or time.strftime("%Y-%m-%d")
    sheet = Sheet(WIDTH, HEIGHT, "".join(shown.values()))
    sheet.page()
    y = _head(sheet, shown)
    rest = sheet.fit(Box(MARGIN, y, WIDTH - 2 * MARGIN, HEIGHT - MARGIN - y, 12, True, 10),
                     shown["comments"])  # fmt: skip
    if rest:
        sheet.line(MARGIN, HEIGHT - MARGIN / 2 - 12, "(continued on the next page)", 10)
        template.continued(sheet, rest)
    data = sheet.output()
    return Rendered(data, len(sheet.pdf.pages), sheet.missing)


def _head(sheet: Sheet, shown: Mapping[str, str]) -> float:
    """The title, the sender, and the table of who, when and how many; where the
    comments begin."""
    width = WIDTH - 2 * MARGIN
    sheet.line(MARGIN, MARGIN - 16, "FAX", 40, bold=True)
    right, room = MARGIN + 110, width - 110  # the sender's block, set right
    top = MARGIN - 14
    for text, size, bold in (
        (shown["from_company"] or shown["from_name"], 14, True),
        ("   ".join(f"{label} {shown[name]}" for label, name in
                    (("Fax", "from_fax"), ("Phone", "from_phone")) if shown[name]), 10, False),
        (shown["from_email"], 10, False),
    ):  # fmt: skip
        if text:
            sheet.line(right, top, text, size, bold=bold, width=room, align="R")
            top += size * 1.35
    y = max(MARGIN + 40, top + 6)
    sheet.rule(MARGIN, y, width, 2)
    y += 16
    for label, value in (("To", _join(shown, "to_name", "to_company")),
                         ("Fax", shown["to_fax"]),
                         ("From", _join(shown, "from_name", "from_company")),
                         ("Date", shown["date"]),
                         ("Pages", shown["pages"] and f"{shown['pages']} after this one"),
                         ("Subject", shown["subject"])):  # fmt: skip
        if value:
            sheet.line(MARGIN, y, label, 14, bold=True)
            sheet.line(MARGIN + 90, y, value, 14, width=width - 90)
            y += 24
    sheet.rule(MARGIN, y + 4, width, 0.75)
    return y + 20


def _join(values: Mapping[str, str], *names: str) -> str:
    return ", ".join(str(values[n]) for n in names if values.get(n))
