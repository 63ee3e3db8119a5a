"""A fax's proof of delivery: one page of PDF saying what was sent, to whom, when, and
what the fax service said of it; what people attach to a file as proof. Written with
pypdf in the standard Helvetica (no font embedded); characters Helvetica's WinAnsi
encoding lacks are shown as ``?``."""

from __future__ import annotations

import time
from typing import Any

HEIGHT, MARGIN = 792.0, 72.0


def proof_pdf(job: dict[str, Any]) -> bytes:
    """The proof of ``job`` (as :func:`faxprint.web.jobs.one` shows it) as PDF bytes."""
    from faxprint.covers import text_pdf

    return text_pdf([_text(job)], {"/Title": f"Fax record {job['name']}", "/Producer": "faxprint"})


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
    from faxprint.covers import show

    lines = [show("F2", 18, MARGIN, HEIGHT - MARGIN, "Fax transmission record")]
    y = HEIGHT - MARGIN - 40
    for label, value in rows(job):
        lines.append(show("F2", 10, MARGIN, y, label))
        for part in _wrapped(value, 70) or [""]:
            lines.append(show("F1", 10, MARGIN + 130, y, part))
            y -= 14
        y -= 4
    return "\n".join(lines).encode("latin-1")


def _wrapped(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width, break_long_words=True)[:8]
