"""The two ways into faxprint, driven the same way by the campaign's cases.

``Printer`` is the Fax queue of a real cupsd (``lp``, the backend as lp, cupsd's retries);
``HotFolder`` is a real watcher with real watchdog observers. Each sends a job marked by
its cover text, waits until the job has come to an end, and says how it ended.
"""

from __future__ import annotations

import json
import os
import pwd
import re
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, NumberObject, StreamObject

from tests.support import configs
from tests.support.configs import faxout_account
from tests.support.cupsd import JOB_COMPLETED, JOB_HELD, TERMINAL_JOB_STATES, PrivateCupsd
from tests.support.helpers import Watcher, drop_ticket, make_pdf, wait_for

QUEUE = "FaxCampaign"
RETRY = {"tries": 2, "backoff": 0.0, "max_attempts": 10}


def config_text(journal: Path, url: str, *, read_timeout: float = 30.0, **retry: float) -> str:
    """A config with one account at ``url`` and the retry policy given (RETRY otherwise)."""
    account = faxout_account(url, read_timeout=read_timeout)
    return configs.config_text(account, journal=journal, retry={**RETRY, **retry})


class Printer:
    """Jobs printed with ``lp`` to the campaign's queue on the session's private cupsd."""

    name = "printer"

    def __init__(self, cupsd: PrivateCupsd, root: Path, work: Path) -> None:
        self.cupsd, self.root, self.work = cupsd, root, work
        self.jobs: dict[str, int] = {}

    @property
    def journal(self) -> Path:
        return self.root / "spool" / "journal.sqlite"

    def configure(self, url: str, **settings: float) -> None:
        path = self.root / "etc" / "faxprint.toml"
        path.write_text(config_text(self.journal, url, **settings))
        path.chmod(0o640)
        if os.geteuid() == 0:
            os.chown(path, 0, pwd.getpwnam("lp").pw_gid)

    def send(self, marker: str, megabytes: float = 0) -> None:
        pdf = campaign_pdf(self.work / f"{len(self.jobs)}.pdf", marker, megabytes)
        options = ["fax-to=5556465589", f'fax-cover-text="{marker}"']
        self.jobs[marker] = self.cupsd.lp(QUEUE, pdf, options=options, title=marker)

    def owns(self, title: str, marker: str) -> bool:
        """Tell whether a journal record's title is this marker's job."""
        return title == marker

    def ended(self, marker: str, timeout: float = 90.0) -> str:
        """Wait until the job is done or held; return "accepted", "held: ..." or
        "cancelled: ..." with the message the backend left."""
        job = self.jobs[marker]
        conn = self.cupsd.connection()
        found: list[tuple[int, str]] = []

        def ended() -> bool:
            attributes = conn.getJobAttributes(job)
            state = int(attributes["job-state"])
            message = str(attributes.get("job-printer-state-message", ""))
            # cupsd also holds a job it will retry (until JobRetryInterval passes): only a
            # hold the backend asked for ("Fax held: ...") is an end.
            if state in TERMINAL_JOB_STATES or (
                state == JOB_HELD and message.startswith("Fax held")
            ):
                found.append((state, message or self.message(job)))
                return True
            return False

        wait_for(ended, timeout, f"job {job} to end")
        state, message = found[0]
        if state == JOB_COMPLETED:
            return "accepted"
        assert message, f"job {job} ended in state {state} without a message"
        return f"{'held' if state == JOB_HELD else 'cancelled'}: {message}"

    def message(self, job: int) -> str:
        found = re.findall(
            r'Set job-printer-state-message to "(.*)", current level', self.cupsd.job_log(job)
        )
        return found[-1] if found else ""


class HotFolderPath:
    """Tickets dropped into a folder watched by a HotFolder service in this process."""

    name = "hot folder"

    def __init__(self, work: Path) -> None:
        self.work = work
        self.root = work / "drop"
        self.config = work / "faxprint.toml"
        self.markers: dict[str, str] = {}
        self.watcher: Watcher | None = None

    @property
    def journal(self) -> Path:
        return self.work / "journal.sqlite"

    def configure(self, url: str, **settings: float) -> None:
        self.config.write_text(
            config_text(self.journal, url, **settings)
            + "[hotfolder]\nstable_seconds = 0.3\nrescan_seconds = 0.5\n"
        )
        self.config.chmod(0o600)

    def start(self) -> None:
        self.watcher = Watcher(self.config, self.root)
        self.watcher.start()

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    def send(self, marker: str, megabytes: float = 0) -> None:
        name = f"job{len(self.markers)}"
        self.markers[marker] = name
        campaign_pdf(self.work / f"{name}.pdf", marker, megabytes).rename(self.root / f"{name}.pdf")
        drop_ticket(self.root, name, {"to": ["5556465589"], "cover_text": marker})

    def owns(self, title: str, marker: str) -> bool:
        """Tell whether a journal record's title is this marker's job."""
        return f"-{self.markers[marker]}-" in title

    def ended(self, marker: str, timeout: float = 90.0) -> str:
        """Wait for the job's receipt; return "accepted", "held: ..." or "failed: ..."."""
        name = self.markers[marker]
        found: list[tuple[str, dict[str, Any], Path]] = []

        def receipt() -> bool:
            for where in ("done", "failed", "held"):
                for path in (self.root / where).glob("*/receipt.json"):
                    record = json.loads(path.read_text())
                    if f"{name}.pdf" in record["documents"]:
                        found.append((where, record, path.parent))
                        return True
            return False

        wait_for(receipt, timeout, f"a receipt for {name}")
        where, record, folder = found[0]
        if where == "done":
            return "accepted"
        assert (folder / f"{name}.pdf").exists(), f"{where}/{folder.name} lost its document"
        assert record["message"], f"{where}/{name} has no reason"
        return f"{where}: {record['message']}"


def campaign_pdf(path: Path, marker: str, megabytes: float = 0) -> Path:
    """A one-page PDF showing ``marker``, with an unshown gray image of random pixels
    making it ``megabytes`` big (filters keep it: the page's resources name it)."""
    make_pdf(path, text=marker)
    if not megabytes:
        return path
    reader = PdfReader(path)
    writer = PdfWriter(clone_from=reader)
    side = int((megabytes * 1024 * 1024) ** 0.5)
    image = StreamObject()
    image.set_data(os.urandom(side * side))
    image.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(side),
            NameObject("/Height"): NumberObject(side),
            NameObject("/BitsPerComponent"): NumberObject(8),
            NameObject("/ColorSpace"): NameObject("/DeviceGray"),
        }
    )
    resources = writer.pages[0][NameObject("/Resources")]
    resources[NameObject("/XObject")] = DictionaryObject(  # type: ignore[index]
        {NameObject("/Im0"): writer._add_object(image)}
    )
    with path.open("wb") as stream:
        writer.write(stream)
    return path
