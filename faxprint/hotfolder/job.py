"""One hot-folder job, from its claimed folder to done/, failed/ or held/.

Runs in an upload worker. Everything about the job is checked again inside the private
processing/ folder, where no one who drops files can swap a file for a link any more.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import pwd
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from faxprint.addressing.contacts import Book, resolve
from faxprint.config import Account, Config
from faxprint.covering import Covers
from faxprint.documents import DocumentSource, Identity, identity_of
from faxprint.errors import FaxPrintError, InputError, TicketError
from faxprint.hotfolder import ticketfile
from faxprint.hotfolder.settings import HotFolderSettings
from faxprint.hotfolder.spool import CLAIM, TICKET, Claim, Spool, check_file, read_ticket_bytes
from faxprint.hotfolder.ticketfile import TicketFile
from faxprint.journal import Journal, open_journal
from faxprint.logfmt import event
from faxprint.outcome import JobKey, Kind, Outcome, Source, Status, combined
from faxprint.submitter import Submitter
from faxprint.ticket import Ticket
from faxprint.transports import delivery_outcome

logger = logging.getLogger(__name__)

#: Where a job goes after its outcome: a folder, or ``retry`` and ``blocked`` (both stay
#: in processing/: tried again later, or once the admin fixed the account or config and
#: restarted the watcher).
FILED: dict[Status, str] = {
    Status.ACCEPTED: "done",
    Status.INVALID: "failed",
    Status.REJECTED: "failed",
    Status.EXPIRED: "failed",
    Status.CANCELLED: "failed",
    Status.UNCERTAIN: "held",
    Status.DEFERRED: "retry",
    Status.ACCOUNT: "blocked",
    Status.CONFIG: "blocked",
}


@dataclass(frozen=True)
class Result:
    """Where a job went: done, failed, held; or retry, or blocked until the admin fixes the
    account and restarts the watcher (both stay in processing/)."""

    state: str
    message: str
    following: bool = False  # filed in done/ with its delivery still pending
    retry_after: float | None = None  # retry: the service asked to wait this long first
    filing: tuple[str, dict[str, Any]] | None = None  # refile: where, and the receipt


@dataclass(frozen=True)
class TicketDocuments:
    """The documents a ticket sends, or why its ticket could not be read."""

    names: tuple[str, ...]
    error: str | None = None


def ticket_documents(folder: Path, name: str, settings: HotFolderSettings) -> TicketDocuments:
    """Name the documents of the ticket ``folder/name``: its list, or its NAME.* files."""
    try:
        parsed = ticketfile.parse(read_ticket_bytes(folder / name, ticketfile.MAX_TICKET_BYTES))
    except (InputError, OSError) as exc:
        return TicketDocuments((), getattr(exc, "message", None) or str(exc))
    if parsed.documents is not None:
        return TicketDocuments(parsed.documents)
    prefix = ticketfile.stem_of(name) + "."
    found = sorted(
        entry.name
        for entry in os.scandir(folder)
        if entry.name.startswith(prefix) and not entry.name.endswith(ticketfile.SUFFIX)
    )
    return TicketDocuments(tuple(found))


#: Waits for a turn to send (the service's scheduler): ``with gate(account, lane):``.
Gate = Callable[[str, str], AbstractContextManager[None]]


def run_job(
    config: Config, settings: HotFolderSettings, spool: Spool, claim: Claim, *,
    gate: Gate | None = None,
) -> Result:  # fmt: skip
    """Fax one claimed job; file it, or ask for a retry."""
    os.utime(claim.path / CLAIM)  # renews the claim: this watcher is alive and at it
    key = str(JobKey.hotfolder(claim.job))
    recipients: list[str] = []
    try:
        with open_journal(config) as journal:  # the contacts are in the journal too
            ticket, sources, account = _prepared(config, settings, claim, journal)
            recipients = [r.text() for r in ticket.recipients]
            outcome = _submit(config, journal, account, key, ticket, sources, claim, gate)
    except FaxPrintError as error:  # before it could be submitted: an outcome all the same
        outcome = Outcome.refused(key, error)
        if outcome.status is Status.INVALID:
            _journal_refusal(config, claim, error.message)
    where = FILED[outcome.status]
    if outcome.status is Status.UNCERTAIN and config.uncertain == "resend":
        where = "retry"  # the configured policy: send it again (the next try forces it)
    if where == "blocked":
        return Result("blocked", outcome.message)
    if where == "retry":
        return Result("retry", outcome.message, retry_after=outcome.retry_after)
    receipt = _receipt(claim, str(outcome.status), outcome.message, outcome, recipients)
    return _file(spool, claim, where, receipt)


def _prepared(
    config: Config, settings: HotFolderSettings, claim: Claim, book: Book
) -> tuple[Ticket, list[DocumentSource], Account]:
    """Read a claimed job: its ticket (or its folder's defaults), documents and account."""
    if claim.foreign:
        raise InputError(
            f"{', '.join(claim.foreign)}: belongs to another user than the ticket; it was "
            "left where it was"
        )
    if claim.incomplete:
        raise InputError(
            f"{', '.join(claim.incomplete)}: still being written when the ticket's wait "
            f"({settings.ticket_wait:g} s) ran out; drop the ticket again once every "
            "document is written and closed"
        )
    spec = _spec(claim, settings)
    ticket = Ticket.build(resolve(spec.to, book), cover=spec.cover, cover_text=spec.cover_text,
                          resolution=spec.resolution, send_at=spec.send_at)  # fmt: skip
    sources = [_document(claim, name, settings) for name in claim.documents]
    if not sources:
        raise InputError("the ticket names no document and no NAME.* file was found")
    if claim.ticket and spec.account and spec.account not in config.accounts:
        # the ticket's writer must fix it; an account the config names is the admin's
        known = ", ".join(sorted(config.accounts))
        raise TicketError(f"the ticket names account {spec.account!r}, which this server "
                          f"does not have (accounts: {known})")  # fmt: skip
    defaults = settings.folders.get(claim.source)
    name = spec.account or (defaults.account if defaults else None) or settings.account
    return ticket, sources, config.account(name)


def _submit(
    config: Config,
    journal: Journal,
    account: Account,
    key: str,
    ticket: Ticket,
    sources: list[DocumentSource],
    claim: Claim,
    gate: Gate | None = None,
) -> Outcome:
    """Submit the job once (the watcher retries it itself) and note on its outcome what
    the receipt must say besides. Through a ``gate``, the send waits for its turn, and the
    gate has taken the account's turn in its rate for it."""
    before = _identities(sources)
    source = Source(Kind.HOTFOLDER, user=_owner(claim), title=claim.job)
    paced = {"pacer": None} if gate is not None else {}
    submitter = Submitter.configured(config, account, journal,
                                     retry=replace(config.retry, tries=1), **paced)  # fmt: skip
    outcomes = []
    faxes = Covers.of(config, account.name).split(key, ticket, config.limits, journal.get)
    for each, fax in faxes:  # one, or one per recipient
        with gate(account.name, f"{source.kind}:{source.user}") if gate else nullcontext():
            outcomes.append(submitter.submit(each, fax, sources, source=source))
    outcome = combined(key, outcomes)
    if outcome.ok and (changed := _changed(sources, before)):
        # The upload checked each file up to its last byte: the fax carries them as they
        # were. A writer that still had one open changed it after: say so, the copy kept
        # in done/ is not what was faxed.
        note = f"{', '.join(changed)} changed after it was faxed; the fax carries it as it was"
        event(logger, logging.WARNING, "changed", job=claim.job, documents=",".join(changed))
        outcome = replace(outcome, message=f"{outcome.message}; {note}")
    if outcome.unrecorded:
        note = f"the journal could not record this: {outcome.unrecorded}"
        outcome = replace(outcome, message=f"{outcome.message}; {note}")
    return outcome


def _journal_refusal(config: Config, claim: Claim, message: str) -> None:
    """Journal a job refused before it could become a fax: history shows it too."""
    try:
        with open_journal(config) as journal:
            journal.refused(
                str(JobKey.hotfolder(claim.job)), message, source=Kind.HOTFOLDER, account="",
                documents=claim.documents, user=_owner(claim), title=claim.job,
            )  # fmt: skip
    except FaxPrintError as fault:  # the receipt in failed/ says it all the same
        logger.debug("the refusal is not in the journal: %s", fault.message)


def _identities(sources: list[DocumentSource]) -> dict[str, Identity | None]:
    return {str(s.name): _identity(s.path) for s in sources}


def _identity(path: Path) -> Identity | None:
    try:
        return identity_of(path.lstat())
    except OSError:
        return None


def _changed(sources: list[DocumentSource], before: dict[str, Identity | None]) -> list[str]:
    """The documents whose size or time is not what it was before the upload."""
    return [str(s.name) for s in sources if _identity(s.path) != before.get(str(s.name))]


def _owner(claim: Claim) -> str:
    """Name who dropped the job: the owner of its ticket or document."""
    trigger = claim.path / (TICKET if claim.ticket else claim.documents[0])
    try:
        return pwd.getpwuid(trigger.stat().st_uid).pw_name
    except (KeyError, OSError):
        return ""


def _spec(claim: Claim, settings: HotFolderSettings) -> TicketFile:
    defaults = settings.folders.get(claim.source)
    if not claim.ticket:
        if defaults is None:
            raise InputError(f"folder {claim.source!r} has no defaults in the configuration")
        return TicketFile(
            to=defaults.to,
            cover=defaults.cover,
            cover_text=defaults.cover_text,
            resolution=defaults.resolution,
            account=defaults.account,
        )
    try:
        spec = ticketfile.parse(read_ticket_bytes(claim.path / TICKET, ticketfile.MAX_TICKET_BYTES))
    except OSError as exc:
        raise InputError(f"the ticket cannot be read: {exc.strerror}") from None
    if defaults is None:
        return spec
    return replace(
        spec,
        cover=spec.cover or defaults.cover,
        cover_text=spec.cover_text or defaults.cover_text,
        resolution=spec.resolution or defaults.resolution,
    )


def _document(claim: Claim, name: str, settings: HotFolderSettings) -> DocumentSource:
    path = claim.path / ticketfile.check_name(name)
    try:
        info = check_file(path, settings.max_document_bytes)
    except FileNotFoundError:
        raise InputError(f"{name}: document not found next to the ticket") from None
    if claim.ticket:
        # A ticket sends its own sender's files only: never someone else's the watcher
        # could read and they could not.
        dropper = (claim.path / TICKET).lstat().st_uid
        if dropper not in (0, info.st_uid):
            raise InputError(f"{name}: belongs to another user than the ticket")
    return DocumentSource(path, name)


def refile(spool: Spool, claim: Claim, where: str, receipt: dict[str, Any]) -> Result:
    """File a job whose verdict is known but could not be filed (a full disk): never
    sending it again, whatever the journal managed to record."""
    return _file(spool, claim, where, receipt)


def _file(spool: Spool, claim: Claim, where: str, receipt: dict[str, Any]) -> Result:
    user = _owner(claim)  # while the ticket is still where the claim says
    try:
        spool.file(claim, getattr(spool, where), receipt)
    except OSError as exc:  # kept in processing/ with its verdict, filed once there is room
        why = f"cannot be filed in {where}/ yet: {exc.strerror or exc}"
        return Result("refile", why, filing=(where, receipt))
    event(
        logger, logging.INFO if where == "done" else logging.WARNING, where, job=claim.job,
        outcome=receipt["outcome"], code=receipt["code"], user=user or None,
        recipients=len(receipt["recipients"]), pages=receipt["pages"],
        attempts=receipt["attempts"], message=receipt["message"],
    )  # fmt: skip
    return Result(where, receipt["message"], following=receipt.get("delivery") == "pending")


def _receipt(
    claim: Claim, outcome: str, message: str, result: Outcome | None, recipients: list[str]
) -> dict[str, Any]:
    receipt = {
        "job": claim.job,
        "outcome": outcome,
        "code": result.code if result else None,
        "message": message,
        "recipients": recipients,
        "pages": result.pages if result else None,
        "attempts": result.attempts if result else 0,
        "documents": list(claim.documents),
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if result is not None and result.message_id:  # the service reports delivery: follow it
        receipt.update(
            message_id=result.message_id,
            delivery=delivery_outcome(result.delivery),
            delivery_status=result.delivery,
        )
    return receipt
