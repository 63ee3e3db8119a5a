"""``faxprint doctor``: check a print server's faxprint, one line per check, and say how
to fix what fails.

Checks, in order: the config (parses; its permissions: readable by the backend's user,
not by others when it holds a password); each account's endpoint (DNS, TCP, TLS, and an
HTTP GET that sends no fax and no password); the CUPS backend (owner, mode, and that its
interpreter imports faxprint as lp); each faxprint queue (enabled, accepting, a known
account); the journal (the backend's user can write it); the hot folder (there, safe
permissions, a watcher running); and AppArmor or SELinux denials for faxprint or the
backend in the system logs. Checks of what lp may do need root (they run ``test`` as lp)
and are skipped otherwise. The exit status is 1 when any check fails.
"""

from __future__ import annotations

import argparse
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faxprint.errors import ConfigError
from faxprint.text import printable

BACKEND_USER = "lp"
SYSTEM_LOGS = (
    Path("/var/log/audit/audit.log"),
    Path("/var/log/kern.log"),
    Path("/var/log/syslog"),
    Path("/var/log/messages"),
)
_DENIAL = re.compile(r'apparmor="DENIED"|avc:\s+denied')


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    status: str  # "ok", "FAIL", "warn" or "skip"
    name: str
    detail: str
    fix: str = ""


@dataclass
class Context:
    """What the checks look at; tests point it at their own cupsd, folders and logs."""

    config: str | None = None
    backend_dir: Path | None = None
    logs: Sequence[Path] = SYSTEM_LOGS
    settings: Any = None  # the loaded Config, once the config check passed
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # tables as written


def ok(name: str, detail: str) -> Check:
    return Check("ok", name, detail)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check("FAIL", name, detail, fix)


def skip(name: str, detail: str) -> Check:
    return Check("skip", name, detail)


# -- the config -----------------------------------------------------------------------


def check_config(context: Context) -> Iterator[Check]:
    from faxprint import config as configuration

    try:
        settings = configuration.load(context.config)
    except ConfigError as error:
        yield fail("config", error.message, "fix the file: see the README's Configuration")
        return
    context.settings = settings
    if settings.source is None:
        yield Check("warn", "config", "no config file: test mode, faxes go to the local sandbox",
                    f"write {configuration.DEFAULT_CONFIG} (README: Configuration)")  # fmt: skip
        return
    source = Path(settings.source)
    names = ", ".join(settings.accounts)
    yield ok("config", f"{source} parses: accounts {names}; journal {settings.journal}")
    info = source.stat()
    context.accounts = _account_tables(source)
    holds_password = any(
        secret in table for table in context.accounts.values() for secret in configuration.SECRETS
    )
    if holds_password and info.st_mode & stat.S_IROTH:
        mode = stat.S_IMODE(info.st_mode)
        yield fail("config permissions", f"{source} holds a secret and every user can read "
                   f"it (mode {mode:o})", f"chown root:{BACKEND_USER} {source} && chmod 0640 "
                   f"{source}")  # fmt: skip
    elif (readable := user_can(BACKEND_USER, "-r", source)) is False:
        fix = f"chown root:{BACKEND_USER} {source} && chmod 0640 {source}"
        yield fail("config permissions", f"{BACKEND_USER} (who runs the backend) cannot read "
                   f"{source}", fix)  # fmt: skip
    elif readable is None:
        yield skip("config permissions", f"run as root to check that {BACKEND_USER} can read it")
    else:
        yield ok("config permissions", f"readable by {BACKEND_USER}"
                 + (", not by other users" if holds_password else ""))  # fmt: skip


def check_secrets(context: Context) -> Iterator[Check]:
    """Each account's secret files (``password_file``, ``client_secret_file``, ``jwt_file``):
    lp (who runs the backend) reads them, no one else does."""
    from faxprint.config import SECRETS

    if context.settings is None or context.settings.source is None:
        return
    files = [
        (name, key, table[f"{key}_file"])
        for name, table in context.accounts.items()
        for key in SECRETS
        if f"{key}_file" in table
    ]
    for name, key, path in files:
        secret = Path(str(path))
        check = f"secret {name}" + ("" if key == "password" else f" {key}")
        fix = f"chown root:{BACKEND_USER} {secret} && chmod 0640 {secret}"
        try:
            mode = stat.S_IMODE(secret.stat().st_mode)
        except OSError as exc:
            yield fail(check, f"{secret}: {exc.strerror}", fix)
            continue
        readable = user_can(BACKEND_USER, "-r", secret)
        if mode & stat.S_IROTH:
            yield fail(check, f"{secret} (mode {mode:o}) can be read by every user", fix)
        elif readable is False:
            yield fail(check, f"{BACKEND_USER} (who runs the backend) cannot read {secret}", fix)
        elif readable is None:
            yield skip(check, f"run as root to check that {BACKEND_USER} can read {secret}")
        else:
            yield ok(check, f"{secret} readable by {BACKEND_USER}, not by other users")


def _account_tables(config: Path) -> dict[str, dict[str, Any]]:
    """The config's [accounts.NAME] tables as written (what secrets each gives, and how)."""
    import tomllib

    try:
        accounts = tomllib.loads(config.read_text()).get("accounts", {})
    except (OSError, ValueError):
        return {}
    if not isinstance(accounts, dict):
        return {}
    return {name: table for name, table in accounts.items() if isinstance(table, dict)}


# -- the accounts' endpoints ----------------------------------------------------------


def check_accounts(context: Context) -> Iterator[Check]:
    if context.settings is None:
        yield skip("accounts", "the config did not load")
        return
    for account in context.settings.accounts.values():
        reached = probe(account)
        yield reached
        if account.transport == "ringcentral" and reached.status == "ok":
            yield grant(account)
    if any(a.transport == "ringcentral" for a in context.settings.accounts.values()):
        yield ghostscript()


def ghostscript() -> Check:
    """REST accounts fax PostScript as PDF, made by Ghostscript: is it there?"""
    import shutil

    found = shutil.which("gs")
    if found:
        return ok("ghostscript", f"{found}: PostScript is made PDF for REST accounts")
    return Check("warn", "ghostscript", "not installed: PostScript documents sent to a REST "
                 "account are refused", "apt-get install ghostscript")  # fmt: skip


def grant(account: Any) -> Check:
    """Get a token with a REST account's credentials: they work, and nothing is faxed.

    The token goes to a private temporary folder, not the backend's cache: the doctor
    changes nothing on the server."""
    import tempfile

    from faxprint.errors import AccountError, FaxPrintError
    from faxprint.transports.ringcentral import RingCentralTransport

    name = f"credentials {account.name}"
    with tempfile.TemporaryDirectory(prefix="faxprint-doctor-") as folder:
        try:
            said = RingCentralTransport(account, Path(folder) / "tokens").check()
        except AccountError as error:  # the service refused the credentials themselves
            return fail(name, error.message, "create or renew the app's credentials and the "
                        "user's JWT (README: RingCentral accounts)")  # fmt: skip
        except FaxPrintError as error:  # down, rate-limited, or no REST API at the url
            return fail(name, error.message, "check the account's url and the service's "
                        "status, then run faxprint doctor again")  # fmt: skip
    return ok(name, f"client {printable(account.client_id, limit=24)}: {said}")


def probe(account: Any) -> Check:
    """Reach an account's endpoint without sending a fax or its password: DNS, TCP, TLS,
    then an HTTP GET (the FaxOut API answers it without faxing anything)."""
    from faxprint.transports import http

    reached = http.probe(account)
    if reached.failed:
        return fail(f"account {account.name}", reached.detail, _PROBE_FIXES[reached.failed])
    return ok(f"account {account.name}", reached.detail)


_PROBE_FIXES = {
    "resolve": "check the url's host name and this server's DNS",
    "connect": "check the url, the network, a firewall or proxy",
    "tls": "the server's certificate must be trusted: set the account's verify to the CA "
    "file that signed it",
    "http": "check that the url is the FaxOut endpoint",
}


# -- the printer ----------------------------------------------------------------------


def check_backend(context: Context) -> Iterator[Check]:
    from faxprint.cups.install import SCHEME, cups_backend_dir

    backend = (context.backend_dir or cups_backend_dir()) / SCHEME
    name = "backend"
    fix = "faxprint install (it writes the backend with the right owner and mode)"
    try:
        info = backend.lstat()
    except FileNotFoundError:
        yield fail(name, f"{backend} is not installed", fix)
        return
    mode = stat.S_IMODE(info.st_mode)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != 0 or mode & 0o022:
        yield fail(name, f"{backend}: must be a file owned by root that only root can write "
                   f"(owner uid {info.st_uid}, mode {mode:o})", fix)  # fmt: skip
        return
    if mode & 0o077 == 0:
        yield fail(name, f"{backend} is mode {mode:o}: cupsd would run it as root",
                   f"chmod 0755 {backend}")  # fmt: skip
        return
    interpreter = backend.read_text(errors="replace").split("\n", 1)[0].removeprefix("#!")
    command = interpreter.split()
    if not command or not Path(command[0]).is_absolute():
        yield fail(name, f"{backend} names no interpreter on its first line", fix)
        return
    runs = run_as(BACKEND_USER, [*command, "-c", "import faxprint.cups.backend"])
    if runs is None:
        yield skip(
            name, f"{backend} installed; run as root to check that {BACKEND_USER} can run it"
        )
    elif runs.returncode != 0:
        why = printable(
            runs.stderr.strip().splitlines()[-1] if runs.stderr.strip() else "", limit=120
        )
        yield fail(name, f"{BACKEND_USER} cannot run {backend}'s interpreter {command[0]} with "
                   f"faxprint: {why or f'exit {runs.returncode}'}",
                   "install faxprint where lp can reach it (scripts/setup.sh uses "
                   "/opt/faxprint), then faxprint install")  # fmt: skip
    else:
        yield ok(name, f"{backend} (root, {mode:o}); {BACKEND_USER} runs it with {command[0]}")


def check_queues(context: Context) -> Iterator[Check]:
    try:
        import cups
    except ImportError:
        yield fail("queues", "pycups is missing", "install faxprint with its [cups] extras")
        return
    try:
        connection = cups.Connection()
        printers = connection.getPrinters()
    except (RuntimeError, cups.IPPError) as exc:  # no cupsd, or it refused
        yield fail("queues", f"cannot ask CUPS: {printable(str(exc))}", "start cupsd")
        return
    ours = {
        n: a for n, a in printers.items() if str(a.get("device-uri", "")).startswith("faxprint:")
    }
    if not ours:
        yield fail("queues", "no CUPS queue uses faxprint", "faxprint install")
        return
    wanted = ["printer-state", "printer-state-message", "printer-is-accepting-jobs", "device-uri"]
    for queue in sorted(ours):
        try:  # getPrinters() leaves out whether a queue accepts jobs
            attributes = connection.getPrinterAttributes(queue, requested_attributes=wanted)
        except cups.IPPError as exc:
            yield fail(f"queue {queue}", f"CUPS does not describe it: {printable(str(exc))}",
                       "lpstat -p to see what CUPS says")  # fmt: skip
            continue
        yield _queue(context, queue, attributes)


def _queue(context: Context, queue: str, attributes: dict[str, Any]) -> Check:
    name = f"queue {queue}"
    if int(attributes.get("printer-state", 3)) == 5:
        why = printable(str(attributes.get("printer-state-message", "")))
        return fail(name, f"stopped{': ' + why if why else ''}",
                    f"fix the cause, then cupsenable {queue}")  # fmt: skip
    if not attributes.get("printer-is-accepting-jobs", True):
        return fail(name, "is rejecting jobs", f"cupsaccept {queue}")
    from faxprint.cups.backend import account_from_uri

    account = account_from_uri(str(attributes["device-uri"]))
    if context.settings is not None and account not in context.settings.accounts:
        return fail(name, f"sends with account {account!r}, which the config does not have",
                    f"add [accounts.{account}] or faxprint install --account NAME")  # fmt: skip
    return ok(name, f"enabled and accepting, account {account}")


# -- the journal and the hot folder ---------------------------------------------------


def check_journal(context: Context) -> Iterator[Check]:
    if context.settings is None:
        yield skip("journal", "the config did not load")
        return
    journal = Path(context.settings.journal)
    folder = journal.parent
    fix = f"chown {BACKEND_USER}: {folder} && chmod 0700 {folder}"
    if not folder.is_dir():
        yield fail("journal", f"{folder} does not exist", f"mkdir -p {folder} && {fix}")
        return
    writable = [user_can(BACKEND_USER, flag, folder) for flag in ("-w", "-x")]
    if journal.exists():
        writable.append(user_can(BACKEND_USER, "-w", journal))
    if None in writable:
        yield skip("journal", f"run as root to check that {BACKEND_USER} can write {journal}")
    elif not all(writable):
        yield fail("journal", f"{BACKEND_USER} (who runs the backend) cannot write {journal}", fix)
    else:
        yield ok("journal", f"{journal} writable by {BACKEND_USER}")


def check_hotfolder(context: Context) -> Iterator[Check]:
    if context.settings is None:
        yield skip("hot folder", "the config did not load")
        return
    from faxprint.hotfolder.settings import from_table

    try:
        folder = from_table(context.settings.hotfolder).path
    except ConfigError as error:
        yield fail("hot folder", error.message, "fix [hotfolder] in the config")
        return
    if folder is None:
        yield skip("hot folder", "no [hotfolder] path in the config")
        return
    try:
        info = folder.lstat()
    except FileNotFoundError:
        fix = f"install -d -o {BACKEND_USER} -m 3770 {folder} (README: the hot folder)"
        yield fail("hot folder", f"{folder} does not exist", fix)
        return
    mode = stat.S_IMODE(info.st_mode)
    if not stat.S_ISDIR(info.st_mode):
        yield fail("hot folder", f"{folder} is not a folder", f"make {folder} a folder")
        return
    if mode & 0o022 and not mode & stat.S_ISVTX:
        yield fail("hot folder", f"{folder} (mode {mode:o}) lets others write but is not sticky: "
                   "they could rename faxprint's folders", f"chmod +t {folder}")  # fmt: skip
        return
    yield ok("hot folder", f"{folder} (mode {mode:o})")
    from faxprint.hotfolder.spool import Spool

    settings = from_table(context.settings.hotfolder)
    for problem in Spool(folder).subfolder_problems(settings.folders):
        yield fail("hot subfolder", f"{problem}: not as open, or not as safe, as the top",
                   f"chmod {mode:o} and chgrp it like {folder}")  # fmt: skip
    watchers = watcher_pids()
    if not watchers:
        fix = "systemctl enable --now faxprint-watch (contrib/faxprint-watch.service)"
        yield fail("watcher", "no `faxprint watch` process is running", fix)
    else:
        yield ok("watcher", f"running (pid {', '.join(map(str, watchers))})")


def _is_watcher(argv: list[str]) -> bool:
    """``faxprint [options] watch ...`` or ``python -m faxprint [options] watch ...``."""
    names = [Path(word).name for word in argv]
    if names[:1] == ["faxprint"]:
        rest = argv[1:]
    elif len(names) >= 3 and names[0].startswith("python") and argv[1:3] == ["-m", "faxprint"]:
        rest = argv[3:]
    else:
        return False
    commands = [word for word in rest if not word.startswith("-")]
    return "watch" in commands[:2]  # after an option's value at most (--config FILE watch)


def watcher_pids() -> list[int]:
    """Return the ids of the running ``faxprint watch`` processes."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv if a]
        if _is_watcher(words) and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return sorted(found)


# -- the system log -------------------------------------------------------------------


def check_denials(context: Context) -> Iterator[Check]:
    read = [log for log in context.logs if log.is_file() and os.access(log, os.R_OK)]
    if not read:
        yield skip("AppArmor/SELinux", "no system log to read (" +
                   ", ".join(map(str, context.logs)) + ")")  # fmt: skip
        return
    for log in read:
        for line in _tail(log):
            if _DENIAL.search(line) and ("faxprint" in line or "cups/backend" in line):
                yield fail("AppArmor/SELinux", f"{log}: {printable(line.strip(), limit=200)}",
                           "allow the backend in the policy (for AppArmor: add its rules to "
                           "/etc/apparmor.d/local/usr.sbin.cupsd, then reload)")  # fmt: skip
                return
    yield ok("AppArmor/SELinux", f"no denial for faxprint in {', '.join(map(str, read))}")


def _tail(path: Path, size: int = 4 * 1024 * 1024) -> list[str]:
    if not path.is_file():
        return []
    with path.open("rb") as stream:
        stream.seek(max(0, stream.seek(0, os.SEEK_END) - size))
        return stream.read().decode(errors="replace").splitlines()


# -- acting as lp ---------------------------------------------------------------------


def user_can(user: str, flag: str, path: Path) -> bool | None:
    """Ask the kernel whether ``user`` may read (-r), write (-w) or search (-x) ``path``;
    None when this process cannot tell (not root)."""
    result = run_as(user, ["/usr/bin/test", flag, str(path)])
    return None if result is None else result.returncode == 0


def run_as(user: str, command: Sequence[str]) -> subprocess.CompletedProcess[str] | None:
    if os.geteuid() != 0:
        return None
    try:
        return subprocess.run(
            list(command), user=user, group=_group(user), extra_groups=[],
            env={"PATH": "/usr/bin:/bin"}, cwd="/", capture_output=True, text=True,
            timeout=60, check=False,
        )  # fmt: skip
    except (OSError, KeyError) as exc:
        return subprocess.CompletedProcess(list(command), 127, "", str(exc))


def _group(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_gid


# -- the command ----------------------------------------------------------------------

CHECKS: tuple[Callable[[Context], Iterator[Check]], ...] = (
    check_config,
    check_secrets,
    check_accounts,
    check_backend,
    check_queues,
    check_journal,
    check_hotfolder,
    check_denials,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend-dir", type=Path, help="cupsd's backend folder")
    parser.add_argument("--log", type=Path, action="append",
                        help="a system log to search for denials (repeatable; default: "
                        + ", ".join(map(str, SYSTEM_LOGS)) + ")")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Run every check, print one line each (and how to fix a failure)."""
    context = Context(args.config, args.backend_dir, tuple(args.log or SYSTEM_LOGS))
    failed = 0
    for check in CHECKS:
        for result in check(context):
            print(f"{result.status:<5} {result.name:<20} {result.detail}")
            if result.fix:
                print(f"{'':<5} {'':<20} fix: {result.fix}")
            failed += result.status == "FAIL"
    print(f"\n{failed} check{'s' * (failed != 1)} failed" if failed else "\nall checks passed")
    sys.stdout.flush()
    return 1 if failed else 0
