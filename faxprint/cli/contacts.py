"""``faxprint contacts``: the address book every entry point reads (kept in the journal's
database): ``add``, ``list``, ``remove`` and ``import`` (vCard or CSV)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from faxprint.cli.base import Command, ConfigSource
from faxprint.cli.exits import EX_DATAERR, say
from faxprint.journal import Contact, JobStore, open_journal
from faxprint.text import printable

EX_REFUSED = 1


def run(args: argparse.Namespace, config: ConfigSource) -> int:
    """Do what the action asks of the configured journal's address book."""

    with open_journal(config.load()) as book:
        action = {"add": _add, "list": _list, "remove": _remove, "import": _import}[args.action]
        return action(args, book)


def _add(args: argparse.Namespace, book: JobStore) -> int:
    from faxprint.addressing.contacts import check

    contact = check(Contact(args.name, args.number, args.company or "", tuple(args.group or ())))
    try:
        done = book.add_contact(contact)
    except ValueError as exc:  # several entries of that name: which one is meant?
        return say(f"{exc}: remove them with `faxprint contacts remove NAME --number N` "
                   "first", EX_REFUSED)  # fmt: skip
    print(f"faxprint: {done} {_shown(contact)}")
    return 0


def _list(args: argparse.Namespace, book: JobStore) -> int:
    entries = book.contacts()
    if args.json:
        for c in entries:
            print(json.dumps({"name": c.name, "number": c.number, "company": c.company,
                              "groups": list(c.groups)}))  # fmt: skip
        return 0
    if not entries:
        print("no contacts")
    for c in entries:
        groups = f"  [{', '.join(c.groups)}]" if c.groups else ""
        print(printable(f"{c.name:<30} {c.number:<18} {c.company}{groups}".rstrip(), limit=200))
    return 0


def _remove(args: argparse.Namespace, book: JobStore) -> int:
    from faxprint.ticket import Recipient

    number = Recipient(args.number).number if args.number else None
    gone = book.remove_contacts(args.name, number)
    if not gone:
        return say(f"no contact {printable(args.name)!r}" + (f" with number {number}"
                   if number else ""), EX_REFUSED)  # fmt: skip
    for contact in gone:
        print(f"faxprint: removed {_shown(contact)}")
    return 0


def _import(args: argparse.Namespace, book: JobStore) -> int:
    from faxprint.addressing import cardfile
    from faxprint.addressing.contacts import checked

    good, bad = checked(cardfile.read(args.file))
    added, skipped = book.import_contacts(good)
    for line in bad[:10]:
        print(f"faxprint: skipped {line}")
    if len(bad) > 10:
        print(f"faxprint: skipped {len(bad) - 10} more")
    print(f"faxprint: {args.file.name}: {added} added, {skipped} already there, "
          f"{len(bad)} skipped")  # fmt: skip
    return EX_DATAERR if bad and not good else 0


def _shown(contact: Contact) -> str:
    company = f", {contact.company}" if contact.company else ""
    groups = f" [{', '.join(contact.groups)}]" if contact.groups else ""
    return printable(f"{contact.name}{company} ({contact.number}){groups}", limit=200)


def _arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a contact, or change the one of that name")
    add.add_argument("name", metavar="NAME", help="the name (no digits), as people will type it")
    add.add_argument("number", metavar="NUMBER", help="its fax number")
    add.add_argument("--company", help="its company (shown on cover pages)")
    add.add_argument(
        "--group", action="append", metavar="GROUP",
        help="a group it belongs to (repeatable): faxing GROUP faxes them all",
    )  # fmt: skip
    listing = actions.add_parser("list", help="every contact, by name")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    remove = actions.add_parser("remove", help="remove a contact")
    remove.add_argument("name", metavar="NAME")
    remove.add_argument("--number", help="only the entry with this number (names can repeat)")
    load = actions.add_parser("import", help="add the fax contacts of a vCard or CSV file")
    load.add_argument("file", metavar="FILE", type=Path, help=".vcf (vCard) or .csv")


COMMANDS = (
    Command(
        "contacts", run, _arguments,
        help="the address book: add, list, remove, import (vCard, CSV)",
        description="The address book the printer, the hot folder, `faxprint send` and the "
        "addressing codes read: a recipient written as a name (no digit) is the contact of "
        "that name, or every member of the group of that name.",
    ),
)  # fmt: skip
