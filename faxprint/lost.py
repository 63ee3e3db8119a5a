"""Uploads whose answer was lost, settled through the service's message store.

An upload that ended without an answer may have been accepted. Where the transport can
look a fax up (:class:`~faxprint.transports.LooksUp`, RingCentral's REST API), the
service's own records answer instead of a person: a fax found there is accepted (claimed
for this job in one transaction, so two jobs never take the same message); one still not
there ``store_wait`` seconds after the answer was lost was not accepted; a store that
cannot be asked leaves the upload uncertain, never sent again unchecked.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace

from faxprint.errors import CancelledError, FaxPrintError, ServiceError, UncertainError
from faxprint.journal import JobStore, State
from faxprint.outcome import Outcome, Status, status_of
from faxprint.ticket import Ticket
from faxprint.transports import LooksUp, delivery_outcome

logger = logging.getLogger(__name__)

LOOKUP_INTERVAL = 5.0  # seconds between looks in the message store


@dataclass(frozen=True)
class MessageStore:
    """One account's message store, as a job's submitter asks it."""

    journal: JobStore
    transport: LooksUp
    store_wait: float  # seconds after a lost answer until "not there" means not accepted
    hide: Callable[[str], str]  # what takes the account's secrets out of any text
    clock: Callable[[], float]
    sleep: Callable[[float], None]

    def look_if_lost(
        self, key: str, ticket: Ticket, error: FaxPrintError, started: float, pages: int | None
    ) -> Outcome | FaxPrintError:
        """Settle an uncertain upload: the accepted outcome if the fax is in the store,
        else the error to record (any other error is returned as it is).

        Whatever stops the search (a cancel, a bug) leaves the upload uncertain: never
        ``cancelled`` or ``sending``, from which it could be sent again unchecked."""
        if status_of(error) is not Status.UNCERTAIN:
            return error
        try:
            found = self.settle_lost(key, ticket, started, self.clock(), pages=pages)
        except Exception as exc:  # a cancel, or a bug
            if isinstance(exc, CancelledError):
                reason = "cancelled while looking for it in the message store"
            else:
                frames = "".join(traceback.format_tb(exc.__traceback__))
                logger.debug("internal error while looking for %s:\n%s", key, frames)
                reason = f"internal error ({type(exc).__name__}); please report it"
            found = self.claimed(key, pages, len(ticket.recipients)) or UncertainError(reason)
        if found is None:
            return ServiceError(
                "the upload's answer was lost, and the service's message store holds no such "
                f"fax {self.store_wait:g} s later: it was not accepted"
            )
        if isinstance(found, Outcome):
            return found
        # The store could not be asked: the upload stays uncertain, never retried blindly.
        return UncertainError(
            f"{error.message} (the message store could not be asked: {found.message})",
            code=error.code,
        )

    def claimed(self, key: str, pages: int | None, count: int) -> Outcome | None:
        """Return the accepted outcome, with its message, of a job whose message was
        claimed in the store (also when the search was cut short after the claim was
        committed: never record it uncertain over that); None if it is not accepted."""
        try:
            job = self.journal.get(key)
            known = self.journal.delivery(key)
        except FaxPrintError:
            return None
        if job is None or job.state is not State.ACCEPTED:
            return None
        outcome = Outcome(Status.ACCEPTED, job.message, job.key, job.attempts, pages, count,
                          job.code)  # fmt: skip
        if known is None:
            return outcome
        return replace(outcome, message_id=known.message_id, delivery=known.status)

    def settle_lost(
        self, key: str, ticket: Ticket, since: float, lost: float, *, pages: int | None = None
    ) -> Outcome | FaxPrintError | None:
        """Look for a fax whose upload began at ``since`` and lost its answer at ``lost``.

        Return the accepted outcome when it is there (a message no other job owns, taken
        in one transaction); None when it is still not there ``store_wait`` seconds after
        the answer was lost, so the service did not accept it; the error when the store
        cannot be asked (the job stays uncertain).
        """
        deadline = lost + self.store_wait
        while True:
            try:
                # The window ends when the answer was lost: a later fax is never this one.
                found = self.transport.lookup(ticket, since, lost)
            except FaxPrintError as raised:
                error = raised.hiding(self.hide)
                logger.warning("cannot look for %s in the message store: %s", key, error.message)
                return error
            for receipt in found:
                outcome = delivery_outcome(receipt.delivery)
                message = f"found in the message store as message {receipt.message_id}"
                if self.journal.claim_found(key, receipt.message_id, receipt.delivery, outcome,
                                            message=message):  # fmt: skip
                    logger.info("found %s in the message store: %s", key, receipt.message_id)
                    claimed = self.claimed(key, pages, len(ticket.recipients))
                    assert claimed is not None  # just committed
                    return claimed
            left = deadline - self.clock()
            if left <= 0:
                return None
            self.sleep(min(LOOKUP_INTERVAL, left))
