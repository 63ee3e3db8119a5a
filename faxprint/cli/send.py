"""``faxprint send``: fax files now, from the command line, with one line on the outcome
and the exit status of what must happen next (:mod:`faxprint.cli.exits`)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from faxprint.cli.base import Command, ConfigSource
from faxprint.cli.exits import EX_IOERR, EXIT_STATUS, TABLE, WORDS
from faxprint.errors import CancelledError, FaxPrintError
from faxprint.outcome import JobKey, Kind, Outcome, Source, combined

if TYPE_CHECKING:
    from faxprint.cancellation import Cancellation
    from faxprint.config import Config
    from faxprint.documents import DocumentSource
    from faxprint.journal import Journal
    from faxprint.submitter import Submitter
    from faxprint.ticket import Ticket
    from faxprint.transports import Progress


def run(args: argparse.Namespace, config: ConfigSource) -> int:
    """Fax files to the recipients given on the command line."""
    from faxprint.addressing.contacts import is_name, resolve
    from faxprint.cancellation import Cancellation
    from faxprint.covering import Covers
    from faxprint.documents import DocumentSource
    from faxprint.journal import open_journal
    from faxprint.submitter import Submitter

    key = str(JobKey.send(str(uuid.uuid4())))
    try:
        settings = config.load()
        account = settings.account(args.account)
        if not any(is_name(written) for written in args.to):  # said before a journal fault
            _ticket(args, args.to)
        journal = open_journal(settings)  # the contacts are in it too
        try:
            ticket = _ticket(args, resolve(args.to, journal))
        except FaxPrintError:
            journal.close()
            raise
    except FaxPrintError as error:  # before anything was sent: an outcome all the same
        return report(Outcome.refused(key, error))
    sources = [DocumentSource(path) for path in args.files]
    source = Source(Kind.SEND, user=os.environ.get("USER", ""))
    if args.queue:
        with journal:
            return _queue(settings, journal, key, ticket, sources, source, account.name)
    cancellation = Cancellation()  # Ctrl-C and SIGTERM cancel as `cancel JOB` does
    submitter = Submitter.configured(settings, account, journal, sleep=cancellation.sleep)
    try:  # one fax, or one per recipient when its cover names one
        faxes = Covers.of(settings, account.name).split(key, ticket, settings.limits)
    except FaxPrintError as error:
        journal.close()
        return report(Outcome.refused(key, error))
    with journal, _progress_bar() as bar, _cancelled_by_signals(cancellation):

        def progress(sent: int, total: int) -> None:
            cancellation.progress(sent, total)
            if bar is not None:
                bar(sent, total)

        outcomes, late = _send_each(submitter, journal, faxes, sources, source, progress,
                                    cancellation)  # fmt: skip
    return report(combined(key, outcomes), late, faxes=len(outcomes))


def _send_each(
    submitter: Submitter, journal: Journal, faxes: list[tuple[str, Ticket]],
    sources: list[DocumentSource], source: Source, progress: Progress,
    cancellation: Cancellation,
) -> tuple[list[Outcome], str]:  # fmt: skip
    """Send the faxes in turn (one, or one per recipient when the own cover names its
    recipient); what became of each, and what a cancel that came too late says."""
    outcomes, late = [], ""
    for key, ticket in faxes:
        if cancellation.requested:  # the faxes after a cancel are not sent
            outcomes.append(Outcome.refused(key, CancelledError("cancelled")))
            continue
        try:
            outcomes.append(submitter.submit(key, ticket, sources, source=source,
                                             progress=progress))  # fmt: skip
            late = late or cancellation.too_late(journal, key, outcomes[-1].ok)
        except CancelledError as error:  # the service did not have it whole: not sent
            outcomes.append(Outcome.refused(key, error))
        except FaxPrintError as error:  # the journal, before anything was sent
            outcomes.append(Outcome.refused(key, error))
    return outcomes, late


def _queue(
    settings: Config, journal: Journal, key: str, ticket: Ticket,
    sources: list[DocumentSource], source: Source, account: str,
) -> int:  # fmt: skip
    """Check the fax, write it into the service's queue and tell the service; say so."""
    from faxprint import limits
    from faxprint.covering import Covers
    from faxprint.link import wire
    from faxprint.service.queue import FaxSpec, copy_documents, new_folder

    try:
        faxes = Covers.of(settings, account).split(key, ticket, settings.limits)
        limits.check_job(len(ticket.recipients), sources, settings.limits)
        items = []
        for each, fax in faxes:
            folder = new_folder(settings.journal)
            spec = FaxSpec(fax, copy_documents(sources, folder), source)
            journal.begin(each, source=source.kind, account=account,
                          recipients=[r.text() for r in fax.recipients],
                          documents=[s.name or s.path.name for s in sources], pages=None,
                          user=source.user)  # fmt: skip
            items.append(spec.item(each, account, folder))
        journal.enqueue(items)
    except FaxPrintError as error:
        return report(Outcome.refused(key, error))
    said = f"job {key}" if len(faxes) == 1 else f"{len(faxes)} faxes, one per recipient: " + (
        ", ".join(each for each, _ in faxes))  # fmt: skip
    connection = wire.connect(wire.socket_path(settings.journal))
    if connection is None:
        print(f"faxprint: queued ({said}); no faxprint serve is running: it is sent when "
              "one starts")  # fmt: skip
        return 0
    with connection:
        for each, _ in faxes:
            wire.send(connection, {"op": "queued", "key": each})
    print(f"faxprint: queued ({said}); faxprint serve sends it (`faxprint show KEY`)")
    return 0


def _ticket(args: argparse.Namespace, recipients: list[str]) -> Ticket:
    from faxprint.ticket import Ticket

    return Ticket.build(recipients, cover=args.cover, cover_text=args.cover_text,
                        resolution=args.resolution, send_at=args.send_at)  # fmt: skip


def report(outcome: Outcome, late: str = "", faxes: int = 1) -> int:
    """Say in one line what became of the fax (and what the journal could not record);
    return its exit status."""
    if outcome.ok:
        print(f"faxprint: {describe(outcome)}")
        if faxes > 1:  # each recipient got her own fax, with her own cover
            print(f"faxprint: {faxes} faxes, one per recipient (their cover names each): "
                  f"{outcome.key}#to1 ... #to{faxes}")  # fmt: skip
    else:
        print(f"faxprint: {WORDS[outcome.status]}: {outcome.message}", file=sys.stderr)
    if late:
        print(f"faxprint: {late}", file=sys.stderr)
    if outcome.unrecorded:
        advice = "do not send it again" if outcome.ok else "the journal does not know"
        print(f"faxprint: the journal could not record this ({advice}): {outcome.unrecorded}",
              file=sys.stderr)  # fmt: skip
        return EX_IOERR
    return EXIT_STATUS[outcome.status]


def describe(outcome: Outcome) -> str:
    """Say in one line what was accepted: recipients, pages, job."""
    return f"fax accepted for {outcome.counts} (job {outcome.key})"


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


def _arguments(send: argparse.ArgumentParser) -> None:
    send.add_argument("files", nargs="+", metavar="FILE", type=Path, help="documents to fax")
    send.add_argument("--to", action="append", required=True, metavar="NUMBER[|NAME]",
                      help="a recipient; repeat for several")  # fmt: skip
    send.add_argument("--account", help="account name from the config (default: default)")
    send.add_argument("--cover", help="cover page: None, Default or a cover page's name")
    send.add_argument("--cover-text", help="text printed on the cover page")
    send.add_argument("--resolution", choices=["low", "high"], type=str.lower)
    send.add_argument("--send-at", metavar="WHEN", help="ISO 8601 time, or dd:mm:yy hh:mm GMT")
    send.add_argument("--queue", action="store_true",
                      help="queue it for `faxprint serve` and return at once")  # fmt: skip


COMMANDS = (
    Command(
        "send", run, _arguments, help="fax files now",
        description="Fax FILEs to every --to recipient as one fax.\n\nExit statuses:\n\n"
        + TABLE,
        preformatted=True,
    ),
)  # fmt: skip
