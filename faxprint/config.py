"""Configuration: read once at the edge, validated, then passed down as values.

Precedence everywhere: command-line flag, ``FAXPRINT_*`` environment, the TOML file,
the defaults named here. Without a config file faxprint runs on its embedded default: the
local sandbox (``faxprint sandbox``) and a journal in the user's state folder, so a new
user can try every command before owning an account.

Example ``/etc/faxprint/faxprint.toml``::

    journal = "/var/spool/faxprint/journal.sqlite"

    [retry]
    tries = 3            # uploads per run, with backoff between them
    backoff = 2.0        # seconds before the second try; doubles each time
    max_attempts = 20    # uploads over the job's whole life, across runs
    max_age = 86400      # seconds after which a failing job is given up

    [limits]             # one bad job cannot run up a bill; over a limit it is refused
    max_recipients = 50
    max_pages = 300      # counted in PDFs; other types are rendered by the service
    max_document_mb = 100
    max_job_mb = 200

    [accounts.default]
    url = "https://service.ringcentral.com/faxapi.asp"
    username = "16505551234*101"
    password_file = "/etc/faxprint/default.secret"

    [accounts.office]                 # RingCentral's REST API (see the README)
    transport = "ringcentral"
    url = "https://platform.ringcentral.com"
    client_id = "AbCdEf..."
    client_secret_file = "/etc/faxprint/office.client-secret"
    jwt_file = "/etc/faxprint/office.jwt"
    default_country = "US"            # how national numbers are read
"""

from __future__ import annotations

import dataclasses
import logging
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faxprint.account import (
    RINGCENTRAL_URL,
    SECRETS,
    TRANSPORTS,
    Account,
    database_of,
    only,
    path_of,
)
from faxprint.account import from_table as account_from_table
from faxprint.account import table as _table
from faxprint.account import table_of as _table_of
from faxprint.config_covers import SERVICE_COVERS, Cover, account_covers, covers_of
from faxprint.errors import ConfigError

__all__ = [
    "RINGCENTRAL_URL",
    "SECRETS",
    "SERVICE_COVERS",
    "TRANSPORTS",
    "Account",
    "Config",
    "Cover",
    "Limits",
    "Printer",
    "RetryPolicy",
    "load",
    "path_of",
]

logger = logging.getLogger(__name__)

DEFAULT_CONFIG = Path("/etc/faxprint/faxprint.toml")
SANDBOX_URL = "http://127.0.0.1:8025/faxapi.asp"
SANDBOX_USERNAME = "15555550100"
SANDBOX_PASSWORD = "sandbox"  # noqa: S105 -- the sandbox's well-known test account
UNCERTAIN_POLICIES = ("hold", "resend")
SYSTEM_JOURNAL = Path("/var/spool/faxprint/journal.sqlite")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a transient failure is tried again."""

    tries: int = 3
    backoff: float = 2.0
    max_backoff: float = 60.0
    max_attempts: int = 20
    max_age: float = 86400.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        return float(min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class Limits:
    """The most one job may ask for; more is refused before anything is sent."""

    max_recipients: int = 50
    max_pages: int = 300
    max_document_mb: float = 100.0
    max_job_mb: float = 200.0
    max_faxes: int = 500  # the faxes one printed job may become (mail merge)

    def __post_init__(self) -> None:
        if min(self.max_recipients, self.max_pages, self.max_document_mb, self.max_job_mb,
               self.max_faxes) <= 0:  # fmt: skip
            raise ValueError("every limit must be greater than 0")


@dataclass(frozen=True)
class Printer:
    """What the Fax printer does with a job that no option, code or default addresses."""

    unaddressed: str = "hold"  # hold: wait for `faxprint address`; cancel: today's way
    address_wait: float = 86400.0  # seconds a held job waits before it is cancelled

    def __post_init__(self) -> None:
        if self.unaddressed not in ("hold", "cancel"):
            raise ValueError("unaddressed must be hold or cancel")
        if self.address_wait <= 0:
            raise ValueError("address_wait must be greater than 0")


@dataclass(frozen=True)
class Service:
    """``faxprint serve``: how many faxes it sends at once, and how long a printer job
    waits for its verdict before the printer lets it go (the service finishes it)."""

    workers: int = 4
    printer_wait: float = 5.0

    def __post_init__(self) -> None:
        if self.workers < 1 or self.printer_wait < 0:
            raise ValueError("workers must be at least 1 and printer_wait 0 or more")


@dataclass(frozen=True)
class Web:
    """The outbox ``faxprint serve`` serves: where it listens (``""``: nowhere), its TLS
    certificate and key (none: put it behind the print server's TLS), who administers it,
    and the sign-in helper's socket."""

    listen: str = "127.0.0.1:8631"
    tls_cert: str = ""
    tls_key: str = ""
    admin_group: str = "lpadmin"
    auth_socket: str = "/run/faxprint/auth.sock"
    proxy: bool = False  # behind a proxy that serves it over TLS (X-Forwarded-* trusted)

    def __post_init__(self) -> None:
        if self.listen and not self.listen.rpartition(":")[2].isdigit():
            raise ValueError("listen must be HOST:PORT, or empty for no outbox")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("tls_cert and tls_key go together")


@dataclass(frozen=True)
class Config:
    """Everything faxprint was configured with."""

    accounts: Mapping[str, Account]
    journal: Path  # the SQLite file; with a database, the anchor of this server's folder
    database: str = ""  # a PostgreSQL journal's libpq URL (no password in it)
    database_passfile: str = ""  # its pgpass file
    retry: RetryPolicy = RetryPolicy()
    limits: Limits = Limits()
    printer: Printer = Printer()
    service: Service = Service()
    web: Web = Web()
    covers: Mapping[str, Cover] = field(default_factory=dict)
    uncertain: str = "hold"
    source: Path | None = None
    hotfolder: Mapping[str, Any] = field(default_factory=dict)  # see faxprint.hotfolder.settings

    @property
    def has_journal(self) -> bool:
        """Whether there is a journal to read: a database, or the file made already."""
        return bool(self.database) or self.journal.exists()

    def account(self, name: str | None = None) -> Account:
        """Return the named account, or the default one."""
        wanted = name or "default"
        if wanted in self.accounts:
            return self.accounts[wanted]
        known = ", ".join(sorted(self.accounts)) or "none"
        where = self.source or "the embedded default configuration"
        raise ConfigError(f"no account {wanted!r} in {where} (accounts: {known})")


def load(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """Read the configuration: ``path``, else ``$FAXPRINT_CONFIG``, else the default file."""
    env = os.environ if env is None else env
    chosen = path or env.get("FAXPRINT_CONFIG")
    if chosen is None and not DEFAULT_CONFIG.exists():
        return _apply_env(embedded_default(env), env)
    source = Path(chosen) if chosen else DEFAULT_CONFIG
    try:
        with source.open("rb") as stream:
            data = tomllib.load(stream)
            mode = os.fstat(stream.fileno()).st_mode
    except FileNotFoundError:
        raise ConfigError(f"config file {source} does not exist") from None
    except PermissionError:
        raise ConfigError(f"config file {source} is not readable by this user") from None
    except OSError as exc:
        raise ConfigError(f"config file {source} cannot be read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {source} is not valid TOML: {exc}") from None
    return _apply_env(from_mapping(data, source=source, mode=mode, env=env), env)


def embedded_default(env: Mapping[str, str]) -> Config:
    """Return the configuration used when there is no file: the local sandbox."""
    sandbox = Account(
        name="default", url=SANDBOX_URL, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD
    )
    return Config(accounts={"default": sandbox}, journal=default_journal(env))


def default_journal(env: Mapping[str, str]) -> Path:
    """Pick the journal's place: the system journal for root and lp, else the state folder.

    The CUPS backend runs as ``lp`` and the admin's commands as root: both use the system
    journal, so ``faxprint`` commands see printed jobs too.
    """
    if os.geteuid() in (0, _uid_of("lp")):
        return SYSTEM_JOURNAL
    state = env.get("XDG_STATE_HOME") or str(
        Path(env.get("HOME", "~")).expanduser() / ".local/state"
    )
    return Path(state) / "faxprint" / "journal.sqlite"


def _uid_of(user: str) -> int | None:
    import pwd

    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        return None


def from_mapping(
    data: Mapping[str, Any],
    *,
    source: Path | None = None,
    mode: int = 0o600,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Validate parsed TOML into a Config."""
    env = os.environ if env is None else env
    where = str(source or "configuration")
    base = source.parent if source is not None else Path.cwd()  # relative paths start here
    only(data, {"journal", "journal_passfile", "local", "retry", "limits", "printer",
                "service", "web", "covers", "uncertain", "accounts", "hotfolder"},
         where)  # fmt: skip
    accounts = _accounts(data, where, mode, base)
    uncertain = str(data.get("uncertain", "hold"))
    if uncertain not in UNCERTAIN_POLICIES:
        raise ConfigError(f"{where}: uncertain must be one of {', '.join(UNCERTAIN_POLICIES)}")
    database = database_of(data.get("journal"), f"{where}: journal")
    journal = (path_of(data["journal"], f"{where}: journal", base)
               if "journal" in data and not database else default_journal(env))  # fmt: skip
    if "local" in data:  # this server's own folder, beside a shared database
        if not database:
            raise ConfigError(f"{where}: local is for a journal in PostgreSQL (an SQLite "
                              "journal's folder is this server's own)")  # fmt: skip
        journal = path_of(data["local"], f"{where}: local", base) / "journal.sqlite"
    passfile = data.get("journal_passfile")
    passfile = str(path_of(passfile, f"{where}: journal_passfile", base)) if passfile else ""
    hotfolder = dict(_table(data.get("hotfolder", {}), f"{where}: [hotfolder]"))
    if "path" in hotfolder:
        hotfolder["path"] = str(path_of(hotfolder["path"], f"{where}: [hotfolder] path", base))
    return Config(
        accounts=accounts,
        journal=journal,
        database=database,
        database_passfile=passfile,
        retry=_retry(_table(data.get("retry", {}), f"{where}: [retry]"), where),
        limits=_limits(data.get("limits", {}), f"{where}: [limits]"),
        service=_table_of(
            Service, _table(data.get("service", {}), f"{where}: [service]"), f"{where}: [service]"
        ),
        printer=_table_of(
            Printer, _table(data.get("printer", {}), f"{where}: [printer]"), f"{where}: [printer]"
        ),
        web=_table_of(Web, _table(data.get("web", {}), f"{where}: [web]"), f"{where}: [web]"),
        covers=account_covers(accounts, covers_of(data, where, base), where),
        uncertain=uncertain,
        source=source,
        hotfolder=hotfolder,
    )


def _accounts(data: Mapping[str, Any], where: str, mode: int, base: Path) -> dict[str, Account]:
    """The [accounts.NAME] tables, read; warn of secrets others can read, and of
    certificates not verified."""
    accounts_data = _table(data.get("accounts", {}), f"{where}: [accounts]")
    accounts = {
        name: account_from_table(
            name, _table(entry, f"{where}: [accounts.{name}]"), where, mode, base
        )
        for name, entry in accounts_data.items()
    }
    if not accounts:
        raise ConfigError(f"{where}: no [accounts.NAME] table; faxprint needs one account")
    if mode & stat.S_IROTH and any(
        secret in _table(a, where) for a in accounts_data.values() for secret in SECRETS
    ):
        logger.warning("%s holds a secret and is readable by every user; chmod o-r", where)
    for account in accounts.values():
        if account.verify is False:
            logger.warning(
                "account %r: TLS certificates are not verified (verify = false)", account.name
            )
    return accounts


def _apply_env(config: Config, env: Mapping[str, str]) -> Config:
    if env.get("FAXPRINT_JOURNAL"):
        journal = path_of(env["FAXPRINT_JOURNAL"], "$FAXPRINT_JOURNAL", Path.cwd())
        return dataclasses.replace(config, journal=journal, database="")
    return config


def _retry(data: Mapping[str, Any], where: str) -> RetryPolicy:
    policy = _table_of(RetryPolicy, data, f"{where}: [retry]")
    if policy.tries < 1 or policy.max_attempts < 1 or policy.backoff < 0:
        raise ConfigError(f"{where}: [retry]: tries and max_attempts must be at least 1")
    return policy


def _limits(value: Any, context: str) -> Limits:
    return _table_of(Limits, _table(value, context), context)
