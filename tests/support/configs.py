"""The configs the tests give faxprint: account tables, and one writer for the file.

``write_config`` writes every config file the tests need; the account tables come from
``faxout_account`` (the test password) and ``rest_account_toml`` (the sandbox's test
app, its secrets in files). ``hot_folder_config`` and ``send_config`` are the two configs
several test modules share.
"""

from __future__ import annotations

import json
import os
import pwd
import tomllib
from collections.abc import Mapping
from pathlib import Path

from faxprint import config as configuration
from tests.support.secrets import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_JWT,
    TEST_PASSWORD,
    TEST_USERNAME,
)

#: The hot-folder tests' watcher: quick to see a file settle, four uploads at once, and a
#: folder whose tickets get a recipient and a cover text from its settings.
HOT_FOLDER = (
    "[hotfolder]\nstable_seconds = 0.3\nrescan_seconds = 0.5\nconcurrency = 4\n"
    '[hotfolder.folders.accounting]\nto = ["5556465589|Accounting"]\n'
    'cover_text = "From the scanner"\n'
)
#: Retries the watcher can afford in a test: 0.2 s apart, never given up for their count.
HOT_FOLDER_RETRY: Mapping[str, float] = {"backoff": 0.2, "max_attempts": 50}


def faxout_account(
    url: str,
    *,
    name: str = "default",
    username: str = TEST_USERNAME,
    password: str | None = TEST_PASSWORD,
    **settings: object,
) -> str:
    """The TOML table of a FaxOut account at ``url`` with the test password.

    ``settings`` follow in their order (``read_timeout=30``, ``verify=path``); one that is
    None is left out. ``password=None`` leaves the password out (give ``password_file``).
    """
    lines = [f"[accounts.{name}]", f'url = "{url}"', f'username = "{username}"']
    if password is not None:
        lines.append(f'password = "{password}"')
    lines += [f"{key} = {_value(value)}" for key, value in settings.items() if value is not None]
    return "\n".join(lines) + "\n"


def rest_account(
    sandbox_url: str, name: str = "office", **settings: object
) -> configuration.Account:
    """An account on the sandbox's REST side (the test app, with its test secrets)."""
    return configuration.Account(
        name, sandbox_url.removesuffix("/faxapi.asp"), transport="ringcentral",
        client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET, jwt=TEST_JWT,
        **settings,  # type: ignore[arg-type]
    )  # fmt: skip


def rest_account_toml(sandbox_url: str, folder: Path, name: str = "office") -> str:
    """The TOML of :func:`rest_account`, its secrets in 0640 files in ``folder``."""
    files = {}
    for key, secret in (("client_secret", TEST_CLIENT_SECRET), ("jwt", TEST_JWT)):
        path = folder / f"{name}.{key}.secret"
        path.touch(mode=0o640)
        path.write_text(secret + "\n")
        files[key] = path
    return (
        f'[accounts.{name}]\ntransport = "ringcentral"\n'
        f'url = "{sandbox_url.removesuffix("/faxapi.asp")}"\nclient_id = "{TEST_CLIENT_ID}"\n'
        f'client_secret_file = "{files["client_secret"]}"\njwt_file = "{files["jwt"]}"\n'
        'default_country = "US"\n'
    )


def config_text(
    accounts: str,
    *,
    journal: Path | str,
    retry: Mapping[str, float] | None = None,
    extra: str = "",
) -> str:
    """A config: the journal, a ``[retry]`` table of ``retry``, the account tables, then
    ``extra`` (a ``[hotfolder]`` table, say)."""
    text = f'journal = "{journal}"\n'
    if retry:
        text += "[retry]\n" + "".join(f"{key} = {value}\n" for key, value in retry.items())
    return text + accounts + extra


def write_config(
    where: Path,
    accounts: str,
    *,
    journal: Path | str | None = None,
    retry: Mapping[str, float] | None = None,
    extra: str = "",
    lp_readable: bool = False,
) -> Path:
    """Write a config (:func:`config_text`) and return its path.

    ``where`` is the file, or a folder to write ``faxprint.toml`` in; the journal is
    ``journal.sqlite`` beside the file unless given. A config holds a secret, so the file
    has its mode before anything is written: 0600, or with ``lp_readable`` root:lp 0640
    as on a server (the owner only when root), and so have the ``*_file`` secrets its
    accounts name.
    """
    path = where / "faxprint.toml" if where.is_dir() else where
    text = config_text(
        accounts,
        journal=path.parent / "journal.sqlite" if journal is None else journal,
        retry=retry,
        extra=extra,
    )
    path.touch(mode=0o600)
    _restrict(path, lp_readable=lp_readable)
    path.write_text(text)
    if lp_readable:
        for secret in _secret_files(text, path.parent):
            if secret.exists():
                _restrict(secret, lp_readable=True)
    return path


def hot_folder_config(folder: Path, url: str, *, extra: str = "") -> Path:
    """The hot-folder tests' config in ``folder``: the FaxOut account ``default`` at
    ``url``, :data:`HOT_FOLDER` and ``extra``."""
    return write_config(
        folder,
        faxout_account(url, read_timeout=30),
        retry=HOT_FOLDER_RETRY,
        extra=HOT_FOLDER + extra,
    )


def send_config(
    folder: Path, url: str, *, username: str = TEST_USERNAME, password: str = TEST_PASSWORD
) -> Path:
    """The ``faxprint send`` tests' config in ``folder``: the FaxOut account ``default``
    at ``url``, two tries with no pause, answers awaited 5 s."""
    return write_config(
        folder,
        faxout_account(url, username=username, password=password, read_timeout=5),
        retry={"tries": 2, "backoff": 0.0},
    )


def _value(value: object) -> str:
    """A TOML value (strings, numbers and booleans are written as JSON writes them)."""
    return json.dumps(os.fspath(value) if isinstance(value, os.PathLike) else value)


def _restrict(path: Path, *, lp_readable: bool) -> None:
    path.chmod(0o640 if lp_readable else 0o600)
    if lp_readable and os.geteuid() == 0:
        os.chown(path, 0, pwd.getpwnam("lp").pw_gid)


def _secret_files(text: str, folder: Path) -> list[Path]:
    """The files the config's accounts take secrets from (``password_file``, ...)."""
    accounts = tomllib.loads(text).get("accounts", {})
    return [
        folder / value
        for table in accounts.values()
        for key, value in table.items()
        if key.endswith("_file")
    ]
