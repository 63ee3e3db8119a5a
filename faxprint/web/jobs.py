"""What the outbox shows and does: a user's jobs (an admin's: everyone's) as the journal
has them, one job only for its owner, and a waiting printer job given its address."""

from __future__ import annotations

import grp
import pwd
import time
from pathlib import Path
from typing import Any

from flask import abort

from faxprint import config as configuration
from faxprint.errors import SettleError
from faxprint.jobview import as_json, deliveries_of, source_of
from faxprint.journal import Filter, JobRecord, State, open_journal

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
    if not settings.has_journal:
        return []
    with open_journal(settings) as journal:
        found = (journal.recent(LISTED) if admin
                 else journal.search(Filter(user=user), LISTED))  # fmt: skip
        deliveries = deliveries_of(journal, found)
    now = time.time()
    return [_shown(job, now, deliveries.get(job.key)) for job in found]


#: Pixels per inch of a page's preview: a thumbnail, and a page at readable size.
SIZES = {"thumb": 24, "large": 100}


def kept(settings: configuration.Config, key: str) -> list[Path]:
    """The documents a waiting printer job keeps for its previews (none: no preview)."""
    from faxprint.cups.waiting import waiting_folder

    folder = waiting_folder(settings.journal, key)
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def page_count(documents: list[Path]) -> int:
    """How many pages the kept documents have (0 for what cannot be read)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    total = 0
    for path in documents:
        try:
            total += len(PdfReader(path).pages)
        except (PyPdfError, OSError, ValueError):
            continue
    return total


def render_page(documents: list[Path], number: int, size: str) -> bytes:
    """Page ``number`` (from 1, over all the documents) as a PNG; 404 if there is none."""
    import shutil
    import subprocess
    import tempfile

    from pypdf import PdfReader

    for path in documents:
        count = len(PdfReader(path).pages)
        if number > count:
            number -= count
            continue
        pdftoppm = shutil.which("pdftoppm")
        if pdftoppm is None or number < 1:
            break
        with tempfile.TemporaryDirectory(prefix="faxprint-page-") as work:
            prefix = Path(work) / "page"
            subprocess.run([pdftoppm, "-png", "-r", str(SIZES[size]), "-f", str(number), "-l",
                            str(number), "-singlefile", str(path), str(prefix)],
                           capture_output=True, timeout=60, check=True)  # fmt: skip
            return prefix.with_suffix(".png").read_bytes()
    abort(404)
    raise AssertionError("abort raises")  # for the checkers: abort never returns


def cover_image(settings: configuration.Config, job: dict[str, Any], to: list[str],
                cover: str | None, text: str | None) -> bytes:  # fmt: skip
    """The own cover a waiting job would get for its first recipient, as a PNG: what the
    address form's "See the cover" shows. FaxPrintError (one line) for what is wrong."""
    import tempfile

    from faxprint import documents as docs
    from faxprint.addressing.contacts import resolve
    from faxprint.covering import Covers
    from faxprint.ticket import Ticket

    _options(to, cover, text)  # the same checks as sending
    paths = kept(settings, job["key"])
    inspected = [docs.inspect(path) for path in paths]
    with open_journal(settings) as journal:
        ticket = Ticket.build(resolve(to[:1], journal), cover=cover, cover_text=text)
        rendered = Covers.of(settings, job["account"]).drawn(ticket, inspected, job["title"],
                                                             journal)  # fmt: skip
    if rendered is None:
        raise SettleError("that cover is the fax service's own: it draws it, so it cannot be "
                          "shown here; the covers listed first are faxprint's")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="faxprint-cover-") as work:
        path = Path(work) / "cover.pdf"
        path.write_bytes(rendered.data)
        return render_page([path], 1, "large")


def one(settings: configuration.Config, key: str, user: str, admin: bool) -> dict[str, Any]:
    """The job ``key`` if the user may see it; 404 otherwise (another's job is not there)."""
    if not settings.has_journal:
        abort(404)
    with open_journal(settings) as journal:
        job = journal.get(key)
        if job is None or not (admin or job.user == user):
            abort(404)
        delivery = journal.delivery(key)
    shown = _shown(job, time.time(), delivery)
    account = settings.accounts.get(job.account)
    shown["transport"] = account.transport if account is not None else ""
    shown["previews"] = page_count(kept(settings, key)) if shown["waiting"] else 0
    return shown


#: Shown states a person may send again (with other recipients), or cancel.
#: RingCentral's cover pages (shared/ringcentral-rest.md, the cover page dictionary).
REST_COVERS = ("Ancient", "Birthday", "Blank", "Clasmod", "Classic", "Confidential",
               "Contempo", "Elegant", "Express", "Formal", "Jazzy", "Modern", "Urgent")  # fmt: skip


def cover_names(settings: configuration.Config, job: dict[str, Any]) -> list[str]:
    """The covers the address form offers for a job: faxprint's own, none, and the
    service's (RingCentral's names; a FaxOut account's are the admin's to type)."""
    from faxprint.covering import Covers

    names = [*Covers(settings.covers).names(), "None"]
    return names + list(REST_COVERS) if job.get("transport") == "ringcentral" else names


RESENDABLE = frozenset({"failed", "cancelled", "undelivered"})
CANCELLABLE = frozenset({"unaddressed", "pending", "retry", "uncertain", "interrupted"})


def _options(
    to: list[str], cover: str | None, text: str | None, send_at: str | None = None
) -> dict[str, str]:
    """The fax options of recipients (checked), a cover and a send time: FaxPrintError
    (one line) for what is wrong."""
    from faxprint.addressing.contacts import is_name
    from faxprint.ticket import Recipient

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
    if send_at:
        from faxprint.sendtime import parse_send_time

        parse_send_time(send_at)  # TicketError: one line
        options["fax-send-at"] = send_at
    return options


def address(job: dict[str, Any], to: list[str], cover: str | None, text: str | None,
            send_at: str | None = None) -> str:  # fmt: skip
    """Give a printer job that waits for an address its recipients (and cover) and let it
    go, as its owner; say so in one line. FaxPrintError (one line) for what is wrong."""
    from faxprint.cups import jobs as cups_jobs

    if not job["waiting"]:
        raise SettleError(f"job {job['name']} is {job['state']}: only a job waiting for an "
                          "address can be given one")  # fmt: skip
    options = _options(to, cover, text, send_at)
    printer_job = cups_jobs.CupsJob.of(job["key"], job.get("server", ""))
    cups_jobs.check_same(printer_job)
    cups_jobs.address(printer_job.number, options, as_user=job["user"])
    return f"{job['name']}: addressed to {', '.join(to)}; the printer sends it now"


def resend(settings: configuration.Config, job: dict[str, Any], to: list[str]) -> str:
    """Send a printed job again: one that was not sent (refused, failed, cancelled, not
    delivered) to ``to`` (its recipients, or others), or one in doubt after its owner
    checked (on a REST account the service's sent faxes are looked at first, and a fax
    found there is not sent twice): cupsd runs it again."""
    from faxprint.cups import jobs as cups_jobs

    doubtful = job["state"] in ("uncertain", "interrupted")
    if job["source"] != "cups" or not (doubtful or job["state"] in RESENDABLE):
        raise SettleError(f"job {job['name']} is {job['state']}: only a printed job that was "
                          "not sent, or is in doubt, can be sent again here")  # fmt: skip
    options = {} if doubtful else _options(to, None, None)
    printer_job = cups_jobs.CupsJob.of(job["key"], job.get("server", ""))
    cups_jobs.check_same(printer_job)
    if not doubtful:  # in doubt, the journal keeps it uncertain: the send looks first
        with open_journal(settings) as journal:
            journal.settle(job["key"], State.RETRY, f"sent again by {job['user']} (outbox)")
    if _cups_state(printer_job.number) != HELD_IN_CUPS:  # ended: run it again, held
        cups_jobs.restart_held(printer_job.number, job["user"])
    cups_jobs.address(printer_job.number, options, as_user=job["user"])
    return f"{job['name']}: sent again" + ("" if doubtful else f" to {', '.join(to)}")


HELD_IN_CUPS = 4


def _cups_state(number: int) -> int:
    import cups

    try:
        attributes = cups.Connection().getJobAttributes(number, requested_attributes=["job-state"])
    except (RuntimeError, cups.IPPError):
        return 0
    return int(attributes.get("job-state", 0))


def cancel(settings: configuration.Config, job: dict[str, Any]) -> str:
    """Cancel a job that waits (for an address, in the queue) or is in doubt."""
    from faxprint.cups import jobs as cups_jobs
    from faxprint.cups.waiting import forget_waiting

    if job["state"] not in CANCELLABLE or job["source"] != "cups":
        raise SettleError(f"job {job['name']} is {job['state']}: only a printed job that waits "
                          "or is in doubt can be cancelled here")  # fmt: skip
    printer_job = cups_jobs.CupsJob.of(job["key"], job.get("server", ""))
    cups_jobs.check_same(printer_job)
    if job["state"] in ("unaddressed", "pending", "retry"):
        cups_jobs.cancel_as(printer_job.number, job["user"])
    with open_journal(settings) as journal:
        journal.settle(job["key"], State.CANCELLED, f"cancelled by {job['user']} in the outbox")
    forget_waiting(settings.journal, job["key"])
    return f"{job['name']}: cancelled"
