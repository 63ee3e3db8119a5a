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

import _signal  # type: ignore[import-not-found]  # signal's C core (signal imports enum)
import os
import sys
import time

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
    remove,
    withdraw,
)

TYPE_CHECKING = False  # every printed job imports this: typing only for the checker
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any, BinaryIO, TextIO

    from faxprint.link.wire import Client

DEFAULT_CONFIG = "/etc/faxprint/faxprint.toml"  # as faxprint.config's
SYSTEM_JOURNAL = "/var/spool/faxprint/journal.sqlite"
SIGTERM = 15  # as on every Linux (the signal module would say so, at a price)
OK, RETRY, CANCEL = 0, 6, 5
#: Seconds a backend waits for a service that went away to be back (systemd restarts it).
RECONNECT = 15.0
#: Seconds a cancelled backend waits for the verdict (an upload all sent ends first).
CANCEL_WAIT = 120.0


class _Cancelled(Exception):
    """cupsd cancelled the job (SIGTERM) while its verdict was awaited."""


def main(argv: Sequence[str], env: Mapping[str, str], stdin: BinaryIO,
         stderr: TextIO | None = None) -> int:  # fmt: skip
    """Hand the job to the service if one answers; else send it here."""
    stderr = stderr or sys.stderr
    journal = journal_of(env) if len(argv) in (6, 7) else None
    account = _account(env.get("DEVICE_URI", ""))
    if journal is not None and account is not None:
        reached = wire.reach(wire.socket_path(journal), timeout=5.0)
        if not isinstance(reached, str):
            return _hand_off(reached, journal, account, argv, env, stdin, stderr)
        if reached:
            _say(stderr, f"WARNING: {reached}; this backend sends the fax itself")
        else:
            _say(stderr, "INFO: faxprint serve is not running; this backend sends the fax itself")
    if "site" not in sys.modules:  # run with -S: the full backend needs the packages
        import site

        site.main()
    from faxprint.cups.backend import main as send_here

    return send_here(argv, env, stdin, stderr=stderr)


def journal_of(env: Mapping[str, str]) -> str | None:
    """The journal the configuration names, read as :mod:`faxprint.config` reads it; None
    for anything this path does not read (the full backend then says what is wrong)."""
    if env.get("FAXPRINT_JOURNAL"):
        chosen = env["FAXPRINT_JOURNAL"]
        return chosen if os.path.isabs(chosen) else None
    config = env.get("FAXPRINT_CONFIG") or DEFAULT_CONFIG
    try:
        with open(config, encoding="utf-8") as stream:
            text = stream.read()
    except FileNotFoundError:  # no file: the embedded default's (for the backend's lp)
        return SYSTEM_JOURNAL if not env.get("FAXPRINT_CONFIG") and _system_user() else None
    except (OSError, ValueError):
        return None
    value = top_level_string(text, "journal")
    if value is None:
        return SYSTEM_JOURNAL if _system_user() else None
    if not value or ":" in value.split("/", 1)[0]:
        return None
    path = os.path.expanduser(value)
    return path if os.path.isabs(path) else os.path.join(os.path.dirname(config), path)


def top_level_string(text: str, name: str) -> str | None:
    """The string value of a top-level key of a TOML document, as tomllib reads it (None:
    not there; "": not a plain string, so this path does not use it). The common forms
    are read here; anything else is left to tomllib, imported only then."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            return None  # the top level ends at the first table
        key, equals, value = stripped.partition("=")
        if equals and key.strip() == name:
            value = value.strip()
            for quote in ('"', "'"):
                if (len(value) >= 2 and value[0] == quote and value.count(quote) == 2
                        and value.endswith(quote) and "\\" not in value):  # fmt: skip
                    return value[1:-1]
            break
    else:
        return None
    import tomllib  # a form the lines above do not read: tomllib decides

    try:
        found = tomllib.loads(text).get(name)
    except tomllib.TOMLDecodeError:
        return ""
    return found if isinstance(found, str) or found is None else ""


def _system_user() -> bool:
    import pwd

    try:
        return os.geteuid() in (0, pwd.getpwnam("lp").pw_uid)
    except KeyError:
        return os.geteuid() == 0


def _account(uri: str) -> str | None:
    """The account a ``faxprint://NAME`` device URI names (None: anything else, which the
    full backend reads and judges)."""
    scheme, colon, rest = uri.partition(":")
    if scheme != "faxprint" or not colon or any(c in rest for c in "@?#"):
        return None
    name = rest.removeprefix("//").strip("/")
    if "%" in name:
        from urllib.parse import unquote

        name = unquote(name)
    return name or "default"


def _hand_off(
    connection: Client, journal: str, account: str, argv: Sequence[str],
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
        names = [os.path.basename(p) for p in spooled.paths]
        spec = print_spec(options=options, job_id=job_id, printer=env.get("PRINTER", ""),
                          user=user, title=title, documents=names,
                          content_type=env.get("CONTENT_TYPE", ""))  # fmt: skip
        again = not enqueue_print(journal, key, account, lane("cups", user), spec, folder)
        if again:  # queued already: cupsd runs the job again (a person released it)
            remove(folder)
    except Exception as exc:  # nothing handed over: cupsd keeps the job and runs it again
        connection.close()
        remove(folder)
        _say(stderr, f"WARNING: the job could not be queued for faxprint serve ({exc}); "
                     "cupsd tries again")  # fmt: skip
        return RETRY
    return _wait(connection, journal, key, again, stderr)


def _wait(connection: Client, journal: str, key: str, release: bool, stderr: TextIO) -> int:
    """Announce the job (``release``: run again, so a fax of it held for a person is to
    be sent again), and say what the service says of it. A service that restarts
    meanwhile is asked again once it is back (not a release: a listener again); one that
    stays away leaves the job in its queue, and the CUPS job ends saying so (cupsd running
    it again by itself could not tell a person's release from its own retry)."""

    def cancelled(signum: int, frame: Any) -> None:
        raise _Cancelled

    previous = _signal.signal(SIGTERM, cancelled)
    asking: Client | None = connection
    try:
        while asking is not None:
            with asking:
                asking.settimeout(None)
                wire.send(asking, {"op": "queued", "key": key, "release": release})
                verdict = _verdict(asking, stderr)
            if verdict is not None:
                return verdict
            asking, release = _reconnect(journal), False
        _say(stderr, "WARNING: faxprint serve went away before the fax's verdict: the fax "
                     "waits in its queue and is sent when faxprint serve is back (`faxprint "
                     f"show {key}`)")  # fmt: skip
        return OK
    except _Cancelled:
        _signal.signal(SIGTERM, _signal.SIG_IGN)
        return _cancel(journal, key, stderr)
    finally:
        _signal.signal(SIGTERM, previous)


def _reconnect(journal: str) -> Client | None:
    """The service again, if it is back within RECONNECT seconds (restarted by systemd)."""
    deadline = time.monotonic() + RECONNECT
    while time.monotonic() < deadline:
        connection = wire.connect(wire.socket_path(journal), timeout=5.0)
        if connection is not None:
            return connection
        time.sleep(0.5)
    return None


def _verdict(connection: Client, stderr: TextIO) -> int | None:
    """The exit status the service's verdict gives; None if it went away first."""
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
    return None


def _cancel(journal: str, key: str, stderr: TextIO) -> int:
    """Ask the service to cancel the job (a new connection: the first one waits) and say
    how it ended (an upload all sent may be accepted all the same); without a service,
    take the job back out of the queue if no one has begun it."""
    asking = wire.connect(wire.socket_path(journal), timeout=10.0)
    said = None
    if asking is not None:
        with asking:
            try:
                wire.send(asking, {"op": "cancel", "key": key})
                said = next(wire.messages(asking), None)
            except (OSError, wire.WireError):
                said = None
    if said is not None:
        _say(stderr, f"INFO: Cancelling: {said.get('said', 'asked of faxprint serve')}")
        listening = wire.connect(wire.socket_path(journal), timeout=CANCEL_WAIT)
        if listening is not None:
            with listening:
                wire.send(listening, {"op": "queued", "key": key, "release": False})
                verdict = _verdict(listening, stderr)
            if verdict is not None:
                return verdict
    elif withdraw(journal, key):
        _say(stderr, "INFO: Fax cancelled before it was sent")
    else:
        _say(stderr, "WARNING: Fax cancelled here, but faxprint serve could not be asked: "
                     f"`faxprint cancel {key}` makes sure it is not sent")  # fmt: skip
    return CANCEL


def _say(stderr: TextIO, line: str) -> None:
    cleaned = "".join(ch if ch.isprintable() else " " for ch in line)[:2000]
    stderr.write(cleaned + "\n")
    stderr.flush()
