"""The most one job may ask for ([limits] in the config): checked before anything is
sent, sizes before any document is read, so one bad job cannot run up a bill."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from faxprint import documents as docs
from faxprint.config import Limits
from faxprint.documents import Document, DocumentSource
from faxprint.errors import DocumentError, TicketError
from faxprint.text import printable

_MB = 1024 * 1024


def check_recipients(recipients: int, limits: Limits) -> None:
    """TicketError when a job has more recipients than ``limits`` allow."""
    if recipients > limits.max_recipients:
        raise TicketError(
            f"{recipients} recipients; a job may have at most "
            f"{limits.max_recipients} (limits.max_recipients)"
        )


def check_job(recipients: int, sources: Sequence[DocumentSource], limits: Limits) -> list[Document]:
    """Check a job of ``recipients`` against ``limits`` and inspect every document; raise
    InputError if it cannot be faxed."""
    check_recipients(recipients, limits)
    if not sources:
        raise DocumentError("no document to fax")
    total = 0
    for source in sources:
        size = _size(source.path)
        if size > limits.max_document_mb * _MB:
            shown = printable(source.name or source.path.name)
            raise DocumentError(
                f"{shown}: {_mb(size)} MB; a document may have "
                f"at most {limits.max_document_mb:g} MB (limits.max_document_mb)"
            )
        total += size
    if total > limits.max_job_mb * _MB:
        raise DocumentError(
            f"the documents come to {_mb(total)} MB; a job may have at most "
            f"{limits.max_job_mb:g} MB (limits.max_job_mb)"
        )
    documents = [docs.inspect(s.path, filename=s.name) for s in sources]
    check_pages(documents, limits)
    return documents


def check_pages(documents: Sequence[Document], limits: Limits) -> None:
    """Refuse documents of more pages in all than a job may have."""
    pages = sum(d.pages or 0 for d in documents)
    if pages > limits.max_pages:
        raise DocumentError(
            f"{pages} pages; a job may have at most {limits.max_pages} (limits.max_pages)"
        )


def _size(path: Path) -> int:
    """Return a file's size, 0 if it cannot be seen (inspecting it says why)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _mb(size: int) -> str:
    return f"{size / _MB:.1f}"
