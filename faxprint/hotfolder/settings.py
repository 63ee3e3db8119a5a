"""The ``[hotfolder]`` table of the configuration, validated.

::

    [hotfolder]
    path = "/srv/fax"          # the watched folder (``faxprint watch DIR`` overrides it)
    account = "default"        # account for tickets that do not name one
    concurrency = 4            # uploads at once
    stable_seconds = 2.0       # a file without a ticket must stay unchanged this long
    ticket_wait = 600          # seconds a ticket waits for its documents to appear
    rescan_seconds = 30        # full rescans besides the watcher's events
    polling = false            # poll instead of inotify (network shares)
    poll_seconds = 1.0
    max_document_mb = 100
    delivery_seconds = 60      # how often receipts waiting for delivery are brought up to date

    [hotfolder.folders.accounting]     # every file dropped in accounting/ goes here
    to = ["5556465589|Accounting"]
    cover = "Default"
    cover_text = "From the scanner"
    resolution = "high"
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faxprint.errors import ConfigError

_FOLDER_KEYS = {"to", "cover", "cover_text", "resolution", "account"}
_SETTING_KEYS = {
    "path",
    "account",
    "concurrency",
    "stable_seconds",
    "ticket_wait",
    "rescan_seconds",
    "polling",
    "poll_seconds",
    "max_document_mb",
    "delivery_seconds",
    "folders",
}


@dataclass(frozen=True)
class FolderDefaults:
    """What a file dropped into a configured subfolder is faxed with."""

    to: tuple[str, ...]
    cover: str | None = None
    cover_text: str | None = None
    resolution: str | None = None
    account: str | None = None


@dataclass(frozen=True)
class HotFolderSettings:
    """How ``faxprint watch`` runs."""

    path: Path | None = None
    account: str = "default"
    concurrency: int = 4
    stable_seconds: float = 2.0
    ticket_wait: float = 600.0
    rescan_seconds: float = 30.0
    polling: bool = False
    poll_seconds: float = 1.0
    max_document_mb: float = 100.0
    delivery_seconds: float = 60.0
    folders: Mapping[str, FolderDefaults] = field(default_factory=dict)

    @property
    def max_document_bytes(self) -> int:
        """Return the size limit of one document in bytes."""
        return int(self.max_document_mb * 1024 * 1024)


def from_table(table: Mapping[str, Any]) -> HotFolderSettings:
    """Validate the ``[hotfolder]`` table."""
    unknown = sorted(set(table) - _SETTING_KEYS)
    if unknown:
        raise ConfigError(f"[hotfolder]: unknown setting {', '.join(unknown)}")
    folders = {name: _folder(name, spec) for name, spec in dict(table.get("folders", {})).items()}
    try:
        settings = HotFolderSettings(
            path=Path(table["path"]) if "path" in table else None,
            account=str(table.get("account", "default")),
            concurrency=int(table.get("concurrency", 4)),
            stable_seconds=float(table.get("stable_seconds", 2.0)),
            ticket_wait=float(table.get("ticket_wait", 600.0)),
            rescan_seconds=float(table.get("rescan_seconds", 30.0)),
            polling=bool(table.get("polling", False)),
            poll_seconds=float(table.get("poll_seconds", 1.0)),
            max_document_mb=float(table.get("max_document_mb", 100.0)),
            delivery_seconds=float(table.get("delivery_seconds", 60.0)),
            folders=folders,
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[hotfolder]: {exc}") from None
    if (
        settings.concurrency < 1
        or min(settings.poll_seconds, settings.rescan_seconds, settings.delivery_seconds) <= 0
    ):
        raise ConfigError(
            "[hotfolder]: concurrency, poll_seconds, rescan_seconds and delivery_seconds "
            "must be > 0"
        )
    return settings


def _folder(name: str, spec: Any) -> FolderDefaults:
    context = f"[hotfolder.folders.{name}]"
    if "/" in name or name in ("", ".", "..") or name.startswith("."):
        raise ConfigError(f"{context}: a folder name is one plain name")
    if name in ("processing", "done", "failed", "held"):
        raise ConfigError(f"{context}: {name} is reserved for faxprint's own use")
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{context} must be a table")
    unknown = sorted(set(spec) - _FOLDER_KEYS)
    if unknown:
        raise ConfigError(f"{context}: unknown setting {', '.join(unknown)}")
    to = spec.get("to")
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not to or not all(isinstance(t, str) for t in to):
        raise ConfigError(f"{context}: to must be a list of fax numbers")
    return FolderDefaults(
        to=tuple(to),
        cover=_text(spec, "cover", context),
        cover_text=_text(spec, "cover_text", context),
        resolution=_text(spec, "resolution", context),
        account=_text(spec, "account", context),
    )


def _text(spec: Mapping[str, Any], key: str, context: str) -> str | None:
    value = spec.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{context}: {key} must be a string")
    return value
