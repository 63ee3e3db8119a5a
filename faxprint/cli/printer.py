"""``faxprint install`` and ``uninstall``: the Fax printer on this server's cupsd (the one
CUPS_SERVER names), set up with the account of the config the command line was given."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from faxprint.cli.base import Command, ConfigSource
from faxprint.cli.exits import EX_TEMPFAIL, say


def run_install(args: argparse.Namespace, config: ConfigSource) -> int:
    """Install the backend and the queue."""
    from faxprint.cups import install as setup

    plan = setup.Plan(
        name=args.name,
        account=args.account,
        backend_dir=args.backend_dir or setup.cups_backend_dir(),
        shared=args.shared,
        fax_type=args.fax_type,
        location=args.location,
    )
    settings = config.load()
    return _admin(lambda: setup.install(plan, settings),
                  f"queue {plan.name} is installed; nothing to change")  # fmt: skip


def run_uninstall(args: argparse.Namespace, config: ConfigSource) -> int:
    """Remove the queue (and the backend once no queue uses it)."""
    from faxprint.cups import install as setup

    backend_dir = args.backend_dir or setup.cups_backend_dir()
    return _admin(lambda: setup.uninstall(args.name, backend_dir), "nothing to remove")


def _admin(work: Callable[[], list[str]], unchanged: str) -> int:
    import cups

    try:
        changes = work()
    except (cups.IPPError, RuntimeError) as exc:
        return say(f"CUPS refused: {exc}", EX_TEMPFAIL)
    for change in changes or [unchanged]:
        print(f"faxprint: {change}")
    return 0


def _install_arguments(install: argparse.ArgumentParser) -> None:
    install.add_argument("--name", default="Fax", help="queue name (default: Fax)")
    install.add_argument("--account", default="default", help="account the queue sends with")
    install.add_argument("--backend-dir", type=Path, help="cupsd's backend folder")
    install.add_argument("--location", default="", help="printer location shown to users")
    install.add_argument("--shared", action="store_true", help="share the queue on the network")
    install.add_argument("--fax-type", action="store_true",
                         help="mark the queue as a fax (macOS-style fax dialogs; hides it "
                         "from Chrome and Electron programs)")  # fmt: skip


def _uninstall_arguments(uninstall: argparse.ArgumentParser) -> None:
    uninstall.add_argument("--name", default="Fax", help="queue name (default: Fax)")
    uninstall.add_argument("--backend-dir", type=Path, help="cupsd's backend folder")


COMMANDS = (
    Command("install", run_install, _install_arguments,
            help="add the Fax printer to CUPS (as root)"),
    Command("uninstall", run_uninstall, _uninstall_arguments,
            help="remove the Fax printer from CUPS"),
)  # fmt: skip
