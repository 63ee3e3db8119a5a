"""``faxprint sandbox``: run the sandbox server until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import logging
import math
import re
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from faxprint.sandbox.accounts import SandboxConfigError, load_accounts

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8025
DEFAULT_STORE = Path("faxprint-sandbox")
# N/SECONDS, with the units faxprint's own [accounts.X] rate takes (read apart from it).
_RATE = re.compile(r"\s*([0-9]+)\s*/\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(s|m|min|h)?\s*")
_UNITS = {None: 1, "s": 1, "m": 60, "min": 60, "h": 3600}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the sandbox's options to parser."""
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"port to listen on, 0 for any free one (default {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--store",
        type=Path,
        default=DEFAULT_STORE,
        metavar="DIR",
        help=f"where accepted faxes and the request log go (default ./{DEFAULT_STORE})",
    )
    parser.add_argument(
        "--accounts",
        type=Path,
        metavar="FILE",
        help="TOML file of accounts, replacing the built-in 15555550100 and 15555550199",
    )
    parser.add_argument(
        "--delay",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="wait this long before every answer, to imitate a slow service",
    )
    parser.add_argument(
        "--faxout-rate",
        metavar="N/SECONDS",
        help="answer FaxOut requests beyond N in any SECONDS (2/10, 2/10s, 2/1m) with HTTP 429"
        " and Retry-After (FaxOut documents no rate limit: this is the sandbox's assumption)",
    )
    parser.add_argument(
        "--cover-pages",
        type=_names,
        metavar="NAME,NAME",
        help="cover page names to accept (default Default,None,Confidential,Urgent)",
    )
    parser.add_argument(
        "--public",
        action="store_true",
        help="allow a --host that is not loopback (the sandbox's passwords are public)",
    )


def run(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT (a second one drops requests in hand); return 0."""
    from faxprint.sandbox.server import SandboxServer  # the CLI starts without it

    try:
        accounts = None if args.accounts is None else load_accounts(args.accounts)
        rate = None if args.faxout_rate is None else faxout_rate(args.faxout_rate)
        server = SandboxServer(
            args.host,
            args.port,
            store=args.store,
            accounts=accounts,
            cover_pages=args.cover_pages,
            delay=args.delay,
            public=args.public,
            faxout_rate=rate,
        )
    except SandboxConfigError as exc:
        print(f"faxprint sandbox: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"faxprint sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            server.abort()
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with server:
            store = server.store.root.resolve()
            print(f"faxprint sandbox listening on {server.url} (store: {store})", flush=True)
            rest = server.url.removesuffix("/faxapi.asp")
            apps = "; ".join(f"app {app.client_id}, secret {app.client_secret}, JWT {app.jwt}"
                             for app in server.rest.apps.values())  # fmt: skip
            print(f"REST API at {rest} ({apps})", flush=True)
            if server.faxout_limit is not None:
                print(f"FaxOut rate limit: {server.faxout_limit}, then HTTP 429", flush=True)
            while not stop.wait(1.0):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def faxout_rate(text: str) -> tuple[int, float]:
    """Read --faxout-rate's N/SECONDS (or N/MINUTESm, N/HOURSh): N requests in any SECONDS."""
    match = _RATE.fullmatch(text)
    seconds = float(match[2]) * _UNITS[match[3]] if match else math.nan
    if match is None or int(match[1]) < 1 or not 0 < seconds < math.inf:
        raise SandboxConfigError(
            f"--faxout-rate {text!r} is not N/SECONDS with both above 0"
            " (2/10 or 2/10s: at most 2 FaxOut requests in any 10 seconds)"
        )
    return int(match[1]), seconds


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is not 0-65535")
    return port


def _seconds(text: str) -> float:
    seconds = float(text)
    if not seconds >= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds")
    return seconds


def _names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        raise argparse.ArgumentTypeError(f"{text!r} has an empty cover page name")
    return names
