"""The Fax printer: the CUPS backend (owner, mode, an interpreter ``lp`` can run with
faxprint) and each faxprint queue (enabled, accepting, a known account)."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from faxprint.cli.doctor.report import BACKEND_USER, Check, Context, fail, ok, run_as, skip
from faxprint.text import printable


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
    # The backend runs with -S and finds faxprint itself; the full backend (which needs
    # requests and pypdf) loads the site module first: check that, as lp.
    runs = run_as(BACKEND_USER, [command[0], "-c", "import faxprint.cups.backend"])
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
