"""``faxprint serve``: the resident service that owns sending (:mod:`faxprint.service`).

It runs until SIGTERM or SIGINT; the first lets the sends in hand finish, a second leaves
at once (what is left waits in the queue, and the next start takes it up, sending nothing
twice). Run it as the journal's owner (``lp`` on a print server: contrib/faxprint.service).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal

from faxprint.cli.base import Command, ConfigSource
from faxprint.cli.exits import EX_INTERRUPTED

logger = logging.getLogger("faxprint")


def run(args: argparse.Namespace, config: ConfigSource) -> int:
    """Serve the configured journal until stopped."""
    from faxprint.logfmt import event
    from faxprint.service.daemon import Service

    settings = config.load()
    workers = args.workers or settings.service.workers
    service = Service(settings, workers=workers, printer_wait=settings.service.printer_wait)

    def stop(signum: int, frame: object) -> None:
        if service.stopping.is_set():
            event(logger, logging.WARNING, "leaving", reason="a second signal",
                  message="what is left waits in the queue for the next start")  # fmt: skip
            os._exit(EX_INTERRUPTED)
        event(logger, logging.WARNING, "stopping",
              message="finishing the sends in hand (signal again to leave now)")  # fmt: skip
        service.stopping.set()
        service.scheduler.wake.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    service.run()
    return 0


def run_auth_helper(args: argparse.Namespace, config: ConfigSource) -> int:
    """Answer the outbox's password checks, as root (:mod:`faxprint.web.auth`)."""
    from pathlib import Path

    from faxprint.cli.exits import say
    from faxprint.web.auth import Helper

    if os.geteuid() != 0:
        return say("the sign-in helper checks other users' passwords: run it as root "
                   "(contrib/faxprint-auth.socket)", 77)  # fmt: skip
    try:
        helper = Helper(service=args.pam_service, group=args.group)
    except KeyError:
        return say(f"no group {args.group!r}", 78)
    try:
        server = helper.listen(Path(args.socket))
    except OSError as exc:
        return say(f"the sign-in helper cannot listen on {args.socket}: {exc}", 73)

    def stop(signum: int, frame: object) -> None:
        helper.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    helper.serve(server)
    return 0


def _helper_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--socket", default="/run/faxprint/auth.sock",
                        help="where to listen (default /run/faxprint/auth.sock)")  # fmt: skip
    parser.add_argument("--group", default="lp", help="the group that may ask (default lp)")
    parser.add_argument("--pam-service", default="cups",
                        help="the PAM service that checks (default cups, as cupsd)")  # fmt: skip


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers", type=int, help="faxes sent at once (default: [service] workers)"
    )


COMMANDS = (
    Command(
        "serve", run, _arguments,
        help="the resident service: sends what is queued, paced and in turn (a service)",
        description="Send every queued fax (from the printer, the hot folder and `faxprint "
        "send --queue`), within each account's rate, users in turn; run the configured "
        "hot folder; follow deliveries. Run it as the journal's owner (lp on a print "
        "server); the printer hands its jobs to it and sends them itself when it is down.",
    ),
    Command(
        "auth-helper", run_auth_helper, _helper_arguments,
        help="check outbox sign-ins against PAM, as root (a service)",
        description="The one part of the outbox that runs as root: it answers whether a "
        "password is a user's (PAM service cups, as cupsd checks them), on a socket only "
        "root and the lp group may open, refusing a user's checks for a while after five "
        "failures. contrib/faxprint-auth.socket starts it.",
    ),
)  # fmt: skip
