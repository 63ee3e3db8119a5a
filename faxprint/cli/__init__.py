"""The ``faxprint`` command line: thin over the library, one clear line per outcome.

Every command is a :class:`~faxprint.cli.base.Command` of a module here (its arguments
and ``run(args, config)``); this module builds the parser from them, reads the config
when a command first asks for it, and turns what a command raises into one line and the
exit status of :mod:`faxprint.cli.exits`, so no command keeps a ladder of its own.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from faxprint import __version__
from faxprint.cli import (
    address,
    contacts,
    covers,
    decide,
    doctor,
    jobs,
    journal,
    preview,
    printer,
    sandbox,
    send,
    serve,
    watch,
)
from faxprint.cli.base import Command, ConfigSource
from faxprint.cli.exits import EX_INTERRUPTED, EX_IOERR, EX_USAGE, failed, say
from faxprint.errors import FaxPrintError

EXAMPLES = """examples:
  faxprint send --to '5556465589|Jane Doe' offer.pdf   fax a file now
  faxprint install                    add the Fax printer to CUPS (as root)
  faxprint watch /srv/fax             fax what is dropped into /srv/fax
  faxprint status                     jobs waiting, or uncertain (check those)
  faxprint history --since 7d --to 5556465589
  faxprint show Fax-17                one job's story (printer queue Fax, job 17)
  faxprint retry Fax-17               send an uncertain job again, after checking
  faxprint address Fax-18 --to 5556465589   address a job printed without a number
  faxprint contacts add Accounting 5556465589
  faxprint preview offer.pdf          see the pages as the fax will show them
  faxprint doctor                     check this server, with fixes

`COMMAND --help` tells more; so do `man faxprint` and the README."""

#: Commands whose one line per request or job event is what their users watch.
SERVERS = ("sandbox", "watch", "serve", "auth-helper")


def _completion_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=["bash", "zsh", "tcsh"], metavar="SHELL")


def _completion(args: argparse.Namespace, config: ConfigSource) -> int:
    """Print the completion script (generated from this parser by shtab)."""
    import shtab

    print(shtab.complete(build_parser(), shell=args.shell))
    return 0


COMPLETION = Command(
    "completion", _completion, _completion_arguments,
    help="print a shell completion script (bash, zsh or tcsh)",
    description="Print a completion script for SHELL. For bash: "
    "faxprint completion bash > /etc/bash_completion.d/faxprint",
)  # fmt: skip

#: Every command, in the order --help lists them.
COMMANDS: tuple[Command, ...] = (
    *send.COMMANDS,
    *printer.COMMANDS,
    *watch.COMMANDS,
    *serve.COMMANDS,
    *jobs.COMMANDS,
    *decide.COMMANDS,
    *address.COMMANDS,
    *contacts.COMMANDS,
    *journal.COMMANDS,
    *preview.COMMANDS,
    *covers.COMMANDS,
    *doctor.COMMANDS,
    COMPLETION,
    *sandbox.COMMANDS,
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EX_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Describe every subcommand."""
    parser = _Parser(
        prog="faxprint",
        description="Fax documents through a FaxOut account: from the command line, from "
        "any program through the Fax printer (CUPS), and from a watched folder.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"faxprint {__version__}")
    parser.add_argument(
        "--config",
        help="config file (default: $FAXPRINT_CONFIG, then "
        "/etc/faxprint/faxprint.toml, else the embedded sandbox default)",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="say more")
    parser.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], type=str.lower,
        help="what to log (default: warning, info for watch and sandbox; "
        "or $FAXPRINT_LOG_LEVEL)",
    )  # fmt: skip
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for command in COMMANDS:
        sub = subparsers.add_parser(
            command.name, help=command.help, description=command.description,
            formatter_class=argparse.RawDescriptionHelpFormatter if command.preformatted
            else argparse.HelpFormatter,
        )  # fmt: skip
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    servers = args.command in SERVERS
    configure_logging(
        max(args.verbose, 1) if servers else args.verbose,
        level=args.log_level,
        logfmt=args.command in ("watch", "serve"),
    )
    try:
        status: int = args.run(args, ConfigSource(args.config))
    except KeyboardInterrupt:
        return say("interrupted", EX_INTERRUPTED)
    except FaxPrintError as error:  # the config, the journal, a document: one line
        return failed(error)
    except OSError as exc:  # a file or folder given that cannot be used: one line, no trace
        where = f"{exc.filename}: " if exc.filename else ""
        return say(f"{where}{exc.strerror or exc}", EX_IOERR)
    return status


def configure_logging(verbose: int, *, level: str | None = None, logfmt: bool = False) -> None:
    """Send log records to stderr, at the level asked for (--log-level, then
    $FAXPRINT_LOG_LEVEL, then -v); ``logfmt``: as ``key=value`` lines (the watcher)."""
    chosen = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    named = level or os.environ.get("FAXPRINT_LOG_LEVEL", "")
    chosen = getattr(logging, named.upper(), chosen) if named.isalpha() else chosen
    handler = logging.StreamHandler()
    if logfmt:
        from faxprint.logfmt import Formatter

        handler.setFormatter(Formatter())
    else:
        handler.setFormatter(logging.Formatter("faxprint: %(levelname)s: %(message)s"))
    logging.basicConfig(level=chosen, handlers=[handler])
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # faxprint reports damaged PDFs itself
