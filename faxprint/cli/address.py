"""``faxprint address`` and ``faxprint expire``: printer jobs that wait for an address.

A job printed from a program with no fax-number field, and without addressing codes,
waits in CUPS (held) for an address. ``address`` gives it one and releases it: the job's
own owner may (cupsd checks it: the address is set with ``lp -i JOB -o fax-to=... -H
resume`` as the user who runs this), and so may root. ``expire`` (root, from a timer)
cancels the jobs that waited longer than ``[printer] address_wait``.
"""

from __future__ import annotations

import argparse
import re
import time

from faxprint.cli.base import Command, ConfigSource
from faxprint.cli.exits import EX_USAGE, say
from faxprint.text import printable

EX_REFUSED = 1
_JOB = re.compile(r"(?P<queue>[^\s/]+)-(?P<number>[0-9]+)")


def run_address(args: argparse.Namespace, config: ConfigSource) -> int:
    """Set the job's recipients (and cover) in CUPS and release it."""
    from faxprint.addressing.contacts import is_name
    from faxprint.ticket import Recipient

    match = _JOB.fullmatch(args.job.strip())
    if match is None:
        return say(f"{printable(args.job)!r} is no printer job: give QUEUE-JOBID, e.g. Fax-17",
                   EX_USAGE)  # fmt: skip
    for written in args.to:  # numbers are checked here; names by the printer, in the book
        if not is_name(written):
            Recipient.parse(written)  # TicketError: one line, 65
    options = {"fax-to": ",".join(args.to)}
    if args.cover is not None:
        options["fax-cover"] = args.cover
    if args.cover_text is not None:
        options["fax-cover-text"] = args.cover_text
    refusal = _not_yours(int(match["number"]), args.job)
    if refusal:
        return say(refusal, EX_REFUSED)
    from faxprint.cups.jobs import address
    from faxprint.errors import SettleError

    try:
        address(int(match["number"]), options)
    except SettleError as error:
        return say(f"{error.message} (only the job's owner or root may; is it waiting for an "
                   "address?)", EX_REFUSED)  # fmt: skip
    print(f"faxprint: {args.job}: addressed to {printable(options['fax-to'], limit=200)}; "
          "the printer sends it now")  # fmt: skip
    return 0


def _not_yours(number: int, shown: str) -> str:
    """Why this user may not address CUPS job ``number`` ("" if they may): it is another
    user's (root excepted), or it is not held. cupsd's own policy decides again."""
    import getpass
    import os

    import cups

    try:
        attributes = cups.Connection().getJobAttributes(
            number, requested_attributes=["job-originating-user-name", "job-state"]
        )
    except (RuntimeError, cups.IPPError) as exc:
        return f"CUPS does not know job {shown}: {printable(str(exc))}"
    owner = str(attributes.get("job-originating-user-name", ""))
    if os.geteuid() != 0 and owner != getpass.getuser():
        return f"job {shown} is {printable(owner)}'s: only its owner or root may address it"
    if int(attributes.get("job-state", 0)) != _HELD:
        return f"job {shown} is not waiting for an address (it is not held)"
    return ""


_HELD = 4


def run_expire(args: argparse.Namespace, config: ConfigSource) -> int:
    """Cancel the printer jobs that waited longer than [printer] address_wait."""
    from faxprint.cli.jobs import with_journal
    from faxprint.cups import jobs as cups_jobs
    from faxprint.cups.waiting import forget_waiting
    from faxprint.errors import SettleError
    from faxprint.jobview import source_of
    from faxprint.journal import Filter, JobStore, State

    settings = config.load()
    wait = settings.printer.address_wait

    def work(journal: JobStore) -> int:
        now, failed = time.time(), 0
        waiting = journal.search(Filter(states=(State.UNADDRESSED,)), 10_000)
        for job in (j for j in waiting if now - j.created > wait):
            message = f"no address came in {wait / 3600:g} h: cancelled"
            try:
                printer_job = cups_jobs.CupsJob.of(job.key, job.server)
                cups_jobs.check_same(printer_job)
                cups_jobs.cancel(printer_job)
                journal.settle(job.key, State.CANCELLED, message)
                forget_waiting(settings.journal, job.key)  # its previews' copy
            except (SettleError, ValueError) as exc:
                failed += 1
                say(f"{source_of(job)}: {getattr(exc, 'message', exc)}", EX_REFUSED)
                continue
            print(f"faxprint: {source_of(job)}: {message}")
        return EX_REFUSED if failed else 0

    return with_journal(args, config, work)


def _address_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job", metavar="JOB", help="the printer job, as QUEUE-JOBID (Fax-17)")
    parser.add_argument("--to", action="append", required=True, metavar="NUMBER[|NAME]",
                        help="a recipient, or a contact's name; repeat for several")  # fmt: skip
    parser.add_argument("--cover", help="cover page: None, Default or a cover page's name")
    parser.add_argument("--cover-text", help="text printed on the cover page")


COMMANDS = (
    Command(
        "address", run_address, _address_arguments,
        help="give a printer job that waits for an address its recipients, and send it",
        description="A job printed without a fax number (from a program with no fax "
        "field, and no addressing code in it) waits in CUPS for an address. Give it one: "
        "the job's owner or root may. The printer then sends it.",
    ),
    Command(
        "expire", run_expire, lambda parser: None,
        help="cancel printer jobs that waited longer than [printer] address_wait (root)",
        description="Cancel, with the reason, the printer jobs that waited for an address "
        "longer than [printer] address_wait. Run it as root from a timer "
        "(contrib/faxprint-expire.timer).",
    ),
)  # fmt: skip
