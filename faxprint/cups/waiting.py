"""The documents of a printer job that waits for an address, kept beside the journal
(``waiting/``) while it waits: the outbox previews them. The service keeps them when it
holds such a job and drops them when the job is planned again or cancelled."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path


def waiting_folder(journal: Path, key: str) -> Path:
    """Where a printer job that waits for an address keeps its documents (the outbox
    previews them), named by a digest of its key."""
    return journal.parent / "waiting" / hashlib.sha256(key.encode()).hexdigest()[:32]


def keep_waiting(folder: str, journal: Path, key: str) -> None:
    """Keep an unaddressed printer job's documents (its queue folder moves) until it is
    addressed again, cancelled or expired."""
    target = waiting_folder(journal, key)
    target.parent.mkdir(mode=0o700, exist_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(folder, target)


def forget_waiting(journal: Path, key: str) -> None:
    """Remove what :func:`keep_waiting` kept of ``key`` (nothing if nothing)."""
    shutil.rmtree(waiting_folder(journal, key), ignore_errors=True)
