"""One printer job through faxprint: the faxes it becomes, each sent (or refused) on its
own, and what the user and cupsd are told.

A job that nothing addresses is held in CUPS, journaled ``unaddressed``, with a message
saying how to address it (``faxprint address``, or ``lp -i JOB -o fax-to=...``): the
queue goes on with the jobs after it. Released with an address, the job runs again and is
sent. One released after ``[printer] address_wait`` without an address is cancelled with
the reason; ``[printer] unaddressed = "cancel"`` cancels at once, as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from faxprint import config as configuration
from faxprint.cancellation import Cancellation
from faxprint.covering import Covers
from faxprint.cups import faxes as planning
from faxprint.cups.jobticket import NO_RECIPIENT, Request
from faxprint.cups.report import EXIT_STATUS, HOLD, report
from faxprint.documents import DocumentSource
from faxprint.errors import TicketError
from faxprint.journal import Journal, State, open_journal
from faxprint.outcome import JobKey, Outcome, Source
from faxprint.submitter import Submitter

logger = logging.getLogger("faxprint.cups.backend")


@dataclass
class Job:
    """A printer job and where it goes."""

    settings: configuration.Config
    account: configuration.Account
    key: str
    source: Source
    cancellation: Cancellation

    def run(
        self, asked: Request, sources: Sequence[DocumentSource], workdir: Path, stderr: TextIO
    ) -> int:
        """Plan the job's faxes, send them, report; return cupsd's exit status."""
        key = JobKey.parse(self.key)
        assert key is not None  # built by job_key
        with open_journal(self.settings) as journal:
            covers = Covers.of(self.settings, self.account.name)
            faxes = planning.plan(asked, sources, key, journal, self.settings.limits, workdir,
                                  covers, journal.get)  # fmt: skip
            if not faxes:
                return self._unaddressed(journal, sources)
            outcomes = [self._send(journal, fax) for fax in faxes]
        if len(outcomes) == 1 and not faxes[0].where:
            if faxes[0].refusal is not None:
                from faxprint.cups.report import refused

                return refused(outcomes[0])
            return report(outcomes[0], stderr)
        return EXIT_STATUS[planning.report(faxes, outcomes, stderr)]

    def _send(self, journal: Journal, fax: planning.Fax) -> Outcome:
        """Send one fax of the job, or journal why it cannot be."""
        if fax.refusal is not None or fax.ticket is None:
            error = fax.refusal or TicketError(NO_RECIPIENT)
            journal.refused(
                fax.key, error.message, source=self.source.kind, account=self.account.name,
                documents=[s.name or s.path.name for s in fax.sources], user=self.source.user,
                title=self.source.title,
            )  # fmt: skip
            return Outcome.refused(fax.key, error)
        submitter = Submitter.configured(
            self.settings, self.account, journal, sleep=self.cancellation.sleep
        )
        # Every user can read a job's messages (lpstat -l): numbers only at debug level.
        count = len(fax.ticket.recipients)
        logger.info("Sending %s to %d recipient%s", fax.where or "fax", count, "s" * (count != 1))
        logger.debug("Recipients: %s", ", ".join(str(r) for r in fax.ticket.recipients))
        outcome = submitter.submit(fax.key, fax.ticket, list(fax.sources), source=self.source,
                                   progress=self.cancellation.progress, release=True)  # fmt: skip
        if late := self.cancellation.too_late(journal, fax.key, outcome.ok):
            logger.warning("%s", late[0].upper() + late[1:])
        return outcome

    def _unaddressed(self, journal: Journal, sources: Sequence[DocumentSource]) -> int:
        """Hold a job nothing addresses until a person does (or cancel it, as the queue
        says, or when it waited too long)."""
        documents = [s.name or s.path.name for s in sources]
        message = hold_unaddressed(journal, self.settings.printer, self.key, self.source,
                                   self.account.name, documents)  # fmt: skip
        logger.warning("Fax %s", message)
        return HOLD


def hold_unaddressed(
    journal: Journal,
    printer: configuration.Printer,
    key: str,
    source: Source,
    account: str,
    documents: Sequence[str],
) -> str:
    """Journal a printer job nothing addresses as waiting for an address; return the
    message saying how to address it. Raise TicketError when the queue cancels such jobs,
    or when it waited longer than ``[printer] address_wait``."""
    if printer.unaddressed == "cancel":
        raise TicketError(NO_RECIPIENT)
    known = journal.get(key)
    waited = time.time() - known.created if known is not None else 0.0
    if known is not None and known.state is State.UNADDRESSED and waited > printer.address_wait:
        raise TicketError(f"no address came in {_duration(printer.address_wait)}: "
                          "cancelled (" + NO_RECIPIENT + ")")  # fmt: skip
    parsed = JobKey.parse(key)
    name = f"{parsed.printer}-{parsed.job_id}" if parsed is not None else key
    message = (
        f"waiting for an address: run `faxprint address {name} --to NUMBER` (or "
        f"`lp -i {parsed.job_id if parsed else '?'} -o fax-to=NUMBER -H resume`); cancelled "
        f"if none comes in {_duration(printer.address_wait)}"
    )
    journal.unaddressed(key, message, source=source.kind, account=account, documents=documents,
                        user=source.user, title=source.title)  # fmt: skip
    return message


def _duration(seconds: float) -> str:
    hours = seconds / 3600
    if hours >= 1:
        return f"{hours:g} h"
    return f"{seconds / 60:g} min"
