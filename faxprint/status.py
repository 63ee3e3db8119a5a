"""What the journal says about recent jobs, for people (a table) and scripts (JSON)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from faxprint.journal import JobRecord
from faxprint.text import printable, some

HEADER = ("UPDATED", "STATE", "JOB", "RECIPIENTS", "PAGES", "TRIES", "MESSAGE")


def source_of(job: JobRecord) -> str:
    """Say where a job came from: the printer's job and user, or the hot-folder ticket."""
    if job.source == "cups":  # key: cups:PRINTER:JOBID:UUID
        parts = job.key.split(":")
        queue, number = (parts[1], parts[2]) if len(parts) >= 4 else ("?", "?")
        return printable(f"{queue}-{number} {job.user}".strip(), limit=40)
    if job.source == "send":  # key: send:UUID; its first 8 digits name it well enough
        return printable(f"send {job.key[5:13]} {job.user}".strip(), limit=40)
    return printable(job.title or job.key, limit=40)


def rows(jobs: Sequence[JobRecord]) -> list[tuple[str, ...]]:
    """One row of text per job, newest first as given."""
    return [
        (
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(job.updated)),
            job.state.value,
            source_of(job),
            printable(some(job.recipients, 2), limit=40),
            "-" if job.pages is None else str(job.pages),
            str(job.attempts),
            printable(job.message, limit=60),
        )
        for job in jobs
    ]


def table(jobs: Sequence[JobRecord]) -> str:
    """Render jobs as aligned columns under a header."""
    lines = [HEADER, *rows(jobs)]
    widths = [max(len(line[column]) for line in lines) for column in range(len(HEADER))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def as_json(job: JobRecord) -> dict[str, Any]:
    """A job as a JSON object (times in seconds since the epoch); never the owner's host."""
    return {
        "key": job.key,
        "source": job.source,
        "account": job.account,
        "user": job.user,
        "title": job.title,
        "recipients": list(job.recipients),
        "documents": list(job.documents),
        "pages": job.pages,
        "state": job.state.value,
        "attempts": job.attempts,
        "code": job.code,
        "message": job.message,
        "created": job.created,
        "updated": job.updated,
    }
