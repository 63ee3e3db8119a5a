"""The lease a long-running process keeps in the journal while it runs (``faxprint serve``,
``faxprint watch``): renewed every :data:`faxprint.lease.RENEW` seconds by a thread of
its own, let go when the process stops. Other servers sharing the journal take the
process for dead once its lease is :data:`faxprint.lease.LEASE_SECONDS` old, and take
its work over (:mod:`faxprint.lease`)."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

from faxprint.errors import FaxPrintError
from faxprint.journal import Placed
from faxprint.lease import LEASE_SECONDS, RENEW, note_renewed

logger = logging.getLogger(__name__)


class LeaseKeeper:
    """Renew this process's lease until stopped."""

    def __init__(self, opener: Callable[[], Any], every: float = RENEW) -> None:
        self.opener = opener  # opens the journal (a context manager)
        self.every = every
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease", daemon=True)
        self._failing = False

    def start(self) -> LeaseKeeper:
        self._renew()  # held before any work is taken
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop renewing and let the lease go (the work left is free at once)."""
        self.stopping.set()
        self._thread.join(timeout=30)
        try:
            with self.opener() as journal:
                journal.release_lease()
        except FaxPrintError as error:
            logger.debug("lease not let go: %s", error.message)

    def _run(self) -> None:
        while not self.stopping.wait(self.every):
            self._renew()

    def _renew(self) -> None:
        try:
            with self.opener() as journal:
                journal.renew_lease()
            note_renewed()
        except FaxPrintError as error:  # said once, until it works again
            if not self._failing:
                logger.warning("the lease in the journal cannot be renewed: %s; after %g s "
                               "other servers may take this one's work over", error.message,
                               LEASE_SECONDS)  # fmt: skip
            self._failing = True
            return
        if self._failing:
            logger.info("the lease in the journal is renewed again")
        self._failing = False


def keep_lease(settings: Placed) -> LeaseKeeper | None:
    """A started keeper of this process's lease when the journal is one several servers
    share (a database); None for one server's file, where nothing needs one."""
    if not settings.database:
        return None
    from faxprint.journal import open_journal

    return LeaseKeeper(functools.partial(open_journal, settings)).start()
