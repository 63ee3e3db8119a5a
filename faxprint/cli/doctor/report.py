"""What a check reports, what the checks look at, and asking the kernel what ``lp`` may
do (checks that need root say they were skipped otherwise)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faxprint.cli.base import ConfigSource

BACKEND_USER = "lp"
SYSTEM_LOGS = (
    Path("/var/log/audit/audit.log"),
    Path("/var/log/kern.log"),
    Path("/var/log/syslog"),
    Path("/var/log/messages"),
)


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

    source: ConfigSource = field(default_factory=lambda: ConfigSource(None))
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
