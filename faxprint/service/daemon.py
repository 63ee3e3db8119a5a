"""``faxprint serve``: the one process that owns sending.

It takes the queue's items in turn (:mod:`faxprint.service.scheduler`), has a pool of
workers do them (:mod:`faxprint.service.worker`), answers on its socket
(:mod:`faxprint.service.server`), runs the configured hot folder with its sends through
the same turns, and brings delivery statuses up to date. One service per journal: a
second one refuses to start. Stopping (SIGTERM) lets the sends in hand finish; what is
left waits in the queue for the next start.
"""

from __future__ import annotations

import fcntl
import functools
import logging
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from faxprint import config as configuration
from faxprint.errors import ConfigError, FaxPrintError
from faxprint.journal import HELD, Journal, WorkItem, open_journal
from faxprint.journal.keeper import keep_lease
from faxprint.lease import LEASE_SECONDS, server_of
from faxprint.link import wire
from faxprint.logfmt import event
from faxprint.pacing import Pacer, pacer_for
from faxprint.service.hub import Hub
from faxprint.service.queue import queue_folder, sweep
from faxprint.service.scheduler import Candidate, Scheduler
from faxprint.service.server import listen
from faxprint.service.worker import Worker, ended, later
from faxprint.transports import state_folder

logger = logging.getLogger(__name__)

DELIVERY_SECONDS = 60.0


@dataclass
class Service:
    """One journal's service."""

    settings: configuration.Config
    workers: int = 4
    printer_wait: float = 5.0  # a printer job sent later than this ends its CUPS job now
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.hub = Hub()
        self.worker = Worker(self.settings, self.hub, self._turn, self.printer_wait)
        self.scheduler = Scheduler(self._pacer, self.workers)
        self._pacers: dict[str, Pacer | None] = {}
        self._running: set[str] = set()
        self._elsewhere: set[str] = set()  # items whose documents are on another server
        self._lock: BinaryIO | None = None
        self.outbox = ""  # the outbox's address, once it listens

    def run(self) -> None:
        """Serve until ``stopping`` is set; then finish the sends in hand."""
        self._lock = take_lock(self.settings.journal)
        with open_journal(self.settings):  # its tables exist before anyone hands over
            pass
        sweep(self.settings.journal)  # what a killed service left of settled items
        keeper = keep_lease(self.settings)
        server = listen(Path(wire.socket_path(self.settings.journal)), self._message)
        threading.Thread(target=server.serve_forever, name="socket", daemon=True).start()
        hot = self._hot_folder()
        threading.Thread(target=self._outbox, name="outbox-start", daemon=True).start()
        threading.Thread(target=self._follow, name="delivery", daemon=True).start()
        where = wire.socket_path(self.settings.journal)
        event(logger, logging.INFO, "serving", journal=str(self.settings.journal),
              workers=self.workers, socket=str(where))  # fmt: skip
        with ThreadPoolExecutor(self.workers, thread_name_prefix="send") as pool:
            self._pool = pool
            self._dispatch()
            server.shutdown()
            if hot is not None:
                hot.join()
        server.server_close()
        Path(wire.socket_path(self.settings.journal)).unlink(missing_ok=True)
        if keeper is not None:
            keeper.stop()

    def _dispatch(self) -> None:
        """Start what is ready in turn until stopped. A journal that cannot be used now (a
        database restarting) is said once and opened again: nothing queued is lost."""
        failing = False
        while not self.stopping.is_set():
            try:
                with open_journal(self.settings) as journal:
                    if failing:
                        logger.info("the journal answers again")
                    failing = False
                    self._serve_queue(journal)
            except FaxPrintError as error:
                if not failing:
                    logger.warning("the queue waits: %s", error.message)
                failing = True
                self.stopping.wait(1.0)

    def _serve_queue(self, journal: Journal) -> None:
        shared = bool(self.settings.database)
        while not self.stopping.is_set():
            ready = [i for i in journal.work(ready_at=time.time())
                     if i.key not in self._running and self._here(i)]  # fmt: skip
            candidates = [Candidate(i.key, i.lane, i.account, i.queued,
                                    start=functools.partial(self._start, i.key),
                                    paced=i.kind == "fax") for i in ready]  # fmt: skip
            wait = self.scheduler.dispatch(candidates)
            # With servers sharing the queue, a dead one's items become free by time
            # alone: look again within half a lease.
            self.scheduler.wake.wait(min(wait, LEASE_SECONDS / 2) if shared else wait)
            self.scheduler.wake.clear()

    def _here(self, item: WorkItem) -> bool:
        """Whether an item's documents are on this server (a queue folder of another
        server's: it waits for that server, said once). With a journal of one server's,
        every item is: one whose folder is gone is settled, or refused, as it is."""
        if not self.settings.database or Path(item.folder).is_dir():
            return True
        if Path(item.folder).parent == queue_folder(self.settings.journal):
            return True  # this server's own (its documents gone: worked on all the same)
        if item.key not in self._elsewhere:
            self._elsewhere.add(item.key)
            event(logger, logging.INFO, "elsewhere", job=item.key, server=server_of(item.owner),
                  reason="its documents are on another server")  # fmt: skip
        return False

    def _start(self, key: str) -> None:
        self._running.add(key)

        def work() -> None:
            try:
                self.worker.run(key)
            finally:
                self._running.discard(key)
                self.scheduler.done()

        self._pool.submit(work)

    def _pacer(self, account: str) -> Pacer | None:
        if account not in self._pacers:
            try:
                known = self.settings.account(account)
            except ConfigError:
                self._pacers[account] = None
            else:
                state = state_folder(self.settings.journal, os.geteuid())
                self._pacers[account] = (pacer_for(known.name, known.pace(), state,
                                                   self.settings)  # every server's: one rate
                                         if known.pace() else None)  # fmt: skip
        return self._pacers[account]

    # -- the socket -------------------------------------------------------------------

    def _message(self, message: dict[str, Any], connection: socket.socket) -> bool:
        op, key = message.get("op"), str(message.get("key", ""))
        if op == "ping":
            wire.send(connection, {"event": "pong", "pid": os.getpid()})
            return False
        if op == "queued" and key:
            self._queued(key, message.get("release") is True, connection)
            return True
        if op == "cancel" and key:
            wire.send(connection, {"event": "cancel", "said": self.worker.cancel(key)})
            return False
        wire.send(connection, {"event": "error", "message": f"unknown request {op!r}"})
        return False

    def _queued(self, key: str, release: bool, connection: socket.socket) -> None:
        """A job was handed over: wait for it. A held job handed over again (``release``:
        cupsd ran the job again, a person released it) is sent again; one done already is
        told as it ended."""
        self.hub.subscribe(key, connection)
        with open_journal(self.settings) as journal:
            item = journal.work_item(key)
            held = item is not None and item.not_before == HELD
            if held and release:
                journal.put_back(key)
            wire.send(connection, {"event": "accepted", "queued": item is not None})
            if item is None or (held and not release):  # it ended before this was asked
                self.hub.publish(key, ended(journal.get(key), key), last=True)
            elif item.kind == "fax":
                self._maybe_later(key, item.account, connection)
        self.scheduler.wake.set()

    def _maybe_later(self, key: str, account: str, connection: socket.socket) -> None:
        """End the printer job now when the fax cannot go soon (the account's rate)."""
        pacer = self._pacer(account)
        wait = pacer.wait() if pacer is not None else 0.0
        if wait > self.printer_wait:
            rate = str(pacer.current()) if pacer is not None else ""
            said = {"event": "verdict", "exit": 0, "lines": [later(wait, rate)]}
            self.hub.publish(key, said, last=True)

    def _turn(self, account: str) -> tuple[float, str]:
        """Take the account's turn now if it has one free; else say how long until one."""
        pacer = self._pacer(account)
        if pacer is None:
            return 0.0, ""
        return pacer.turn(), str(pacer.current())

    # -- what runs beside -------------------------------------------------------------

    def _hot_folder(self) -> threading.Thread | None:
        """Run the configured hot folder, its sends through the same turns."""
        from faxprint.hotfolder.service import HotFolder
        from faxprint.hotfolder.settings import from_table

        folder = from_table(self.settings.hotfolder)
        if folder.path is None:
            return None
        hot = HotFolder(self.settings, folder, folder.path, gate=self._gate)
        self._hot = hot
        thread = threading.Thread(target=hot.run, name="hotfolder", daemon=True)
        thread.start()

        def stop() -> None:
            self.stopping.wait()
            hot.stopping.set()

        threading.Thread(target=stop, name="hotfolder-stop", daemon=True).start()
        return thread

    def _outbox(self) -> None:
        """Start the outbox (beside the sends: it never delays them); a fault in it is a
        warning, never the end of sending."""
        from faxprint.web.server import start

        try:
            self.outbox = start(self.settings, self.stopping)
        except Exception as exc:  # the outbox is beside the point of sending
            logger.warning("the outbox did not start: %s: %s", type(exc).__name__, exc)

    def _gate(self, account: str, lane: str) -> Any:
        return self.scheduler.gate(account, lane, stopping=self.stopping)

    def _follow(self) -> None:
        """Ask the services about the delivery of accepted faxes, now and then."""
        from faxprint import delivery

        while not self.stopping.wait(DELIVERY_SECONDS):
            try:
                with open_journal(self.settings) as journal:
                    delivery.refresh(self.settings, journal)
            except FaxPrintError as error:
                logger.warning("delivery not refreshed: %s", error.message)


def take_lock(journal: Any) -> BinaryIO:
    """Hold the journal's service lock for this process; ConfigError if another has it."""
    path = Path(wire.lock_path(journal))
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    stream = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600), "r+b")
    try:
        fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        stream.seek(0)
        pid = stream.read(20).decode(errors="replace").strip() or "?"
        stream.close()
        raise ConfigError(f"another faxprint serve runs on the journal {journal} (pid {pid}); "
                          "one service per journal") from None  # fmt: skip
    stream.seek(0)
    stream.truncate()
    stream.write(str(os.getpid()).encode())
    stream.flush()
    return stream
