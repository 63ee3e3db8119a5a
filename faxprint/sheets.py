"""Contact sheets: the pages a fax would send, laid out on one PNG as the fax shows them.

The pages are laid out on one large PDF page with pypdf (each page scaled into a
Letter-sized cell, framed and numbered) and rendered by poppler's ``pdftoppm`` in black
and white at the fax's resolution: 98 dpi for ``low`` (standard), 196 dpi for ``high``
(fine), the vertical resolutions of fax, with square pixels. What is hard to read here
is hard to read on the recipient's fax. Only PDFs can be previewed: the service renders
other formats itself.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faxprint.errors import ConfigError, DocumentError
from faxprint.text import printable

DPI = {"low": 98, "high": 196}
CELL_WIDTH, CELL_HEIGHT = 612.0, 792.0  # points: a US Letter page per cell
MARGIN = 18.0  # around each page, in points
LABEL = 28.0  # the band under each cell with its page number
MAX_PAGES = 300  # one sheet; longer jobs are refused by [limits] max_pages anyway
RENDER_TIMEOUT = 300


@dataclass(frozen=True)
class Sheet:
    """A rendered contact sheet: where it is, how many pages, its grid and size."""

    path: Path
    pages: int
    columns: int
    rows: int
    width: int
    height: int


def sheet_pixels(columns: int, rows: int, resolution: str) -> tuple[int, int]:
    """The size in pixels of a sheet of ``columns`` x ``rows`` cells at a fax resolution
    (poppler rounds a page's size up to whole pixels)."""
    dpi = DPI[resolution]
    width = math.ceil(columns * (CELL_WIDTH + 2 * MARGIN) * dpi / 72)
    height = math.ceil(rows * (CELL_HEIGHT + 2 * MARGIN + LABEL) * dpi / 72)
    return width, height


def contact_sheet(
    documents: Sequence[Path],
    output: Path,
    *,
    resolution: str = "low",
    columns: int = 4,
    private: bool = False,
) -> Sheet:
    """Render every page of ``documents`` onto one PNG at ``output``."""
    writer = _collect(documents)
    count = len(writer.pages)
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise ConfigError("pdftoppm is missing: install the Debian package poppler-utils")
    with tempfile.TemporaryDirectory(prefix="faxprint-preview-") as work:
        sheet_pdf = Path(work) / "sheet.pdf"
        _layout(writer, columns, rows, sheet_pdf)
        dpi = DPI[resolution]
        prefix = Path(work) / "sheet"
        command = [pdftoppm, "-mono", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile"]
        result = subprocess.run(
            [*command, str(sheet_pdf), str(prefix)],
            capture_output=True, text=True, timeout=RENDER_TIMEOUT, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise DocumentError(f"pdftoppm failed: {printable(result.stderr.strip(), limit=200)}")
        # pdftoppm's PNGs are 8-bit RGB even with -mono; its PBM is the fax's 1 bit a pixel.
        _pbm_to_png(prefix.with_suffix(".pbm"), output, private=private)
    width, height = png_size(output)
    return Sheet(output, count, columns, rows, width, height)


def _collect(documents: Sequence[Path]) -> Any:
    """Return a PdfWriter holding every page of ``documents``, rotation made upright."""
    from pypdf import PdfWriter

    from faxprint import documents as docs

    writer = PdfWriter()
    for path in documents:
        document = docs.inspect(path)  # refuses damaged, encrypted, unreadable files
        if document.content_type != "application/pdf":
            raise DocumentError(
                f"{printable(path.name)}: only PDFs can be previewed (the service renders "
                f"{document.content_type} itself)"
            )
        if (document.pages or 0) + len(writer.pages) > MAX_PAGES:
            raise DocumentError(f"more than {MAX_PAGES} pages: too many to preview on one sheet")
        writer.append(path)
    if not writer.pages:
        raise DocumentError("no page to preview")
    for page in writer.pages:
        if page.rotation:
            page.transfer_rotation_to_content()
    return writer


def _layout(writer: Any, columns: int, rows: int, output: Path) -> None:
    """Put a first page in ``writer`` holding all its pages in a grid, framed and
    numbered, and write the file (the renderer draws only that first page)."""
    from pypdf import Transformation
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject

    cell_w, cell_h = CELL_WIDTH + 2 * MARGIN, CELL_HEIGHT + 2 * MARGIN + LABEL
    width, height = columns * cell_w, rows * cell_h
    pages = list(writer.pages)
    writer.insert_blank_page(width=width, height=height, index=0)
    sheet = writer.pages[0]  # the writer's own copy: the page returned is not it
    marks: list[str] = ["0 g 1 w"]
    placed = []
    for number, page in enumerate(pages):
        box = page.mediabox
        w, h = float(box.width), float(box.height)
        scale = min(CELL_WIDTH / w, CELL_HEIGHT / h)
        column, row = number % columns, number // columns
        x = column * cell_w + MARGIN + (CELL_WIDTH - w * scale) / 2
        y = height - (row + 1) * cell_h + LABEL + MARGIN + (CELL_HEIGHT - h * scale) / 2
        placed.append((page, Transformation().translate(-float(box.left), -float(box.bottom))
                       .scale(scale, scale).translate(x, y)))  # fmt: skip
        marks.append(f"{x:.2f} {y:.2f} {w * scale:.2f} {h * scale:.2f} re S")
        label_x = column * cell_w + cell_w / 2 - 30
        label_y = height - (row + 1) * cell_h + 8
        marks.append(f"BT /FxLabel 20 Tf {label_x:.2f} {label_y:.2f} Td (page {number + 1}) Tj ET")
    decorations = DecodedStreamObject()
    decorations.set_data("\n".join(marks).encode("ascii"))
    sheet[NameObject("/Contents")] = ArrayObject([writer._add_object(decorations)])
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    })  # fmt: skip
    sheet[NameObject("/Resources")] = DictionaryObject({
        NameObject("/Font"): DictionaryObject({NameObject("/FxLabel"): font})
    })  # fmt: skip
    for page, transformation in placed:
        sheet.merge_transformed_page(page, transformation)
    with output.open("wb") as stream:
        writer.write(stream)


def _pbm_to_png(pbm: Path, png: Path, *, private: bool = False) -> None:
    """Store a binary PBM (P4) as a 1-bit grayscale PNG (PBM: 1 is black; PNG: 0 is)."""
    data = pbm.read_bytes()
    fields: list[bytes] = []
    position = 0
    while len(fields) < 3:  # magic, width, height; "#" starts a comment line
        while data[position : position + 1].isspace():
            position += 1
        if data[position : position + 1] == b"#":
            position = data.index(b"\n", position) + 1
            continue
        end = position
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[position:end])
        position = end
    if fields[0] != b"P4":
        raise ConfigError("pdftoppm did not write a binary PBM")
    width, height = int(fields[1]), int(fields[2])
    stride = (width + 7) // 8
    pixels = memoryview(data)[position + 1 :]
    inverted = bytes(pixels[: stride * height]).translate(_INVERT)
    rows = b"".join(b"\0" + inverted[y * stride : (y + 1) * stride] for y in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            len(body).to_bytes(4, "big") + kind + body
            + zlib.crc32(kind + body).to_bytes(4, "big")
        )  # fmt: skip

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([1, 0, 0, 0, 0])
    data = (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
    )  # fmt: skip
    if private:  # a new file only this user can read; an existing one keeps its mode
        fd = os.open(png, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
    else:
        png.write_bytes(data)


_INVERT = bytes(255 - value for value in range(256))


def png_size(path: Path) -> tuple[int, int]:
    """Read a PNG's width and height from its header."""
    with path.open("rb") as stream:
        head = stream.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise DocumentError(f"{path} is not a PNG")
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
