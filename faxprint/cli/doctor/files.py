"""The journal (the backend's user can write it), the hot folder (there, safe permissions,
subfolders like it, a watcher running), and denials in the system logs."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from faxprint.cli.doctor.report import BACKEND_USER, Check, Context, fail, ok, skip, user_can
from faxprint.errors import ConfigError
from faxprint.text import printable

_DENIAL = re.compile(r'apparmor="DENIED"|avc:\s+denied')


def check_journal(context: Context) -> Iterator[Check]:
    if context.settings is None:
        yield skip("journal", "the config did not load")
        return
    if context.settings.database:
        yield _database(context)
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


def _database(context: Context) -> Check:
    """A PostgreSQL journal: reachable, and its tables this faxprint's."""
    from faxprint.errors import FaxPrintError
    from faxprint.journal import open_journal

    assert context.settings is not None
    try:
        with open_journal(context.settings) as journal:
            where = journal.where
    except ConfigError as error:
        return fail("database", error.message, "see README.md, Several servers")
    except FaxPrintError as error:
        return fail("database", error.message, "check that PostgreSQL runs and is reachable")
    return ok("database", f"{where} reachable, its tables this faxprint's")


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
    from faxprint.cli.doctor.service import service_pid

    served = service_pid(Path(context.settings.journal)) if context.settings else None
    if served is not None and not watchers:
        yield ok("watcher", f"faxprint serve runs the hot folder (pid {served})")
    elif not watchers:
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
