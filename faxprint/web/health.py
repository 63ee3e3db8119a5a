"""The admins' health panel: the service, each account (paused by its rate, jobs that wait
for a person) and each faxprint queue in CUPS, as the service sees them now."""

from __future__ import annotations

import os
import time
from typing import Any

from faxprint import config as configuration
from faxprint.journal import Filter, State, open_journal

STARTED = time.time()


def health(settings: configuration.Config) -> dict[str, Any]:
    """What the panel shows (and ``GET /api/health`` gives)."""
    return {"service": {"pid": os.getpid(), "up_seconds": round(time.time() - STARTED)},
            "accounts": _accounts(settings), "queues": _queues()}  # fmt: skip


def _accounts(settings: configuration.Config) -> list[dict[str, Any]]:
    from faxprint.pacing import pacer_for
    from faxprint.transports import state_folder

    waiting: dict[str, int] = {}
    doubtful: dict[str, int] = {}
    if settings.has_journal:
        with open_journal(settings) as journal:
            for item in journal.work():
                waiting[item.account] = waiting.get(item.account, 0) + 1
            states = (State.UNCERTAIN, State.UNADDRESSED)
            for job in journal.search(Filter(states=states), 10_000):
                doubtful[job.account] = doubtful.get(job.account, 0) + 1
    shown = []
    for name, account in sorted(settings.accounts.items()):
        rate = account.pace()
        pacer = pacer_for(name, rate, state_folder(settings.journal, os.geteuid()), settings)
        pause = pacer.wait() if rate else 0.0
        shown.append({"name": name, "transport": account.transport,
                      "rate": str(pacer.current()) if rate else "none",
                      "paused_seconds": round(pause, 1), "queued": waiting.get(name, 0),
                      "waiting_for_a_person": doubtful.get(name, 0)})  # fmt: skip
    return shown


def _queues() -> list[dict[str, Any]]:
    """The faxprint queues cupsd has, with their state (nothing if cupsd cannot say)."""
    try:
        import cups

        printers = cups.Connection().getPrinters()
    except (ImportError, RuntimeError) as exc:
        return [{"name": "?", "state": f"CUPS cannot be asked: {exc}"}]
    states = {3: "idle", 4: "printing", 5: "stopped"}
    return [{"name": name, "account": str(p.get("device-uri", "")).removeprefix("faxprint://"),
             "state": states.get(int(p.get("printer-state", 0)), "?"),
             "message": str(p.get("printer-state-message", "")),
             "accepting": bool(p.get("printer-is-accepting-jobs", False))}
            for name, p in sorted(printers.items())
            if str(p.get("device-uri", "")).startswith("faxprint:")]  # fmt: skip
