"""A fax's proof of delivery: one page of PDF saying what was sent, to whom, when, and
what the fax service said of it; what people attach to a file as proof. Written with
pypdf in the standard Helvetica (no font embedded); characters Helvetica's WinAnsi
encoding lacks are shown as ``?``."""

from __future__ import annotations

import io
import time
from typing import Any

WIDTH, HEIGHT, MARGIN = 612.0, 792.0, 72.0


def proof_pdf(job: dict[str, Any]) -> bytes:
    """The proof of ``job`` (as :func:`faxprint.web.jobs.one` shows it) as PDF bytes."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(WIDTH, HEIGHT)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                             NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica"),
                             NameObject("/Encoding"): NameObject("/WinAnsiEncoding")})  # fmt: skip
    bold = DictionaryObject({**font, NameObject("/BaseFont"): NameObject("/Helvetica-Bold")})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({
        NameObject("/F1"): writer._add_object(font), NameObject("/F2"): writer._add_object(bold),
    })})  # fmt: skip
    content = DecodedStreamObject()
    content.set_data(_text(job))
    page[NameObject("/Contents")] = writer._add_object(content)
    writer.add_metadata({"/Title": f"Fax record {job['name']}", "/Producer": "faxprint"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def rows(job: dict[str, Any]) -> list[tuple[str, str]]:
    """The record's lines: what, and its value."""
    delivery = job.get("delivery") or {}
    return [
        ("Fax", str(job["name"])), ("Title", str(job.get("title") or "")),
        ("Sent by", str(job.get("user") or "")),
        ("To", ", ".join(str(r) for r in job.get("recipients", []))),
        ("Documents", ", ".join(str(d) for d in job.get("documents", []))),
        ("Pages", "" if job.get("pages") is None else str(job["pages"])),
        ("Printed", _when(job.get("created"))), ("Last news", _when(job.get("updated"))),
        ("State", str(job.get("state_words") or job.get("state") or "")),
        ("The service said", str(job.get("message") or "")),
        ("Service's fax id", str(delivery.get("message_id", "")) or "(none given)"),
        ("Delivery", str(delivery.get("status", "")) or "(not reported by this service)"),
        ("Record made", _when(time.time())),
    ]  # fmt: skip


def _when(moment: object) -> str:
    if not isinstance(moment, int | float):
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(moment))


def _text(job: dict[str, Any]) -> bytes:
    lines = [f"BT /F2 18 Tf {MARGIN} {HEIGHT - MARGIN} Td ({_pdf('Fax transmission record')}) Tj"
             " ET"]  # fmt: skip
    y = HEIGHT - MARGIN - 40
    for label, value in rows(job):
        lines.append(f"BT /F2 10 Tf {MARGIN} {y:.1f} Td ({_pdf(label)}) Tj ET")
        for part in _wrapped(value, 70) or [""]:
            lines.append(f"BT /F1 10 Tf {MARGIN + 130} {y:.1f} Td ({_pdf(part)}) Tj ET")
            y -= 14
        y -= 4
    return "\n".join(lines).encode("latin-1")


def _wrapped(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width, break_long_words=True)[:8]


def _pdf(text: str) -> str:
    """A PDF literal string's inside, in WinAnsi (cp1252); other characters are ``?``."""
    shown = "".join(c if c.isprintable() else " " for c in text)
    data = shown.encode("cp1252", "replace").decode("latin-1")
    return data.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
