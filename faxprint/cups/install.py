"""``faxprint install`` and ``uninstall``: the "Fax" printer on a CUPS server.

Install puts the backend into cupsd's backend folder (root-owned, mode 0755, so cupsd runs
it as ``lp``), with its first line naming this Python; creates or updates the queue with
pycups (faxprint's PPD, ``faxprint://ACCOUNT``, enabled, accepting, error policy
``abort-job``); prepares the journal folder for ``lp``; and checks that ``lp`` can run the
backend's Python and read the configuration. Running it twice changes nothing: the PPD is
given only to a new queue, so defaults an admin set later survive.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from faxprint import config as configuration
from faxprint.errors import ConfigError

logger = logging.getLogger(__name__)

DEFAULT_BACKEND_DIR = Path("/usr/lib/cups/backend")
BACKEND_USER = "lp"
SCHEME = "faxprint"


@dataclass(frozen=True)
class Plan:
    """What ``faxprint install`` was asked to set up."""

    name: str = "Fax"
    account: str = "default"
    backend_dir: Path = DEFAULT_BACKEND_DIR
    shared: bool = False
    fax_type: bool = False
    location: str = ""


def backend_text(python: str = sys.executable, home: Path | None = None) -> str:
    """Return the backend script with its first line naming ``python``, run with ``-S``
    (no site module: a printed job starts sooner), and faxprint's own folder (``home``,
    where this faxprint is) put on its path."""
    template = resources.files("faxprint").joinpath("data/backend").read_text(encoding="utf-8")
    home = home or Path(__file__).resolve().parents[2]
    text = f"#!{python} -S\n" + template.split("\n", 1)[1]
    return text.replace("# faxprint-path\n", f"sys.path.insert(0, {str(home)!r})\n", 1)


def ppd_text(*, fax_type: bool) -> str:
    """Return faxprint's PPD; the fax-type variant adds ``*cupsFax: True``."""
    text = resources.files("faxprint").joinpath("data/faxprint.ppd").read_text(encoding="ascii")
    if not fax_type:
        return text
    return text.replace("*cupsFilter2:", "*cupsFax: True\n*cupsFilter2:", 1)


def install(plan: Plan, settings: configuration.Config) -> list[str]:
    """Set up the backend, the journal folder and the queue for ``settings`` (the config
    the command line was given); return what was changed."""
    import cups

    settings.account(plan.account)  # a misspelt account would stop the queue at its first job
    warn_about_config(settings)
    changes = []
    if install_backend(plan.backend_dir):
        changes.append(f"installed backend {plan.backend_dir / SCHEME}")
    check_backend_user(settings.source)
    changes += prepare_journal(settings.journal.parent)
    connection = cups.Connection()
    changes += ensure_queue(connection, plan)
    return changes


def install_backend(folder: Path) -> bool:
    """Write the backend (root-owned, 0755) unless it is there already; tell if it was."""
    target = folder / SCHEME
    text = backend_text()
    if (
        target.exists()
        and target.read_text(encoding="utf-8") == text
        and (target.stat().st_mode & 0o7777) == 0o755
    ):
        return False
    folder.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".faxprint-")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.chmod(temp, 0o755)  # noqa: S103 -- 0755 makes cupsd run the backend as lp, not root
    os.replace(temp, target)
    return True


def check_backend_user(config: Path | None) -> None:
    """Make sure ``lp`` can start this Python, import faxprint and read the config
    (``config``, else the one it would find itself)."""
    probe = "import sys, faxprint.cups.backend, faxprint.config as c; c.load(sys.argv[1] or None)"
    result = _as_backend_user([sys.executable, "-c", probe, str(config or "")])
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConfigError(
            f"user {BACKEND_USER} cannot run the backend with {sys.executable} ({last}). "
            "Install faxprint in a folder lp can read (e.g. a venv in /opt/faxprint, not "
            "under /root), and make the config readable by group lp (chgrp lp, chmod 640)"
        )


def _as_backend_user(command: list[str]) -> subprocess.CompletedProcess[str]:
    if os.geteuid() != 0:  # a test cupsd run without root runs backends as this user
        return subprocess.run(command, capture_output=True, text=True, check=False)
    user = pwd.getpwnam(BACKEND_USER)
    env = {k: v for k, v in os.environ.items() if k in ("FAXPRINT_CONFIG", "PATH", "LANG")}
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd="/",
        user=user.pw_uid,
        group=user.pw_gid,
        extra_groups=[],
    )


def warn_about_config(settings: configuration.Config) -> None:
    """Say what the backend will read that the admin may not expect."""
    if settings.source is None:
        logger.warning(
            "no %s: the queue sends to the local sandbox (test mode) until you write one",
            configuration.DEFAULT_CONFIG,
        )
    elif settings.source != configuration.DEFAULT_CONFIG:
        logger.warning(
            "cupsd passes no environment to backends: add 'SetEnv FAXPRINT_CONFIG %s' to "
            "cups-files.conf, or the backend reads %s",
            settings.source,
            configuration.DEFAULT_CONFIG,
        )


def prepare_journal(folder: Path) -> list[str]:
    """Give the journal's folder and files to ``lp`` (folder 0700) when run as root."""
    if os.geteuid() != 0:
        return []
    user = pwd.getpwnam(BACKEND_USER)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    # A journal root wrote first (faxprint send before install) must become lp's too.
    owned = [folder, *(p for p in folder.iterdir() if p.name.startswith("journal"))]
    wrong = [p for p in owned if p.stat().st_uid != user.pw_uid]
    for path in wrong:
        os.chown(path, user.pw_uid, user.pw_gid)
    folder.chmod(0o700)
    return [f"gave {p} to {BACKEND_USER}" for p in wrong]


def ensure_queue(conn: Any, plan: Plan) -> list[str]:
    """Create the queue if missing; make it enabled, accepting, shared as asked."""
    printers = conn.getPrinters()
    uri = f"{SCHEME}://{plan.account}"
    current = printers.get(plan.name)
    changes = []
    if current is None or current.get("device-uri") != uri:
        with tempfile.NamedTemporaryFile("w", suffix=".ppd", encoding="ascii") as ppd:
            ppd.write(ppd_text(fax_type=plan.fax_type))
            ppd.flush()
            conn.addPrinter(
                plan.name, filename=ppd.name, device=uri, info=plan.name, location=plan.location
            )
        changes.append(f"{'created' if current is None else 'updated'} queue {plan.name} ({uri})")
        current = conn.getPrinters()[plan.name]
    current = conn.getPrinterAttributes(plan.name)
    if current.get("printer-state") == 5 or not current.get("printer-is-accepting-jobs", True):
        changes.append(f"enabled queue {plan.name}")
    conn.enablePrinter(plan.name)
    conn.acceptJobs(plan.name)
    if bool(current.get("printer-is-shared")) != plan.shared:
        changes.append(f"queue {plan.name} {'shared' if plan.shared else 'not shared'}")
    conn.setPrinterShared(plan.name, plan.shared)
    conn.setPrinterErrorPolicy(plan.name, "abort-job")
    return changes


def uninstall(name: str, backend_dir: Path = DEFAULT_BACKEND_DIR) -> list[str]:
    """Remove the queue; remove the backend once no faxprint queue is left."""
    import cups

    connection = cups.Connection()
    printers = connection.getPrinters()
    changes = []
    queue = printers.get(name)
    if queue is not None:
        if not str(queue.get("device-uri", "")).startswith(f"{SCHEME}://"):
            raise ConfigError(f"queue {name} is not a faxprint queue; leaving it alone")
        connection.deletePrinter(name)
        changes.append(f"removed queue {name}")
        del printers[name]
    others = [
        p for p, a in printers.items() if str(a.get("device-uri", "")).startswith(f"{SCHEME}://")
    ]
    backend = backend_dir / SCHEME
    if not others and backend.exists():
        backend.unlink()
        changes.append(f"removed backend {backend}")
    return changes


def cups_backend_dir() -> Path:
    """Ask ``cups-config`` for cupsd's backend folder; fall back to Debian's."""
    tool = shutil.which("cups-config")
    if tool:
        result = subprocess.run([tool, "--serverbin"], capture_output=True, text=True, check=False)
        if result.returncode == 0 and result.stdout.strip():
            return Path(result.stdout.strip()) / "backend"
    return DEFAULT_BACKEND_DIR
