"""Documents with text in them, made the ways faxprint meets them: PDFs written by a
program (a standard font, no widths), PostScript made PDF by Ghostscript (what Windows
PostScript drivers end as), and plain text made PDF by CUPS's own texttopdf (a CID
TrueType font with no ToUnicode map)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from tests.conftest import REPO

TEXTTOPDF = Path("/usr/lib/cups/filter/texttopdf")


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def lines_pdf(path: Path, pages: Sequence[Sequence[str]], font: str = "Helvetica") -> Path:
    """A PDF whose pages show these lines (12 pt, one ``Tj`` a line, no /Widths)."""
    writer = PdfWriter()
    resource = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject(f"/{font}"),
        NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
    })  # fmt: skip
    for lines in pages:
        page = writer.add_blank_page(width=612, height=792)
        shown = " ".join(f"({_escaped(line)}) Tj T*" for line in lines)
        content = DecodedStreamObject()
        content.set_data(f"BT /F1 12 Tf 14 TL 72 720 Td {shown} ET".encode("cp1252"))
        page[NameObject("/Contents")] = writer._add_object(content)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): resource})}
        )
    with path.open("wb") as stream:
        writer.write(stream)
    return path


def postscript(path: Path, pages: Sequence[Sequence[str]], font: str = "Times-Roman") -> Path:
    """A PostScript program showing the lines, each word placed on its own (as drivers
    do: no space glyphs between words)."""
    out = ["%!PS-Adobe-3.0", f"/{font} findfont 12 scalefont setfont"]
    for lines in pages:
        for row, line in enumerate(lines):
            out.append(f"72 {720 - 14 * row} moveto")
            for word in line.split(" "):  # a 4 pt gap after each word, as a driver places it
                out.append(f"({_escaped(word)}) show currentpoint exch 4 add exch moveto")
        out.append("showpage")
    path.write_text("\n".join(out) + "\n", encoding="latin-1")
    return path


def ghostscript_pdf(source: Path, path: Path) -> Path:
    """PostScript made PDF by Ghostscript's pdfwrite."""
    subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite",
                    f"-sOutputFile={path}", str(source)], check=True, timeout=60)  # fmt: skip
    return path


def text_job_pdf(text: str, path: Path) -> Path:
    """Plain text made PDF by CUPS's texttopdf, as a print queue does (CHARSET=utf-8 gives
    its embedded CID TrueType font, Identity-H, without a ToUnicode map)."""
    source = path.with_suffix(".txt")
    source.write_text(text, encoding="utf-8")
    env = {**os.environ, "CHARSET": "utf-8", "PPD": str(REPO / "ppd" / "faxprint.ppd")}
    with path.open("wb") as out:
        subprocess.run([str(TEXTTOPDF), "1", "user", "title", "1", "", str(source)],
                       stdout=out, stderr=subprocess.DEVNULL, env=env, check=True, timeout=60)  # fmt: skip
    return path


def shown_text(path: Path) -> str:
    """All the text a PDF shows, read apart from faxprint: pdftotext, and for CUPS's
    text-job fonts (no ToUnicode map) the embedded font's own cmap through fontTools."""
    import io

    from fontTools.ttLib import TTFont
    from pypdf import PdfReader
    from pypdf.generic import ContentStream, TextStringObject

    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout  # fmt: skip
    reader = PdfReader(path)
    for page in reader.pages:
        streams = [(page.get_contents(), page.get("/Resources", {}))]
        for xobject in (page.get("/Resources", {}).get("/XObject") or {}).values():
            form = xobject.get_object()
            streams.append((form, form.get("/Resources", {})))
        for content, resources in streams:
            fonts: dict[str, dict[int, str]] = {}
            for name, reference in (resources.get("/Font") or {}).items():
                font = reference.get_object()
                if "/ToUnicode" in font or "/DescendantFonts" not in font:
                    continue
                program = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                tt = TTFont(io.BytesIO(program["/FontFile2"].get_object().get_data()))
                fonts[name] = {tt.getGlyphID(g): chr(u) for u, g in tt.getBestCmap().items()}
            current: dict[int, str] = {}
            for operands, operator in ContentStream(content, reader).operations:
                if operator == b"Tf":
                    current = fonts.get(str(operands[0]), {})
                elif operator in (b"Tj", b"TJ") and current:
                    for item in operands[0] if operator == b"TJ" else operands:
                        raw = (item.get_original_bytes() if isinstance(item, TextStringObject)
                               else item if isinstance(item, bytes) else b"")  # fmt: skip
                        text += "".join(current.get(raw[i] << 8 | raw[i + 1], "")
                                        for i in range(0, len(raw) - 1, 2))  # fmt: skip
                    text += "\n"
    return text
