"""Who is sending a job: a process named so that a reused pid is not mistaken for it.

The journal marks a job ``sending`` with its sender's identity, and the hot folder marks
its claims the same way: a job whose sender is alive is left alone, one whose sender died
is known to be interrupted.

On this server a process is alive while its pid names the same process (its start time
tells a reused pid apart). A process on another server (several servers share a
PostgreSQL journal and a hot folder on a network share) cannot be looked at: it holds a
**lease** in the journal that it renews every :data:`RENEW` seconds while it runs
(:class:`faxprint.journal` ``renew_lease``; ``faxprint serve`` and ``faxprint watch`` do),
and is taken for dead :data:`LEASE_SECONDS` after its last renewal, when the other
servers take its work over. A process elsewhere that holds no lease (a printer backend,
a ``faxprint send``: short-lived, they renew none) is presumed alive for :data:`LEASE`
after its job last changed, as before leases.

Servers are told apart by host name; servers that share one (containers) are given
names of their own with ``$FAXPRINT_SERVER``.
"""

from __future__ import annotations

import os
import socket
import time

LEASE = 3600.0  # how long a sender on another host, holding no lease, is presumed alive
LEASE_SECONDS = 30.0  # a lease not renewed for this long: its holder is dead
RENEW = LEASE_SECONDS / 3  # how often a holder renews its lease


#: When this process last renewed its lease (monotonic), if it keeps one.
_RENEWED: list[float] = []


def note_renewed() -> None:
    """Record that this process's lease was just renewed."""
    _RENEWED[:] = [time.monotonic()]


def lapsed() -> bool:
    """Whether this process keeps a lease it has not renewed for long enough that other
    servers may soon take it for dead: then it starts no upload (a server cut off from
    the journal but not from the fax service must not send what another takes over)."""
    return bool(_RENEWED) and time.monotonic() - _RENEWED[0] > LEASE_SECONDS - RENEW


def server_name() -> str:
    """This server's name in the journal: ``$FAXPRINT_SERVER``, else the host name."""
    return os.environ.get("FAXPRINT_SERVER") or socket.gethostname()


def process_identity(pid: int) -> str:
    """Name a process so that a reused pid is not mistaken for it: host, pid, start time."""
    return f"{server_name()}:{pid}:{_start_time(pid)}"


def server_of(owner: str) -> str:
    """The server an identity names ("" for none)."""
    return owner.partition(":")[0]


def _start_time(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stream:
            return stream.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


def owner_alive(owner: str, updated: float, now: float, renewed: float | None = None) -> bool:
    """Tell whether the process that marked a job ``sending`` may still be sending it.
    ``renewed``: when its lease was last renewed, if it holds one."""
    host, _, rest = owner.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != server_name():
        if renewed is not None:
            return now - renewed < LEASE_SECONDS
        return now - updated < LEASE
    if not pid_text.isdigit():
        return False
    return process_identity(int(pid_text)) == owner and started != "?"
