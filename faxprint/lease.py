"""Who is sending a job: a process named so that a reused pid is not mistaken for it.

The journal marks a job ``sending`` with its sender's identity, and the hot folder marks
its claims the same way: a job whose sender is alive is left alone, one whose sender died
is known to be interrupted.
"""

from __future__ import annotations

import socket

LEASE = 3600.0  # how long a sender on another host is presumed alive


def process_identity(pid: int) -> str:
    """Name a process so that a reused pid is not mistaken for it: host, pid, start time."""
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def _start_time(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stream:
            return stream.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


def owner_alive(owner: str, updated: float, now: float) -> bool:
    """Tell whether the process that marked a job ``sending`` may still be sending it."""
    host, _, rest = owner.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname():
        return now - updated < LEASE
    if not pid_text.isdigit():
        return False
    return process_identity(int(pid_text)) == owner and started != "?"
