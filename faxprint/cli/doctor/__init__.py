"""``faxprint doctor``: check a print server's faxprint, one line per check, and say how
to fix what fails.

Checks, in order: the config (parses; its permissions: readable by the backend's user,
not by others when it holds a password); each account's endpoint (DNS, TCP, TLS, and an
HTTP GET that sends no fax and no password); the CUPS backend (owner, mode, and that its
interpreter imports faxprint as lp); each faxprint queue (enabled, accepting, a known
account); the journal (the backend's user can write it); the hot folder (there, safe
permissions, a watcher or the service running); faxprint serve (answering, its socket
private, or nothing queued waiting for it); and AppArmor or SELinux denials for faxprint or the
backend in the system logs. Checks of what lp may do need root (they run ``test`` as lp)
and are skipped otherwise. The exit status is 1 when any check fails.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from faxprint.cli.base import Command, ConfigSource
from faxprint.cli.doctor import accounts, configuration, files, printer, service
from faxprint.cli.doctor.report import SYSTEM_LOGS, Check, Context

CHECKS: tuple[Callable[[Context], Iterator[Check]], ...] = (
    configuration.check_config,
    configuration.check_secrets,
    accounts.check_accounts,
    printer.check_backend,
    printer.check_queues,
    files.check_journal,
    service.check_service,
    files.check_hotfolder,
    files.check_denials,
)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend-dir", type=Path, help="cupsd's backend folder")
    parser.add_argument("--log", type=Path, action="append",
                        help="a system log to search for denials (repeatable; default: "
                        + ", ".join(map(str, SYSTEM_LOGS)) + ")")  # fmt: skip


def run(args: argparse.Namespace, config: ConfigSource) -> int:
    """Run every check, print one line each (and how to fix a failure)."""
    context = Context(config, args.backend_dir, tuple(args.log or SYSTEM_LOGS))
    failed = 0
    for check in CHECKS:
        for result in check(context):
            print(f"{result.status:<5} {result.name:<20} {result.detail}")
            if result.fix:
                print(f"{'':<5} {'':<20} fix: {result.fix}")
            failed += result.status == "FAIL"
    print(f"\n{failed} check{'s' * (failed != 1)} failed" if failed else "\nall checks passed")
    sys.stdout.flush()
    return 1 if failed else 0


COMMANDS = (
    Command(
        "doctor", run, _arguments,
        help="check this server's faxprint and say how to fix what fails",
        description=(__doc__ or "").split("\n\n")[1].replace("\n", " "),
    ),
)  # fmt: skip
