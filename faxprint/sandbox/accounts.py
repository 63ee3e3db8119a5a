"""Sandbox accounts: the well-known defaults and the TOML file that replaces them.

The accounts file::

    [accounts."15555550100"]
    password = "sandbox"
    prohibited = false        # optional; true makes every fax answer 2

Usernames are ``<digits>`` or ``<digits>*<digits>`` (number and extension).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

USERNAME_FORMAT = re.compile(r"[0-9]+(?:\*[0-9]+)?")


class SandboxConfigError(ValueError):
    """Sandbox settings that cannot be used; the message says what to change."""


@dataclass(frozen=True)
class Account:
    """A sandbox account: its password and whether faxing is prohibited for it."""

    password: str
    prohibited: bool = False

    def __repr__(self) -> str:
        return f"Account(password=<hidden>, prohibited={self.prohibited})"


#: The accounts a sandbox has when none are configured; faxprint's default config
#: points at the first one.
DEFAULT_ACCOUNTS: Mapping[str, Account] = MappingProxyType(
    {
        "15555550100": Account("sandbox"),
        "15555550199": Account("sandbox", prohibited=True),
    }
)


def check_accounts(accounts: Mapping[str, Account]) -> Mapping[str, Account]:
    """Return accounts as a read-only mapping, or raise SandboxConfigError."""
    for username, account in accounts.items():
        if not USERNAME_FORMAT.fullmatch(username):
            raise SandboxConfigError(
                f"account {username!r}: a username is <digits> or <digits>*<digits>"
            )
        if not isinstance(account, Account):
            raise SandboxConfigError(f"account {username!r}: expected an Account")
        if not account.password.isascii():
            raise SandboxConfigError(f"account {username!r}: the password must be ASCII")
    return MappingProxyType(dict(accounts))


def load_accounts(path: Path) -> Mapping[str, Account]:
    """Read an accounts TOML file, or raise SandboxConfigError naming the problem."""
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except OSError as exc:
        raise SandboxConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SandboxConfigError(f"{path}: not valid TOML: {exc}") from exc
    unknown = sorted(document.keys() - {"accounts"})
    if unknown:
        raise SandboxConfigError(f"{path}: unknown table or key {unknown[0]!r}")
    table = document.get("accounts")
    if not isinstance(table, dict) or not table:
        raise SandboxConfigError(f'{path}: no accounts; add [accounts."<number>"] tables')
    accounts = {name: _account(path, name, entry) for name, entry in table.items()}
    return check_accounts(accounts)


def _account(path: Path, username: str, entry: Any) -> Account:
    where = f'{path}: [accounts."{username}"]'
    if not isinstance(entry, dict):
        raise SandboxConfigError(f"{where} must be a table")
    unknown = sorted(entry.keys() - {"password", "prohibited"})
    if unknown:
        raise SandboxConfigError(f"{where}: unknown key {unknown[0]!r}")
    password = entry.get("password")
    if not isinstance(password, str):
        raise SandboxConfigError(f"{where}: password must be a string")
    prohibited = entry.get("prohibited", False)
    if not isinstance(prohibited, bool):
        raise SandboxConfigError(f"{where}: prohibited must be true or false")
    return Account(password, prohibited)
