"""``faxprint status``, ``history`` and ``show`` on journals filled by real jobs: sends
through the sandbox over HTTP, the CUPS backend run as cupsd runs it, and a sender that
died mid-upload."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from faxprint import jobview
from faxprint.cli import exits, jobs
from faxprint.journal import Journal
from faxprint.sandbox import Fault, SandboxServer
from tests.conftest import REPO
from tests.support.configs import hot_folder_config, send_config
from tests.support.helpers import Watcher, drop_ticket, make_pdf, wait_for
from tests.test_cli_send import _send

BACKEND = REPO / "cups-backend" / "faxprint"


def _run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faxprint", "--config", str(config), *args],
        capture_output=True, text=True, cwd=REPO, timeout=60, check=False,
    )  # fmt: skip


def _print(config: Path, tmp_path: Path, job: int, user: str, to: str) -> None:
    """Fax a job through the CUPS backend, run as cupsd runs it."""
    env = {
        "DEVICE_URI": "faxprint://default", "PRINTER": "Fax", "TMPDIR": str(tmp_path),
        "FAXPRINT_CONFIG": str(config), "PATH": os.environ["PATH"],
    }  # fmt: skip
    options = f"fax-to={to} job-uuid=urn:uuid:{uuid.uuid4()}"
    pdf = make_pdf(tmp_path / f"print-{job}.pdf", pages=2)
    with pdf.open("rb") as data:
        subprocess.run(
            [sys.executable, str(BACKEND), str(job), user, "Offer", "1", options],
            env=env, stdin=data, capture_output=True, check=True, timeout=60,
        )  # fmt: skip


def _die_mid_upload(journal: Path, key: str) -> None:
    """A process marks a job sending, then dies as a SIGKILL would leave it."""
    code = (
        "import os, sys\nfrom faxprint.journal import Journal\n"
        f"j = Journal({str(journal)!r})\n"
        f"j.begin({key!r}, source='cups', account='default', recipients=['5556465591'],"
        " documents=['a.pdf'], pages=1, user='bob', title='Report')\n"
        f"j.start_attempt({key!r})\nos._exit(9)\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=False, timeout=60)


@pytest.fixture
def filled(tmp_path: Path, sandbox: SandboxServer) -> Path:
    """A journal with an accepted printer job (ann), an accepted send, a refused send,
    an uncertain send, an accepted hot-folder job and a printer job whose sender died
    mid-upload (bob)."""
    config = send_config(tmp_path, sandbox.url)
    _print(config, tmp_path, 17, "ann", "5556465589")
    pdf = make_pdf(tmp_path / "offer.pdf", pages=3)
    assert _send(config, "--to", "5556465589|John", str(pdf)).returncode == 0
    sandbox.faults.push(Fault.code(3))  # refused as bad data: a permanent failure
    assert _send(config, "--to", "5556465590", str(pdf)).returncode == exits.EX_PROTOCOL
    sandbox.faults.push(Fault.accept_then_drop())
    assert _send(config, "--to", "5556465592", str(pdf)).returncode == exits.EX_UNCERTAIN
    root = tmp_path / "drop"
    with Watcher(hot_folder_config(tmp_path, sandbox.url), root):  # the same journal
        make_pdf(root / "inv42.pdf")
        drop_ticket(root, "inv42", {"to": ["5556465593"]})
        wait_for(lambda: list((root / "done").glob("*/receipt.json")), 60, "the hot-folder job")
    _die_mid_upload(tmp_path / "journal.sqlite", "cups:Fax:18:7f1d9a3e")
    return config


def test_status_lists_what_needs_a_person_and_the_day_in_numbers(filled: Path) -> None:
    shown = _run(filled, "status")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].split() == list(jobs.HEADER)
    assert lines[1].split()[2:4] == ["interrupted", "Fax-18"]  # newest first
    assert lines[2].split()[2] == "uncertain" and "5556465592" in lines[2]
    assert len([line for line in lines if line.startswith("20")]) == 2  # settled ones hidden
    # counted as the table shows them: the job whose sender died is interrupted
    assert lines[-1] == "last 24 hours: 3 accepted, 1 failed, 1 interrupted, 1 uncertain"


def test_history_filters_by_state_recipient_user_and_time(filled: Path) -> None:
    def keys(*args: str) -> list[str]:
        result = _run(filled, "history", "--json", *args)
        assert result.returncode == 0, result.stderr
        return [json.loads(line)["state"] for line in result.stdout.splitlines()]

    assert keys() == ["interrupted", "accepted", "uncertain", "failed", "accepted", "accepted"]
    assert keys("--state", "accepted", "--state", "failed") == [
        "accepted", "failed", "accepted", "accepted",
    ]  # fmt: skip
    assert keys("--to", "555646559") == ["interrupted", "accepted", "uncertain", "failed"]
    assert keys("--user", "ann") == ["accepted"]
    assert keys("--since", "1h") == keys()
    assert keys("--until", "2001-01-01") == []
    assert keys("--limit", "2") == ["interrupted", "accepted"]
    one = json.loads(_run(filled, "history", "--json", "--user", "ann").stdout)
    assert one["recipients"] == ["5556465589"] and one["pages"] == 2 and one["source"] == "cups"


def test_show_tells_one_jobs_story_by_any_of_its_names(filled: Path) -> None:
    sent = json.loads(_run(filled, "history", "--json", "--to", "5556465592").stdout)
    short = sent["key"].removeprefix("send:")[:8]
    story = _run(filled, "show", short)
    assert story.returncode == 0, story.stderr
    assert f"job         {sent['key']}" in story.stdout
    assert "state       uncertain" in story.stdout
    assert "  #1  " in story.stdout
    assert ("what now    check the account's sent faxes; then run `faxprint send` again to send "
            "it again, or `faxprint cancel` it to settle it") in story.stdout  # fmt: skip
    assert "then `faxprint retry` it to send it again" in _run(filled, "show", "Fax-18").stdout

    printed = json.loads(_run(filled, "show", "--json", "Fax-17").stdout)
    assert printed["state"] == "accepted" and printed["user"] == "ann"
    assert [a["state"] for a in printed["history"]] == ["accepted"]
    assert "interrupted" in _run(filled, "show", "Fax-18").stdout

    dropped = json.loads(_run(filled, "show", "--json", "hotfolder:").stdout)
    assert (dropped["source"], dropped["documents"]) == ("hotfolder", ["inv42.pdf"])
    assert "inv42" in dropped["title"]
    missing = _run(filled, "show", "Fax-99")
    assert missing.returncode == 1 and "no job 'Fax-99'" in missing.stderr
    several = _run(filled, "show", "send")  # the start of three keys
    assert several.returncode == 1 and "names 3 jobs" in several.stderr


def test_bad_options_and_an_unusable_journal_get_one_clear_line(tmp_path: Path) -> None:
    config = send_config(tmp_path, "http://127.0.0.1:9/faxapi.asp")
    assert _run(config, "history", "--limit", "0").returncode == exits.EX_USAGE
    bad = _run(config, "history", "--since", "last tuesday")
    assert bad.returncode == exits.EX_USAGE and "is no time" in bad.stderr
    (tmp_path / "journal.sqlite").mkdir()  # a folder where the file should be
    failed = _run(config, "status")
    assert failed.returncode == exits.EX_CONFIG
    assert "journal" in failed.stderr and failed.stdout == ""


def test_a_journal_of_100000_jobs_answers_fast_enough_to_be_used(tmp_path: Path) -> None:
    # Not a timing assertion: the query plan must use an index, not scan the table.
    with Journal(tmp_path / "journal.sqlite") as journal:
        plan = journal._db.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM jobs WHERE state IN ('uncertain')"
            " ORDER BY updated DESC, id DESC LIMIT 50"
        ).fetchall()
        assert any("jobs_state" in str(step) for step in plan)
        plan = journal._db.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM jobs WHERE user = 'ann'"
            " ORDER BY updated DESC, id DESC LIMIT 50"
        ).fetchall()
        assert any("jobs_user" in str(step) for step in plan)


def test_times_are_read_as_dates_ages_or_iso_8601() -> None:
    now = 1_800_000_000.0
    assert jobs.parse_when("12h", now) == now - 12 * 3600
    assert jobs.parse_when("7d", now) == now - 7 * 86400
    assert jobs.parse_when("2026-11-26T10:00:00+00:00") == 1795687200.0
    with pytest.raises(ValueError, match="is no time"):
        jobs.parse_when("yesterday-ish")


def test_a_job_shows_interrupted_only_when_its_sender_is_gone(tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.sqlite") as journal:
        journal.begin("k", source="hotfolder", account="default", recipients=["1"],
                      documents=["a.pdf"], pages=1, title="20261126-job")  # fmt: skip
        mine = journal.start_attempt("k")  # this live process owns it
        assert jobview.shown_state(mine, time.time()) == "sending"
        assert jobview.source_of(mine) == "20261126-job"


def test_unusable_paths_and_absurd_times_get_one_line_not_a_traceback(tmp_path: Path) -> None:
    config = send_config(tmp_path, "http://127.0.0.1:9/faxapi.asp")
    far = _run(config, "history", "--since", "9999999999d")
    assert far.returncode == exits.EX_USAGE and "further back than any job" in far.stderr
    pdf = make_pdf(tmp_path / "a.pdf")
    nowhere = _run(config, "preview", str(pdf), "-o", str(tmp_path / "missing" / "x.png"))
    assert nowhere.returncode == exits.EX_IOERR
    assert nowhere.stderr.startswith("faxprint: ") and "Traceback" not in nowhere.stderr
    assert len(nowhere.stderr.splitlines()) == 1
    logs = _run(config, "doctor", "--log", str(tmp_path))  # a folder given as a log
    assert "Traceback" not in logs.stderr + logs.stdout


def test_reading_commands_do_not_create_a_journal(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    config = send_config(tmp_path / "etc", "http://127.0.0.1:9/faxapi.asp")
    for command, expected in (("status", 0), ("history", 0), ("show", 1)):
        args = [command, "Fax-1"] if command == "show" else [command]
        shown = _run(config, *args)
        assert shown.returncode == expected and "does not exist yet" in shown.stdout
    assert not (tmp_path / "etc" / "journal.sqlite").exists()


@pytest.mark.parametrize("command", [["status"], ["send", "--to", "5556465589", "a.pdf"],
                                     ["show", "Fax-1"], ["cancel", "Fax-1"]])  # fmt: skip
def test_a_journal_url_with_its_password_is_refused_in_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    config = tmp_path / "faxprint.toml"
    config.write_text('journal = "postgresql://fax:s3cret-pw@db/fax"\n[accounts.default]\n'
                      'url = "http://127.0.0.1:9/faxapi.asp"\nusername = "1"\n')  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "faxprint", "--config", str(config), *command],
        capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert result.returncode == exits.EX_CONFIG, result.stderr
    assert len(result.stderr.splitlines()) == 1 and "holds a password" in result.stderr
    assert "s3cret" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faxprint.toml"]  # no "postgresql:"
