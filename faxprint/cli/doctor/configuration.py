"""The config file: it parses, and it and the secret files it names are readable by the
backend's user and by no one else."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from faxprint.cli.doctor.report import BACKEND_USER, Check, Context, fail, ok, skip, user_can
from faxprint.errors import ConfigError


def check_config(context: Context) -> Iterator[Check]:
    from faxprint import config as configuration

    try:
        settings = context.source.load()
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
    from faxprint.config import SECRETS, path_of

    if context.settings is None or context.settings.source is None:
        return
    files = [
        (name, key, table[f"{key}_file"])
        for name, table in context.accounts.items()
        for key in SECRETS
        if f"{key}_file" in table
    ]
    for name, key, path in files:
        secret = path_of(path, f"[accounts.{name}] {key}_file", context.settings.source.parent)
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
