"""An account: where and as whom faxes are sent, read from its ``[accounts.NAME]`` table
(secrets inline or in files of their own), and how the config's file paths are read.

No secret ever appears in a ``repr``, a message or a log line: errors name the setting,
never its value.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from faxprint.e164 import check_country
from faxprint.errors import ConfigError
from faxprint.pacing import Rate
from faxprint.redact import MIN_SECRET, Redactor

logger = logging.getLogger("faxprint.config")

TRANSPORTS = ("faxout", "ringcentral")
RINGCENTRAL_URL = "https://platform.ringcentral.com"
#: RingCentral's default limit for the fax call (Heavy group), per user and app.
REST_FAX_RATE = Rate(10, 60.0)
#: Settings that hold a secret, inline or (with ``_file``) in a file of their own.
SECRETS = ("password", "client_secret", "jwt")


@dataclass(frozen=True)
class Account:
    """Where and as whom faxes are sent. No secret ever appears in ``repr``.

    ``transport`` picks the protocol: ``faxout`` (username and password) or
    ``ringcentral``, the REST API (an app's ``client_id`` and ``client_secret``, and the
    ``jwt`` of the user it sends as; national numbers are read as dialled in
    ``default_country``).
    """

    name: str
    url: str
    username: str = ""
    password: str = field(default="", repr=False)
    allow_http: bool = False
    verify: bool | str = True
    connect_timeout: float = 15.0
    read_timeout: float = 120.0
    transport: str = "faxout"
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    jwt: str = field(default="", repr=False)
    default_country: str = "US"
    store_wait: float = 60.0  # seconds to look for an unanswered upload in the message store
    rate: str = ""  # uploads the service allows, "N/SECONDS"; REST: its documented default
    cover: str = ""  # the cover of faxes that name none: faxprint's own or the service's

    def redactor(self) -> Redactor:
        """Return what hides this account's secrets in any text, in every form a service
        may quote them (the Basic header of the client id and secret among them)."""
        return Redactor((getattr(self, name) for name in SECRETS),
                        users=(self.username, self.client_id))  # fmt: skip

    def pace(self) -> Rate | None:
        """The uploads the service allows the account: ``rate``, else for RingCentral's REST
        API its documented default (Heavy group: 10 a minute, [docs] rate-limits.md), else
        none known."""
        if self.rate:
            return Rate.parse(self.rate)
        return REST_FAX_RATE if self.transport == "ringcentral" else None

    def __post_init__(self) -> None:
        _check_url(self.name, self.url, self.allow_http)
        if self.transport not in TRANSPORTS:
            raise ConfigError(
                f"account {self.name!r}: transport must be one of {', '.join(TRANSPORTS)}"
            )
        if self.transport == "faxout" and (not self.username or not self.username.isascii()):
            raise ConfigError(f"account {self.name!r}: username must be ASCII and not empty")
        for secret in SECRETS:
            value = getattr(self, secret)
            if not (value.isascii() and value.isprintable()):
                # Sent as ASCII; say so without quoting any of the secret.
                raise ConfigError(f"account {self.name!r}: {secret} must be printable ASCII")
            if value and len(value) < MIN_SECRET:  # too short to be told from a word, and hidden
                raise ConfigError(
                    f"account {self.name!r}: {secret} must have at least {MIN_SECRET} characters"
                )
        if self.store_wait < 0:
            raise ConfigError(f"account {self.name!r}: store_wait must be 0 or more seconds")
        if self.rate:
            try:
                Rate.parse(self.rate)
            except ValueError as exc:
                raise ConfigError(f"account {self.name!r}: {exc}") from None
        if self.transport == "ringcentral":
            missing = [k for k in ("client_id", "client_secret", "jwt") if not getattr(self, k)]
            if missing:
                raise ConfigError(
                    f"account {self.name!r}: the ringcentral transport needs "
                    f"{', '.join(missing)} (each inline or as NAME_file)"
                )
            object.__setattr__(self, "default_country", check_country(self.default_country))


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


def path_of(value: Any, context: str, base: Path) -> Path:
    """Read a file path the config gives: absolute, or relative to ``base`` (the config
    file's folder). A value that is no path, such as ``postgresql://...`` (which would
    otherwise become a folder ``postgresql:`` wherever a command ran), is refused naming
    its scheme only: the rest may hold a password."""
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise ConfigError(f"{context} must be a file path (a string)")
    if match := _SCHEME.match(value):
        raise ConfigError(
            f"{context} must be a file path, not a {match[1]}: address; give an absolute path, "
            "or one relative to the config file"
        )
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


#: The schemes of a PostgreSQL journal's libpq URL.
DATABASE_SCHEMES = ("postgresql://", "postgres://")


def database_of(value: Any, context: str) -> str:
    """The PostgreSQL URL ``journal`` gives ("" for a file path). A URL holding a
    password is refused, quoting none of it: the password goes in ``journal_passfile``
    (or the user's ``~/.pgpass``), a file only its owner reads."""
    if not isinstance(value, str) or not value.startswith(DATABASE_SCHEMES):
        return ""
    from urllib.parse import parse_qs, unquote, urlsplit

    try:
        parts = urlsplit(value)
        asked = {unquote(key).strip().lower() for key in parse_qs(parts.query, True)}
        secret = parts.password is not None or "password" in asked
    except ValueError:
        raise ConfigError(f"{context}: not a PostgreSQL URL that can be read") from None
    if secret:
        raise ConfigError(f"{context}: the URL holds a password; put it in journal_passfile "
                          "(a pgpass file readable by its owner alone) or ~/.pgpass")  # fmt: skip
    return value


_ACCOUNT_KEYS = {
    "url", "username", "allow_http", "verify", "connect_timeout", "read_timeout",
    "transport", "client_id", "default_country", "store_wait", "rate", "cover",
} | set(SECRETS) | {f"{secret}_file" for secret in SECRETS}  # fmt: skip


def from_table(name: str, data: Mapping[str, Any], where: str, mode: int, base: Path) -> Account:
    context = f"{where}: [accounts.{name}]"
    only(data, _ACCOUNT_KEYS, context)
    transport = data.get("transport", "faxout")
    required = ("url", "username") if transport == "faxout" else ("client_id",)
    for key in required:
        if not isinstance(data.get(key), str):
            raise ConfigError(f"{context}: {key} is missing (a string)")
    default_url = RINGCENTRAL_URL if transport == "ringcentral" else None
    if not isinstance(data.get("url", default_url), str):
        raise ConfigError(f"{context}: url is missing (a string)")
    try:
        return Account(
            name=name,
            url=data.get("url", default_url),
            username=str(data.get("username", "")),
            allow_http=bool(data.get("allow_http", False)),
            verify=_verify(data.get("verify", True), f"{context}: verify", base),
            connect_timeout=float(data.get("connect_timeout", 15.0)),
            read_timeout=float(data.get("read_timeout", 120.0)),
            transport=str(transport),
            client_id=str(data.get("client_id", "")),
            default_country=str(data.get("default_country", "US")),
            store_wait=float(data.get("store_wait", 60.0)),
            rate=str(data.get("rate", "")),
            cover=str(data.get("cover", "")),
            **{secret: _secret(data, secret, context, base) for secret in SECRETS},
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{context}: {exc}") from None


def _verify(value: Any, context: str, base: Path) -> bool | str:
    """``verify``: true, false, or the CA bundle's path (relative to the config file)."""
    return str(path_of(value, context, base)) if isinstance(value, str) else value


def _secret(data: Mapping[str, Any], key: str, context: str, base: Path) -> str:
    """Return the secret ``key``, given inline or in the file ``key_file``, else ""."""
    if key in data and f"{key}_file" in data:
        raise ConfigError(f"{context}: give {key} or {key}_file, not both")
    if key in data:
        return str(data[key])
    if f"{key}_file" in data:
        return _read_secret(path_of(data[f"{key}_file"], f"{context}: {key}_file", base),
                            f"{context}: {key}_file")  # fmt: skip
    return ""


def _read_secret(path: Path, context: str) -> str:
    try:
        with path.open(encoding="utf-8") as stream:
            if os.fstat(stream.fileno()).st_mode & stat.S_IROTH:
                logger.warning("secret file %s is readable by every user; chmod o-r", path)
            return stream.read().strip("\r\n")
    except OSError as exc:
        raise ConfigError(f"{context} {path} cannot be read ({exc.strerror})") from None


def _check_url(name: str, url: str, allow_http: bool) -> None:
    parts = urlsplit(url)
    if "@" in parts.netloc:
        raise ConfigError(f"account {name!r}: put credentials in username/password, not the url")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"account {name!r}: url {url!r} is not an http(s) URL")
    if parts.scheme == "http" and not allow_http and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"account {name!r}: {url} is plain http to another host, which would send the "
            "password in clear; use https, or set allow_http = true if you must"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def only(data: Mapping[str, Any], allowed: set[str], context: str) -> None:
    """Refuse a table with a setting faxprint does not know (a typo would be ignored)."""
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(f"{context}: unknown setting {', '.join(unknown)}")


_Settings = TypeVar("_Settings")


def table_of(kind: type[_Settings], data: Mapping[str, Any], context: str) -> _Settings:
    """Build a settings dataclass from its table: known keys only, each converted to the
    type of its default."""
    only(data, {f.name for f in dataclasses.fields(kind)}, context)  # type: ignore[arg-type]
    try:
        return kind(**{key: type(getattr(kind, key))(value) for key, value in data.items()})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{context}: {exc}") from None


def table(value: Any, context: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{context} must be a table")
    return value
