"""``faxprint doctor``'s look at ``faxprint serve``: is one running on the journal, does it
answer, is its socket private, and does anything wait in its queue without it."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from faxprint.cli.doctor.report import Check, Context, fail, ok
from faxprint.config import Config
from faxprint.errors import FaxPrintError


def service_pid(journal: Path) -> int | None:
    """The pid of the service answering on the journal's socket; None if none answers."""
    from faxprint.link import wire

    connection = wire.connect(wire.socket_path(journal), timeout=5.0)
    if connection is None:
        return None
    with connection:
        try:
            wire.send(connection, {"op": "ping"})
            answer = next(wire.messages(connection), {})
        except (OSError, wire.WireError):
            return None
    pid = answer.get("pid") if answer.get("event") == "pong" else None
    return pid if isinstance(pid, int) else None


def check_service(context: Context) -> Iterator[Check]:
    """The service: running and private, or not running with nothing waiting for it."""
    if context.settings is None:
        return
    from faxprint.link import wire

    journal = Path(context.settings.journal)
    pid = service_pid(journal)
    if pid is None:
        yield from _without_service(context.settings)
        return
    info = os.stat(wire.socket_path(journal))
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        yield fail("service", f"faxprint serve (pid {pid}) answers on a socket of mode "
                   f"{mode:o}: others could hand it jobs", "restart faxprint serve")  # fmt: skip
        return
    yield ok("service", f"faxprint serve running (pid {pid}), socket private (mode {mode:o})")


def _without_service(settings: Config) -> Iterator[Check]:
    waiting = 0
    if settings.has_journal:
        from faxprint.journal import open_journal

        try:
            with open_journal(settings) as opened:
                waiting = len(opened.work())
        except FaxPrintError:
            waiting = 0  # the journal check says what is wrong with it
    if waiting:
        fix = "systemctl enable --now faxprint (contrib/faxprint.service)"
        yield fail("service", f"no faxprint serve is running and {waiting} queued item(s) "
                   "wait for one", fix)  # fmt: skip
    else:
        yield ok("service", "not running: each printed job is sent by its backend")
