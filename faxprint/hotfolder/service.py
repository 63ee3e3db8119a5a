"""``faxprint watch``: the hot folder service.

One loop owns the folder: it takes paths from the watchdog observer (whose handler only
enqueues them), rescans every ``rescan_seconds`` (watchdog drops inotify overflows
silently, and files present at start give no event), claims complete jobs and hands them
to a bounded pool of upload workers. Transient failures come back to the loop with a due
time (exponential backoff), so other jobs go on meanwhile. Every ``delivery_seconds`` a
worker brings the receipts of faxes still waiting for delivery up to date
(:mod:`faxprint.hotfolder.follow`).

Shutdown has two stages: the first SIGTERM/SIGINT stops claiming and lets the uploads in
hand finish; a second one leaves at once (unfinished jobs stay in processing/ and are
finished, never doubled, at the next start: the journal knows what was accepted).
"""

from __future__ import annotations

import heapq
import logging
import queue
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faxprint.config import Config
from faxprint.errors import FaxPrintError
from faxprint.hotfolder import follow
from faxprint.hotfolder.detector import Candidate, Detector
from faxprint.hotfolder.job import Gate, Result, refile, run_job, ticket_documents
from faxprint.hotfolder.settings import HotFolderSettings
from faxprint.hotfolder.spool import Claim, Spool
from faxprint.journal import open_journal
from faxprint.journal.keeper import LeaseKeeper, keep_lease
from faxprint.lease import LEASE_SECONDS
from faxprint.logfmt import event

logger = logging.getLogger(__name__)

TICK = 0.1  # seconds between looks at pending files and due retries
EVENTS_PER_TICK = 1000  # a flood of events (a dropper renaming in a loop) cannot stall jobs
MAX_BACKOFF = 300.0


@dataclass(order=True)
class _Due:
    when: float
    claim: Claim = field(compare=False)
    attempt: int = field(compare=False, default=1)


class HotFolder:
    """Watch one folder and fax what is dropped into it."""

    def __init__(
        self, config: Config, settings: HotFolderSettings, root: Path, *, gate: Gate | None = None
    ) -> None:
        self.config = config
        self.gate = gate  # in `faxprint serve`: each send waits for its turn there
        self.settings = settings
        self.spool = Spool(root)
        self.detector = Detector(
            root, list(settings.folders), settings.stable_seconds, closes=not settings.polling
        )
        self.events: queue.Queue[tuple[Path, str]] = queue.Queue()
        self.ready = threading.Event()  # folders made and the observer watching
        self.stopping = threading.Event()
        self._waiting: dict[Path, float] = {}  # tickets waiting for their documents
        self._backlog: list[Candidate] = []  # ready to claim, when there is room
        self._retries: list[_Due] = []
        self._finished: queue.Queue[tuple[Claim, int, Result]] = queue.Queue()
        self._busy: set[str] = set()
        self._filing: dict[str, tuple[str, dict[str, Any]]] = {}  # verdicts to file again
        self._following: set[str] = set()  # done/ jobs whose delivery is pending
        self._follow: Future[set[str]] | None = None
        self._next_follow = 0.0
        self._asked: set[str] = set()

    def run(self) -> None:
        """Serve until ``stopping`` is set, then finish the uploads in hand.

        (A second signal leaves at once: ``faxprint watch`` exits the process.)
        """
        self.spool.prepare(self.settings.folders)
        observer = self._observer()
        observer.start()
        self.ready.set()
        pool = ThreadPoolExecutor(max_workers=self.settings.concurrency, thread_name_prefix="fax")
        keeper = self._keeper()
        try:
            self._following = follow.pending_receipts(self.spool)
            resumed = self._resume(pool)
            event(
                logger, logging.INFO, "started", folder=self.spool.root, resumed=len(resumed),
                watching="polling" if self.settings.polling else "inotify",
                concurrency=self.settings.concurrency,
            )  # fmt: skip
            observer = self._loop(pool, observer)
        finally:
            observer.stop()
            pool.shutdown(wait=True, cancel_futures=True)
            observer.join(timeout=10)
            self._collect(pool)
            if keeper is not None:
                keeper.stop()

    def _keeper(self) -> LeaseKeeper | None:
        """With a journal several servers share, a lease this watcher renews while it runs
        (its claims are its own while it does; then another server's). In ``faxprint
        serve`` (a gate) the service keeps the process's lease."""
        return keep_lease(self.config) if self.gate is None else None

    def _resume(self, pool: ThreadPoolExecutor) -> list[Claim]:
        """Start the jobs a dead watcher claimed (at start: this server's last run; with a
        shared journal, every LEASE_SECONDS / 2: another server's that died)."""
        leases: dict[str, float] | None = None  # one server's folder: no lease to ask
        if self.config.database:
            try:
                with open_journal(self.config) as journal:
                    leases = journal.leases()
            except FaxPrintError as error:  # no lease known: nothing is taken over now
                logger.warning("claims not looked at: %s", error.message)
                return []
        resumed = [c for c in self.spool.recover(self.settings.folders, leases)
                   if c.job not in self._busy]  # fmt: skip
        for claim in resumed:
            event(logger, logging.INFO, "resume", job=claim.job)
            self._start(pool, claim, 1)
        return resumed

    def _loop(self, pool: ThreadPoolExecutor, observer: Any) -> Any:
        next_scan = 0.0
        next_takeover = time.monotonic() + LEASE_SECONDS / 2
        while not self.stopping.is_set():
            now = time.monotonic()
            try:
                if not observer.is_alive():  # its thread died: rescans cover the gap
                    event(logger, logging.ERROR, "observer-restart", reason="its thread stopped")
                    observer = self._observer()
                    observer.start()
                if now >= next_scan:
                    next_scan = now + self.settings.rescan_seconds
                    self.detector.scan(now)
                if self.config.database and now >= next_takeover:
                    next_takeover = now + LEASE_SECONDS / 2
                    self._resume(pool)
                self._step(pool, now)
            except Exception as exc:  # one bad file or folder must not stop the service
                event(logger, logging.ERROR, "error", error=type(exc).__name__)
                self.stopping.wait(1.0)
        return observer

    def _step(self, pool: ThreadPoolExecutor, now: float) -> None:
        self._drain_events(now)
        for candidate in self.detector.ready(now) + self._waiting_tickets():
            if candidate not in self._backlog:
                self._backlog.append(candidate)
        # With a journal several servers share, a server claims only what it can start
        # now: the others, watching the same folder, take their share (and a server that
        # dies holds no more than it had in hand).
        while self._backlog and self._room():
            self._take(pool, self._backlog.pop(0), now)
        while self._retries and self._retries[0].when <= now:
            due = heapq.heappop(self._retries)
            if self.config.database and not self.spool.still_mine(due.claim):
                event(logger, logging.WARNING, "taken-over", job=due.claim.job,
                      reason="another server took this one for dead and has the job")  # fmt: skip
                continue
            self._start(pool, due.claim, due.attempt)
        self._collect(pool)
        self._follow_deliveries(pool, now)

    def _follow_deliveries(self, pool: ThreadPoolExecutor, now: float) -> None:
        """Start a worker that updates pending receipts, one at a time, when it is due."""
        if self._follow is not None and self._follow.done():
            try:
                still = self._follow.result()  # of those asked; the rest came since
                self._following = still | (self._following - self._asked)
            except (FaxPrintError, OSError) as exc:  # the journal is busy: next time
                event(logger, logging.WARNING, "delivery", reason=exc)
            except Exception as exc:  # a bug: say so; receipts are tried again next time
                event(logger, logging.ERROR, "error", error=type(exc).__name__)
            finally:
                self._follow = None
        if self._follow is None and self._following and now >= self._next_follow:
            self._next_follow = now + self.settings.delivery_seconds
            self._asked = set(self._following)
            self._follow = pool.submit(follow.follow, self.config, self.spool, self._asked)

    def _drain_events(self, now: float) -> None:
        try:
            self._note(*self.events.get(timeout=TICK), now)
            for _ in range(EVENTS_PER_TICK - 1):  # the rest wait for the next tick
                self._note(*self.events.get_nowait(), now)
        except queue.Empty:
            return

    def _note(self, path: Path, kind: str, now: float) -> None:
        if kind == "overflow":  # the kernel dropped events: look at everything
            self.detector.scan(now)
        else:
            self.detector.note(path, now, kind)

    def _take(self, pool: ThreadPoolExecutor, candidate: Candidate, now: float) -> None:
        path = candidate.folder / candidate.name
        try:
            if candidate.ticket:
                documents = ticket_documents(candidate.folder, candidate.name, self.settings)
                # Every document must be there and done being written, like the ticket.
                unready = [
                    d for d in documents.names
                    if not (candidate.folder / d).is_dir()  # refused when processed
                    and not self.detector.stable(candidate.folder / d, now)
                ]  # fmt: skip
                if unready and documents.error is None:
                    since = self._waiting.setdefault(path, now)
                    if now - since < self.settings.ticket_wait:
                        return
                self._waiting.pop(path, None)
                # The wait is over: a document still being written is never sent half; the
                # job is taken to be refused with that reason (a missing one, "not found").
                incomplete = [
                    d for d in unready if self.detector.writing(candidate.folder / d, now)
                ]
                claim = self.spool.claim(candidate.folder, candidate.name, list(documents.names),
                                         ticket=True, incomplete=incomplete)  # fmt: skip
            else:
                claim = self.spool.claim(
                    candidate.folder, candidate.name, [candidate.name], ticket=False
                )
        except (OSError, UnicodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            event(logger, logging.WARNING, "skip", file=path, reason=reason)
            return
        if claim is not None:
            event(logger, logging.INFO, "claimed", job=claim.job, file=path)
            self._start(pool, claim, 1)

    def _room(self) -> bool:
        """Whether to claim another job now: always on one server; with a journal several
        share, only while this one has fewer than ``concurrency`` in hand (being sent, or
        waiting to be tried again), so that the others take their share."""
        if not self.config.database:
            return True
        return len(self._busy) + len(self._retries) < self.settings.concurrency

    def _waiting_tickets(self) -> list[Candidate]:
        return [Candidate(p.parent, p.name, True) for p in list(self._waiting) if p.exists()]

    def _start(self, pool: ThreadPoolExecutor, claim: Claim, attempt: int) -> None:
        if claim.job in self._busy:
            return
        self._busy.add(claim.job)
        filing = self._filing.get(claim.job)
        if filing is not None:  # its verdict is known: file it, never send it again
            future = pool.submit(refile, self.spool, claim, *filing)
        else:
            future = pool.submit(run_job, self.config, self.settings, self.spool, claim,
                                 gate=self.gate)  # fmt: skip
        future.add_done_callback(lambda f: self._done(claim, attempt, f))

    def _done(self, claim: Claim, attempt: int, future: Future[Result]) -> None:
        try:
            result = future.result()
        except (FaxPrintError, OSError) as exc:  # journal or disk trouble: try again later
            result = Result("retry", f"{type(exc).__name__}: {exc}")
        except BaseException as exc:  # a bug: keep the job, say so, try later
            event(logger, logging.ERROR, "error", job=claim.job, error=type(exc).__name__)
            result = Result("retry", f"internal error ({type(exc).__name__})")
        self._finished.put((claim, attempt, result))

    def _collect(self, pool: ThreadPoolExecutor) -> None:
        while True:
            try:
                claim, attempt, result = self._finished.get_nowait()
            except queue.Empty:
                return
            self._busy.discard(claim.job)
            if result.filing is not None:
                self._filing[claim.job] = result.filing
            elif result.state != "retry":
                self._filing.pop(claim.job, None)
            if result.following:
                self._following.add(claim.job)
            if result.state == "blocked":
                # Nothing this watcher does can help: the job waits in processing/ for the
                # admin, and is taken up again when the watcher restarts.
                event(
                    logger, logging.ERROR, "blocked", job=claim.job, reason=result.message,
                    fix="fix the account, then restart faxprint watch",
                )  # fmt: skip
            if result.state in ("retry", "refile") and not self.stopping.is_set():
                delay = min(MAX_BACKOFF, self.config.retry.backoff * 2 ** (attempt - 1))
                delay = max(delay, result.retry_after or 0.0)  # what the service asked
                event(
                    logger, logging.INFO, "retry", job=claim.job, attempt=attempt + 1,
                    due=f"{delay:.1f}s", reason=result.message,
                )  # fmt: skip
                heapq.heappush(self._retries, _Due(time.monotonic() + delay, claim, attempt + 1))

    def _observer(self) -> Any:
        for folder in self.detector.watched():
            folder.mkdir(exist_ok=True)
        if not self.settings.polling:
            from faxprint.hotfolder.inotify import InotifyObserver

            return InotifyObserver(self.detector.watched(), self.events)

        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers.polling import PollingObserver

        events = self.events

        class Enqueue(FileSystemEventHandler):
            # No work here: the observer thread only hands paths to the loop.
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.is_directory:
                    return
                target = getattr(event, "dest_path", "") or event.src_path
                events.put((Path(str(target)), event.event_type))

        observer = PollingObserver(timeout=self.settings.poll_seconds)
        for folder in self.detector.watched():
            observer.schedule(Enqueue(), str(folder), recursive=False)
        return observer
