"""``faxprint sandbox``: the local FaxOut and REST server to try faxprint with
(:mod:`faxprint.sandbox.command` runs it; it reads no faxprint config)."""

from __future__ import annotations

import argparse

from faxprint.cli.base import Command, ConfigSource
from faxprint.sandbox import command


def run(args: argparse.Namespace, config: ConfigSource) -> int:
    """Serve until SIGTERM or SIGINT."""
    return command.run(args)


COMMANDS = (
    Command("sandbox", run, command.add_arguments,
            help="run a local FaxOut server to try faxprint"),
)  # fmt: skip
