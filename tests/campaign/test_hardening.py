"""The campaign's hardening cases (issue 16): what a careless user, another user or a full
disk does to a job, through the real paths, each in the ledger.

- a document still open for writing when its ticket's wait ends: refused, never sent half;
- a ticket naming another user's waiting document: refused, the document left where it
  was, and its owner's own ticket sends it;
- the journal's disk filling while the service accepts the fax: the fax stands, said
  first, on the printer (a real cupsd, the backend as lp) and the hot folder.
The echoing service (test_echoed_secrets.py) and the cancels against a slow service
(test_kills.py) are the campaign's too.
"""

from __future__ import annotations

import json
import os
import pwd
import threading
from pathlib import Path

import pytest

from faxprint.sandbox import Fault, SandboxServer
from tests.campaign.ledger import stored_markers, tally
from tests.campaign.paths import RETRY, HotFolderPath, Printer, campaign_pdf
from tests.support.configs import faxout_account, write_config
from tests.support.cupsd import JOB_COMPLETED
from tests.support.disk import fill, needs_root, small_disk
from tests.support.helpers import drop_ticket, wait_for

pytestmark = [pytest.mark.slow, needs_root]


def _receipts(path: HotFolderPath, where: str) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted((path.root / where).glob("*/receipt.json"))]


def test_a_document_still_being_written_when_the_wait_ends_is_refused(
    hot_folder: HotFolderPath, server: SandboxServer
) -> None:
    marker = "hardening: a document still being written"
    hot_folder.configure(server.url)
    hot_folder.config.write_text(hot_folder.config.read_text() + "ticket_wait = 1\n")
    hot_folder.start()
    hot_folder.root.mkdir(exist_ok=True)
    with (hot_folder.root / "open.pdf").open("wb") as stream:
        stream.write(campaign_pdf(hot_folder.work / "half.pdf", marker).read_bytes()[:200])
        stream.flush()  # a writer that keeps it open
        drop_ticket(hot_folder.root, "open", {"to": ["5556465589"], "cover_text": marker})
        wait_for(lambda: _receipts(hot_folder, "failed"), 60, "the refusal")
    [receipt] = _receipts(hot_folder, "failed")
    result = tally(hot_folder.name, "document still being written at ticket_wait", [marker],
                   stored_markers([server]), {marker: "failed"})  # fmt: skip
    assert (result.accepted, result.lost) == (0, 0)
    assert "open.pdf: still being written" in str(receipt["message"])
    assert server.requests == []


def test_a_ticket_naming_another_users_document_moves_nothing(
    hot_folder: HotFolderPath, server: SandboxServer
) -> None:
    marker, victim = "hardening: another user's document", pwd.getpwnam("daemon")
    hot_folder.configure(server.url)
    hot_folder.root.mkdir()
    hot_folder.root.chmod(0o1777)
    hot_folder.start()
    theirs = hot_folder.root / ".theirs.tmp"
    campaign_pdf(theirs, marker)
    os.chown(theirs, victim.pw_uid, victim.pw_gid)
    theirs = theirs.rename(hot_folder.root / "theirs.pdf")
    _ticket(hot_folder.root, "grab", pwd.getpwnam("nobody"), marker)  # another user's
    wait_for(lambda: _receipts(hot_folder, "failed"), 60, "the refusal")
    assert theirs.exists()  # where its owner left it
    _ticket(hot_folder.root, "mine", victim, marker)  # the owner's own ticket sends it
    wait_for(lambda: _receipts(hot_folder, "done"), 60, "the owner's fax")
    result = tally(hot_folder.name, "a ticket naming another user's document", [marker],
                   stored_markers([server]), {})  # fmt: skip
    assert (result.accepted, result.duplicates, result.lost) == (1, 0, 0)


def _ticket(root: Path, name: str, owner: pwd.struct_passwd, marker: str) -> None:
    """Drop a ticket for theirs.pdf as ``owner`` (renamed into place as theirs)."""
    temporary = root / f".{name}.tmp"
    temporary.write_text(json.dumps({"to": ["5556465589"], "cover_text": marker,
                                     "documents": ["theirs.pdf"]}))  # fmt: skip
    os.chown(temporary, owner.pw_uid, owner.pw_gid)
    temporary.rename(root / f"{name}.fax.json")


def test_a_full_journal_disk_after_acceptance_keeps_the_hot_folders_fax(
    hot_folder: HotFolderPath, server: SandboxServer, tmp_path: Path
) -> None:
    marker = "hardening: the journal's disk fills, hot folder"
    release = threading.Event()
    server.faults.push(Fault.hold(release))
    with small_disk(tmp_path / "disk") as disk:
        hot_folder.configure(server.url)
        hot_folder.config.write_text(hot_folder.config.read_text().replace(
            str(hot_folder.journal), str(disk / "journal.sqlite")))  # fmt: skip
        hot_folder.start()
        hot_folder.send(marker)
        wait_for(server.faxes, 60, "the service to accept the fax")
        fill(disk)
        release.set()
        ended = hot_folder.ended(marker)
        hot_folder.stop()
    [receipt] = _receipts(hot_folder, "done")
    result = tally(hot_folder.name, "the journal's disk fills after acceptance", [marker],
                   stored_markers([server]), {})  # fmt: skip
    assert (ended, result.accepted, result.duplicates) == ("accepted", 1, 0)
    assert "the journal could not record this: journal " in str(receipt["message"])


def test_a_full_journal_disk_after_acceptance_keeps_the_printers_fax(
    printer: Printer, server: SandboxServer, faxprint_root: Path
) -> None:
    marker = "hardening: the journal's disk fills, printer"
    release = threading.Event()
    server.faults.push(Fault.hold(release))
    lp = pwd.getpwnam("lp")
    disk_folder = faxprint_root / "spool" / "small-disk"
    with small_disk(disk_folder, mode="0700") as disk:
        os.chown(disk, lp.pw_uid, lp.pw_gid)
        write_config(
            faxprint_root / "etc" / "faxprint.toml",
            faxout_account(server.url),
            journal=disk / "journal.sqlite",
            retry=RETRY,
            lp_readable=True,
        )
        printer.send(marker)
        wait_for(server.faxes, 60, "the service to accept the fax")
        fill(disk)
        release.set()
        ended = printer.ended(marker)
        job_log = printer.cupsd.job_log(printer.jobs[marker])
    result = tally(printer.name, "the journal's disk fills after acceptance", [marker],
                   stored_markers([server]), {})  # fmt: skip
    assert (ended, result.accepted, result.duplicates) == ("accepted", 1, 0)
    assert printer.cupsd.job_attributes(printer.jobs[marker])["job-state"] == JOB_COMPLETED
    assert "The journal could not record this: journal " in job_log
