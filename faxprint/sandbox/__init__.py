"""The sandbox: a strict, local FaxOut server to try faxprint against and to test it with.

It shares no parsing or encoding code with faxprint's client, only the constants in
``faxprint.protocol``, so a bug cannot hide by being copied into both sides.

Modules: ``headers`` (header-value grammar), ``parser`` (streaming multipart),
``intake`` (body to parts, attachments spooled to disk), ``rules`` (the result code),
``accounts``, ``store`` (fax folders, request log), ``faults``, ``connections``,
``handler`` (HTTP), ``server`` (SandboxServer), ``command`` (``faxprint sandbox``).
"""

from __future__ import annotations

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
