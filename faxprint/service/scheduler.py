"""What the service sends next: fair between users, within each account's rate, at most
``[service] workers`` at once.

Work waits in lanes, one per user of each way in (``cups:alice``, ``hotfolder:erp``,
``send:bob``). The lanes are served in turn, the one served longest ago first, and each
gives its oldest job: a program's batch of 300 faxes and a person's one page printed after
it alternate, so the person waits for one fax of the batch, not three hundred. A job whose
account has no turn free in its window (:mod:`faxprint.pacing`) waits without holding a
worker, and the jobs of other accounts go on.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from faxprint.pacing import Pacer


@dataclass
class Candidate:
    """Something ready to send: a queued item, or a hot-folder job waiting at the gate."""

    key: str
    lane: str
    account: str
    queued: float
    start: Callable[[], None] = field(compare=False, repr=False)
    paced: bool = True  # an upload: it takes a turn of its account's rate (planning does not)


@dataclass
class _Waiter:
    candidate: Candidate
    granted: threading.Event = field(default_factory=threading.Event)


class Scheduler:
    """Slots, lanes and turns."""

    def __init__(self, pacer: Callable[[str], Pacer | None], workers: int) -> None:
        self.pacer = pacer
        self.workers = workers
        self._lock = threading.Condition()
        self._busy = 0
        self._waiters: list[_Waiter] = []
        self._served: dict[str, int] = {}  # lane -> the turn it was last served at
        self._turns = itertools.count(1)
        self.wake = threading.Event()  # new work, or a slot free: look again

    def dispatch(self, queued: Sequence[Candidate]) -> float:
        """Start what may start now among ``queued`` and the gate's waiters, taking each
        one's turn in its account's rate (so the send itself takes none); return the
        seconds until a blocked account's next turn (at most 1)."""
        with self._lock:
            waiters = {id(w.candidate): w for w in self._waiters}
            candidates = [*queued, *(w.candidate for w in self._waiters)]
            soonest, blocked = 1.0, set()
            for candidate in self._fair(candidates):
                if self._busy >= self.workers:
                    break
                if candidate.account in blocked:
                    continue
                pacer = self.pacer(candidate.account) if candidate.paced else None
                wait = pacer.turn() if pacer is not None else 0.0
                if wait > 0:
                    blocked.add(candidate.account)
                    soonest = min(soonest, wait)
                    continue
                self._busy += 1
                self._served[candidate.lane] = next(self._turns)
                waiter = waiters.get(id(candidate))
                if waiter is not None:
                    self._waiters.remove(waiter)
                    waiter.granted.set()
                else:
                    candidate.start()
            return soonest

    def done(self) -> None:
        """A send ended: its slot is free."""
        with self._lock:
            self._busy = max(0, self._busy - 1)
        self.wake.set()

    @contextlib.contextmanager
    def gate(self, account: str, lane: str, *, stopping: threading.Event) -> Iterator[None]:
        """Wait for a turn to send (a hot-folder worker's job), and give the slot back."""
        waiter = _Waiter(Candidate(f"gate-{id(threading.current_thread())}", lane, account,
                                   time.time(), lambda: None))  # fmt: skip
        with self._lock:
            self._waiters.append(waiter)
        self.wake.set()
        try:
            while not waiter.granted.wait(0.5):
                if stopping.is_set():
                    raise InterruptedError("the service is stopping")
        except BaseException:
            with self._lock:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
            if waiter.granted.is_set():
                self.done()
            raise
        try:
            yield
        finally:
            self.done()

    def _fair(self, candidates: Sequence[Candidate]) -> Iterator[Candidate]:
        """The candidates lane by lane, in turn: the lane served longest ago first, each
        lane's jobs oldest first."""
        lanes: dict[str, list[Candidate]] = {}
        for candidate in sorted(candidates, key=lambda c: (c.queued, c.key)):
            lanes.setdefault(candidate.lane, []).append(candidate)
        order = sorted(lanes, key=lambda lane: (self._served.get(lane, 0), lanes[lane][0].queued))
        for round_ in itertools.count():
            left = [lanes[lane][round_] for lane in order if round_ < len(lanes[lane])]
            if not left:
                return
            yield from left
