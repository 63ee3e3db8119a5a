"""``faxprint watch``: serve a hot folder until SIGTERM or SIGINT (a second one leaves at
once; unfinished jobs resume at the next start)."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
from pathlib import Path

from faxprint.cli.base import Command, ConfigSource
from faxprint.cli.exits import EX_INTERRUPTED
from faxprint.errors import ConfigError

logger = logging.getLogger("faxprint")


def run(args: argparse.Namespace, config: ConfigSource) -> int:
    """Watch the folder and fax what is dropped into it."""
    from faxprint.hotfolder.service import HotFolder
    from faxprint.hotfolder.settings import from_table
    from faxprint.logfmt import event

    settings = config.load()
    folder = from_table(settings.hotfolder)
    if args.polling:
        folder = dataclasses.replace(folder, polling=True)
    if args.concurrency is not None:
        if args.concurrency < 1:
            raise ConfigError("--concurrency must be at least 1")
        folder = dataclasses.replace(folder, concurrency=args.concurrency)
    root = args.dir or folder.path
    if root is None:
        raise ConfigError("no folder to watch: give DIR, or set [hotfolder] path")
    service = HotFolder(settings, folder, Path(root))

    def stop(signum: int, frame: object) -> None:
        if service.stopping.is_set():
            event(logger, logging.WARNING, "leaving", reason="a second signal",
                  message="unfinished jobs resume at the next start")  # fmt: skip
            os._exit(EX_INTERRUPTED)
        event(logger, logging.WARNING, "stopping",
              message="finishing the uploads in hand (signal again to leave now)")  # fmt: skip
        service.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"faxprint: watching {root}", flush=True)
    service.run()
    return 0


def _arguments(watch: argparse.ArgumentParser) -> None:
    watch.add_argument("dir", nargs="?", type=Path,
                       help="the hot folder (default: [hotfolder] path)")  # fmt: skip
    watch.add_argument("--polling", action="store_true", help="poll (for network shares)")
    watch.add_argument("--concurrency", type=int, help="uploads at once")


COMMANDS = (
    Command("watch", run, _arguments, help="fax what is dropped into a folder (a service)"),
)
