"""``faxprint journal``: the journal's tables. ``migrate`` brings them to this faxprint's
version (a shared PostgreSQL journal is migrated by an admin, once every server runs the
new faxprint); ``copy SQLITE [POSTGRES]`` moves an SQLite journal into a PostgreSQL one
(the configured one by default)."""

from __future__ import annotations

import argparse
from pathlib import Path

from faxprint.cli.base import Command, ConfigSource
from faxprint.cli.exits import EX_USAGE, say


def run(args: argparse.Namespace, config: ConfigSource) -> int:
    from faxprint.journal import open_journal
    from faxprint.journal._schema import VERSION

    settings = config.load()
    if args.action == "migrate":
        with open_journal(settings, migrate=True) as journal:
            before = journal.version_before
            said = "made" if before == 0 else ("already" if before == VERSION
                                               else f"were version {before}")  # fmt: skip
            print(f"faxprint: journal {journal.where}: tables version {VERSION} ({said})")
        return 0
    if args.destination:  # a database named on the command line (no password in it)
        from dataclasses import replace

        from faxprint.account import database_of
        from faxprint.errors import ConfigError

        target = database_of(args.destination, "journal copy")
        if not target:
            raise ConfigError("journal copy: POSTGRES must be a postgresql:// URL")
        settings = replace(settings, database=target)
    if not settings.database:
        return say("journal copy moves a journal into PostgreSQL: give its URL, or set "
                   'journal = "postgresql://..." in the config', EX_USAGE)  # fmt: skip
    if args.source is None or not args.source.is_file():
        return say(f"journal copy needs the SQLite journal to copy (not found: {args.source})",
                   EX_USAGE)  # fmt: skip
    from faxprint.journal import Journal
    from faxprint.journal.copy import copy

    with Journal(args.source) as source, open_journal(settings, migrate=True) as destination:
        copied = copy(source, destination)
        where = destination.where
    counts = ", ".join(f"{n} {table}" for table, n in copied.items())
    print(f"faxprint: copied {args.source} into {where}: {counts}")
    return 0


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("migrate", "copy"),
                        help="migrate: bring the tables to this faxprint's version; copy: "
                        "move an SQLite journal into the configured PostgreSQL one")  # fmt: skip
    parser.add_argument("source", type=Path, nargs="?", metavar="SQLITE",
                        help="the SQLite journal to copy (copy only)")  # fmt: skip
    parser.add_argument("destination", nargs="?", metavar="POSTGRES",
                        help="the PostgreSQL URL to copy into (default: the config's "
                        "journal; the password from journal_passfile or ~/.pgpass)")  # fmt: skip


COMMANDS = (
    Command(
        "journal", run, _arguments,
        help="the journal's tables: migrate them, or copy an SQLite journal to PostgreSQL",
        description="journal migrate: create the journal's tables or bring them to this "
        "faxprint's version (an SQLite journal is migrated when opened; a PostgreSQL one "
        "shared by several servers only by this command, once every server runs this "
        "faxprint). journal copy SQLITE [POSTGRES]: copy an SQLite journal, whole, into "
        "the PostgreSQL database POSTGRES (default: the config's journal), which must "
        "hold nothing yet.",
    ),
)  # fmt: skip
