"""``faxprint send`` end to end: a real process, real files, a sandbox over real HTTP."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from faxprint.journal import Journal, State
from faxprint.sandbox import Fault, SandboxServer
from tests.campaign.paths import campaign_pdf
from tests.conftest import REPO, SandboxProcess
from tests.support.configs import send_config
from tests.support.disk import fill, needs_root, small_disk
from tests.support.helpers import make_pdf, wait_for
from tests.support.secrets import TEST_ACCOUNTS, TEST_PASSWORD


def _send(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faxprint", "--config", str(config), "send", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )


def _faxes(store: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted(store.glob("[0-9]*/fax.json"))]


def test_the_issue_example_is_stored_exactly_as_the_spec_says(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    report = make_pdf(tmp_path / "Quarterly report.pdf", pages=3)
    terms = tmp_path / "terms.txt"
    terms.write_text("Terms and conditions\n")
    config = send_config(tmp_path, sandbox_process.url)
    result = _send(
        config,
        "--to",
        "+1 (555) 646-5589|José Müller",
        "--to",
        "555.556.8552",
        "--cover-text",
        "Invoice 42 – thank you",
        "--resolution",
        "low",
        "--send-at",
        "2099-12-01T09:00:00+01:00",
        str(report),
        str(terms),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("faxprint: fax accepted for 2 recipients (job send:")
    [fax] = _faxes(sandbox_process.store)
    assert [(f["name"], f.get("value", f.get("filename"))) for f in fax["fields"]] == [
        ("Username", "15555550100"),
        ("Recipient", "+15556465589|Jose Muller"),
        ("Recipient", "5555568552"),
        ("Coverpage", "Default"),
        ("Coverpagetext", "Invoice 42 - thank you"),
        ("Resolution", "Low"),
        ("Sendtime", "01:12:99 08:00"),
        ("Attachment", "Quarterly report.pdf"),
        ("Attachment", "terms.txt"),
    ]
    assert fax["password_supplied"] is True
    stored = [
        sandbox_process.store / f"{fax['seq']:06d}" / a["stored_as"] for a in fax["attachments"]
    ]
    assert [p.read_bytes() for p in stored] == [report.read_bytes(), terms.read_bytes()]
    assert [a["content_type"] for a in fax["attachments"]] == ["application/pdf", "text/plain"]
    assert [a["sha256"] for a in fax["attachments"]] == [
        hashlib.sha256(report.read_bytes()).hexdigest(),
        hashlib.sha256(terms.read_bytes()).hexdigest(),
    ]


def test_a_pdf_only_fax_reports_its_pages(tmp_path: Path, sandbox_process: SandboxProcess) -> None:
    config = send_config(tmp_path, sandbox_process.url)
    result = _send(config, "--to", "5556465589", str(make_pdf(tmp_path / "a.pdf", pages=2)))
    assert result.returncode == 0, result.stderr
    assert "fax accepted for 1 recipient, 2 pages" in result.stdout


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["--to", "555-FAX-1234", "FILE"], 65, "contains letters; type the digits"),
        (["--to", "5556465589", "--send-at", "next tuesday", "FILE"], 65, "not a date and time"),
        (["--to", "5556465589", "missing.pdf"], 65, "missing.pdf: no such file"),
        (["--to", "5556465589", "EMPTY"], 65, "the file is empty"),
        (["--to", "5556465589", "BROKEN"], 65, "the PDF is damaged"),
        (["--account", "sales", "--to", "5556465589", "FILE"], 78, "no account 'sales'"),
        (["FILE"], 64, "the following arguments are required: --to"),
    ],
)
def test_bad_input_gets_one_clear_line_and_nothing_is_sent(
    tmp_path: Path, sandbox: SandboxServer, args: list[str], status: int, message: str
) -> None:
    files = {
        "FILE": make_pdf(tmp_path / "a.pdf"),
        "EMPTY": tmp_path / "empty.pdf",
        "BROKEN": tmp_path / "broken.pdf",
    }
    files["EMPTY"].write_bytes(b"")
    files["BROKEN"].write_bytes(b"%PDF-1.4\n1 0 obj <<\n")
    result = _send(send_config(tmp_path, sandbox.url), *[str(files.get(a, a)) for a in args])
    assert result.returncode == status
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("username", "password", "status", "message"),
    [
        (
            "15555550100",
            "wrong-" + TEST_PASSWORD,
            77,
            "authorization failed: check the account's username and password",
        ),
        (
            "15555550199",
            TEST_PASSWORD,
            77,
            "faxing is prohibited for this account: ask the account holder to enable faxing",
        ),
    ],
)
def test_account_problems_are_the_admins(
    tmp_path: Path, username: str, password: str, status: int, message: str
) -> None:
    with SandboxServer(port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS) as server:
        config = send_config(tmp_path, server.url, username=username, password=password)
        result = _send(config, "--to", "5556465589", str(make_pdf(tmp_path / "a.pdf")))
    assert (result.returncode, result.stderr.strip()) == (
        status,
        f"faxprint: not sent, the account must be fixed: {message}",
    )
    assert TEST_PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("faults", "status", "message", "stored"),
    [
        ([Fault.html()], 79, "instead of a result code: it may have been accepted", 0),
        ([Fault.http_status(504)], 79, "HTTP 504", 0),
        ([Fault.http_status(503), Fault.code(5)], 75, "generic error", 0),
        ([Fault.code(5)], 0, "", 1),
        ([Fault.accept_then_drop()], 79, "it may have been accepted", 1),
    ],
)
def test_service_trouble(
    tmp_path: Path,
    sandbox: SandboxServer,
    faults: list[Fault],
    status: int,
    message: str,
    stored: int,
) -> None:
    for fault in faults:
        sandbox.faults.push(fault)
    result = _send(
        send_config(tmp_path, sandbox.url), "--to", "5556465589", str(make_pdf(tmp_path / "a.pdf"))
    )
    assert result.returncode == status, result.stderr
    assert message in result.stderr
    assert len(sandbox.faxes()) == stored
    assert len(sandbox.requests) == len(faults) + (status == 0)  # nothing sent blindly again


def test_an_unreachable_service_is_a_temporary_failure(tmp_path: Path) -> None:
    with SandboxServer(port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS) as server:
        url = server.url  # a port that was free a moment ago, now closed again
    result = _send(
        send_config(tmp_path, url), "--to", "5556465589", str(make_pdf(tmp_path / "a.pdf"))
    )
    assert result.returncode == 75
    assert "cannot reach the service: connection refused" in result.stderr


def test_a_progress_bar_shows_on_a_terminal_only(tmp_path: Path, sandbox: SandboxServer) -> None:
    import pty

    big = tmp_path / "big.txt"
    big.write_bytes(b"0123456789abcdef\n" * 200_000)
    config = send_config(tmp_path, sandbox.url)
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "faxprint",
                "--config",
                str(config),
                "send",
                "--to",
                "5556465589",
                str(big),
            ],
            stdout=subprocess.DEVNULL,
            stderr=slave,
            cwd=REPO,
        )
        os.close(slave)
        shown = b""
        while chunk := _read(master):
            shown += chunk
        assert process.wait(timeout=60) == 0
    finally:
        os.close(master)
    text = shown.decode()
    assert "\rfaxprint: uploading [" in text
    assert "100% of 3,400," in text
    assert text.endswith("\r\n")
    piped = _send(config, "--to", "5556465589", str(big))
    assert (piped.returncode, piped.stderr) == (0, "")


def _read(fd: int) -> bytes:

    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the child closed the terminal
        return b""


# -- the journal failing (issue 16, point 4) ---------------------------------------------


@needs_root
def test_a_full_journal_disk_after_acceptance_says_accepted_first_and_exits_74(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    release = threading.Event()
    sandbox.faults.push(Fault.hold(release))  # accepted; the answer waits for the disk
    with small_disk(tmp_path / "disk") as disk:
        config = send_config(tmp_path, sandbox.url)
        config.write_text(config.read_text().replace(str(tmp_path / "journal.sqlite"),
                                                     str(disk / "journal.sqlite")))  # fmt: skip
        process = subprocess.Popen(
            [sys.executable, "-m", "faxprint", "--config", str(config), "send", "--to",
             "5556465589", str(make_pdf(tmp_path / "a.pdf"))],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        )  # fmt: skip
        wait_for(sandbox.faxes, what="the service to accept the fax")
        fill(disk)  # the journal's disk fills while the answer is on its way
        release.set()
        out, err = process.communicate(timeout=60)
    assert process.returncode == 74, err
    assert out.startswith("faxprint: fax accepted for 1 recipient, 1 page (job send:"), out
    assert "faxprint: the journal could not record this (do not send it again): journal " in err
    assert "interrupted" not in err and "Traceback" not in err
    assert len(sandbox.faxes()) == 1


@needs_root
def test_a_full_journal_disk_before_sending_is_try_again_later_not_interrupted(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        config = send_config(tmp_path, sandbox.url)
        config.write_text(config.read_text().replace(str(tmp_path / "journal.sqlite"),
                                                     str(disk / "journal.sqlite")))  # fmt: skip
        pdf = make_pdf(tmp_path / "a.pdf")
        assert _send(config, "--to", "5556465589", str(pdf)).returncode == 0
        fill(disk)
        result = _send(config, "--to", "5556465589", str(pdf))
    assert result.returncode == 75, result.stderr  # was 130, "interrupted"
    assert result.stderr.startswith("faxprint: not sent, try again later: journal "), result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert len(sandbox.faxes()) == 1  # the first one only


# -- interrupted (issue 16, point 7) -----------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "SIGTERM"])
def test_a_send_interrupted_before_the_service_had_it_all_says_and_records_not_sent(
    tmp_path: Path, sandbox: SandboxServer, signum: int
) -> None:
    sandbox.faults.push(Fault.trickle(100_000))  # a slow service: the fax is in buffers
    config = send_config(tmp_path, sandbox.url)
    process = subprocess.Popen(
        [sys.executable, "-m", "faxprint", "--config", str(config), "send", "--to",
         "5556465589", str(campaign_pdf(tmp_path / "a.pdf", "interrupted", megabytes=2))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        env={**os.environ, "FAXPRINT_LOG_LEVEL": "debug"},
    )  # fmt: skip
    assert process.stderr is not None
    said = ""
    while "the whole upload is with the kernel" not in said:  # its own debug line
        line = process.stderr.readline()
        assert line, said
        said += line
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "faxprint: cancelled, nothing was sent: the job was cancelled before the service had " \
        "the whole fax\n" in err, err  # fmt: skip
    with Journal(tmp_path / "journal.sqlite") as journal:
        [job] = journal.recent()
    assert job.state is State.CANCELLED  # not "sending", shown as interrupted for a person
    wait_for(lambda: sandbox.in_flight == 0, what="the service to give up the request")
    assert sandbox.faxes() == []


def test_a_contact_or_group_name_is_a_recipient(tmp_path: Path, sandbox: SandboxServer) -> None:
    from faxprint.journal import Contact, Journal

    config = send_config(tmp_path, sandbox.url)
    with Journal(tmp_path / "journal.sqlite") as book:
        book.add_contact(Contact("Jane Doe", "5556465590", "ACME"))
    pdf = make_pdf(tmp_path / "a.pdf")
    sent = _send(config, "--to", "jane doe", "--to", "5556465589", str(pdf))
    assert sent.returncode == 0, sent.stderr
    [fax] = sandbox.faxes()
    assert [(r["number"], r["name"]) for r in fax.record["recipients"]] == [
        ("5556465590", "Jane Doe"), ("5556465589", None),
    ]  # fmt: skip
    unknown = _send(config, "--to", "Nobody", str(pdf))
    assert unknown.returncode == 65
    assert unknown.stderr == (
        "faxprint: not sent: 'Nobody' is not a contact and not a fax number: add it with "
        "`faxprint contacts add`, or give the number\n"
    )
