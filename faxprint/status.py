"""``faxprint status``, ``history`` and ``show``: what the journal says, for people and
scripts.

The journal is where "did my fax go?" is answered. A job the journal still calls
``sending`` whose process is gone (killed mid-upload; cupsd even reports such a CUPS job
as completed) is shown as ``interrupted``: it may have been sent, and a person must check
it. An accepted fax whose service reports delivery (RingCentral's REST API) is shown as
``queued``, ``delivered`` or ``undelivered``, asked afresh before the journal is read
(:mod:`faxprint.delivery`; ``--no-refresh`` shows what the journal last heard).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from faxprint.cli import EX_CONFIG, EX_TEMPFAIL, EX_USAGE
from faxprint.journal import AttemptRecord, DeliveryRecord, Filter, JobRecord, Journal, State
from faxprint.lease import owner_alive
from faxprint.text import printable, some

HEADER = ("UPDATED", "STATE", "JOB", "RECIPIENTS", "PAGES", "TRIES", "MESSAGE")
#: Jobs ``status`` lists: not settled, or settled in doubt.
OPEN = (State.PENDING, State.SENDING, State.RETRY, State.UNCERTAIN)
INTERRUPTED = "interrupted"


#: How an accepted fax is shown once its service reports on its delivery.
DELIVERY_STATES = {"pending": "queued", "delivered": "delivered", "failed": "undelivered"}
Deliveries = dict[str, DeliveryRecord]


def shown_state(job: JobRecord, now: float, delivery: DeliveryRecord | None = None) -> str:
    """The job's state for people: ``interrupted`` for a sender that died mid-upload, and
    for an accepted fax, its delivery where the service reports it."""
    if job.state is State.SENDING and not owner_alive(job.owner, job.updated, now):
        return INTERRUPTED
    if job.state is State.ACCEPTED and delivery is not None:
        return DELIVERY_STATES.get(delivery.outcome, job.state.value)
    return job.state.value


def deliveries_of(journal: Journal, jobs: Sequence[JobRecord]) -> Deliveries:
    """Return the delivery records of the accepted jobs among ``jobs``, by key."""
    return journal.deliveries([job.key for job in jobs if job.state is State.ACCEPTED])


def source_of(job: JobRecord) -> str:
    """Say where a job came from: the printer's job and user, or the hot-folder ticket."""
    if job.source == "cups":  # key: cups:PRINTER:JOBID:UUID
        parts = job.key.split(":")
        queue, number = (parts[1], parts[2]) if len(parts) >= 4 else ("?", "?")
        return printable(f"{queue}-{number} {job.user}".strip(), limit=40)
    if job.source == "send":  # key: send:UUID; its first 8 digits name it well enough
        return printable(f"send {job.key[5:13]} {job.user}".strip(), limit=40)
    return printable(job.title or job.key, limit=40)


def _when(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(moment))


def rows(
    jobs: Sequence[JobRecord], now: float, deliveries: Deliveries | None = None
) -> list[tuple[str, ...]]:
    """One row of text per job, in the order given."""
    known = deliveries or {}
    return [
        (
            _when(job.updated),
            shown_state(job, now, known.get(job.key)),
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
    """Render jobs as aligned columns under a header."""
    lines = [HEADER, *rows(jobs, time.time() if now is None else now, deliveries)]
    widths = [max(len(line[column]) for line in lines) for column in range(len(HEADER))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


Decision = tuple[float, State, str]


def as_json(
    job: JobRecord,
    now: float | None = None,
    attempts: Sequence[AttemptRecord] | None = None,
    decisions: Sequence[Decision] = (),
    delivery: DeliveryRecord | None = None,
) -> dict[str, Any]:
    """A job as a JSON object (times in seconds since the epoch); never the owner's host."""
    record: dict[str, Any] = {
        "key": job.key,
        "source": job.source,
        "account": job.account,
        "user": job.user,
        "title": job.title,
        "recipients": list(job.recipients),
        "documents": list(job.documents),
        "pages": job.pages,
        "state": shown_state(job, time.time() if now is None else now, delivery),
        "attempts": job.attempts,
        "code": job.code,
        "message": job.message,
        "created": job.created,
        "updated": job.updated,
    }
    if delivery is not None:
        record["delivery"] = {"message_id": delivery.message_id, "status": delivery.status,
                              "outcome": delivery.outcome, "checked": delivery.checked}  # fmt: skip
    if attempts is not None:
        record["history"] = [
            {"number": a.number, "started": a.started, "ended": a.ended,
             "state": a.state.value, "code": a.code, "message": a.message}
            for a in attempts
        ]  # fmt: skip
        record["decisions"] = [
            {"at": at, "state": state.value, "message": message} for at, state, message in decisions
        ]
    return record


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
    lines += [line for _, line in sorted(story, key=lambda item: item[0])]
    if state in (INTERRUPTED, State.UNCERTAIN.value):
        # retry re-runs printer and hot-folder jobs; a send job is sent by sending it
        again = "run `faxprint send` again" if job.source == "send" else "`faxprint retry` it"
        lines.append(
            f"what now    check the account's sent faxes; then {again} to send it again, or "
            "`faxprint cancel` it to settle it"
        )
    return "\n".join(lines)


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


# -- the commands ---------------------------------------------------------------------


def add_filters(parser: argparse.ArgumentParser) -> None:
    """The filters ``status`` and ``history`` share."""
    parser.add_argument("--user", help="only jobs of this user (printer or hot folder)")
    parser.add_argument("--to", metavar="NUMBER", help="only jobs to this number (or its start)")
    parser.add_argument("--since", metavar="WHEN", help="updated since: 2026-11-26, 12h, 7d")
    parser.add_argument("--until", metavar="WHEN", help="updated before WHEN")
    parser.add_argument("-n", "--limit", type=int, default=50, help="jobs to show (default 50)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    add_refresh(parser)


def add_refresh(parser: argparse.ArgumentParser) -> None:
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


def run_status(args: argparse.Namespace) -> int:
    """List the jobs that are not settled or are in doubt, and a day's summary."""
    return _list(args, OPEN, summary=True)


def run_history(args: argparse.Namespace) -> int:
    """List every job the filters let through, newest first."""
    return _list(args, tuple(State(s) for s in args.state or ()), summary=False)


def _list(args: argparse.Namespace, states: Sequence[State], *, summary: bool) -> int:
    if args.limit < 1:
        return _usage("--limit must be at least 1")
    try:
        where = _filter(args, states)
    except ValueError as exc:
        return _usage(str(exc))
    now = time.time()

    def work(journal: Journal) -> None:
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

    return with_journal(args, work)


def _summary(journal: Journal, now: float) -> None:
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


def run_show(args: argparse.Namespace) -> int:
    """Print one job's whole story."""
    now = time.time()

    def work(journal: Journal) -> int:
        found = journal.find(args.job)
        if len(found) != 1:
            return ambiguous(args.job, found, now)
        job = found[0]
        attempts, decisions = journal.attempts(job.key), journal.decisions(job.key)
        delivery = journal.delivery(job.key)
        if args.json:
            print(json.dumps(as_json(job, now, attempts, decisions, delivery)))
        else:
            print(details(job, attempts, now, decisions, delivery))
        return 0

    return with_journal(args, work)


def ambiguous(reference: str, found: Sequence[JobRecord], now: float) -> int:
    """Say that a reference names no job, or several (listed); return the exit status."""
    if not found:
        print(f"faxprint: no job {printable(reference)!r} in the journal", file=sys.stderr)
        return 1
    print(
        f"faxprint: {printable(reference)!r} names {len(found)} jobs; give more of one:\n"
        + table(found, now),
        file=sys.stderr,
    )
    return 1


def with_journal(args: argparse.Namespace, work: Any) -> int:
    """Open the configured journal, run ``work(journal)``; report config and journal faults."""
    from faxprint import config as configuration
    from faxprint.errors import ConfigError, FaxPrintError

    try:
        settings = configuration.load(args.config)
        if not Path(settings.journal).exists():
            # Opening would create it (and its folder, as this user): leave that to the
            # backend and the watcher, who must own it.
            print(f"no jobs: the journal {settings.journal} does not exist yet")
            return 0 if args.command in ("status", "history") else 1
        with Journal(settings.journal) as journal:
            if getattr(args, "refresh", False):
                _refresh(settings, journal)
            status = work(journal)
    except ConfigError as error:
        print(f"faxprint: {error.message}", file=sys.stderr)
        return EX_CONFIG
    except FaxPrintError as error:  # the journal is busy or failing
        print(f"faxprint: {error.message}", file=sys.stderr)
        return EX_TEMPFAIL
    return status if isinstance(status, int) else 0


def _refresh(settings: Any, journal: Journal) -> None:
    """Ask the services about pending deliveries; warn, never fail, when they cannot say."""
    from faxprint import delivery
    from faxprint.errors import FaxPrintError

    try:
        problems = delivery.refresh(settings, journal).problems
    except FaxPrintError as error:
        problems = [f"delivery not refreshed: {error.message}"]
    for problem in problems:
        print(f"faxprint: warning: {problem}", file=sys.stderr)


def _usage(message: str) -> int:
    print(f"faxprint: {message}", file=sys.stderr)
    return EX_USAGE
