"""The hot folder with real watchdog observers, real files and a sandbox over real HTTP."""

from __future__ import annotations

import grp
import json
import logging
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from faxprint import config as configuration
from faxprint.hotfolder.service import HotFolder
from faxprint.hotfolder.settings import from_table
from faxprint.journal import Journal, State
from faxprint.sandbox import Fault, SandboxServer
from tests.conftest import REPO
from tests.support.configs import hot_folder_config
from tests.support.disk import fill, needs_root, small_disk
from tests.support.helpers import Watcher, drop_ticket, make_pdf, started, wait_for, watch_process

pytestmark = pytest.mark.slow


def filed(root: Path, where: str) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted((root / where).glob("*/receipt.json"))]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "drop"


@pytest.fixture
def watched(tmp_path: Path, root: Path, sandbox: SandboxServer) -> Iterator[HotFolder]:
    with Watcher(hot_folder_config(tmp_path, sandbox.url), root) as service:
        yield service


def test_a_ticket_and_its_documents_become_one_fax_with_a_receipt(
    watched: HotFolder, root: Path, sandbox: SandboxServer
) -> None:
    make_pdf(root / "invoice42.pdf", pages=2)
    (root / "invoice42.terms.txt").write_text("Terms\n")
    drop_ticket(
        root,
        "invoice42",
        {"to": ["5556465589|José", "5555568552"], "cover_text": "Invoice 42", "resolution": "low"},
    )
    wait_for(lambda: filed(root, "done"), what="a receipt in done/")
    [receipt] = filed(root, "done")
    assert (receipt["outcome"], receipt["code"], receipt["recipients"]) == (
        "accepted",
        0,
        ["5556465589|José", "5555568552"],  # as the person wrote it
    )
    assert receipt["documents"] == ["invoice42.pdf", "invoice42.terms.txt"]
    [fax] = sandbox.faxes()
    assert fax.record["recipients"] == [  # FaxOut's wire is ASCII
        {"number": "5556465589", "name": "Jose"},
        {"number": "5555568552", "name": None},
    ]
    assert [a["filename"] for a in fax.record["attachments"]] == [
        "invoice42.pdf",
        "invoice42.terms.txt",
    ]
    assert (fax.record["coverpagetext"], fax.record["resolution"]) == ("Invoice 42", "Low")
    assert sorted(p.name for p in root.iterdir()) == [
        "accounting",
        "done",
        "failed",
        "held",
        "processing",
    ]


def test_a_file_dropped_in_a_configured_folder_uses_its_defaults(
    watched: HotFolder, root: Path, sandbox: SandboxServer
) -> None:
    make_pdf(root / "accounting" / "scan.pdf")
    wait_for(lambda: filed(root, "done"), what="a receipt in done/")
    [fax] = sandbox.faxes()
    assert fax.record["recipients"] == [{"number": "5556465589", "name": "Accounting"}]
    assert fax.record["coverpagetext"] == "From the scanner"


def test_a_document_written_slowly_is_sent_whole_once(
    watched: HotFolder, root: Path, sandbox: SandboxServer
) -> None:
    data = make_pdf(root.parent / "slow.pdf", pages=5).read_bytes()
    target = root / "accounting" / "slow.pdf"
    with target.open("wb") as stream:
        for start in range(0, len(data), 512):
            stream.write(data[start : start + 512])
            stream.flush()
            time.sleep(0.05)  # a slow writer: the pauses are the point of this test
    wait_for(lambda: filed(root, "done"), what="a receipt in done/")
    [fax] = sandbox.faxes()
    assert fax.record["attachments"][0]["size"] == len(data)
    assert len(sandbox.requests) == 1


def test_a_ticket_that_arrives_before_its_documents_waits_for_them(
    watched: HotFolder, root: Path, sandbox: SandboxServer
) -> None:
    drop_ticket(root, "late", {"to": ["5556465589"], "documents": ["late-report.pdf"]})
    time.sleep(0.6)  # longer than stable_seconds and a rescan: it must still be waiting
    assert filed(root, "done") == filed(root, "failed") == []
    make_pdf(root / "late-report.pdf")
    wait_for(lambda: filed(root, "done"), what="a receipt in done/")
    assert filed(root, "done")[0]["documents"] == ["late-report.pdf"]


@pytest.mark.parametrize(
    ("ticket", "reason"),
    [
        (b"{not json", "the ticket is not valid JSON"),
        (b'{"to": ["5556465589"], "colour": "blue"}', "unknown keys: colour"),
        (b'{"to": ["555-FAX-1234"]}', "contains letters"),
        (b'{"to": "5556465589", "documents": ["../etc/passwd"]}', "must be a plain file name"),
        (b'{"to": "5556465589", "documents": ["/etc/passwd"]}', "must be a plain file name"),
        (b'{"to": "5556465589", "send_at": "next week"}', "not a date and time"),
        (b'["5556465589"]', "must be a JSON object"),
        (b'{"to": "5556465589", "documents": ["missing.pdf"]}', "missing.pdf: document not found"),
    ],
)
def test_bad_tickets_go_to_failed_with_a_reason(
    tmp_path: Path, root: Path, sandbox: SandboxServer, ticket: bytes, reason: str
) -> None:
    config = hot_folder_config(tmp_path, sandbox.url)
    config.write_text(
        config.read_text().replace("[hotfolder]\n", "[hotfolder]\nticket_wait = 0.5\n")
    )
    with Watcher(config, root):
        (root / ".bad.tmp").write_bytes(ticket)
        os.rename(root / ".bad.tmp", root / "bad.fax.json")
        wait_for(lambda: filed(root, "failed"), what="a receipt in failed/")
    [receipt] = filed(root, "failed")
    assert reason in str(receipt["message"])
    assert sandbox.requests == []
    assert Path("/etc/passwd").exists()
    with Journal(tmp_path / "journal.sqlite") as journal:  # "did my fax go?" says no, and why
        [job] = journal.recent()
    assert (job.key, job.state, job.message) == (
        f"hotfolder:{receipt['job']}", State.FAILED, receipt["message"])  # fmt: skip


@pytest.mark.parametrize("kind", ["symlink", "hardlink", "fifo"])
def test_hostile_files_are_refused(
    watched: HotFolder, root: Path, sandbox: SandboxServer, tmp_path: Path, kind: str
) -> None:
    secret = tmp_path / "secret.pdf"
    make_pdf(secret)
    target = root / "evil.pdf"
    if kind == "symlink":
        target.symlink_to(secret)
    elif kind == "hardlink":
        os.link(secret, target)
    else:
        os.mkfifo(target)
    drop_ticket(root, "evil", {"to": ["5556465589"]})
    wait_for(lambda: filed(root, "failed"), what="a receipt in failed/")
    [receipt] = filed(root, "failed")
    expected = {
        "symlink": "symbolic link",
        "hardlink": "other hard links",
        "fifo": "not a regular file",
    }
    assert expected[kind] in str(receipt["message"])
    assert sandbox.requests == []
    assert secret.exists()


def test_hundreds_of_tickets_at_once_each_faxed_once_within_the_concurrency(
    tmp_path: Path, root: Path, sandbox: SandboxServer
) -> None:
    root.mkdir()
    pdf = make_pdf(tmp_path / "one.pdf").read_bytes()
    count = 200
    for n in range(count):
        (root / f"job{n}.pdf").write_bytes(pdf)
        drop_ticket(root, f"job{n}", {"to": ["5556465589"], "cover_text": f"job {n}"})
    with Watcher(hot_folder_config(tmp_path, sandbox.url), root):
        wait_for(lambda: len(filed(root, "done")) == count, timeout=120, what=f"{count} receipts")
    texts = sorted(str(f.record["coverpagetext"]) for f in sandbox.faxes())
    assert texts == sorted(f"job {n}" for n in range(count))
    assert len(sandbox.requests) == count
    assert 1 <= sandbox.max_in_flight <= 4


def test_a_service_that_fails_then_recovers_gets_the_fax_once(
    watched: HotFolder, root: Path, sandbox: SandboxServer
) -> None:
    # Failures that say "not accepted"; a cut connection after a small upload is
    # "maybe accepted" (see test_a_lost_answer_is_held_not_resent).
    for fault in (Fault.http_status(503), Fault.code(5), Fault.http_status(502)):
        sandbox.faults.push(fault)
    make_pdf(root / "retry.pdf")
    drop_ticket(root, "retry", {"to": ["5556465589"]})
    wait_for(lambda: filed(root, "done"), what="a receipt in done/")
    assert filed(root, "done")[0]["attempts"] == 4
    assert len(sandbox.faxes()) == 1


def test_a_lost_answer_is_held_not_resent(
    watched: HotFolder, root: Path, sandbox: SandboxServer
) -> None:
    sandbox.faults.push(Fault.accept_then_drop())
    make_pdf(root / "maybe.pdf")
    drop_ticket(root, "maybe", {"to": ["5556465589"]})
    wait_for(lambda: filed(root, "held"), what="a receipt in held/")
    assert "may have been accepted" in str(filed(root, "held")[0]["message"])
    assert len(sandbox.requests) == 1


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    return out


@pytest.mark.parametrize("stagger", [False, True])
def test_two_watchers_on_one_folder_send_each_job_once(
    tmp_path: Path, root: Path, sandbox: SandboxServer, stagger: bool
) -> None:
    root.mkdir()
    config = hot_folder_config(tmp_path, sandbox.url)
    pdf = make_pdf(tmp_path / "one.pdf").read_bytes()
    watchers = [watch_process(config, root)]
    try:
        started(watchers[0])
        if stagger:  # the second starts while the first has a job in hand: not its to resume
            release = threading.Event()
            sandbox.faults.push(Fault.hold(release))
            (root / "first.pdf").write_bytes(pdf)
            drop_ticket(root, "first", {"to": ["5556465589"], "cover_text": "first"})
            wait_for(lambda: sandbox.faxes() != [], what="the first upload")
            watchers.append(watch_process(config, root))
            started(watchers[1])
            release.set()
        else:
            watchers.append(watch_process(config, root))
            started(watchers[1])
        for n in range(60):
            (root / f"shared{n}.pdf").write_bytes(pdf)
            drop_ticket(root, f"shared{n}", {"to": ["5556465589"], "cover_text": f"shared {n}"})
        wait_for(lambda: len(filed(root, "done")) == 60 + stagger, timeout=120, what="all receipts")
    finally:
        logs = [_stop(w) for w in watchers]
    expected = sorted([f"shared {n}" for n in range(60)] + (["first"] if stagger else []))
    assert sorted(str(f.record["coverpagetext"]) for f in sandbox.faxes()) == expected
    assert all(w.returncode == 0 for w in watchers), logs
    assert "Traceback" not in "".join(logs)


def test_a_watcher_killed_mid_upload_never_doubles_the_fax(
    tmp_path: Path, root: Path, sandbox: SandboxServer
) -> None:
    root.mkdir()
    config = hot_folder_config(tmp_path, sandbox.url)
    release = threading.Event()
    sandbox.faults.push(Fault.hold(release))  # the service takes the fax, then answers late
    watcher = watch_process(config, root)
    make_pdf(root / "killed.pdf")
    drop_ticket(root, "killed", {"to": ["5556465589"]})
    wait_for(lambda: sandbox.faxes() != [], what="the upload to reach the service")
    watcher.kill()  # SIGKILL: no cleanup at all
    watcher.communicate(timeout=30)
    release.set()
    make_pdf(root / "after.pdf")
    drop_ticket(root, "after", {"to": ["5556465589"], "cover_text": "after"})
    restarted = watch_process(config, root)
    try:
        wait_for(
            lambda: filed(root, "held") and filed(root, "done"), what="held/ and done/ receipts"
        )
    finally:
        _stop(restarted)
    assert "interrupted during the upload" in str(filed(root, "held")[0]["message"])
    assert len(sandbox.faxes()) == 2  # the killed job once (held for a person), the next one once
    assert list((root / "processing").iterdir()) == []


def test_a_watcher_killed_after_claiming_finishes_the_job_at_restart(
    tmp_path: Path, root: Path, sandbox: SandboxServer
) -> None:
    root.mkdir()
    config = hot_folder_config(tmp_path, sandbox.url)
    from faxprint.hotfolder.spool import Spool

    spool = Spool(root)
    spool.prepare()
    make_pdf(root / "claimed.pdf")
    drop_ticket(root, "claimed", {"to": ["5556465589"]})
    # a claim cut short: claim.json written, ticket moved, the document not yet moved
    claim = spool.claim(root, "claimed.fax.json", [], ticket=True)
    assert claim is not None
    (claim.path / "claim.json").write_text(
        json.dumps(
            {
                "source": "",
                "trigger": "claimed.fax.json",
                "documents": ["claimed.pdf"],
                "ticket": True,
            }
        )
    )
    with Watcher(config, root):
        wait_for(lambda: filed(root, "done"), what="a receipt in done/")
    assert filed(root, "done")[0]["documents"] == ["claimed.pdf"]
    assert len(sandbox.faxes()) == 1


def test_polling_mode_for_network_shares(
    tmp_path: Path, root: Path, sandbox: SandboxServer
) -> None:
    config = hot_folder_config(tmp_path, sandbox.url)
    config.write_text(
        config.read_text().replace(
            "[hotfolder]\n", "[hotfolder]\npolling = true\npoll_seconds = 0.2\n"
        )
    )
    with Watcher(config, root) as service:
        assert service.settings.polling
        make_pdf(root / "polled.pdf")
        drop_ticket(root, "polled", {"to": ["5556465589"]})
        wait_for(lambda: filed(root, "done"), what="a receipt in done/")
    assert len(sandbox.faxes()) == 1


def test_documents_over_the_size_limit_are_refused(
    tmp_path: Path, root: Path, sandbox: SandboxServer
) -> None:
    config = hot_folder_config(tmp_path, sandbox.url)
    config.write_text(
        config.read_text().replace("[hotfolder]\n", "[hotfolder]\nmax_document_mb = 1\n")
    )
    with Watcher(config, root):
        (root / "huge.txt").write_bytes(b"x" * (2 * 1024 * 1024))
        drop_ticket(root, "huge", {"to": ["5556465589"]})
        wait_for(lambda: filed(root, "failed"), what="a receipt in failed/")
    assert "huge.txt: is 2 MB; the limit is 1 MB" in str(filed(root, "failed")[0]["message"])
    assert sandbox.requests == []


def test_the_first_sigterm_finishes_the_upload_in_hand(
    tmp_path: Path, root: Path, sandbox: SandboxServer
) -> None:
    root.mkdir()
    release = threading.Event()
    sandbox.faults.push(Fault.hold(release))
    watcher = watch_process(hot_folder_config(tmp_path, sandbox.url), root)
    try:
        make_pdf(root / "inflight.pdf")
        drop_ticket(root, "inflight", {"to": ["5556465589"]})
        wait_for(lambda: sandbox.faxes() != [], what="the upload to reach the service")
        watcher.send_signal(signal.SIGTERM)
        with pytest.raises(subprocess.TimeoutExpired):
            watcher.wait(timeout=0.5)  # still finishing the upload in hand
        release.set()
        out, _ = watcher.communicate(timeout=60)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.communicate()
    assert watcher.returncode == 0, out
    assert "finishing the uploads in hand" in out
    assert filed(root, "done")[0]["outcome"] == "accepted"


def test_a_folder_others_can_write_must_be_sticky(
    tmp_path: Path, root: Path, sandbox: SandboxServer
) -> None:
    from faxprint.errors import ConfigError

    root.mkdir()
    root.chmod(0o2770)
    settings = configuration.load(hot_folder_config(tmp_path, sandbox.url), env={})
    with pytest.raises(ConfigError, match="not sticky"):
        HotFolder(settings, from_table(settings.hotfolder), root).run()
    root.chmod(0o3770)
    with Watcher(hot_folder_config(tmp_path, sandbox.url), root):
        pass


@pytest.mark.parametrize("name", ["processing", "accounting"])
def test_a_faxprint_folder_replaced_by_a_link_stops_the_start(
    tmp_path: Path, root: Path, sandbox: SandboxServer, name: str
) -> None:
    from faxprint.errors import ConfigError

    victim = tmp_path / "victim"
    (victim / "keep").mkdir(parents=True)
    (victim / "secret.txt").write_text("secret")
    victim.chmod(0o755)
    root.mkdir()
    (root / name).symlink_to(victim)
    settings = configuration.load(hot_folder_config(tmp_path, sandbox.url), env={})
    with pytest.raises(ConfigError, match="must be a folder"):
        HotFolder(settings, from_table(settings.hotfolder), root).run()
    assert sorted(p.name for p in victim.iterdir()) == ["keep", "secret.txt"]
    assert oct(victim.stat().st_mode & 0o777) == "0o755"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs files of two other users")
def test_a_ticket_cannot_send_another_users_file(
    watched: HotFolder, root: Path, sandbox: SandboxServer
) -> None:
    payroll = root / "payroll.txt"
    payroll.write_text("salaries\n")
    os.chown(payroll, 1, 1)  # alice's file (uid 1), unreadable to mallory
    payroll.chmod(0o600)
    temp = root / ".grab.tmp"
    temp.write_text(json.dumps({"to": ["5550001111|mallory"], "documents": ["payroll.txt"]}))
    os.chown(temp, 65534, 65534)  # mallory's ticket
    os.rename(temp, root / "grab.fax.json")
    wait_for(lambda: filed(root, "failed"), what="a receipt in failed/")
    assert "payroll.txt: belongs to another user than the ticket" in str(
        filed(root, "failed")[0]["message"]
    )
    assert sandbox.requests == []


@pytest.mark.parametrize("name", ["processing", "done", "accounting", "\ud800.pdf"])
def test_documents_named_like_faxprint_folders_are_refused(
    watched: HotFolder, root: Path, sandbox: SandboxServer, name: str
) -> None:
    make_pdf(root / "ok.pdf")
    drop_ticket(root, "first", {"to": ["5556465589"], "documents": ["ok.pdf"]})
    wait_for(lambda: filed(root, "done"), what="a first job")
    (root / ".odd.tmp").write_text(json.dumps({"to": ["5556465589"], "documents": [name]}))
    os.rename(root / ".odd.tmp", root / "odd.fax.json")
    wait_for(lambda: filed(root, "failed"), what="a receipt in failed/")
    assert len(filed(root, "done")) == 1  # done/ still in place, its receipt still there
    assert (root / "processing").is_dir() and list((root / "processing").iterdir()) == []
    assert len(sandbox.requests) == 1


def test_a_document_written_after_its_ticket_is_sent_only_when_complete(
    watched: HotFolder, root: Path, sandbox: SandboxServer
) -> None:
    drop_ticket(root, "late", {"to": ["5556465589"], "documents": ["late.txt"]})
    data = b"a line of the late document\n" * 40
    with (root / "late.txt").open("wb") as stream:
        stream.write(data[:15])
        stream.flush()
        time.sleep(1.0)  # a writer pausing longer than stable_seconds mid-file
        stream.write(data[15:])
    wait_for(lambda: filed(root, "done"), what="a receipt in done/")
    assert sandbox.faxes()[0].record["attachments"][0]["size"] == len(data)


def test_a_document_still_being_written_when_the_wait_ends_is_never_sent(
    tmp_path: Path, root: Path, sandbox: SandboxServer
) -> None:
    config = hot_folder_config(tmp_path, sandbox.url)
    config.write_text(config.read_text().replace("[hotfolder]\n", "[hotfolder]\nticket_wait = 1\n"))
    with Watcher(config, root), (root / "open.pdf").open("wb") as stream:
        stream.write(b"%PDF-1.4\n% the first half of a document\n")
        stream.flush()  # the writer keeps it open: no close, so never complete
        drop_ticket(root, "open", {"to": ["5556465589"], "documents": ["open.pdf"]})
        wait_for(lambda: filed(root, "failed"), what="a receipt in failed/")
        stream.write(b"% the second half, where its writer left it\n")
    [receipt] = filed(root, "failed")
    assert receipt["message"] == (
        "open.pdf: still being written when the ticket's wait (1 s) ran out; drop the "
        "ticket again once every document is written and closed"
    )
    assert sandbox.requests == []  # nothing of it was sent
    # Left where its writer is writing it, so the advice works: drop the ticket again.
    assert (root / "open.pdf").read_bytes().endswith(b"where its writer left it\n")
    [job] = (root / "failed").iterdir()
    assert not (job / "open.pdf").exists()


def test_a_document_changed_after_its_upload_is_said_in_the_receipt(
    watched: HotFolder, root: Path, sandbox: SandboxServer
) -> None:
    release = threading.Event()
    sandbox.faults.push(Fault.hold(release))  # the whole upload read, the answer held
    make_pdf(root / "letter.pdf")
    drop_ticket(root, "letter", {"to": ["5556465589"], "documents": ["letter.pdf"]})
    wait_for(sandbox.faxes, what="the upload to reach the service")
    [claimed] = (root / "processing").glob("*/letter.pdf")
    with claimed.open("ab") as stream:  # a writer that still had it open
        stream.write(b"% written after the upload\n")
    release.set()
    wait_for(lambda: filed(root, "done"), what="a receipt in done/")
    [receipt] = filed(root, "done")
    assert receipt["outcome"] == "accepted"
    assert str(receipt["message"]).endswith(
        "; letter.pdf changed after it was faxed; the fax carries it as it was"
    )
    [kept] = (root / "done").glob("*/letter.pdf")
    assert sandbox.faxes()[0].record["attachments"][0]["size"] < kept.stat().st_size


def test_configured_subfolders_take_the_top_folders_mode_and_group_whatever_the_umask(
    tmp_path: Path, root: Path, sandbox: SandboxServer
) -> None:
    # The shipped unit runs the watcher with UMask=0027: subfolders made 0750 kept out
    # the very people the top folder (3770, their group) lets drop files.
    root.mkdir()
    group = grp.getgrnam("daemon").gr_gid
    os.chown(root, -1, group)
    root.chmod(0o3770)
    watcher = subprocess.Popen(
        [sys.executable, "-m", "faxprint", "--config", str(hot_folder_config(tmp_path, sandbox.url)),
         "watch", str(root)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, umask=0o027,
    )  # fmt: skip
    try:
        started(watcher)
        made = (root / "accounting").lstat()
    finally:
        watcher.terminate()
        watcher.communicate(timeout=60)
    assert (oct(stat.S_IMODE(made.st_mode)), made.st_gid) == (oct(0o3770), group)
    assert stat.S_IMODE((root / "processing").lstat().st_mode) == 0o700  # its own stay private


def _events(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"event={name} ")]


@needs_root
def test_a_full_disk_during_a_claim_leaves_no_empty_job_behind(
    tmp_path: Path, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    with small_disk(tmp_path / "disk", size="4m") as disk:
        root = disk / "drop"
        with Watcher(hot_folder_config(tmp_path, sandbox.url), root):
            make_pdf(root / "late.pdf")
            (root / ".late.tmp").write_text(json.dumps({"to": ["5556465589"]}))
            filler = fill(disk)
            os.rename(root / ".late.tmp", root / "late.fax.json")  # needs no room
            wait_for(lambda: len(_events(caplog, "skip")) >= 3, what="claims tried on a full disk")
            assert list((root / "processing").iterdir()) == []  # was one empty job per try
            filler.unlink()  # room again: the job is claimed and sent, once
            wait_for(lambda: filed(root, "done"), what="a receipt in done/")
    assert len(sandbox.faxes()) == 1


@needs_root
def test_a_receipt_is_written_whole_or_not_at_all(
    tmp_path: Path, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # the retry event
    release = threading.Event()
    sandbox.faults.push(Fault.hold(release))
    with small_disk(tmp_path / "disk", size="4m") as disk:
        root = disk / "drop"
        with Watcher(hot_folder_config(tmp_path, sandbox.url), root):
            make_pdf(root / "paid.pdf")
            drop_ticket(root, "paid", {"to": ["5556465589"]})
            wait_for(sandbox.faxes, what="the service to accept the fax")
            filler = fill(disk)  # the disk fills while the answer is on its way
            release.set()
            wait_for(lambda: _events(caplog, "retry"), what="filing to fail for want of room")
            [job] = (root / "processing").iterdir()
            assert sorted(p.name for p in job.iterdir()) == [
                "claim.json",
                "paid.pdf",
                "ticket.fax.json",
            ]  # fmt: skip  no 0-byte receipt
            filler.unlink()
            wait_for(lambda: filed(root, "done"), what="a receipt in done/")
            [receipt] = filed(root, "done")
    assert (receipt["outcome"], len(sandbox.faxes())) == ("accepted", 1)


@needs_root
def test_a_verdict_neither_journal_nor_folder_could_keep_is_filed_later_never_resent(
    tmp_path: Path, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    # People fill the drop folder: the journal beside it fills with it. The fax the
    # service accepted must then be filed once there is room, not sent again, nor held
    # as "maybe sent" because the journal still says "sending".
    caplog.set_level(logging.INFO)
    release = threading.Event()
    sandbox.faults.push(Fault.hold(release))
    with small_disk(tmp_path / "disk", size="4m") as disk:
        root = disk / "drop"
        config = hot_folder_config(tmp_path, sandbox.url)
        config.write_text(config.read_text().replace(str(tmp_path / "journal.sqlite"),
                                                     str(disk / "journal.sqlite")))  # fmt: skip
        with Watcher(config, root):
            make_pdf(root / "paid.pdf")
            drop_ticket(root, "paid", {"to": ["5556465589"]})
            wait_for(sandbox.faxes, what="the service to accept the fax")
            filler = fill(disk)
            release.set()
            wait_for(lambda: len(_events(caplog, "retry")) >= 2, what="filing tried twice")
            filler.unlink()
            wait_for(lambda: filed(root, "done"), what="a receipt in done/")
            [receipt] = filed(root, "done")
    assert receipt["outcome"] == "accepted"
    assert "the journal could not record this" in str(receipt["message"])
    assert (len(sandbox.faxes()), len(sandbox.requests)) == (1, 1)


def test_a_damaged_claim_is_set_aside_not_followed(
    tmp_path: Path, root: Path, sandbox: SandboxServer
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "secret.txt").write_text("secret")
    root.mkdir()
    forged = root / "processing" / "job1"
    forged.mkdir(parents=True)
    (forged / "claim.json").write_text(
        json.dumps(
            {
                "source": str(victim),
                "documents": ["secret.txt"],
                "ticket": True,
                "trigger": "x.fax.json",
            }
        )
    )
    (forged / "ticket.fax.json").write_text(json.dumps({"to": ["5550001111"]}))
    with Watcher(hot_folder_config(tmp_path, sandbox.url), root):
        wait_for((root / "failed" / "job1").exists, what="the claim set aside")
    assert (victim / "secret.txt").exists()
    assert sandbox.requests == []


def test_an_account_a_ticket_names_is_its_writers_to_fix(
    watched: HotFolder, root: Path, sandbox: SandboxServer
) -> None:
    # Issue 17: the hand ladder filed every ConfigError before submit as invalid, where
    # the classifier said otherwise; now the ticket's account is the ticket's (invalid).
    make_pdf(root / "offer.pdf")
    drop_ticket(root, "offer", {"to": ["5556465589"], "account": "nosuch"})
    wait_for(lambda: filed(root, "failed"), what="a receipt in failed/")
    [receipt] = filed(root, "failed")
    assert receipt["outcome"] == "invalid"
    assert "the ticket names account 'nosuch', which this server does not have" in str(
        receipt["message"]
    )
    assert sandbox.faxes() == []


def test_an_account_the_config_names_blocks_the_job_for_the_admin(
    tmp_path: Path, root: Path, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    extra = '[hotfolder.folders.sales]\nto = ["5556465589"]\naccount = "nosuch"\n'
    config = hot_folder_config(tmp_path, sandbox.url, extra=extra)
    with caplog.at_level(logging.ERROR), Watcher(config, root):
        make_pdf(root / "sales" / "offer.pdf")
        wait_for(lambda: "event=blocked" in caplog.text, what="the job blocked")
        # the admin's to fix: waiting in processing/, not failed for its sender
        assert [p.name for p in (root / "processing").iterdir()] != []
        assert filed(root, "failed") == [] and sandbox.faxes() == []
    assert "no account 'nosuch'" in caplog.text


def test_a_ticket_may_name_contacts_and_groups(
    tmp_path: Path, watched: HotFolder, root: Path, sandbox: SandboxServer
) -> None:
    from faxprint.journal import Contact

    with Journal(tmp_path / "journal.sqlite") as book:
        book.add_contact(Contact("Accounting", "5556465589", groups=("Board",)))
        book.add_contact(Contact("Jane Doe", "5556465590", groups=("Board",)))
    make_pdf(root / "minutes.pdf")
    drop_ticket(root, "minutes", {"to": ["board"]})
    make_pdf(root / "typo.pdf")
    drop_ticket(root, "typo", {"to": ["Acounting"]})
    wait_for(lambda: filed(root, "done") and filed(root, "failed"), what="both filed")
    [done], [failed] = filed(root, "done"), filed(root, "failed")
    assert done["recipients"] == ["5556465589|Accounting", "5556465590|Jane Doe"]
    assert "'Acounting' is not a contact and not a fax number" in str(failed["message"])
    assert len(sandbox.faxes()) == 1
