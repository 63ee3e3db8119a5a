"""``faxprint status``: the journal's recent jobs, filled by real sends through the sandbox."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from faxprint import cli
from faxprint.journal import Journal, State
from faxprint.sandbox import Fault, SandboxServer
from tests.conftest import REPO
from tests.helpers import make_pdf
from tests.test_cli_send import _config, _send


def _status(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faxprint", "--config", str(config), "status", *args],
        capture_output=True, text=True, cwd=REPO, timeout=60, check=False,
    )  # fmt: skip


def test_status_lists_sent_and_refused_jobs_newest_first(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    config = _config(tmp_path, sandbox.url)
    pdf = make_pdf(tmp_path / "offer.pdf", pages=2)
    assert _send(config, "--to", "5556465589|Jane", str(pdf)).returncode == 0
    sandbox.faults.push(Fault.code(3))  # refused as bad data: a permanent failure
    assert _send(config, "--to", "5556465590", str(pdf)).returncode != 0

    shown = _status(config)
    assert shown.returncode == 0, shown.stderr
    header, newest, oldest = shown.stdout.splitlines()
    assert header.split() == ["UPDATED", "STATE", "JOB", "RECIPIENTS", "PAGES", "TRIES", "MESSAGE"]
    assert newest.split()[2] == "failed" and "5556465590" in newest
    assert oldest.split()[2] == "accepted" and "5556465589" in oldest and " 2 " in oldest

    lines = _status(config, "--json", "--state", "accepted").stdout.splitlines()
    assert [json.loads(line)["recipients"] for line in lines] == [["5556465589|Jane"]]
    assert json.loads(lines[0])["pages"] == 2
    assert _status(config, "--limit", "1").stdout.count("\n") == 2  # header and one job


def test_status_refuses_a_bad_limit_and_reports_an_unusable_journal(tmp_path: Path) -> None:
    config = _config(tmp_path, "http://127.0.0.1:9/faxapi.asp")
    assert _status(config, "--limit", "0").returncode == cli.EX_USAGE
    (tmp_path / "journal.sqlite").mkdir()  # a folder where the file should be
    failed = _status(config)
    assert failed.returncode == cli.EX_CONFIG
    assert "journal" in failed.stderr and failed.stdout == ""


def test_the_cli_knows_every_journal_state() -> None:
    assert set(cli.STATES) == {state.value for state in State}


def test_status_of_a_printer_job_names_queue_job_and_user(tmp_path: Path) -> None:
    from faxprint import status

    with Journal(tmp_path / "journal.sqlite") as journal:
        job = journal.begin(
            "cups:Fax:42:1b4e28ba", source="cups", account="default", recipients=["5556465589"],
            documents=["a.pdf"], pages=1, user="ann", title="Offer",
        )  # fmt: skip
    assert status.source_of(job) == "Fax-42 ann"


def test_every_submitter_status_has_an_exit_status_and_words() -> None:
    from faxprint.submitter import Status

    assert set(cli.EXIT_STATUS) == {status.value for status in Status}
    assert set(cli.FAILURE_WORDS) == {status.value for status in Status} - {"accepted"}


def test_status_of_a_send_job_shows_a_short_id(tmp_path: Path) -> None:
    from faxprint import status

    with Journal(tmp_path / "journal.sqlite") as journal:
        job = journal.begin(
            "send:6ed536f2-cbdc-42a2-abae-19bcbe6ffb08", source="send", account="default",
            recipients=["5556465589"], documents=["a.pdf"], pages=1, user="ann",
        )  # fmt: skip
    assert status.source_of(job) == "send 6ed536f2 ann"
