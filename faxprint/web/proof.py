"""A fax's proof of delivery: one page of PDF saying what was sent, to whom, when, and
what the fax service said of it; what people attach to a file as proof. Drawn as the
cover pages are (:mod:`faxprint.covers.draw`): names in any script, in embedded fonts."""

from __future__ import annotations

import time
from typing import Any

WIDTH, HEIGHT, MARGIN = 612.0, 792.0, 72.0
#: The lines a value may take on the record, at most.
MOST_LINES = 8


def proof_pdf(job: dict[str, Any]) -> bytes:
    """The proof of ``job`` (as :func:`faxprint.web.jobs.one` shows it) as PDF bytes."""
    from faxprint.covers.draw import LEADING, Box, Sheet

    shown = rows(job)
    sheet = Sheet(WIDTH, HEIGHT, "".join(value for _, value in shown))
    sheet.pdf.set_title(f"Fax record {job['name']}")
    sheet.page()
    sheet.line(MARGIN, MARGIN - 18, "Fax transmission record", 18, bold=True)
    y, left, width = MARGIN + 22, MARGIN + 130, WIDTH - 2 * MARGIN - 130
    for label, value in shown:
        sheet.line(MARGIN, y, label, 10, bold=True)
        count = max(1, min(MOST_LINES, len(sheet.wrap(value, width, 10))))
        sheet.fit(Box(left, y, width, count * 10 * LEADING, 10, True, 10), value)
        y += count * 10 * LEADING + 4
    return sheet.output()


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
