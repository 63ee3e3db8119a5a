"""The address book: names resolved to numbers (never guessed), the journal's table, the
files other programs export, and the `faxprint contacts` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from faxprint.addressing import cardfile
from faxprint.addressing.contacts import check, checked, is_name, resolve
from faxprint.errors import DocumentError, TicketError
from faxprint.journal import Contact, Journal
from tests.conftest import REPO
from tests.support.journals import open_at


@pytest.fixture
def book(journal_place: str) -> Iterator[Journal]:
    """An address book in the journal, on each engine."""
    with open_at(journal_place) as journal:
        journal.add_contact(Contact("Accounting", "5556465589", groups=("Board",)))
        journal.add_contact(Contact("Jane Doe", "5556465590", "ACME", ("board",)))
        yield journal


def test_names_resolve_to_their_numbers_and_groups_to_every_member(book: Journal) -> None:
    assert resolve(["accounting", "  JANE   doe "], book) == [
        "5556465589|Accounting", "5556465590|Jane Doe",
    ]  # fmt: skip
    assert resolve(["Board"], book) == ["5556465589|Accounting", "5556465590|Jane Doe"]
    assert resolve(["5551234567|Accounting"], book) == ["5551234567|Accounting"]  # a number
    assert resolve(["555-FAX-1234"], book) == ["555-FAX-1234"]  # digits: a (bad) number


@pytest.mark.parametrize(
    ("name", "complaint"),
    [
        ("Nobody", "'Nobody' is not a contact and not a fax number"),
        ("Twin", "'Twin' names 2 entries: Twin (5551111111); Twin (5552222222); give the number"),
        ("Clash", "'Clash' names 2 entries"),  # a contact and a group of that name
    ],
)
def test_a_name_that_is_none_or_several_is_refused_not_guessed(
    book: Journal, name: str, complaint: str
) -> None:
    book.import_contacts([Contact("Twin", "5551111111"), Contact("Twin", "5552222222"),
                          Contact("Clash", "5553333333"),
                          Contact("Member", "5554444444", groups=("clash",))])  # fmt: skip
    with pytest.raises(TicketError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        resolve([name], book)


def test_without_a_book_a_name_is_not_a_number() -> None:
    with pytest.raises(TicketError, match="'Jane' is not a fax number"):
        resolve(["Jane"], None)
    assert is_name("Jane|x") and not is_name("5556465589|Jane") and not is_name("")


def test_add_updates_the_one_entry_of_a_name_and_remove_takes_it(book: Journal) -> None:
    assert book.add_contact(Contact("accounting", "5550000000")) == "updated"
    assert book.named("Accounting")[0] == [Contact("accounting", "5550000000")]
    book.import_contacts([Contact("Accounting", "5551111111")])
    with pytest.raises(ValueError, match="2 contacts are named"):
        book.add_contact(Contact("Accounting", "5552222222"))
    assert [c.number for c in book.remove_contacts("ACCOUNTING", "5551111111")] == ["5551111111"]
    assert [c.number for c in book.remove_contacts("accounting")] == ["5550000000"]
    assert book.remove_contacts("accounting") == []


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        (Contact("3M", "5556465589"), "must not be a number"),
        (Contact("", "5556465589"), "needs a name"),
        (Contact("Jane", "555-FAX"), "contains letters"),
        (Contact("A|B", "5556465589"), "no \\|"),
    ],
)
def test_an_entry_that_cannot_be_used_is_refused(entry: Contact, complaint: str) -> None:
    with pytest.raises(TicketError, match=complaint):
        check(entry)


VCARDS = (
    b"BEGIN:VCARD\r\nVERSION:2.1\r\n"
    b"N;CHARSET=Windows-1252;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FCrgen\r\n"
    b"FN;CHARSET=Windows-1252;ENCODING=QUOTED-PRINTABLE:J=FCrgen M=FC=\r\n ller\r\n"
    b"ORG:ACME GmbH;Sales\r\nTEL;WORK;VOICE:+49 30 1\r\nTEL;WORK;FAX:+49 30 1234567\r\n"
    b"END:VCARD\r\n"
    b"BEGIN:VCARD\nVERSION:3.0\nN:Doe;Jane;;;\nTEL;TYPE=HOME,FAX:5550000000\n"
    b"TEL;TYPE=WORK,FAX,PREF:555-646-5589\nCATEGORIES:Accounting,Board\nEND:VCARD\n"
    b"BEGIN:VCARD\nVERSION:4.0\nFN:Voice Only\nTEL;TYPE=voice:tel:+1-555-0100\nEND:VCARD\n"
    b"BEGIN:VCARD\nVERSION:4.0\nFN:Escaped\\, Name\nTEL;TYPE=fax:tel:+1-555-646-5591\n"
    b"END:VCARD\n"
)


def test_vcards_of_outlook_google_and_apple_are_read(tmp_path: Path) -> None:
    (tmp_path / "a.vcf").write_bytes(VCARDS)
    assert cardfile.read(tmp_path / "a.vcf") == [
        Contact("Jürgen Müller", "+49 30 1234567", "ACME GmbH"),  # 2.1, folded QP in cp1252
        Contact("Jane Doe", "555-646-5589", "", ("Accounting", "Board")),  # the preferred fax
        Contact("Escaped, Name", "+1-555-646-5591"),  # a card without a fax is no entry
    ]


def test_csv_exports_are_read_by_their_header(tmp_path: Path) -> None:
    outlook = tmp_path / "outlook.csv"
    outlook.write_text("First Name,Last Name,Company,Business Fax,Categories\n"
                       "Jane,Roe,ACME,555-646-5590,Sales;Board\nNo,Fax,,,\n")  # fmt: skip
    google = tmp_path / "google.csv"
    google.write_text("Name,Organization 1 - Name,Phone 1 - Type,Phone 1 - Value,"
                      "Group Membership\nJoe Bloggs,Shop,Work Fax,555 646 5591,"
                      "* myContacts ::: Suppliers\n")  # fmt: skip
    assert cardfile.read(outlook) == [Contact("Jane Roe", "555-646-5590", "ACME",
                                              ("Sales", "Board"))]  # fmt: skip
    assert cardfile.read(google) == [Contact("Joe Bloggs", "555 646 5591", "Shop", ("Suppliers",))]


@pytest.mark.parametrize(
    ("name", "data", "complaint"),
    [
        ("a.vcf", b"BEGIN:VCARD\nFN:J\xfcrgen\nTEL;TYPE=FAX:5556465589\nEND:VCARD\n",
         "line 2 is not UTF-8 text"),
        ("a.csv", b"Name,Fax\nJ\xfcrgen,5556465589\n", "line 2 is not UTF-8 text"),
        ("a.csv", b"Fax\n5556465589\n", "names no name column"),
        ("a.txt", b"hello", "give a .vcf"),
        ("a.vcf", b"BEGIN:VCARD\nFN;CHARSET=klingon:x\nEND:VCARD\n", "not in its charset"),
    ],
)  # fmt: skip
def test_a_broken_file_is_one_line(tmp_path: Path, name: str, data: bytes, complaint: str) -> None:
    (tmp_path / name).write_bytes(data)
    with pytest.raises(DocumentError, match=complaint):
        cardfile.read(tmp_path / name)


def test_a_huge_address_book_is_refused_in_bounded_time(tmp_path: Path) -> None:
    card = b"BEGIN:VCARD\nFN:Person\nTEL;TYPE=FAX:5556465589\nEND:VCARD\n"
    (tmp_path / "big.vcf").write_bytes(card * (cardfile.MAX_ENTRIES + 1))
    with pytest.raises(DocumentError, match=f"at most {cardfile.MAX_ENTRIES} at once"):
        cardfile.read(tmp_path / "big.vcf")


def test_an_import_of_many_entries_is_one_transaction(journal_place: str) -> None:
    entries = [Contact(f"Person {chr(65 + i % 26)}{chr(65 + i // 26 % 26)}", f"555{i:07d}")
               for i in range(20_000)]  # fmt: skip
    good, bad = checked(entries)
    with open_at(journal_place) as journal:
        assert journal.import_contacts(good) == (20_000, 0)
        assert journal.import_contacts(good) == (0, 20_000)  # the same again: skipped
    assert bad == []


def _faxprint(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FAXPRINT_JOURNAL": str(tmp_path / "j.sqlite"), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "faxprint", "contacts", *args],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
                          check=False)  # fmt: skip


def test_the_contacts_command(tmp_path: Path) -> None:
    added = _faxprint(tmp_path, "add", "Accounting", "555-646-5589", "--group", "Board")
    assert (added.returncode, added.stdout) == (
        0,
        "faxprint: added Accounting (5556465589) [Board]\n",
    )
    (tmp_path / "a.vcf").write_bytes(VCARDS + b"BEGIN:VCARD\nFN:Bad\nTEL;TYPE=FAX:12\nEND:VCARD\n")
    imported = _faxprint(tmp_path, "import", "a.vcf")
    assert imported.returncode == 0, imported.stderr
    assert (
        imported.stdout.splitlines()[-1] == "faxprint: a.vcf: 3 added, 0 already there, 1 skipped"
    )
    assert "skipped Bad: fax number '12' has 2 digits" in imported.stdout
    listed = [
        json.loads(line) for line in _faxprint(tmp_path, "list", "--json").stdout.splitlines()
    ]
    assert [(c["name"], c["number"]) for c in listed] == [
        ("Accounting", "5556465589"), ("Escaped, Name", "+15556465591"), ("Jane Doe", "5556465589"),
        ("Jürgen Müller", "+49301234567"),
    ]  # fmt: skip
    refused = _faxprint(tmp_path, "add", "3M", "5556465589")
    assert (refused.returncode, len(refused.stderr.splitlines())) == (65, 1)
    assert _faxprint(tmp_path, "remove", "nobody").returncode == 1
    assert _faxprint(tmp_path, "remove", "jane doe").stdout == (
        "faxprint: removed Jane Doe (5556465589) [Accounting, Board]\n"
    )
