"""The printer's thin path: when ``faxprint serve`` runs, a printed job is written down and
handed to it, and the backend only waits for the verdict.

This is what every printed job runs first, so it imports the standard library and a few
small modules of faxprint alone (no requests, no pypdf): the job's data is spooled into
the service's queue (synced to disk), the job is written into the journal's queue (one
transaction), and then announced on the service's socket. Killed at any moment after
that, the backend loses nothing: the service sends the job once. Without a service (no
socket, or one that does not answer), or for anything unusual, the full backend sends the
job itself, as always (:mod:`faxprint.cups.backend`).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TextIO
from urllib.parse import unquote, urlsplit

from faxprint.cups.options import option_values
from faxprint.cups.spool import spool
from faxprint.link import wire
from faxprint.link.handoff import (
    cups_key,
    enqueue_print,
    fsync_folder,
    lane,
    new_folder,
    print_spec,
)

DEFAULT_CONFIG = Path("/etc/faxprint/faxprint.toml")  # as faxprint.config's
SYSTEM_JOURNAL = Path("/var/spool/faxprint/journal.sqlite")
RETRY, CANCEL = 6, 5


class _Cancelled(Exception):
    """cupsd cancelled the job (SIGTERM) while its verdict was awaited."""


def main(argv: Sequence[str], env: Mapping[str, str], stdin: BinaryIO,
         stderr: TextIO | None = None) -> int:  # fmt: skip
    """Hand the job to the service if one answers; else send it here."""
    stderr = stderr or sys.stderr
    journal = journal_of(env) if len(argv) in (6, 7) else None
    account = _account(env.get("DEVICE_URI", ""))
    if journal is not None and account is not None:
        connection = wire.connect(wire.socket_path(journal), timeout=5.0)
        if connection is not None:
            with connection:
                return _hand_off(connection, journal, account, argv, env, stdin, stderr)
    from faxprint.cups.backend import main as send_here

    return send_here(argv, env, stdin, stderr=stderr)


def journal_of(env: Mapping[str, str]) -> Path | None:
    """The journal the configuration names, read as :mod:`faxprint.config` reads it; None
    for anything this path does not read (the full backend then says what is wrong)."""
    if env.get("FAXPRINT_JOURNAL"):
        chosen = Path(env["FAXPRINT_JOURNAL"])
        return chosen if chosen.is_absolute() else None
    config = Path(env["FAXPRINT_CONFIG"]) if env.get("FAXPRINT_CONFIG") else DEFAULT_CONFIG
    try:
        with config.open("rb") as stream:
            value = tomllib.load(stream).get("journal")
    except FileNotFoundError:  # no file: the embedded default's (for the backend's lp)
        return SYSTEM_JOURNAL if not env.get("FAXPRINT_CONFIG") and _system_user() else None
    except (OSError, tomllib.TOMLDecodeError):
        return None
    if value is None:
        return SYSTEM_JOURNAL if _system_user() else None
    if not isinstance(value, str) or ":" in value.split("/", 1)[0]:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else config.parent / path


def _system_user() -> bool:
    import pwd

    try:
        return os.geteuid() in (0, pwd.getpwnam("lp").pw_uid)
    except KeyError:
        return os.geteuid() == 0


def _account(uri: str) -> str | None:
    parts = urlsplit(uri)
    if parts.scheme != "faxprint" or "@" in parts.netloc:
        return None  # the full backend says why
    return unquote(parts.netloc or parts.path.strip("/")) or "default"


def _hand_off(
    connection: socket.socket, journal: Path, account: str, argv: Sequence[str],
    env: Mapping[str, str], stdin: BinaryIO, stderr: TextIO,
) -> int:  # fmt: skip
    job_id, user, title, options = argv[1], argv[2], argv[3], argv[5]
    given = [u.removeprefix("urn:uuid:") for u in option_values(options, "job-uuid")]
    uuid = given[-1] if given and given[-1].replace("-", "").isalnum() else ""
    folder = new_folder(journal)
    try:
        source: BinaryIO = open(argv[6], "rb") if len(argv) == 7 else stdin  # noqa: SIM115
        try:
            spooled = spool(source, folder, digest=not uuid, sync=True)
        finally:
            if source is not stdin:
                source.close()
        fsync_folder(folder)
        key = cups_key(env.get("PRINTER", ""), job_id, uuid or spooled.digest[:32])
        spec = print_spec(options=options, job_id=job_id, printer=env.get("PRINTER", ""),
                          user=user, title=title, documents=[p.name for p in spooled.paths],
                          content_type=env.get("CONTENT_TYPE", ""))  # fmt: skip
        if not enqueue_print(journal, key, account, lane("cups", user), spec, folder):
            shutil.rmtree(folder, ignore_errors=True)  # queued already: wait for it
    except Exception as exc:  # nothing handed over: cupsd keeps the job and runs it again
        shutil.rmtree(folder, ignore_errors=True)
        _say(stderr, f"WARNING: the job could not be queued for faxprint serve ({exc}); "
                     "cupsd tries again")  # fmt: skip
        return RETRY
    return _wait(connection, journal, key, stderr)


def _wait(connection: socket.socket, journal: Path, key: str, stderr: TextIO) -> int:
    """Announce the job, and say what the service says of it."""

    def cancelled(signum: int, frame: Any) -> None:
        raise _Cancelled

    previous = signal.signal(signal.SIGTERM, cancelled)
    try:
        connection.settimeout(None)
        wire.send(connection, {"op": "queued", "key": key})
        return _verdict(connection, stderr)
    except _Cancelled:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _cancel(journal, key)
        connection.settimeout(120.0)
        return _verdict(connection, stderr, cancelled=True)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _verdict(connection: socket.socket, stderr: TextIO, *, cancelled: bool = False) -> int:
    try:
        for message in wire.messages(connection):
            if message.get("event") == "verdict":
                for line in message.get("lines", []):
                    _say(stderr, str(line))
                return int(message.get("exit", RETRY))
            if message.get("event") == "error":
                _say(stderr, f"WARNING: faxprint serve: {message.get('message')}")
    except (OSError, wire.WireError, ValueError) as exc:
        _say(stderr, f"WARNING: no verdict from faxprint serve ({exc})")
    if cancelled:
        _say(stderr, "INFO: Fax cancelled")
        return CANCEL
    _say(stderr, "WARNING: faxprint serve went away before the fax's verdict; the job waits in "
                 "its queue, and cupsd asks again later")  # fmt: skip
    return RETRY


def _cancel(journal: Path, key: str) -> None:
    """Ask the service to cancel the job (a new connection: the first one waits)."""
    asking = wire.connect(wire.socket_path(journal), timeout=10.0)
    if asking is None:
        return
    with asking:
        try:
            wire.send(asking, {"op": "cancel", "key": key})
            next(wire.messages(asking), None)
        except (OSError, wire.WireError):
            return


def _say(stderr: TextIO, line: str) -> None:
    cleaned = "".join(ch if ch.isprintable() else " " for ch in line)[:2000]
    stderr.write(cleaned + "\n")
    stderr.flush()
