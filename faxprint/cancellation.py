"""A job stopped on request (SIGTERM from cupsd's ``cancel``, Ctrl-C on ``faxprint send``)
while its upload can still be abandoned, and never once the service may have it.

An upload whose last byte was handed to the kernel is not yet the service's: a slow
service may leave megabytes in this server's socket buffer. While part of the upload has
not left this server, a cancel cuts the connection (the kernel drops the rest: the
service can never complete the request) and the job is cancelled: nothing was sent.
Once every byte has left, the service may have them all (their acknowledgement may be
on its way) and accept the fax at any moment: a cancel then waits until the answer is in
the journal, so that an accepted fax is never recorded as cancelled (and sent again when
the job is restarted), and :meth:`Cancellation.too_late` says the cancel came too late.
"""

from __future__ import annotations

import logging
import threading
from types import FrameType

from faxprint.errors import CancelledError, JournalError
from faxprint.journal import Journal, State
from faxprint.transports import cut_unsent_upload, unsent_upload

logger = logging.getLogger(__name__)

TOO_LATE = "the cancel came after the upload: the fax was accepted"


class Cancellation:
    """The signal handler, upload progress and waits of one job (see the module)."""

    def __init__(self) -> None:
        self.requested = False
        self.upload_complete = False
        self.sleeping = False
        self.cut = False  # the upload's connection was cut for this cancel
        self._woken = threading.Event()

    def request(self) -> None:
        """A cancel asked from another thread (the service's socket): the job's thread
        stops at its next upload chunk or wait; an upload all sent runs to its verdict."""
        self.requested = True
        self._woken.set()

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        self._stop_if_it_may()

    def _stop_if_it_may(self) -> None:
        if self.sleeping or not self.upload_complete:
            raise CancelledError("the job was cancelled")
        if self.cut or cut_unsent_upload():
            self.cut = True
            raise CancelledError("the job was cancelled before the service had the whole fax")

    def progress(self, sent: int, total: int) -> None:
        # A cancel that some library swallowed still stops the upload at the next chunk.
        if self.requested and sent < total:
            raise CancelledError("the job was cancelled")
        if sent >= total and not self.upload_complete:
            self.upload_complete = True
            logger.debug("the whole upload is with the kernel; %s bytes not yet sent",
                         unsent_upload())  # fmt: skip
            if self.requested:  # a cancel that came while that was said: logging swallows
                self._stop_if_it_may()  # what a signal handler raises inside a handler
        self.upload_complete = sent >= total

    def sleep(self, seconds: float) -> None:
        """Wait between tries, or between two looks in the message store; a cancel
        during the wait ends it (the submitter keeps a complete upload uncertain). Out of
        the wait, a complete upload still defers a cancel until its verdict is recorded."""
        if self.requested:
            raise CancelledError("the job was cancelled")
        self.sleeping = True
        try:
            if self._woken.wait(seconds) and self.requested:  # a signal ends it too
                raise CancelledError("the job was cancelled")
        finally:
            self.sleeping = False

    def too_late(self, journal: Journal, key: str, accepted: bool) -> str:
        """Record and return what a cancel asked during a job the service then accepted
        (the journal's decision, the job's message); "" when there was none."""
        if not (self.requested and accepted):
            return ""
        try:
            journal.note(key, State.CANCELLED, TOO_LATE)
        except JournalError as fault:  # the verdict is the news; the note is a footnote
            logger.warning("the journal could not record the late cancel: %s", fault.message)
        return TOO_LATE
