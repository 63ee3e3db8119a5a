"""A printer job handed to the service, written down with the standard library alone.

Every printed job starts a Python process; when ``faxprint serve`` runs, that process only
writes the job down and hands it over, so what it imports is what every job pays for
(nothing of requests, pypdf or faxprint's core). This module is the hand-off's half of
the queue's format; :mod:`faxprint.service.queue` reads it back (a test keeps the two
the same).
"""

from __future__ import annotations

import _sqlite3  # sqlite3's C core: the package imports datetime and more
import os
import time

from faxprint.link.wire import dumps

#: How long the hand-off waits for the journal's lock (the service writes to it too).
BUSY_TIMEOUT = 30.0


def cups_key(printer: str, job_id: str, ident: str) -> str:
    """A printer job's key in the journal (as :meth:`faxprint.outcome.JobKey.cups`)."""
    return f"cups:{printer}:{job_id}:{ident}"


def lane(kind: str, user: str) -> str:
    """Whose turn a job waits for (as :func:`faxprint.service.queue.lane`)."""
    return f"{kind}:{user}"


def print_spec(
    *,
    options: str,
    job_id: str,
    printer: str,
    user: str,
    title: str,
    documents: list[str],
    content_type: str,
) -> str:
    """What the service needs to plan a printer job into faxes, as the queue keeps it."""
    return dumps({
        "options": options, "job_id": job_id, "printer": printer, "user": user,
        "title": title, "documents": documents, "content_type": content_type,
    })  # fmt: skip


def new_folder(journal: str | os.PathLike[str]) -> str:
    """A fresh private folder in the queue for one job's documents."""
    root = os.path.join(os.path.dirname(os.fspath(journal)), "queue")
    try:  # noqa: SIM105 (contextlib costs every printed job some milliseconds to import)
        os.mkdir(root, 0o700)
    except FileExistsError:
        pass
    folder = os.path.join(root, os.urandom(8).hex())
    os.mkdir(folder, 0o700)
    return folder


def enqueue_print(
    journal: str | os.PathLike[str], key: str, account: str, lane: str, spec: str, folder: str
) -> bool:
    """Write the job into the queue, durably (the journal's own settings: WAL, full sync);
    False when it is queued already (cupsd ran the job again)."""
    db = _sqlite3.connect(os.fspath(journal), timeout=BUSY_TIMEOUT, isolation_level=None)
    try:
        db.execute("PRAGMA synchronous=FULL")
        db.execute("BEGIN IMMEDIATE")
        cursor = db.execute(
            "INSERT OR IGNORE INTO work (key, kind, account, lane, spec, folder, not_before,"
            " queued, owner, taken) VALUES (?, 'print', ?, ?, ?, ?, 0, ?, '', 0)",
            (key, account, lane, spec, folder, time.time()),
        )
        db.execute("COMMIT")
        return cursor.rowcount == 1
    finally:
        db.close()


def fsync_folder(folder: str) -> None:
    """Make a folder's new files survive a crash (their data is synced by the writer)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def withdraw(journal: str | os.PathLike[str], key: str) -> bool:
    """Take a printer job no one has begun back out of the queue (cancelled while the
    service could not be asked); its folder goes too. False: it was not there, or the
    service had taken it (then the service's own cancel decides)."""
    db = _sqlite3.connect(os.fspath(journal), timeout=BUSY_TIMEOUT, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        row = db.execute("SELECT folder FROM work WHERE key = ? AND kind = 'print' AND owner = ''",
                         (key,)).fetchone()  # fmt: skip
        db.execute("DELETE FROM work WHERE key = ? AND kind = 'print' AND owner = ''", (key,))
        db.execute("COMMIT")
    finally:
        db.close()
    if row is None:
        return False
    remove(row[0])
    return True


def remove(folder: str) -> None:
    """Remove a job's folder of spooled files (flat: the hand-off writes no subfolder)."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return
    for name in names:
        try:  # noqa: SIM105 (no contextlib: see new_folder)
            os.unlink(os.path.join(folder, name))
        except FileNotFoundError:
            pass
    try:  # noqa: SIM105
        os.rmdir(folder)
    except OSError:  # something unexpected in it: left for a person
        pass
