"""``faxprint status``, ``history`` and ``show``: what the journal says, for people and
scripts.

The journal is where "did my fax go?" is answered. Jobs are shown as
:mod:`faxprint.jobview` sees them (``interrupted``: its sender died mid-upload, check it;
``queued``, ``delivered``, ``undelivered``: an accepted fax whose service reports delivery,
asked afresh before the journal is read unless ``--no-refresh``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from faxprint.cli.base import Command, ConfigSource
from faxprint.cli.exits import EX_USAGE, say
from faxprint.jobview import (
    INTERRUPTED,
    Decision,
    Deliveries,
    as_json,
    deliveries_of,
    shown_state,
    source_of,
)
from faxprint.journal import (
    AttemptRecord,
    DeliveryRecord,
    Filter,
    JobRecord,
    JobStore,
    State,
    open_journal,
)
from faxprint.lease import server_name
from faxprint.outcome import JobKey
from faxprint.text import printable, some

HEADER = ("UPDATED", "STATE", "JOB", "RECIPIENTS", "PAGES", "TRIES", "MESSAGE")
#: Jobs ``status`` lists: not settled, or settled in doubt.
OPEN = (State.PENDING, State.UNADDRESSED, State.SENDING, State.RETRY, State.UNCERTAIN)
#: The exit status of a reference that names no job, or several.
EX_NOT_ONE = 1


def _when(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(moment))


def rows(
    jobs: Sequence[JobRecord], now: float, deliveries: Deliveries | None = None,
    servers: bool = False,
) -> list[tuple[str, ...]]:  # fmt: skip
    """One row of text per job, in the order given (``servers``: with the server that
    has each)."""
    known = deliveries or {}
    return [
        (
            _when(job.updated),
            shown_state(job, now, known.get(job.key)),
            *((printable(job.server or "-", limit=30),) if servers else ()),
            source_of(job),
            printable(some(job.recipients, 2), limit=40),
            "-" if job.pages is None else str(job.pages),
            str(job.attempts),
            printable(_message(job, known.get(job.key)), limit=60),
        )
        for job in jobs
    ]


def _message(job: JobRecord, delivery: DeliveryRecord | None) -> str:
    if delivery is None:
        return job.message
    return f"message {delivery.message_id}: {delivery.status or 'no status yet'}"


def table(
    jobs: Sequence[JobRecord], now: float | None = None, deliveries: Deliveries | None = None
) -> str:
    """Render jobs as aligned columns under a header; with a SERVER column when some are
    another server's (several servers share the journal)."""
    servers = any(job.server and job.server != server_name() for job in jobs)
    header = (*HEADER[:2], "SERVER", *HEADER[2:]) if servers else HEADER
    lines = [header, *rows(jobs, time.time() if now is None else now, deliveries, servers)]
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def details(
    job: JobRecord,
    attempts: Sequence[AttemptRecord],
    now: float,
    decisions: Sequence[Decision] = (),
    delivery: DeliveryRecord | None = None,
) -> str:
    """A job's whole story: what, from whom, to whom, every attempt and decision."""
    state = shown_state(job, now, delivery)
    lines = [
        f"job         {printable(job.key, limit=120)}",
        f"state       {state}" + (f" (code {job.code})" if job.code is not None else ""),
        f"message     {printable(job.message, limit=200) or '-'}",
        f"from        {source_of(job)} ({job.source})",
        f"title       {printable(job.title, limit=120) or '-'}",
        f"account     {printable(job.account)}",
        f"server      {printable(job.server) or '-'}",
        f"recipients  {printable(', '.join(job.recipients), limit=400)}",
        f"documents   {printable(', '.join(job.documents), limit=400)}",
        f"pages       {'-' if job.pages is None else job.pages}",
        f"created     {_when(job.created)}",
        f"updated     {_when(job.updated)}",
        f"attempts    {job.attempts}",
    ]
    if delivery is not None:
        shown = printable(_message(job, delivery), limit=200)
        lines.insert(3, f"delivery    {shown} (asked {_when(delivery.checked)})")
    lines += _story(attempts, decisions)
    if state in (INTERRUPTED, State.UNCERTAIN.value):
        # retry re-runs printer and hot-folder jobs; a send job is sent by sending it
        again = "run `faxprint send` again" if job.source == "send" else "`faxprint retry` it"
        lines.append(
            f"what now    check the account's sent faxes; then {again} to send it again, or "
            "`faxprint cancel` it to settle it"
        )
    return "\n".join(lines)


def _story(attempts: Sequence[AttemptRecord], decisions: Sequence[Decision]) -> list[str]:
    """Every attempt and decision, one line each, in the order they happened."""
    story: list[tuple[float, str]] = []
    for attempt in attempts:
        ended = _when(attempt.ended) if attempt.ended is not None else "not ended"
        code = f" code {attempt.code}" if attempt.code is not None else ""
        story.append((attempt.started, (
            f"  #{attempt.number}  {_when(attempt.started)} .. {ended}  {attempt.state.value}"
            f"{code}  {printable(attempt.message, limit=120)}".rstrip()
        )))  # fmt: skip
    for at, state, message in decisions:
        story.append((at, f"  --  {_when(at)}  {state.value}  {printable(message, limit=120)}"))
    return [line for _, line in sorted(story, key=lambda item: item[0])]


_RELATIVE = re.compile(r"([0-9]+)\s*([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, now: float | None = None) -> float:
    """Read a time for --since/--until: ISO 8601 (local time unless it says), a date, or
    an age such as ``30m``, ``12h``, ``7d``, ``2w``. Raise ValueError otherwise."""
    moment = time.time() if now is None else now
    if match := _RELATIVE.fullmatch(text.strip()):
        try:
            age = timedelta(**{_UNITS[match[2]]: int(match[1])})
        except OverflowError:
            raise ValueError(f"{printable(text)!r} is further back than any job") from None
        return moment - age.total_seconds()
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{printable(text)!r} is no time: give 2026-11-26, 2026-11-26T09:00 or an age "
            "such as 12h or 7d"
        ) from None
    return parsed.timestamp()  # naive: local time


# -- reading the journal --------------------------------------------------------------


def with_journal(
    args: argparse.Namespace, config: ConfigSource, work: Callable[[JobStore], int | None]
) -> int:
    """Open the configured journal and run ``work(journal)``: its exit status, 0 if None.
    Config and journal faults go up to the command line's one report."""

    settings = config.load()
    if not settings.has_journal:
        # Opening would create it (and its folder, as this user): leave that to the
        # backend and the watcher, who must own it.
        print(f"no jobs: the journal {settings.journal} does not exist yet")
        return 0 if args.command in ("status", "history") else EX_NOT_ONE
    with open_journal(settings) as journal:
        if getattr(args, "refresh", False):
            _refresh(settings, journal)
        return work(journal) or 0


def _refresh(settings: object, journal: JobStore) -> None:
    """Ask the services about pending deliveries; warn, never fail, when they cannot say."""
    from faxprint import delivery
    from faxprint.errors import FaxPrintError

    try:
        problems = delivery.refresh(settings, journal).problems  # type: ignore[arg-type]
    except FaxPrintError as error:
        problems = [f"delivery not refreshed: {error.message}"]
    for problem in problems:
        print(f"faxprint: warning: {problem}", file=sys.stderr)


def the_job(journal: JobStore, reference: str, now: float) -> JobRecord | None:
    """Return the one job ``reference`` names; else say it names none, or several (listed),
    and return None."""
    found = journal.find(reference)
    if len(found) == 1:
        return found[0]
    if not found:
        print(f"faxprint: no job {printable(reference)!r} in the journal", file=sys.stderr)
    else:
        print(f"faxprint: {printable(reference)!r} names {len(found)} jobs; give more of one:\n"
              + table(found, now), file=sys.stderr)  # fmt: skip
    return None


# -- the commands ---------------------------------------------------------------------


def _filters(parser: argparse.ArgumentParser) -> None:
    """The filters ``status`` and ``history`` share."""
    parser.add_argument("--user", help="only jobs of this user (printer or hot folder)")
    parser.add_argument("--to", metavar="NUMBER", help="only jobs to this number (or its start)")
    parser.add_argument("--since", metavar="WHEN", help="updated since: 2026-11-26, 12h, 7d")
    parser.add_argument("--until", metavar="WHEN", help="updated before WHEN")
    parser.add_argument("-n", "--limit", type=int, default=50, help="jobs to show (default 50)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    _refresh_option(parser)


def _history_arguments(parser: argparse.ArgumentParser) -> None:
    _filters(parser)
    parser.add_argument("--state", action="append", choices=[state.value for state in State],
                        help="only jobs in this state (repeatable)")  # fmt: skip


def _show_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job", metavar="JOB")
    parser.add_argument("--json", action="store_true", help="as one JSON object")
    _refresh_option(parser)


def _refresh_option(parser: argparse.ArgumentParser) -> None:
    """``--no-refresh``: show delivery as last recorded, without asking the service."""
    parser.add_argument(
        "--no-refresh", dest="refresh", action="store_false",
        help="show delivery as the journal last heard it; do not ask the service",
    )  # fmt: skip


def _filter(args: argparse.Namespace, states: Sequence[State]) -> Filter:
    return Filter(
        states=states,
        user=args.user,
        recipient=args.to,
        since=parse_when(args.since) if args.since else None,
        until=parse_when(args.until) if args.until else None,
    )


def run_status(args: argparse.Namespace, config: ConfigSource) -> int:
    """List the jobs that are not settled or are in doubt, and a day's summary."""
    return _list(args, config, OPEN, summary=True)


def run_history(args: argparse.Namespace, config: ConfigSource) -> int:
    """List every job the filters let through, newest first."""
    return _list(args, config, tuple(State(s) for s in args.state or ()), summary=False)


def _list(
    args: argparse.Namespace, config: ConfigSource, states: Sequence[State], *, summary: bool
) -> int:
    if args.limit < 1:
        return say("--limit must be at least 1", EX_USAGE)
    try:
        where = _filter(args, states)
    except ValueError as exc:
        return say(str(exc), EX_USAGE)
    now = time.time()

    def work(journal: JobStore) -> None:
        jobs = journal.search(where, args.limit)
        deliveries = deliveries_of(journal, jobs)
        if args.json:
            # status: the faxes of the day whose delivery is not confirmed too, as the
            # text form lists them (their state says which: queued, undelivered, ...)
            unconfirmed = journal.undelivered(since=now - 86400) if summary else []
            deliveries |= deliveries_of(journal, unconfirmed)
            for job in [*jobs, *unconfirmed]:
                print(json.dumps(as_json(job, now, delivery=deliveries.get(job.key))))
            return
        print(table(jobs, now, deliveries) if jobs else "no jobs")
        if summary:
            _summary(journal, now)

    return with_journal(args, config, work)


def _summary(journal: JobStore, now: float) -> None:
    """Print the faxes of the last day not known to be delivered, and the day's counts."""
    undelivered = journal.undelivered(since=now - 86400)
    if undelivered:
        print("\naccepted in the last 24 hours, delivery not confirmed:")
        print(table(undelivered, now, deliveries_of(journal, undelivered)))
    counts = journal.counts(since=now - 86400)
    if counts.get(State.SENDING.value):  # counted as the table shows them: some interrupted
        sending = journal.search(Filter(states=(State.SENDING,), since=now - 86400),
                                 counts[State.SENDING.value])  # fmt: skip
        gone = sum(1 for job in sending if shown_state(job, now) == INTERRUPTED)
        counts[State.SENDING.value] -= gone
        counts[INTERRUPTED] = gone
    shown = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()) if n) or "none"
    print(f"\nlast 24 hours: {shown}")


def run_show(args: argparse.Namespace, config: ConfigSource) -> int:
    """Print one job's whole story (every fax of a printer job that became several)."""
    now = time.time()

    def work(journal: JobStore) -> int:
        found = _sections(journal.find(args.job))
        if not found:
            job = the_job(journal, args.job, now)
            if job is None:
                return EX_NOT_ONE
            found = [job]
        for number, job in enumerate(found):
            attempts, decisions = journal.attempts(job.key), journal.decisions(job.key)
            delivery = journal.delivery(job.key)
            if args.json:
                print(json.dumps(as_json(job, now, attempts, decisions, delivery)))
            else:
                print(("\n" if number else "") + details(job, attempts, now, decisions, delivery))
        return 0

    return with_journal(args, config, work)


def _sections(found: Sequence[JobRecord]) -> list[JobRecord]:
    """The faxes of one printer job that became several, in order; [] otherwise."""
    keys = [JobKey.parse(job.key) for job in found]
    bases = {key.base for key in keys if key is not None}
    if len(found) < 2 or None in keys or len(bases) != 1:
        return []
    return sorted(found, key=lambda job: _section_order(job.key))


def _section_order(key: str) -> tuple[int, str]:
    """Sections in their number's order (``#2`` before ``#10``), a cover's faxes per
    recipient (``#to+1555...``) by key."""
    tail = key.rpartition("#")[2]
    return (int(tail) if tail.isdigit() else 0), key


COMMANDS = (
    Command(
        "status", run_status, _filters,
        help="jobs not settled yet or in doubt, and the last day's counts",
        description="List the jobs that are waiting, being sent, or uncertain (check "
        "those: they may have been sent), newest first, and count the last 24 hours' "
        "jobs by state.",
    ),
    Command(
        "history", run_history, _history_arguments,
        help="every job, newest first, filtered",
        description="List the journal's jobs newest first: when, state, where from "
        "(printer queue and job, send, hot-folder job), recipients, pages, attempts and "
        "the last message.",
    ),
    Command(
        "show", run_show, _show_arguments,
        help="one job's whole story: every attempt and message",
        description="JOB is a job's key or its start, a printer job as QUEUE-JOBID "
        "(Fax-17), a send job's id (8 digits are enough) or a hot-folder job's name.",
    ),
)  # fmt: skip
