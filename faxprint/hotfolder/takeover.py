"""Whose a claim in ``processing/`` is, and taking a dead watcher's over.

A claim names its owner (:mod:`faxprint.lease`): one on this server is alive while its
process runs; one on another server (a hot folder on a network share, a journal several
servers share) while its lease is renewed. A dead owner's claim is taken over by one
watcher only: the first to make a marker named after the dead owner, exclusively
(``O_EXCL``: atomic on a local disk, and on NFS from version 3 on). The marker stays, so
that a watcher that read the old owner too finds it made.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping
from pathlib import Path

from faxprint.lease import LEASE_SECONDS, owner_alive

MARKER = ".taken-"


def alive(claim_file: Path, owner: str, leases: Mapping[str, float]) -> bool:
    """Whether the owner of a claim (its ``claim.json``) may still be working on it."""
    if not owner:
        return False
    try:
        since = claim_file.stat().st_mtime
    except OSError:
        return False
    return owner_alive(owner, since, time.time(), leases.get(owner))


def young(path: Path) -> bool:
    """Whether a claim folder was made less than a lease ago (or cannot be looked at):
    one without a whole claim.json may be another server's, being made this moment."""
    try:
        return time.time() - path.stat().st_mtime < LEASE_SECONDS
    except OSError:
        return True


def marked(path: Path, dead: str) -> bool:
    """Make the marker of taking over ``dead``'s claim; False when another made it first
    (or the folder is gone: filed meanwhile)."""
    marker = path / f"{MARKER}{hashlib.sha256(dead.encode()).hexdigest()[:16]}"
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError:
        return False
    return True
