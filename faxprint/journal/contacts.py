"""The address book, in the journal's database: every entry point, the web page and a
second server read the same one.

Names are matched whole and without regard to case or repeated blanks. Two entries may
share a name (an import of two address books): a lookup of that name is ambiguous and
refused with the candidates, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable

from faxprint.journal._connection import Connection, translated
from faxprint.journal._schema import Database, safe
from faxprint.journal.records import Contact


def folded(name: str) -> str:
    """A name as it is matched: blanks squeezed, case folded."""
    return " ".join(name.split()).casefold()


class Contacts(Connection):
    """The address book's reads and writes."""

    @translated
    def add_contact(self, contact: Contact) -> str:
        """Add ``contact``, or update the one entry of that name; say which ("added",
        "updated"). Raise ValueError when several entries have that name."""
        with self._immediate() as db:
            rows = db.execute("SELECT id FROM contacts WHERE folded = ?",
                              (folded(contact.name),)).fetchall()  # fmt: skip
            if len(rows) > 1:
                raise ValueError(f"{len(rows)} contacts are named {contact.name!r}")
            if rows:
                db.execute(
                    "UPDATE contacts SET name = ?, number = ?, company = ?, updated = ?"
                    " WHERE id = ?",
                    (safe(contact.name), contact.number, safe(contact.company), self.clock(),
                     rows[0][0]),
                )  # fmt: skip
                self._set_groups(db, rows[0][0], contact.groups)
                return "updated"
            self._insert_contact(db, contact)
        return "added"

    @translated
    def import_contacts(self, entries: Iterable[Contact]) -> tuple[int, int]:
        """Add entries in one transaction, skipping those already there (same name and
        number); return how many were added and how many skipped."""
        added = skipped = 0
        with self._immediate() as db:
            for contact in entries:
                if self._insert_contact(db, contact):
                    added += 1
                else:
                    skipped += 1
        return added, skipped

    @translated
    def remove_contacts(self, name: str, number: str | None = None) -> list[Contact]:
        """Remove the entries named ``name`` (only the one with ``number``, if given);
        return what was removed."""
        with self._immediate() as db:
            gone = [c for c in self._named(db, name) if number is None or c.number == number]
            for contact in gone:
                ids = db.execute("SELECT id FROM contacts WHERE folded = ? AND number = ?",
                                 (folded(contact.name), contact.number)).fetchall()  # fmt: skip
                for (id_,) in ids:
                    db.execute("DELETE FROM contact_groups WHERE contact = ?", (id_,))
                    db.execute("DELETE FROM contacts WHERE id = ?", (id_,))
        return gone

    @translated
    def contacts(self) -> list[Contact]:
        """Return every entry, by name."""
        rows = self._db.execute("SELECT id, name, number, company FROM contacts ORDER BY folded")
        return [self._contact(self._db, row) for row in rows.fetchall()]

    @translated
    def named(self, name: str) -> tuple[list[Contact], list[Contact]]:
        """Return the entries named ``name``, and the members of the group named so."""
        members = self._db.execute(
            "SELECT c.id, c.name, c.number, c.company FROM contacts c JOIN contact_groups g"
            " ON g.contact = c.id WHERE g.folded = ? ORDER BY c.folded",
            (folded(name),),
        ).fetchall()
        return self._named(self._db, name), [self._contact(self._db, row) for row in members]

    def _named(self, db: Database, name: str) -> list[Contact]:
        rows = db.execute("SELECT id, name, number, company FROM contacts WHERE folded = ?"
                          " ORDER BY number", (folded(name),)).fetchall()  # fmt: skip
        return [self._contact(db, row) for row in rows]

    def _insert_contact(self, db: Database, contact: Contact) -> bool:
        row = db.execute(
            "INSERT INTO contacts (name, folded, number, company, updated)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
            (safe(contact.name), folded(contact.name), contact.number, safe(contact.company),
             self.clock()),
        ).fetchone()  # fmt: skip
        if row is None:
            return False
        self._set_groups(db, int(row[0]), contact.groups)
        return True

    @staticmethod
    def _set_groups(db: Database, id_: int, groups: Iterable[str]) -> None:
        db.execute("DELETE FROM contact_groups WHERE contact = ?", (id_,))
        for group in groups:
            db.execute("INSERT INTO contact_groups (contact, name, folded)"
                       " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                       (id_, safe(group), folded(group)))  # fmt: skip

    @staticmethod
    def _contact(db: Database, row: tuple[int, str, str, str]) -> Contact:
        groups = db.execute("SELECT name FROM contact_groups WHERE contact = ? ORDER BY folded",
                            (row[0],)).fetchall()  # fmt: skip
        return Contact(row[1], row[2], row[3], tuple(g[0] for g in groups))
