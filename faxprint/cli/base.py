"""What every command is: a name, its arguments, and ``run(args, config)``; and the
configuration the command line was given, read once, when a command first asks for it."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faxprint.config import Config


class ConfigSource:
    """The config file ``--config`` named (else $FAXPRINT_CONFIG, else the default),
    read once. Commands that need no config never read it; ``doctor`` reads it to say
    what is wrong with it."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._loaded: Config | None = None

    def load(self) -> Config:
        """Return the configuration; raise ConfigError if it cannot be used."""
        if self._loaded is None:
            from faxprint import config as configuration

            self._loaded = configuration.load(self.path)
        return self._loaded


Run = Callable[[argparse.Namespace, ConfigSource], int]


@dataclass(frozen=True)
class Command:
    """One subcommand of ``faxprint``: its name, what runs it and its arguments."""

    name: str
    run: Run
    add_arguments: Callable[[argparse.ArgumentParser], None]
    help: str
    description: str | None = None
    preformatted: bool = field(default=False)  # the description's lines are kept as written
