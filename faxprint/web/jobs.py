"""What the outbox shows and does: a user's jobs (an admin's: everyone's) as the journal
has them, one job only for its owner, and a waiting printer job given its address."""

from __future__ import annotations

import grp
import pwd
import time
from typing import Any

from flask import abort

from faxprint import config as configuration
from faxprint.errors import SettleError
from faxprint.jobview import as_json, deliveries_of, source_of
from faxprint.journal import Filter, JobRecord, Journal, State

LISTED = 200
#: A job's state in words, as the page shows it.
WORDS = {
    "unaddressed": "waiting for an address",
    "pending": "queued",
    "sending": "sending",
    "retry": "will be tried again",
    "accepted": "accepted by the fax service",
    "queued": "accepted, on its way",
    "delivered": "delivered",
    "undelivered": "not delivered",
    "failed": "not sent",
    "uncertain": "uncertain: it may have gone; check the account's sent faxes",
    "interrupted": "interrupted: it may have gone; check the account's sent faxes",
    "cancelled": "cancelled",
}


def words(state: str) -> str:
    """A state as the page says it."""
    return WORDS.get(state, state)


def when(moment: float) -> str:
    """A time as the page shows it (the server's zone)."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(moment))


def is_admin(user: str, group: str) -> bool:
    """Whether ``user`` is in ``group`` (its members, or as the primary group)."""
    try:
        found = grp.getgrnam(group)
    except KeyError:
        return False
    if user in found.gr_mem:
        return True
    try:
        return pwd.getpwnam(user).pw_gid == found.gr_gid
    except KeyError:
        return False


def _shown(job: JobRecord, now: float, delivery: Any = None) -> dict[str, Any]:
    shown = as_json(job, now, delivery=delivery)
    shown["name"] = source_of(job)
    shown["waiting"] = job.state is State.UNADDRESSED
    shown["state_words"] = words(shown["state"])
    return shown


def listed(settings: configuration.Config, user: str, admin: bool) -> list[dict[str, Any]]:
    """The user's jobs, newest first (an admin's: everyone's)."""
    if not settings.journal.exists():
        return []
    with Journal(settings.journal) as journal:
        found = (journal.recent(LISTED) if admin
                 else journal.search(Filter(user=user), LISTED))  # fmt: skip
        deliveries = deliveries_of(journal, found)
    now = time.time()
    return [_shown(job, now, deliveries.get(job.key)) for job in found]


def one(settings: configuration.Config, key: str, user: str, admin: bool) -> dict[str, Any]:
    """The job ``key`` if the user may see it; 404 otherwise (another's job is not there)."""
    if not settings.journal.exists():
        abort(404)
    with Journal(settings.journal) as journal:
        job = journal.get(key)
        if job is None or not (admin or job.user == user):
            abort(404)
        delivery = journal.delivery(key)
    return _shown(job, time.time(), delivery)


def address(job: dict[str, Any], to: list[str], cover: str | None, text: str | None) -> str:
    """Give a printer job that waits for an address its recipients (and cover) and let it
    go, as its owner; say so in one line. FaxPrintError (one line) for what is wrong."""
    from faxprint.addressing.contacts import is_name
    from faxprint.cups import jobs as cups_jobs
    from faxprint.ticket import Recipient

    if not job["waiting"]:
        raise SettleError(f"job {job['name']} is {job['state']}: only a job waiting for an "
                          "address can be given one")  # fmt: skip
    if not to or len(to) > 100:
        raise SettleError("give one recipient at least (a number, NUMBER|NAME, or a contact)")
    for written in to:
        if not is_name(written):
            Recipient.parse(written)  # TicketError: one line
    options = {"fax-to": ",".join(to)}
    if cover is not None:
        options["fax-cover"] = cover
    if text is not None:
        options["fax-cover-text"] = text
    printer_job = cups_jobs.CupsJob.of(job["key"])
    cups_jobs.check_same(printer_job)
    cups_jobs.address(printer_job.number, options, as_user=job["user"])
    return f"{job['name']}: addressed to {', '.join(to)}; the printer sends it now"
