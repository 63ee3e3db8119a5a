"""The campaign's two paths with a RingCentral REST account instead of a FaxOut one.

``RestPrinter`` is the campaign's Fax queue (a real cupsd, the backend as lp) and
``RestHotFolder`` a real watcher, each configured with ``transport = "ringcentral"`` on the
sandbox's REST side, its client secret and JWT in files of their own. A printer case gets
its own journal folder (and so its own token cache beside it): the sandbox numbers its
messages from 1, and the journal remembers which message ids its jobs own.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from faxprint.journal import AttemptRecord, JobRecord, Journal
from tests.campaign.paths import RETRY, HotFolderPath, Printer
from tests.support.configs import config_text, rest_account_toml
from tests.support.cupsd import PrivateCupsd
from tests.support.helpers import drop_ticket, make_pdf, wait_for
from tests.support.secrets import TEST_CLIENT_SECRET, TEST_JWT, TEST_PASSWORD

#: Keys of the [retry] table; every other setting goes to the account.
RETRY_KEYS = frozenset({"tries", "backoff", "max_backoff", "max_attempts", "max_age"})
#: The account's settings for the campaign: a short store_wait keeps lookups quick.
ACCOUNT = {"store_wait": 1.0, "read_timeout": 30.0}
#: What a careless admin typed instead of the real secrets (secrets all the same).
WRONG = {"client_secret": "Cs-wrong-5e1a77c2", "jwt": "Jwt-wrong-0b9d3f48"}
SECRETS = (TEST_CLIENT_SECRET, TEST_JWT, TEST_PASSWORD, *WRONG.values())


def rest_config_text(journal: Path, url: str, secrets: Path, **settings: float | str) -> str:
    """A config whose default account is the sandbox's REST app, secrets in ``secrets``/,
    with the campaign's retry policy and ``settings`` (retry keys or account keys)."""
    retry = {**RETRY, **{k: v for k, v in settings.items() if k in RETRY_KEYS}}
    account = {**ACCOUNT, **{k: v for k, v in settings.items() if k not in RETRY_KEYS}}
    table = rest_account_toml(url, secrets, name="default")
    if "default_country" in account:
        table = table.replace('default_country = "US"\n', "")
    table += "".join(f"{key} = {json.dumps(value)}\n" for key, value in account.items())
    return config_text(table, journal=journal, retry=retry)


def secret_file(folder: Path, key: str) -> Path:
    """The file rest_account_toml keeps the default account's ``key`` in."""
    return folder / f"default.{key}.secret"


def leaked(texts: Iterable[str]) -> list[str]:
    """Return the texts that show any of the campaign's secrets (never the secret)."""
    return [text[:80] for text in texts if any(secret in text for secret in SECRETS)]


def attempts_of(journal: Path, title_part: str) -> list[AttemptRecord]:
    """The journal's attempts of the one job whose title holds ``title_part``."""
    with Journal(journal) as opened:
        return opened.attempts(job_of(opened, title_part).key)


def job_of(journal: Journal, title_part: str) -> JobRecord:
    """The one job of the journal whose title holds ``title_part``."""
    [job] = [j for j in journal.recent(limit=100) if title_part in j.title]
    return job


class RestPrinter(Printer):
    """The campaign's Fax queue, sending through a REST account."""

    name = "rest printer"

    def __init__(self, cupsd: PrivateCupsd, root: Path, work: Path) -> None:
        super().__init__(cupsd, root, work)
        self.folder = root / "spool" / f"rest-{work.name}"

    @property
    def journal(self) -> Path:
        return self.folder / "journal.sqlite"

    @property
    def secrets(self) -> Path:
        return self.root / "etc"

    def configure(self, url: str, **settings: float | str) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(mode=0o700)
        config = self.root / "etc" / "faxprint.toml"
        config.write_text(rest_config_text(self.journal, url, self.secrets, **settings))
        config.chmod(0o640)
        for path in (config, *(secret_file(self.secrets, k) for k in WRONG)):
            _give_lp(path, owner=False)
        _give_lp(self.folder, owner=True)

    def set_secret(self, key: str, value: str) -> None:
        """Write the account's ``key`` (client_secret, jwt) as an admin would."""
        secret_file(self.secrets, key).write_text(value + "\n")

    def title(self, marker: str) -> str:
        """The journal's title of the marker's job (the CUPS job's title)."""
        return marker


class RestHotFolder(HotFolderPath):
    """A watcher in this process, sending through a REST account."""

    name = "rest hot folder"

    @property
    def secrets(self) -> Path:
        return self.work

    def configure(self, url: str, **settings: float | str) -> None:
        self.config.write_text(
            rest_config_text(self.journal, url, self.secrets, **settings)
            + "[hotfolder]\nstable_seconds = 0.3\nrescan_seconds = 0.5\n"
        )
        self.config.chmod(0o600)

    def set_secret(self, key: str, value: str) -> None:
        secret_file(self.secrets, key).write_text(value + "\n")

    def title(self, marker: str) -> str:
        """The part of the journal's title (the claim's name) that is the marker's job."""
        return f"-{self.markers[marker]}-"

    def drop(
        self, marker: str, ticket: Mapping[str, object], documents: Mapping[str, Path] | None = None
    ) -> str:
        """Drop a ticket of one's own (and its documents, else a one-page PDF); return the
        job's name."""
        name = f"job{len(self.markers)}"
        self.markers[marker] = name
        given = documents or {f"{name}.pdf": make_pdf(self.work / f"{name}.pdf", text=marker)}
        for document, path in given.items():
            path.rename(self.root / document)
        drop_ticket(self.root, name, {**ticket, "documents": list(given)})
        return name

    def ended(self, marker: str, timeout: float = 90.0) -> str:
        """Wait for the job's receipt; return "accepted", "held: ..." or "failed: ..."."""
        wait_for(lambda: self._receipt(marker), timeout, f"a receipt for {self.markers[marker]}")
        found = self._receipt(marker)
        assert found is not None
        where, record, folder = found
        if where == "done":
            return "accepted"
        for document in record["documents"]:
            assert (folder / document).exists(), f"{where}/{folder.name} lost {document}"
        assert record["message"], f"{where}/{folder.name} has no reason"
        return f"{where}: {record['message']}"

    def receipt(self, marker: str) -> dict[str, Any]:
        """The receipt of the marker's job (once it has ended)."""
        found = self._receipt(marker)
        assert found is not None, f"no receipt for {self.markers[marker]}"
        return found[1]

    def _receipt(self, marker: str) -> tuple[str, dict[str, Any], Path] | None:
        claim = f"-{self.markers[marker]}-"
        for where in ("done", "failed", "held"):
            for path in (self.root / where).glob(f"*{claim}*/receipt.json"):
                return where, json.loads(path.read_text()), path.parent
        return None


def _give_lp(path: Path, *, owner: bool) -> None:
    """Let the backend (lp) read ``path`` (group lp), or own it (``owner``)."""
    if os.geteuid() != 0:
        return
    lp = pwd.getpwnam("lp")
    os.chown(path, lp.pw_uid if owner else 0, lp.pw_gid)
