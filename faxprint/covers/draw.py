"""Text on a cover page, drawn with fpdf2: embedded font subsets (:mod:`.fonts`), every
script shaped (HarfBuzz: Arabic joins and runs right to left), text that wraps inside a
box and shrinks to fit it before it continues elsewhere.

Coordinates are PDF points with the origin at the top left of the page (fpdf2's), so a
caller placing text in a template's field turns the field's rectangle over first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faxprint.covers.fonts import Fonts, for_text

#: The smallest type a cover is drawn in: still legible at fax resolution (204 x 196 dpi).
MIN_SIZE = 7.0
#: Line height as a multiple of the type size.
LEADING = 1.2


@dataclass(frozen=True)
class Box:
    """A rectangle on the page (top-left origin), the type size to start at (0: fit the
    box) and whether text wraps in it."""

    x: float
    y: float
    width: float
    height: float
    size: float = 0.0
    multiline: bool = False
    least: float = MIN_SIZE  # the smallest type the text may shrink to


class Sheet:
    """Pages of one size being drawn on; :meth:`output` gives the PDF."""

    def __init__(self, width: float, height: float, text: str) -> None:
        from fpdf import FPDF

        self.fonts: Fonts = for_text(text)
        pdf = FPDF(unit="pt", format=(width, height))
        pdf.set_auto_page_break(False)
        pdf.set_margin(0)
        pdf.c_margin = 0
        regular, bold = self.fonts.regular, self.fonts.bold
        pdf.add_font("body", "", str(regular.path), collection_font_number=regular.number)
        pdf.add_font("body", "B", str(bold.path), collection_font_number=bold.number)
        names = []
        for index, face in enumerate(self.fonts.fallbacks):
            names.append(f"fallback{index}")
            pdf.add_font(names[-1], "", str(face.path), collection_font_number=face.number)
        pdf.set_fallback_fonts(names, exact_match=False)
        pdf.set_text_shaping(True)
        pdf.set_creator("faxprint")
        self.pdf: Any = pdf
        self.width, self.height = width, height
        self._drop = str.maketrans("", "", self.fonts.missing)

    @property
    def missing(self) -> str:
        """The characters no installed font has: drawn as nothing, to be said."""
        return self.fonts.missing

    def page(self) -> None:
        self.pdf.add_page()

    def line(self, x: float, y: float, text: str, size: float, *, bold: bool = False,
             width: float = 0.0, align: str = "L") -> None:  # fmt: skip
        """One line of text whose top is at ``y`` (cut to ``width`` if given)."""
        self.pdf.set_font("body", "B" if bold else "", size)
        shown = _shown(text).translate(self._drop)
        if width:
            shown = self._cut(shown, width)
        self.pdf.set_xy(x, y)
        self.pdf.cell(width or self.pdf.get_string_width(shown) + 1, size * LEADING, shown,
                      align=align)  # fmt: skip

    def rule(self, x: float, y: float, width: float, thickness: float = 1.0) -> None:
        self.pdf.set_line_width(thickness)
        self.pdf.line(x, y, x + width, y)

    def fit(self, box: Box, text: str) -> str:
        """Draw ``text`` in ``box``: one line shrunk to fit its width (cut with an ellipsis
        below the box's least size), or wrapped lines, shrunk down to that size to fit its
        height. Returns the lines that did not fit ("" when all did)."""
        start = box.size or (min(11.0, box.height / LEADING) if box.multiline
                             else min(12.0, box.height * 0.7))  # fmt: skip
        least = max(MIN_SIZE, box.least)
        start = max(start, least)
        if not box.multiline:
            size = start
            shown = _shown(text.replace("\n", " ")).translate(self._drop)
            while size > least and self._width(shown, size) > box.width:
                size = max(least, size - 0.5)
            top = box.y + max(0.0, (box.height - size * LEADING) / 2)
            self.line(box.x, top, shown, size, width=box.width)
            return ""
        size = start
        lines = self.wrap(text, box.width, size)
        while size > least and len(lines) * size * LEADING > box.height:
            size = max(least, size - 0.5)
            lines = self.wrap(text, box.width, size)
        room = max(1, int(box.height // (size * LEADING)))
        self.pdf.set_font("body", "", size)
        for number, line in enumerate(lines[:room]):
            self.pdf.set_xy(box.x, box.y + number * size * LEADING)
            self.pdf.cell(box.width, size * LEADING, line, align="L")
        return "\n".join(lines[room:])

    def output(self) -> bytes:
        return bytes(self.pdf.output())

    def wrap(self, text: str, width: float, size: float) -> list[str]:
        """The lines ``text`` makes in ``width`` at ``size`` (its paragraphs kept)."""
        self.pdf.set_font("body", "", size)
        lines: list[str] = []
        for paragraph in _shown(text, keep_newlines=True).translate(self._drop).split("\n"):
            if not paragraph.strip():
                lines.append("")
                continue
            lines += self.pdf.multi_cell(width, size * LEADING, paragraph, dry_run=True,
                                         output="LINES", align="L")  # fmt: skip
        while lines and not lines[-1]:
            lines.pop()
        return lines

    def _width(self, text: str, size: float) -> float:
        self.pdf.set_font("body", "", size)
        return float(self.pdf.get_string_width(text))

    def _cut(self, text: str, width: float) -> str:
        if self.pdf.get_string_width(text) <= width:
            return text
        while text and self.pdf.get_string_width(text + "\u2026") > width:
            text = text[:-1]
        return text + "\u2026"


def _shown(text: str, keep_newlines: bool = False) -> str:
    """The text with control characters as spaces (newlines kept if asked)."""
    return "".join(c if c.isprintable() or (keep_newlines and c == "\n") else " "
                   for c in str(text))  # fmt: skip
