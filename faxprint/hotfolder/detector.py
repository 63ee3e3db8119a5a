"""Which dropped files are complete and may be claimed.

A ticket is complete when it was closed after writing or renamed into the folder (the
watcher's events say so), or when it holds one whole JSON object: JSON cannot be cut
short and still parse as an object, so such a ticket was written to its end. Polling
(network shares) sees no closes; this takes its tickets at the first look instead of
after ``stable_seconds``. Any other file found by a scan or a poll must not have changed
for ``stable_seconds``. A document dropped without a ticket
into a configured subfolder must keep the same size and modification time for
``stable_seconds``: files still being written are never sent half.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from faxprint.errors import DocumentError
from faxprint.hotfolder.spool import RESERVED, read_ticket_bytes
from faxprint.hotfolder.ticketfile import SUFFIX


@dataclass(frozen=True)
class Candidate:
    """A file that may start a job."""

    folder: Path
    name: str
    ticket: bool


@dataclass
class _Seen:
    signature: tuple[int, int]
    since: float
    closed: bool = False  # closed after its last change (an inotify close-write)
    writing: bool = False  # changes were seen as they happened, and no close yet
    changed: bool = False  # seen to change since it was first seen (it is being written)


@dataclass
class Detector:
    """Track dropped files until they are complete."""

    root: Path
    folders: Iterable[str]
    stable_seconds: float
    closes: bool = True  # the observer reports closes (inotify); polling does not
    _seen: dict[Path, _Seen] = field(default_factory=dict)

    def watched(self) -> list[Path]:
        """Return the folders where jobs are dropped: the top and the configured ones."""
        return [self.root, *(self.root / name for name in self.folders)]

    def note(self, path: Path, now: float, kind: str = "scan") -> None:
        """Take in what an event (``modified``, ``closed``, ``moved``, ...) or a scan says."""
        if path.parent not in self.watched() or self._ignored(path):
            return
        signature = _signature(path)
        if signature is None:
            self._seen.pop(path, None)
            return
        seen = self._seen.get(path)
        closed = kind in ("closed", "moved")
        writing = kind == "modified" and self.closes  # data written, no close seen yet
        if seen is None or seen.signature != signature:
            self._seen[path] = _Seen(signature, now, closed, writing, changed=seen is not None)
        elif closed:
            seen.closed, seen.writing = True, False
        elif writing:
            seen.writing = True

    def scan(self, now: float) -> None:
        """Look at every file in the watched folders (events can be lost)."""
        for folder in self.watched():
            try:
                entries = list(os.scandir(folder))
            except OSError:  # gone or unreadable: the next folders are still scanned
                continue
            for entry in entries:
                self.note(Path(entry.path), now)

    def ready(self, now: float) -> list[Candidate]:
        """Return the files complete now, and forget them."""
        found = []
        for path, seen in list(self._seen.items()):
            signature = _signature(path)
            if signature is None:
                del self._seen[path]
                continue
            if signature != seen.signature:  # written meanwhile: a writer's open file stays open
                self._seen[path] = _Seen(signature, now, writing=seen.writing, changed=True)
                continue
            ticket = path.name.endswith(SUFFIX)
            at_top = path.parent == self.root
            if at_top and not ticket:
                continue  # a document at the top waits for its ticket
            if _complete(seen, now, self.stable_seconds) or (
                ticket and not seen.writing and _whole_json(path)
            ):
                del self._seen[path]
                found.append(Candidate(path.parent, path.name, ticket))
        return found

    def stable(self, path: Path, now: float) -> bool:
        """Tell whether a file has kept its size and time for ``stable_seconds``."""
        signature = _signature(path)
        seen = self._seen.get(path)
        if signature is None:
            return False
        if seen is None or seen.signature != signature:
            writing = seen is not None and seen.writing
            self._seen[path] = _Seen(signature, now, writing=writing, changed=seen is not None)
            return False
        return _complete(seen, now, self.stable_seconds)

    def writing(self, path: Path, now: float) -> bool:
        """Tell whether a file is seen being written: written to and not closed since
        (inotify), or changed within the last ``stable_seconds`` (polling)."""
        seen = self._seen.get(path)
        if seen is None or seen.closed:
            return False
        if self.closes:  # inotify: writes and closes are seen as they happen
            return seen.writing
        return seen.changed and now - seen.since < self.stable_seconds

    def forget(self, path: Path) -> None:
        """Stop tracking a file (claimed, or found to be no job)."""
        self._seen.pop(path, None)

    def _ignored(self, path: Path) -> bool:
        name = path.name
        return name.startswith(".") or (path.parent == self.root and name in RESERVED)


def _complete(seen: _Seen, now: float, stable_seconds: float) -> bool:
    if seen.closed:
        return True
    if seen.writing:  # a writer has it open: it may only be pausing
        return False
    return now - seen.since >= stable_seconds


#: Larger tickets (a long recipient list) wait for ``stable_seconds`` instead of being read
#: at every look.
WHOLE_JSON_BYTES = 64 * 1024


def _whole_json(path: Path) -> bool:
    """Tell whether a ticket holds one complete JSON object (read safely, size-capped)."""
    try:
        data = read_ticket_bytes(path, WHOLE_JSON_BYTES)
    except (OSError, DocumentError):
        return False
    if len(data) > WHOLE_JSON_BYTES:
        return False
    try:
        return isinstance(json.loads(data), dict)
    except (ValueError, RecursionError):  # cut short, too deep, or not JSON: the job says
        return False


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        info = path.lstat()
    except OSError:
        return None
    if path.is_dir() and not path.is_symlink():
        return None
    return (info.st_size, info.st_mtime_ns)
