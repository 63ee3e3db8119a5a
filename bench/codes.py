"""7. Addressing codes: reading, erasing and cutting printed pages, per page of text.

faxprint reads every page of a printer job for codes (a program's PDF, and plain text as
CUPS's texttopdf makes it, whose font no extractor reads), erases the codes and cuts the
job into one fax per section. The baseline is poppler's ``pdftotext`` alone on the same
pages: extracting text and nothing more. The merge is 300 statements of 2 pages, each
starting with its own code: 300 faxes written.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from bench.common import REPO, Row, median
from faxprint.addressing.sections import CodedJob

PAGE_LIMIT_MS = 50.0
LINE = "Invoice line {n}: 3 boxes of paper, A4, 80 g/m2, white, at 4.20 each, total 12.60"


def program_pdf(path: Path, pages: int, *, codes_every: int) -> Path:
    """Pages of 45 lines of text in Helvetica; a code at the top of every Nth page."""
    writer = PdfWriter()
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                             NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})  # fmt: skip
    for number in range(pages):
        lines = [LINE.format(n=n) for n in range(45)]
        if number % codes_every == 0:
            lines[0] = f"<TOFAXNUM:555{number:07d}><TONAME:Customer {number}>"
        page = writer.add_blank_page(width=612, height=792)
        content = DecodedStreamObject()
        shown = " ".join(f"({line}) Tj T*" for line in lines)
        content.set_data(f"BT /F1 10 Tf 14 TL 40 760 Td {shown} ET".encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(content)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
    writer.write(path)
    return path


def text_job_pdf(path: Path, pages: int) -> Path:
    """Plain text made PDF by CUPS's texttopdf, as a queue makes it (60 lines a page)."""
    text = path.with_suffix(".txt")
    body = [LINE.format(n=n) for n in range(60 * pages)]
    body[0] = "@@+FAX:555 646 5589@@"
    text.write_text("\n".join(body) + "\n")
    env = {**os.environ, "CHARSET": "utf-8", "PPD": str(REPO / "ppd" / "faxprint.ppd")}
    with path.open("wb") as out:
        subprocess.run(["/usr/lib/cups/filter/texttopdf", "1", "u", "t", "1", "", str(text)],
                       stdout=out, stderr=subprocess.DEVNULL, env=env, check=True)  # fmt: skip
    return path


def _faxprint_ms(path: Path, rounds: int, *, write: bool) -> float:
    """Median milliseconds to read every page for codes, erase them and cut the job
    (and, with ``write``, write every section's PDF)."""
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        with CodedJob([path], max_pages=100_000) as job:
            sections = job.sections()
            if write:
                for section in sections:
                    job.write(section, path.parent / "section.pdf")
        seconds.append(time.perf_counter() - started)
    return median(seconds) * 1000


def _pdftotext_ms(path: Path, rounds: int) -> float:
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(["/usr/bin/pdftotext", str(path), os.devnull], check=True)
        seconds.append(time.perf_counter() - started)
    return median(seconds) * 1000


def bench(work: Path, quick: bool) -> list[Row]:
    rounds = 3 if quick else 11
    pages = 10 if quick else 50
    rows = []
    for label, path in (
        ("a program's PDF (45 lines a page)", program_pdf(work / "p.pdf", pages, codes_every=10)),
        ("a text job through texttopdf", text_job_pdf(work / "t.pdf", pages)),
    ):
        with CodedJob([path], max_pages=100_000) as job:
            count = len(job.pages)
        ours, theirs = _faxprint_ms(path, rounds, write=False), _pdftotext_ms(path, rounds)
        what = f"read and erase codes, {label}, per page ({count} pages)"
        target = f"< {PAGE_LIMIT_MS:.0f} ms a page"
        rows.append(Row("7 codes", what, "pdftotext alone", theirs / count, ours / count, "ms",
                        target, ours / count < PAGE_LIMIT_MS))  # fmt: skip
    statements = 30 if quick else 300
    merge = program_pdf(work / "merge.pdf", 2 * statements, codes_every=2)
    ours = _faxprint_ms(merge, max(1, rounds // 3), write=True)
    theirs = _pdftotext_ms(merge, max(1, rounds // 3))
    rows.append(Row("7 codes", f"a {statements}-section merge ({2 * statements} pages): "
                    "read, erase, cut, write every fax", "pdftotext alone", theirs, ours, "ms",
                    f"< {PAGE_LIMIT_MS:.0f} ms a page",
                    ours / (2 * statements) < PAGE_LIMIT_MS))  # fmt: skip
    return rows
