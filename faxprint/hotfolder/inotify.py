"""The hot folder's inotify observer: kernel events for the watched folders, at once.

watchdog's inotify observer holds every event queued behind a ``IN_MOVED_FROM`` for half
a second, waiting for the matching ``IN_MOVED_TO``. Each claim renames a ticket out of the
folder into ``processing/``, which is not watched: every job stalled the next drop's
events by 0.5 s (measured, bench/hotfolder.py). This observer reads inotify itself
(``inotify_simple``, a thin ctypes wrapper) and tells the service what it needs:

* ``moved``: a file renamed into the folder (complete: renames are atomic),
* ``closed``: a file closed after writing,
* ``created``/``modified``: a file being written (``attrib``: its times or mode changed,
  which is no sign of a writer),
* ``deleted``: a file gone (deleted or renamed away),
* ``overflow``: the kernel dropped events; the service rescans.

It keeps watchdog's observer interface (``start``/``stop``/``join``/``is_alive``). When a
watched folder disappears the thread ends, and the service starts a new observer (which
makes the folders again). Polling (network shares) stays with watchdog.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from queue import Queue

from inotify_simple import INotify, flags

from faxprint.logfmt import event

logger = logging.getLogger(__name__)

READ_TIMEOUT_MS = 200  # how often the thread looks whether it should stop

_MASK = (
    flags.CREATE | flags.MODIFY | flags.ATTRIB | flags.CLOSE_WRITE | flags.MOVED_TO
    | flags.MOVED_FROM | flags.DELETE | flags.DELETE_SELF | flags.MOVE_SELF
    | flags.ONLYDIR | flags.DONT_FOLLOW
)  # fmt: skip
_GONE = flags.IGNORED | flags.DELETE_SELF | flags.MOVE_SELF | flags.UNMOUNT

# First match wins: a rename into the folder is complete, a close after writing too.
_KINDS = (
    (flags.MOVED_TO, "moved"),
    (flags.CLOSE_WRITE, "closed"),
    (flags.CREATE, "created"),
    (flags.MODIFY, "modified"),
    (flags.ATTRIB, "attrib"),  # times or mode set (touch -r, copy2): no data written
    (flags.DELETE | flags.MOVED_FROM, "deleted"),
)


class InotifyObserver(threading.Thread):
    """Put ``(path, kind)`` on ``events`` for every file event in ``folders``."""

    def __init__(self, folders: Iterable[Path], events: Queue[tuple[Path, str]]) -> None:
        super().__init__(name="faxprint-inotify", daemon=True)
        self.events = events
        self._stopping = threading.Event()
        self._inotify = INotify()
        self._folders: dict[int, Path] = {}
        try:
            for folder in folders:
                self._folders[self._inotify.add_watch(os.fspath(folder), _MASK)] = folder
        except OSError:
            self._inotify.close()
            raise

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                for event in self._inotify.read(timeout=READ_TIMEOUT_MS):
                    if not self._handle(event.wd, event.mask, event.name):
                        return
        finally:
            self._inotify.close()

    def _handle(self, wd: int, mask: int, name: str) -> bool:
        """Queue what the event says; return False when a watched folder is gone."""
        if mask & flags.Q_OVERFLOW:
            self.events.put((Path(), "overflow"))
            return True
        if mask & _GONE:
            event(logger, logging.WARNING, "folder-gone", folder=self._folders.get(wd, "?"))
            return False
        folder = self._folders.get(wd)
        if folder is None or not name or mask & flags.ISDIR:
            return True
        for bits, kind in _KINDS:
            if mask & bits:
                self.events.put((folder / name, kind))
                break
        return True

    def stop(self) -> None:
        """Ask the thread to end (within READ_TIMEOUT_MS)."""
        self._stopping.set()
