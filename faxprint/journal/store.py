"""What faxprint asks of a journal, whatever stores it: the interface an engine implements.

The SQLite engine (`faxprint.journal.sqlite.Journal`) is the one there is. Its docstrings
say what each method promises in full; an engine must keep the same promises. Every
method raises JournalError when the store cannot be used now, and the methods that
change or read one job raise KeyError for a key the journal does not know.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol, Self

from faxprint.journal.records import (
    AttemptRecord,
    Contact,
    DeliveryRecord,
    Filter,
    JobRecord,
    State,
    WorkItem,
)


class JobStore(Protocol):
    """A journal of fax jobs, their attempts, decisions and deliveries."""

    @property
    def path(self) -> Path:
        """Return where the journal lives; transports keep their state beside it."""
        ...

    @property
    def owner(self) -> str:
        """Return this process's identity, the owner of the jobs it is sending."""
        ...

    def close(self) -> None:
        """Let go of the store."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: object) -> None: ...

    # The job lifecycle.

    def begin(
        self,
        key: str,
        *,
        source: str,
        account: str,
        recipients: Sequence[str],
        documents: Sequence[str],
        pages: int | None,
        user: str = "",
        title: str = "",
    ) -> JobRecord:
        """Record a job unless it is known already; return it as the journal has it."""
        ...

    def refused(
        self,
        key: str,
        message: str,
        *,
        source: str,
        account: str,
        documents: Sequence[str] = (),
        user: str = "",
        title: str = "",
    ) -> JobRecord:
        """Record a job refused before it became a fax; one sent or being sent keeps its state."""
        ...

    def unaddressed(
        self,
        key: str,
        message: str,
        *,
        source: str,
        account: str,
        documents: Sequence[str] = (),
        user: str = "",
        title: str = "",
    ) -> JobRecord:
        """Record a printed job that waits for an address; a job in another state keeps it."""
        ...

    def start_attempt(self, key: str, *, force: bool = False) -> JobRecord:
        """Mark a sendable job ``sending`` for this process and count the attempt."""
        ...

    def unstick(self, key: str) -> JobRecord:
        """Make a job ``uncertain`` whose ``sending`` no process will finish."""
        ...

    def abandon(self, key: str, message: str = "the job was cancelled") -> None:
        """Mark this process's own ``sending`` job cancelled; leave any other job alone."""
        ...

    def finish(
        self, key: str, state: State, *, code: int | None = None, message: str = ""
    ) -> JobRecord:
        """Record how a job's latest attempt (or the job, without one) ended."""
        ...

    def settle(self, key: str, state: State, message: str) -> JobRecord:
        """Record a person's decision on a job (ValueError if it is too late for one)."""
        ...

    def note(self, key: str, state: State, message: str) -> None:
        """Record a person's decision that came too late to change the job."""
        ...

    def decisions(self, key: str) -> list[tuple[float, State, str]]:
        """Return the decisions people made on a job, oldest first."""
        ...

    def budget(self, key: str) -> tuple[float, int]:
        """Return where a job's retry budget starts: (since, attempts before)."""
        ...

    def get(self, key: str) -> JobRecord | None:
        """Return the job recorded under ``key``, if any."""
        ...

    def attempts(self, key: str) -> list[AttemptRecord]:
        """Return every attempt of a job, oldest first."""
        ...

    # The delivery ledger.

    def record_delivery(self, key: str, message_id: str, status: str, outcome: str) -> None:
        """Keep the service's message id of an accepted job and its delivery status."""
        ...

    def claim_found(
        self, key: str, message_id: str, status: str, outcome: str, *, message: str
    ) -> bool:
        """Take a message found in the store as this uncertain job's and accept the job."""
        ...

    def delivery(self, key: str) -> DeliveryRecord | None:
        """Return the delivery status last recorded for a job, if it has a message id."""
        ...

    def deliveries(self, keys: Sequence[str]) -> dict[str, DeliveryRecord]:
        """Return the delivery records of those of ``keys`` that have one, by key."""
        ...

    def pending_deliveries(self, limit: int = 20, *, account: str) -> list[DeliveryRecord]:
        """Return an account's faxes whose delivery is not final, least recently checked first."""
        ...

    def undelivered(self, *, since: float, limit: int = 50) -> list[JobRecord]:
        """Return accepted jobs updated since ``since`` whose delivery is not confirmed."""
        ...

    # What people ask.

    def recent(self, limit: int = 50, *, state: State | None = None) -> list[JobRecord]:
        """Return the newest jobs first, optionally only those in one state."""
        ...

    def search(self, where: Filter, limit: int = 50) -> list[JobRecord]:
        """Return the newest jobs that pass ``where``, newest first."""
        ...

    def counts(self, *, since: float) -> dict[str, int]:
        """Return how many jobs updated since ``since`` are in each state."""
        ...

    def find(self, reference: str) -> list[JobRecord]:
        """Return the jobs a person's reference names (a key or its start, a job's name)."""
        ...

    # The address book.

    def add_contact(self, contact: Contact) -> str:
        """Add a contact, or update the one entry of its name; say which."""
        ...

    def import_contacts(self, entries: Iterable[Contact]) -> tuple[int, int]:
        """Add entries not there yet, in one transaction; return (added, skipped)."""
        ...

    def remove_contacts(self, name: str, number: str | None = None) -> list[Contact]:
        """Remove the entries of a name (or the one with ``number``); return them."""
        ...

    def contacts(self) -> list[Contact]:
        """Return every entry, by name."""
        ...

    def named(self, name: str) -> tuple[list[Contact], list[Contact]]:
        """Return the entries named ``name``, and the members of the group named so."""
        ...

    # The service's queue.

    def enqueue(self, items: Sequence[WorkItem], *, replacing: str | None = None) -> int:
        """Add items not queued yet (removing ``replacing``); return how many were added."""
        ...

    def work(self, *, ready_at: float | None = None) -> list[WorkItem]:
        """Return the queued items (with ``ready_at``: those ready and free then)."""
        ...

    def work_item(self, key: str) -> WorkItem | None:
        """Return the queued item ``key``, if any."""
        ...

    def take(self, key: str) -> WorkItem | None:
        """Take an item for this process; None if gone or another live process has it."""
        ...

    def put_back(self, key: str, *, not_before: float = 0.0) -> None:
        """Give an item back to the queue, ready from ``not_before`` on."""
        ...

    def finish_work(self, key: str) -> WorkItem | None:
        """Remove a settled item; return it."""
        ...

    # Leases: a process on another server is alive while it renews its lease.

    def renew_lease(self) -> None:
        """Say this process is alive (every faxprint.lease.RENEW seconds)."""
        ...

    def release_lease(self) -> None:
        """Let this process's lease go: its work is free at once."""
        ...

    def leases(self) -> dict[str, float]:
        """Every lease held: its holder and when it was last renewed."""
        ...

    def pacing_record(self, name: str) -> AbstractContextManager[dict[str, Any]]:
        """An account's record of recent uploads, locked and written back at the end."""
        ...
