"""A printed job as the faxes it becomes.

The job's options name its recipients; failing them, its documents' addressing codes do,
one fax per section of pages (a mail merge of 300 letters is 300 faxes, each with only its
own pages, each its own journal entry: ``KEY#N``, the same on every retry, so a retried job
sends none twice). Names are looked up in the contacts. Codes never reach a recipient: they
are erased from every page faxed, and a page of nothing but codes is not faxed at all. A
job that nothing addresses becomes no fax: it waits for an address.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from faxprint.addressing.contacts import Book, resolve
from faxprint.addressing.sections import CodedJob, Section, Unreadable
from faxprint.config import Limits
from faxprint.covering import Covers
from faxprint.cups.jobticket import Request
from faxprint.documents import DocumentSource
from faxprint.errors import DocumentError, FaxPrintError, TicketError
from faxprint.outcome import JobKey, Outcome, Status, overall
from faxprint.text import printable
from faxprint.ticket import Ticket

logger = logging.getLogger(__name__)

#: The most pages of one job read for codes (a 300-letter merge is some 2,000).
MAX_PAGES_READ = 10_000


@dataclass(frozen=True)
class Fax:
    """One fax of a job: its key, documents and ticket, or why it cannot be sent."""

    key: str
    sources: tuple[DocumentSource, ...]
    ticket: Ticket | None = None
    refusal: FaxPrintError | None = None
    where: str = ""  # "fax 3 (page 7)" when the job is several faxes


def plan(
    asked: Request,
    sources: Sequence[DocumentSource],
    key: JobKey,
    book: Book,
    limits: Limits,
    workdir: Path,
    covers: Covers | None = None,
    known: Callable[[str], object | None] | None = None,
) -> list[Fax]:
    """The faxes a job becomes; none when nothing addresses it. A fax whose own cover
    names its recipient becomes one fax per recipient (:meth:`Covers.split`; ``known``,
    the journal's ``get``, keeps a job split as it was)."""
    coded = _coded(sources)
    if coded is None or not coded.coded:
        if coded is not None:
            coded.close()
        if not asked.recipients:
            return []
        faxes = [_fax(str(key), tuple(sources), asked, asked.recipients, book, False)]
    else:
        with coded:
            faxes = _sections(asked, sources, key, book, limits, workdir, coded)
    split = [each for fax in faxes
             for each in _per_recipient(fax, covers or Covers(), limits, known)]  # fmt: skip
    if len(split) > limits.max_faxes:
        raise TicketError(f"the job makes {len(split)} faxes (one per recipient, for the "
                          f"cover); a job may become at most {limits.max_faxes} "
                          "([limits] max_faxes)")  # fmt: skip
    return split


def _per_recipient(
    fax: Fax, covers: Covers, limits: Limits, known: Callable[[str], object | None] | None
) -> list[Fax]:
    if fax.ticket is None:
        return [fax]
    try:
        split = covers.split(fax.key, fax.ticket, limits, known)
    except FaxPrintError as error:
        return [_refused(fax, error)]
    if len(split) == 1:
        return [fax]
    return [Fax(key, fax.sources, ticket, where=" ".join(
                filter(None, (fax.where or "fax", f"to {ticket.recipients[0]}"))))
            for key, ticket in split]  # fmt: skip


def _sections(
    asked: Request,
    sources: Sequence[DocumentSource],
    key: JobKey,
    book: Book,
    limits: Limits,
    workdir: Path,
    coded: CodedJob,
) -> list[Fax]:
    """The faxes of a job whose documents carry codes."""
    sections = coded.sections()
    if asked.recipients:  # the options address every page; codes are only erased
        pages = tuple(page for section in sections for page in section.pages)
        sections = [Section(1, 1, pages, (), any(s.no_cover for s in sections))]
    elif not any(section.addressees for section in sections):
        return []
    if len(sections) > limits.max_faxes:
        raise TicketError(
            f"the document's addressing codes make {len(sections)} faxes; a job may become "
            f"at most {limits.max_faxes} ([limits] max_faxes)"
        )
    stem = Path(sources[0].name or sources[0].path.name).stem or "fax"
    faxes = []
    for section in sections:
        several = len(sections) > 1
        name = f"{stem}-{section.number}.pdf" if several else f"{stem}.pdf"
        path = coded.write(section, workdir / f"section-{section.number}.pdf")
        written = asked.recipients or tuple(a.text() for a in section.addressees)
        fax = _fax(
            str(key.section(section.number)) if several else str(key),
            (DocumentSource(path, name),), asked, written, book, section.no_cover,
            where=f"fax {section.number} (page {section.first_page})" if several else "",
        )  # fmt: skip
        if not section.pages and fax.refusal is None:
            fax = _refused(fax, DocumentError("its codes are on a page of nothing but codes, "
                                              "with no page after it to fax"))  # fmt: skip
        faxes.append(fax)
    return faxes


def _coded(sources: Sequence[DocumentSource]) -> CodedJob | None:
    """The job's documents read for codes; None when one is no PDF, or cannot be read
    (a damaged PDF: sending it refuses it with the reason)."""
    for source in sources:
        with source.path.open("rb") as stream:
            if stream.read(5) != b"%PDF-":
                return None
    try:
        return CodedJob([source.path for source in sources], max_pages=MAX_PAGES_READ)
    except Unreadable as exc:
        logger.debug("addressing codes not read: %s", exc)
        return None


def _fax(
    key: str,
    sources: tuple[DocumentSource, ...],
    asked: Request,
    written: Sequence[str],
    book: Book,
    no_cover: bool,
    where: str = "",
) -> Fax:
    try:
        ticket = asked.ticket(resolve(written, book), no_cover=no_cover)
    except FaxPrintError as error:
        return Fax(key, sources, refusal=error, where=where)
    return Fax(key, sources, ticket, where=where)


def _refused(fax: Fax, error: FaxPrintError) -> Fax:
    return Fax(fax.key, fax.sources, refusal=error, where=fax.where)


def summary(faxes: Sequence[Fax], outcomes: Sequence[Outcome]) -> str:
    """Say in one line what became of a job's faxes: "13 faxes: 12 accepted, 1 refused:
    fax 7 (page 7): fax number '555-FAX' contains letters"."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        word = _WORDS.get(outcome.status, outcome.status.value)
        counts[word] = counts.get(word, 0) + 1
    said = f"{len(outcomes)} faxes: " + ", ".join(f"{n} {word}" for word, n in counts.items())
    failed = [(fax, outcome) for fax, outcome in zip(faxes, outcomes, strict=True)
              if not outcome.ok]  # fmt: skip
    if failed:
        fax, outcome = failed[0]
        said += f": {fax.where}: {printable(outcome.message, limit=200)}"
        if len(failed) > 1:
            said += f" (and {len(failed) - 1} more: faxprint show)"
    return said


_WORDS = {
    Status.ACCEPTED: "accepted",
    Status.INVALID: "refused",
    Status.REJECTED: "refused by the service",
    Status.DEFERRED: "to be tried again",
    Status.EXPIRED: "given up",
    Status.UNCERTAIN: "held (maybe sent)",
    Status.CANCELLED: "cancelled",
    Status.ACCOUNT: "not sent (account)",
    Status.CONFIG: "not sent (configuration)",
}


def report(faxes: Sequence[Fax], outcomes: Sequence[Outcome], stderr: TextIO) -> Status:
    """Tell the user what became of a job of several faxes; return its status."""
    status = overall(outcomes)
    pages = sum(outcome.pages or 0 for outcome in outcomes if outcome.ok)
    if pages:
        stderr.write(f"PAGE: total {pages}\nATTR: job-impressions-completed={pages}\n")
        stderr.flush()
    line = summary(faxes, outcomes)
    if status is Status.ACCEPTED and all(outcome.ok for outcome in outcomes):
        logger.info("%s", line[0].upper() + line[1:])
    else:
        logger.error("%s", line[0].upper() + line[1:])
    return status
