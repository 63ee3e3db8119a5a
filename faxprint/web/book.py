"""The address book in the outbox: everyone searches it (the address form offers it as
one types); admins add, remove and import entries (vCard or CSV, as ``faxprint contacts
import`` reads them). The book is the journal's, shared by every way in."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from faxprint import config as configuration
from faxprint.errors import DocumentError, TicketError
from faxprint.journal import Contact, open_journal

MAX_IMPORT = 8 * 1024 * 1024


def search(settings: configuration.Config, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """The entries whose name, company or number holds ``query`` (blanks and case aside)."""
    if not settings.has_journal:
        return []
    wanted = " ".join(query.split()).casefold()
    with open_journal(settings) as journal:
        book = journal.contacts()
    found = [c for c in book if wanted in " ".join((c.name, c.company, c.number)).casefold()]
    return [{"name": c.name, "number": c.number, "company": c.company, "groups": list(c.groups)}
            for c in found[:limit]]  # fmt: skip


def add(settings: configuration.Config, fields: dict[str, Any]) -> str:
    """Add (or update) one entry; TicketError (one line) for what is wrong."""
    from faxprint.addressing.contacts import check

    groups = fields.get("groups") or []
    if isinstance(groups, str):
        groups = [g.strip() for g in groups.split(",") if g.strip()]
    entry = check(Contact(str(fields.get("name", "")).strip(), str(fields.get("number", "")),
                          str(fields.get("company", "")).strip(),
                          tuple(str(g) for g in groups)))  # fmt: skip
    with open_journal(settings) as journal:
        try:
            said = journal.add_contact(entry)
        except ValueError as exc:
            raise TicketError(str(exc)) from None
    return f"{entry.name} ({entry.number}): {said}"


def remove(settings: configuration.Config, name: str, number: str | None) -> str:
    with open_journal(settings) as journal:
        gone = journal.remove_contacts(name, number or None)
    if not gone:
        raise TicketError(f"no contact {name!r}" + (f" with {number}" if number else ""))
    return f"removed {len(gone)} entr{'y' if len(gone) == 1 else 'ies'} named {name}"


def import_file(settings: configuration.Config, filename: str, data: bytes) -> str:
    """Import a vCard or CSV file's entries; say how many were added, kept and refused."""
    from faxprint.addressing import cardfile
    from faxprint.addressing.contacts import checked

    if len(data) > MAX_IMPORT:
        raise DocumentError(f"{filename}: over {MAX_IMPORT // 1048576} MB; split it")
    suffix = Path(filename).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="faxprint-import-") as work:
        path = Path(work) / f"book{suffix if suffix in ('.vcf', '.vcard', '.csv') else ''}"
        path.write_bytes(data)
        good, bad = checked(cardfile.read(path))
    with open_journal(settings) as journal:
        added, skipped = journal.import_contacts(good)
    said = f"{added} added, {skipped} already there"
    return said + (f", {len(bad)} refused ({bad[0]}...)" if bad else "")
