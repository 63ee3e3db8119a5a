"""Recipients by name: the address book the printer, the hot folder, ``faxprint send`` and
the codes all read, and the files it is filled from.

A recipient written without a digit in its number (``fax-to=Accounting``, ``--to "Jane
Doe"``, ``<TONAME:Accounting>`` with no number, a ticket's ``"to": ["accounting"]``) is a
name: the contact of that name, or every member of the group of that name. A name that is
neither, or that several entries share, is refused in one line (with the candidates): a fax
is never sent to a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from faxprint.errors import TicketError
from faxprint.journal import Contact
from faxprint.text import printable
from faxprint.ticket import Recipient

#: The most members one group name may expand to in a fax (the job's limits apply too).
MAX_GROUP = 1000


class Book(Protocol):
    """What resolving names needs of an address book (the journal is one)."""

    def named(self, name: str) -> tuple[list[Contact], list[Contact]]: ...


def is_name(text: str) -> bool:
    """Tell whether a recipient as written is a name to look up: no digit in its number."""
    number = text.partition("|")[0]
    return bool(number.strip()) and not any(char.isdigit() for char in number)


def resolve(written: Iterable[str], book: Book | None) -> list[str]:
    """Replace names among ``written`` recipients by their contacts' ``number|name``."""
    resolved: list[str] = []
    for text in written:
        if not is_name(text):
            resolved.append(text)
            continue
        name = text.partition("|")[0].strip()
        if book is None:
            raise TicketError(f"'{printable(name, limit=40)}' is not a fax number")
        resolved += [recipient(c) for c in _lookup(book, name)]
    return resolved


def recipient(contact: Contact) -> str:
    """A contact as a recipient is written: ``NUMBER|NAME``."""
    return Recipient(contact.number, contact.name).text()


def _lookup(book: Book, name: str) -> list[Contact]:
    contacts, members = book.named(name)
    shown = printable(name, limit=40)
    if len(contacts) == 1 and not members:
        return contacts
    if members and not contacts:
        if len(members) > MAX_GROUP:
            raise TicketError(f"group '{shown}' has {len(members)} members; at most {MAX_GROUP}")
        return members
    if not contacts:
        raise TicketError(
            f"'{shown}' is not a contact and not a fax number: add it with `faxprint contacts "
            "add`, or give the number"
        )
    candidates = [*contacts, *members]
    listed = "; ".join(_candidate(c) for c in candidates[:5])
    more = f" and {len(candidates) - 5} more" if len(candidates) > 5 else ""
    raise TicketError(f"'{shown}' names {len(candidates)} entries: {listed}{more}; give the number")


def _candidate(contact: Contact) -> str:
    company = f", {contact.company}" if contact.company else ""
    return printable(f"{contact.name}{company} ({contact.number})", limit=80)


def check(contact: Contact) -> Contact:
    """Validate an entry to be added: a clean name, a fax number as faxprint writes it."""
    name = " ".join(contact.name.split())
    if not name:
        raise TicketError("a contact needs a name")
    if not is_name(name) or "|" in name:
        raise TicketError(f"contact name '{printable(name, limit=40)}' must not be a number "
                          "(a name has no digit and no |)")  # fmt: skip
    number = Recipient(contact.number).number  # raises TicketError with what is wrong
    groups = tuple(dict.fromkeys(" ".join(g.split()) for g in contact.groups if g.strip()))
    return Contact(name[:64], number, " ".join(contact.company.split())[:64], groups)


def checked(entries: Sequence[Contact]) -> tuple[list[Contact], list[str]]:
    """The entries that can be added, and why the others cannot (one line each)."""
    good, bad = [], []
    for entry in entries:
        try:
            good.append(check(entry))
        except TicketError as error:
            bad.append(f"{printable(entry.name, limit=40) or '(no name)'}: {error.message}")
    return good, bad
