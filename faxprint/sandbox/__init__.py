"""The sandbox: a strict, local FaxOut server to try faxprint against and to test it with.

It shares no parsing or encoding code with faxprint's client, only the constants in
``faxprint.protocol``, so a bug cannot hide by being copied into both sides.

Modules: ``headers`` (header-value grammar), ``parser`` (streaming multipart),
``intake`` (body to parts, attachments spooled to disk), ``rules`` (the result code),
``accounts``, ``store`` (fax folders, request log), ``faults`` (and the FaxOut side's
optional rate limit, an assumption of the sandbox's own), ``connections``,
``handler`` (HTTP), ``exchange`` (what the HTTP modules know of each other), ``server``
(SandboxServer), ``command`` (``faxprint sandbox``).
The RingCentral REST side, written from RingCentral's documentation alone: ``rest``
(RestService, its state and sources), ``rest_oauth`` (apps, tokens, sessions),
``rest_fax`` (the fax call's rules), ``rest_messages`` (the message store), ``rest_limits``
(rate limits), ``rest_replies`` (error bodies, the log's records), ``rest_paths``, ``rest_http``
(HTTP), ``pdf`` (page counts).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faxprint.sandbox.accounts import (
        DEFAULT_ACCOUNTS,
        Account,
        SandboxConfigError,
        load_accounts,
    )
    from faxprint.sandbox.command import add_arguments, run
    from faxprint.sandbox.faults import Fault, FaultKind, FaultQueue
    from faxprint.sandbox.rules import DEFAULT_COVER_PAGES, Decision
    from faxprint.sandbox.server import SandboxServer, is_loopback
    from faxprint.sandbox.store import RequestRecord, StoredFax

# Loaded on first use: `faxprint` builds its parser from the sandbox's command module,
# and every other command need not pay for an HTTP server it does not start.
_WHERE = {
    "DEFAULT_ACCOUNTS": "accounts", "Account": "accounts", "SandboxConfigError": "accounts",
    "load_accounts": "accounts", "add_arguments": "command", "run": "command",
    "Fault": "faults", "FaultKind": "faults", "FaultQueue": "faults",
    "DEFAULT_COVER_PAGES": "rules", "Decision": "rules", "SandboxServer": "server",
    "is_loopback": "server", "RequestRecord": "store", "StoredFax": "store",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_ACCOUNTS",
    "DEFAULT_COVER_PAGES",
    "Account",
    "Decision",
    "Fault",
    "FaultKind",
    "FaultQueue",
    "RequestRecord",
    "SandboxConfigError",
    "SandboxServer",
    "StoredFax",
    "add_arguments",
    "is_loopback",
    "load_accounts",
    "run",
]
