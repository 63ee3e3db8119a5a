"""The ``faxprint`` command line: thin over the library, one clear line per outcome.

Exit statuses of ``faxprint send`` (sysexits.h values where one fits):

====  ==========================================================================
  0   accepted by the service
 64   usage error (unknown option, missing argument)
 65   the job is invalid: a recipient, send time, cover or document must be fixed
 70   internal error (a bug: please report it)
 75   not sent: the service was unreachable or failing; try again later
 76   refused by the service as bad data (no recipients, no fax data)
 77   the account cannot send: wrong credentials or faxing prohibited
 78   configuration error: unreadable, invalid or unsafe config, unknown account
 74   the journal could not record the service's verdict, printed first (a full
      disk): an accepted fax was accepted, do not send it again
 79   uncertain: the upload ended but the answer was lost; check before resending
130   interrupted (Ctrl-C, SIGTERM)
====  ==========================================================================
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faxprint import __version__
from faxprint.errors import CancelledError, ConfigError, FaxPrintError, TicketError

if TYPE_CHECKING:
    from faxprint.cancellation import Cancellation
    from faxprint.outcome import Outcome

logger = logging.getLogger("faxprint")

EX_USAGE = 64
EX_DATAERR = 65
EX_SOFTWARE = 70
EX_TEMPFAIL = 75
EX_PROTOCOL = 76
EX_NOPERM = 77
EX_CONFIG = 78
EX_IOERR = 74
EX_UNCERTAIN = 79
EX_INTERRUPTED = 130

# Keyed by faxprint.submitter.Status values (a StrEnum): the CLI starts without loading
# the submitter, for commands that do not send.
EXIT_STATUS: dict[str, int] = {
    "accepted": 0,
    "invalid": EX_DATAERR,
    "rejected": EX_PROTOCOL,
    "account": EX_NOPERM,
    "config": EX_CONFIG,
    "deferred": EX_TEMPFAIL,
    "expired": EX_TEMPFAIL,
    "uncertain": EX_UNCERTAIN,
    "cancelled": EX_INTERRUPTED,
}


FAILURE_WORDS: dict[str, str] = {
    "invalid": "not sent",
    "rejected": "refused by the service",
    "account": "not sent, the account must be fixed",
    "config": "not sent, the configuration must be fixed",
    "deferred": "not sent, try again later",
    "expired": "not sent, gave up",
    "uncertain": "maybe sent",
    "cancelled": "cancelled",
}


EXAMPLES = """examples:
  faxprint send --to '5556465589|Jane Doe' offer.pdf   fax a file now
  faxprint install                    add the Fax printer to CUPS (as root)
  faxprint watch /srv/fax             fax what is dropped into /srv/fax
  faxprint status                     jobs waiting, or uncertain (check those)
  faxprint history --since 7d --to 5556465589
  faxprint show Fax-17                one job's story (printer queue Fax, job 17)
  faxprint retry Fax-17               send an uncertain job again, after checking
  faxprint preview offer.pdf          see the pages as the fax will show them
  faxprint doctor                     check this server, with fixes

`COMMAND --help` tells more; so do `man faxprint` and the README."""

#: Journal states, for --state (faxprint.journal.State; kept here so --help stays light).
STATES = ("pending", "sending", "retry", "accepted", "failed", "uncertain", "cancelled")


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
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    send = commands.add_parser("send", help="fax files now", description=_send_help(),
                               formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    send.add_argument("files", nargs="+", metavar="FILE", type=Path, help="documents to fax")
    send.add_argument(
        "--to",
        action="append",
        required=True,
        metavar="NUMBER[|NAME]",
        help="a recipient; repeat for several",
    )
    send.add_argument("--account", help="account name from the config (default: default)")
    send.add_argument("--cover", help="cover page: None, Default or a cover page's name")
    send.add_argument("--cover-text", help="text printed on the cover page")
    send.add_argument("--resolution", choices=["low", "high"], type=str.lower)
    send.add_argument("--send-at", metavar="WHEN", help="ISO 8601 time, or dd:mm:yy hh:mm GMT")
    send.set_defaults(run=run_send)

    install = commands.add_parser("install", help="add the Fax printer to CUPS (as root)")
    install.add_argument("--name", default="Fax", help="queue name (default: Fax)")
    install.add_argument("--account", default="default", help="account the queue sends with")
    install.add_argument("--backend-dir", type=Path, help="cupsd's backend folder")
    install.add_argument("--location", default="", help="printer location shown to users")
    install.add_argument("--shared", action="store_true", help="share the queue on the network")
    install.add_argument(
        "--fax-type",
        action="store_true",
        help="mark the queue as a fax (macOS-style fax dialogs; hides it "
        "from Chrome and Electron programs)",
    )
    install.set_defaults(run=run_install)
    uninstall = commands.add_parser("uninstall", help="remove the Fax printer from CUPS")
    uninstall.add_argument("--name", default="Fax", help="queue name (default: Fax)")
    uninstall.add_argument("--backend-dir", type=Path, help="cupsd's backend folder")
    uninstall.set_defaults(run=run_uninstall)

    watch = commands.add_parser("watch", help="fax what is dropped into a folder (a service)")
    watch.add_argument(
        "dir", nargs="?", type=Path, help="the hot folder (default: [hotfolder] path)"
    )
    watch.add_argument("--polling", action="store_true", help="poll (for network shares)")
    watch.add_argument("--concurrency", type=int, help="uploads at once")
    watch.set_defaults(run=run_watch)

    _operating_commands(commands)

    completion = commands.add_parser(
        "completion", help="print a shell completion script (bash, zsh or tcsh)",
        description="Print a completion script for SHELL. For bash: "
        "faxprint completion bash > /etc/bash_completion.d/faxprint",
    )  # fmt: skip
    completion.add_argument("shell", choices=["bash", "zsh", "tcsh"], metavar="SHELL")
    completion.set_defaults(run=run_completion)

    sandbox = commands.add_parser("sandbox", help="run a local FaxOut server to try faxprint")
    from faxprint.sandbox import command as sandbox_module

    sandbox_module.add_arguments(sandbox)
    sandbox.set_defaults(run=sandbox_module.run)
    return parser


def _operating_commands(commands: Any) -> None:
    """status, history, show, retry and cancel: what an admin runs on a print server."""
    from faxprint import status as status_module  # light: the journal and sqlite3

    status = commands.add_parser(
        "status", help="jobs not settled yet or in doubt, and the last day's counts",
        description="List the jobs that are waiting, being sent, or uncertain (check "
        "those: they may have been sent), newest first, and count the last 24 hours' "
        "jobs by state.",
    )  # fmt: skip
    status_module.add_filters(status)
    status.set_defaults(run=status_module.run_status)
    history = commands.add_parser(
        "history", help="every job, newest first, filtered",
        description="List the journal's jobs newest first: when, state, where from "
        "(printer queue and job, send, hot-folder job), recipients, pages, attempts and "
        "the last message.",
    )  # fmt: skip
    status_module.add_filters(history)
    history.add_argument(
        "--state", action="append", choices=STATES, help="only jobs in this state (repeatable)"
    )
    history.set_defaults(run=status_module.run_history)
    show = commands.add_parser(
        "show", help="one job's whole story: every attempt and message",
        description="JOB is a job's key or its start, a printer job as QUEUE-JOBID "
        "(Fax-17), a send job's id (8 digits are enough) or a hot-folder job's name.",
    )  # fmt: skip
    show.add_argument("job", metavar="JOB")
    show.add_argument("--json", action="store_true", help="as one JSON object")
    status_module.add_refresh(show)
    show.set_defaults(run=status_module.run_show)
    for name, verb, summary in (
        ("retry", "run_retry", "send an uncertain, interrupted or failed job again"),
        ("cancel", "run_cancel", "settle a waiting or uncertain job as not to be sent"),
    ):
        settle = commands.add_parser(
            name, help=summary,
            description=f"{summary[0].upper()}{summary[1:]}: a printer job's CUPS job is "
            + ("released (or restarted)" if name == "retry" else "cancelled")
            + "; a hot-folder job in held/ "
            + ("goes back into the folder as a new drop." if name == "retry"
               else "moves to failed/ with its receipt saying so.")
            + " Check the account's sent faxes first: an uncertain job may have been sent.",
        )  # fmt: skip
        settle.add_argument("job", metavar="JOB", help="as for `faxprint show`")
        settle.add_argument(
            "--folder", type=Path, help="the hot folder (default: [hotfolder] path)"
        )
        settle.set_defaults(run=_lazy("faxprint.settle", verb))

    from faxprint import doctor, preview

    for module, help_text in (
        (preview, "a PNG contact sheet of the pages a fax would send"),
        (doctor, "check this server's faxprint and say how to fix what fails"),
    ):
        # The module's docstring: a summary, then the paragraph --help shows.
        text = (module.__doc__ or "").split("\n\n")
        command = commands.add_parser(
            module.__name__.rsplit(".", 1)[1], help=help_text,
            description=text[1].replace("\n", " ") if len(text) > 1 else None,
        )  # fmt: skip
        module.add_arguments(command)
        command.set_defaults(run=module.run)


def _lazy(module: str, function: str) -> Callable[[argparse.Namespace], int]:
    """A command whose code is imported only when it runs."""

    def run(args: argparse.Namespace) -> int:
        import importlib

        command: Callable[[argparse.Namespace], int] = getattr(
            importlib.import_module(module), function
        )
        return command(args)

    return run


def _send_help() -> str:
    return "Fax FILEs to every --to recipient as one fax.\n\n" + __doc__.split("\n\n", 1)[1]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    # The servers' one line per request or job event is what their users watch.
    servers = args.command in ("sandbox", "watch")
    configure_logging(
        max(args.verbose, 1) if servers else args.verbose,
        level=args.log_level,
        logfmt=args.command == "watch",
    )
    try:
        status: int = args.run(args)
    except KeyboardInterrupt:
        print("faxprint: interrupted", file=sys.stderr)
        return EX_INTERRUPTED
    except OSError as exc:  # a file or folder given that cannot be used: one line, no trace
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"faxprint: {where}{exc.strerror or exc}", file=sys.stderr)
        return EX_IOERR
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


def run_send(args: argparse.Namespace) -> int:
    """Fax files to the recipients given on the command line."""
    from faxprint import config as configuration
    from faxprint.cancellation import Cancellation
    from faxprint.journal import Journal
    from faxprint.outcome import Kind, Source
    from faxprint.submitter import DocumentSource, Submitter
    from faxprint.ticket import Ticket

    try:
        settings = configuration.load(args.config)
        account = settings.account(args.account)
        ticket = Ticket.build(
            args.to,
            cover=args.cover,
            cover_text=args.cover_text,
            resolution=args.resolution,
            send_at=args.send_at,
        )
        journal = Journal(settings.journal)
    except TicketError as error:
        return _fail(error, EX_DATAERR)
    except ConfigError as error:
        return _fail(error, EX_CONFIG)
    except FaxPrintError as error:  # the journal cannot be used now (a full disk)
        return _not_sent(error)
    cancellation = Cancellation()  # Ctrl-C and SIGTERM cancel as `cancel JOB` does
    submitter = Submitter.configured(settings, account, journal, sleep=cancellation.sleep)
    sources = [DocumentSource(path) for path in args.files]
    user = os.environ.get("USER", "")
    key = f"send:{uuid.uuid4()}"
    with journal, _progress_bar() as bar, _cancelled_by_signals(cancellation):

        def progress(sent: int, total: int) -> None:
            cancellation.progress(sent, total)
            if bar is not None:
                bar(sent, total)

        try:
            outcome = submitter.submit(key, ticket, sources, source=Source(Kind.SEND, user=user),
                                       progress=progress)  # fmt: skip
            late = cancellation.too_late(journal, key, outcome.ok)
        except CancelledError as error:  # the service did not have it whole: not sent
            print(f"faxprint: cancelled, nothing was sent: {error.message}", file=sys.stderr)
            return EX_INTERRUPTED
        except FaxPrintError as error:  # the journal, before anything was sent
            return _not_sent(error)
    _report(outcome)
    if late:
        print(f"faxprint: {late}", file=sys.stderr)
    if outcome.unrecorded:
        advice = "do not send it again" if outcome.ok else "the journal does not know"
        print(f"faxprint: the journal could not record this ({advice}): {outcome.unrecorded}",
              file=sys.stderr)  # fmt: skip
        return EX_IOERR
    return EXIT_STATUS[outcome.status]


@contextlib.contextmanager
def _cancelled_by_signals(cancellation: Cancellation) -> Iterator[None]:
    """Let SIGINT and SIGTERM cancel the upload in hand (or wait for its verdict)."""
    previous = {number: signal.signal(number, cancellation.handle)
                for number in (signal.SIGINT, signal.SIGTERM)}  # fmt: skip
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run_install(args: argparse.Namespace) -> int:
    """Install the backend and the queue on the cupsd named by CUPS_SERVER."""
    from faxprint.cups import install as setup

    plan = setup.Plan(
        name=args.name,
        account=args.account,
        backend_dir=args.backend_dir or setup.cups_backend_dir(),
        shared=args.shared,
        fax_type=args.fax_type,
        location=args.location,
    )
    return _admin(lambda: setup.install(plan), f"queue {plan.name} is installed; nothing to change")


def run_uninstall(args: argparse.Namespace) -> int:
    """Remove the queue (and the backend once no queue uses it)."""
    from faxprint.cups import install as setup

    backend_dir = args.backend_dir or setup.cups_backend_dir()
    return _admin(lambda: setup.uninstall(args.name, backend_dir), "nothing to remove")


def run_watch(args: argparse.Namespace) -> int:
    """Serve a hot folder until SIGTERM/SIGINT (a second one leaves at once)."""
    import dataclasses
    import signal

    from faxprint import config as configuration
    from faxprint.hotfolder.service import HotFolder
    from faxprint.hotfolder.settings import from_table
    from faxprint.logfmt import event

    try:
        settings = configuration.load(args.config)
        folder = from_table(settings.hotfolder)
        if args.polling:
            folder = dataclasses.replace(folder, polling=True)
        if args.concurrency is not None:
            if args.concurrency < 1:
                raise ConfigError("--concurrency must be at least 1")
            folder = dataclasses.replace(folder, concurrency=args.concurrency)
        root = args.dir or folder.path
        if root is None:
            raise ConfigError("no folder to watch: give DIR, or set [hotfolder] path")
    except ConfigError as error:
        return _fail(error, EX_CONFIG)
    service = HotFolder(settings, folder, Path(root))

    def stop(signum: int, frame: object) -> None:
        if service.stopping.is_set():
            event(logger, logging.WARNING, "leaving", reason="a second signal",
                  message="unfinished jobs resume at the next start")  # fmt: skip
            os._exit(EX_INTERRUPTED)
        event(logger, logging.WARNING, "stopping",
              message="finishing the uploads in hand (signal again to leave now)")  # fmt: skip
        service.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"faxprint: watching {root}", flush=True)
    try:
        service.run()
    except ConfigError as error:
        return _fail(error, EX_CONFIG)
    return 0


def run_completion(args: argparse.Namespace) -> int:
    """Print the completion script (generated from this parser by shtab)."""
    import shtab

    print(shtab.complete(build_parser(), shell=args.shell))
    return 0


def _admin(work: Callable[[], list[str]], unchanged: str) -> int:
    import cups

    try:
        changes = work()
    except ConfigError as error:
        return _fail(error, EX_CONFIG)
    except (cups.IPPError, RuntimeError) as exc:
        print(f"faxprint: CUPS refused: {exc}", file=sys.stderr)
        return EX_TEMPFAIL
    for change in changes or [unchanged]:
        print(f"faxprint: {change}")
    return 0


def _report(outcome: Outcome) -> None:
    if outcome.ok:
        print(f"faxprint: {describe(outcome)}")
    else:
        print(f"faxprint: {FAILURE_WORDS[outcome.status]}: {outcome.message}", file=sys.stderr)


def describe(outcome: Outcome) -> str:
    """Say in one line what was accepted: recipients, pages, job."""
    return f"fax accepted for {outcome.counts} (job {outcome.key})"


def _not_sent(error: FaxPrintError) -> int:
    """Say why nothing was sent (the journal cannot be used now, ...): the exit status
    of what must happen next."""
    from faxprint.outcome import status_of

    status = status_of(error)
    print(f"faxprint: {FAILURE_WORDS[status]}: {error.message}", file=sys.stderr)
    return EXIT_STATUS[status]


def _fail(error: FaxPrintError, status: int) -> int:
    print(f"faxprint: {error.message}", file=sys.stderr)
    return status


class _progress_bar:
    """Draw upload progress on stderr when it is a terminal; do nothing otherwise."""

    def __init__(self) -> None:
        self.active = sys.stderr.isatty()
        self.shown = -1

    def __enter__(self) -> _progress_bar | None:
        return self if self.active else None

    def __call__(self, sent: int, total: int) -> None:
        percent = sent * 100 // total if total else 100
        if percent != self.shown:
            self.shown = percent
            bar = "#" * (percent // 4)
            sys.stderr.write(f"\rfaxprint: uploading [{bar:<25}] {percent:3d}% of {total:,} bytes")
            sys.stderr.flush()

    def __exit__(self, *exc_info: object) -> None:
        if self.active and self.shown >= 0:
            sys.stderr.write("\n")
