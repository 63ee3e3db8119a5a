"""The Fax printer end to end: ``faxprint install`` on a real cupsd, real ``lp`` jobs, the
real backend running as lp, and a sandbox FaxOut server over loopback HTTP."""

from __future__ import annotations

import os
import pwd
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from faxprint.journal import Journal, State
from faxprint.sandbox import SandboxServer
from tests.conftest import REPO
from tests.support.configs import faxout_account, write_config
from tests.support.cupsd import JOB_COMPLETED, JOB_HELD, JOB_PENDING, PrivateCupsd
from tests.support.helpers import make_pdf, make_png
from tests.support.secrets import TEST_ACCOUNTS, TEST_PASSWORD

pytestmark = pytest.mark.cupsd


def faxprint(cupsd: PrivateCupsd, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**cupsd.env(), "FAXPRINT_CONFIG": str(root / "etc" / "faxprint.toml")}
    return subprocess.run(
        [sys.executable, "-m", "faxprint", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
        check=False,
    )


def configure_printer(root: Path, url: str, password: str = TEST_PASSWORD) -> None:
    """Point the account ``default`` at a sandbox URL, one try. root:lp 0640, as on a server."""
    write_config(
        root / "etc" / "faxprint.toml",
        faxout_account(url, password=password),
        journal=root / "spool" / "journal.sqlite",
        retry={"tries": 1, "backoff": 0.0},
        lp_readable=True,
    )


@pytest.fixture(scope="module")
def installed(cupsd: PrivateCupsd, faxprint_root: Path) -> str:
    configure_printer(faxprint_root, "http://127.0.0.1:9/faxapi.asp")
    result = faxprint(cupsd, faxprint_root, "install", "--backend-dir", str(cupsd.backend_dir))
    assert result.returncode == 0, result.stderr
    # (the backend itself may be in place already: other modules install queues too)
    assert "created queue Fax (faxprint://default)" in result.stdout, result.stdout
    assert (cupsd.backend_dir / "faxprint").exists()
    return "Fax"


@pytest.fixture(autouse=True)
def _fresh_queue(cupsd: PrivateCupsd, installed: str) -> Iterator[None]:
    """Start each test with the queue enabled and end it with no job left behind."""
    conn = cupsd.connection()
    conn.enablePrinter(installed)
    yield
    for job in conn.getJobs(which_jobs="not-completed"):
        conn.cancelJob(job)
    conn.enablePrinter(installed)


@pytest.fixture
def sandbox_for(faxprint_root: Path, tmp_path: Path) -> Iterator[SandboxServer]:
    with SandboxServer(port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS) as server:
        configure_printer(faxprint_root, server.url)
        yield server


def job_message(cupsd: PrivateCupsd, job_id: int) -> str:
    """Return the last state message the backend gave the job (cupsd clears it at the end)."""
    found = re.findall(
        r'Set job-printer-state-message to "(.*)", current level', cupsd.job_log(job_id)
    )
    return found[-1].replace("\\'", "'").replace('\\"', '"') if found else ""


def attachment_pages(server: SandboxServer) -> list[int]:
    [fax] = server.faxes()
    return [len(PdfReader(fax.path / a["stored_as"]).pages) for a in fax.record["attachments"]]


def test_install_is_idempotent_and_the_backend_is_safe(
    cupsd: PrivateCupsd, faxprint_root: Path, installed: str
) -> None:
    again = faxprint(cupsd, faxprint_root, "install", "--backend-dir", str(cupsd.backend_dir))
    assert (again.returncode, again.stdout) == (
        0,
        "faxprint: queue Fax is installed; nothing to change\n",
    )
    backend = cupsd.backend_dir / "faxprint"
    info = backend.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o755, os.geteuid())
    assert backend.read_text().splitlines()[0] == f"#!{sys.executable} -S"
    printer = cupsd.connection().getPrinterAttributes(installed)
    assert printer["device-uri"] == "faxprint://default"
    assert (printer["printer-state"], printer["printer-is-accepting-jobs"]) == (3, True)
    discovery = subprocess.run([str(backend)], capture_output=True, text=True, check=True)
    assert (
        discovery.stdout == 'network faxprint "Unknown" "Fax through a FaxOut account (faxprint)"\n'
    )


def test_a_pdf_is_faxed_to_two_recipients(
    cupsd: PrivateCupsd, installed: str, sandbox_for: SandboxServer, tmp_path: Path
) -> None:
    job = cupsd.lp(
        installed,
        make_pdf(tmp_path / "report.pdf", pages=2),
        options=['fax-to="5556465589|John Doe,5555568552"'],
        title="report.pdf",
    )
    assert cupsd.wait_job(job) == JOB_COMPLETED
    [fax] = sandbox_for.faxes()
    assert fax.record["recipients"] == [
        {"number": "5556465589", "name": "John Doe"},
        {"number": "5555568552", "name": None},
    ]
    assert [a["filename"] for a in fax.record["attachments"]] == ["report.pdf"]
    assert attachment_pages(sandbox_for) == [2]
    assert job_message(cupsd, job) == "Fax accepted for 2 recipients, 2 pages"
    assert cupsd.job_attributes(job).get("job-impressions-completed") == 2


def test_three_documents_of_mixed_types_make_one_fax_with_every_page(
    cupsd: PrivateCupsd, installed: str, sandbox_for: SandboxServer, tmp_path: Path
) -> None:
    text = tmp_path / "cover-letter.txt"
    text.write_text("Dear John,\nplease find attached.\n")
    png = tmp_path / "signature.png"
    png.write_bytes(make_png())
    pdf = make_pdf(tmp_path / "invoice.pdf", pages=2)
    job = cupsd.lp(
        installed,
        text,
        pdf,
        png,
        options=['fax-to="5556465589|John Doe,5555568552"'],
        title="batch",
    )
    assert cupsd.wait_job(job) == JOB_COMPLETED
    assert len(sandbox_for.faxes()) == 1
    assert attachment_pages(sandbox_for) == [1, 2, 1]
    assert [a["filename"] for a in sandbox_for.faxes()[0].record["attachments"]] == [
        "cover-letter.pdf",
        "invoice.pdf",
        "signature.pdf",
    ]
    assert job_message(cupsd, job) == "Fax accepted for 2 recipients, 4 pages"


@pytest.mark.parametrize("order", ["text,pdf", "pdf,text", "pdf,pdf"])
def test_every_order_of_text_and_pdf_arrives_whole(
    cupsd: PrivateCupsd, installed: str, sandbox_for: SandboxServer, tmp_path: Path, order: str
) -> None:
    text = tmp_path / "note.txt"
    text.write_text("a note\n")
    files = {"text": [text, 1], "pdf": [make_pdf(tmp_path / "three.pdf", pages=3), 3]}
    chosen = [files[kind] for kind in order.split(",")]
    job = cupsd.lp(installed, *[f for f, _ in chosen], options=["fax-to=5556465589"])
    assert cupsd.wait_job(job) == JOB_COMPLETED
    assert attachment_pages(sandbox_for) == [pages for _, pages in chosen]


def test_options_with_spaces_quotes_and_accents_survive(
    cupsd: PrivateCupsd, installed: str, sandbox_for: SandboxServer, tmp_path: Path
) -> None:
    options = [
        'fax-to="5556465589|José Müller, Jr.;+44 20 7946 0000|O\'Brien"',
        'fax-cover-text="It\'s \\"urgent\\" \u2013 read today"',
        "fax-resolution=low",
        "fax-cover=None",
    ]
    job = cupsd.lp(installed, make_pdf(tmp_path / "a.pdf"), options=options)
    assert cupsd.wait_job(job) == JOB_COMPLETED
    record = sandbox_for.faxes()[0].record
    assert [(r["number"], r["name"]) for r in record["recipients"]] == [
        ("5556465589", "Jose Muller, Jr."),
        ("+442079460000", "O'Brien"),
    ]
    assert (record["coverpagetext"], record["resolution"], record["coverpage"]) == (
        'It\'s "urgent" - read today',
        "Low",
        "None",
    )


def test_print_dialog_options_and_queue_defaults(
    cupsd: PrivateCupsd, installed: str, sandbox_for: SandboxServer, tmp_path: Path
) -> None:
    cupsd.connection().addPrinterOptionDefault(installed, "faxCoverPage", "Urgent")
    try:
        job = cupsd.lp(
            installed,
            make_pdf(tmp_path / "a.pdf"),
            options=['phone="Custom.(555) 646-5589"', "faxResolution=Low"],
        )
        assert cupsd.wait_job(job) == JOB_COMPLETED
    finally:
        cupsd.connection().deletePrinterOptionDefault(installed, "faxCoverPage")
    record = sandbox_for.faxes()[0].record
    assert [r["number"] for r in record["recipients"]] == ["5556465589"]
    assert (record["coverpage"], record["resolution"]) == ("Urgent", "Low")


def test_no_recipient_holds_the_job_until_it_is_addressed(
    cupsd: PrivateCupsd, installed: str, sandbox_for: SandboxServer, tmp_path: Path
) -> None:
    job = cupsd.lp(installed, make_pdf(tmp_path / "a.pdf"))
    assert cupsd.wait_job(job, held=True) == JOB_HELD
    assert job_message(cupsd, job).startswith(
        f"Fax waiting for an address: run `faxprint address {installed}-{job} --to NUMBER`"
    )
    assert sandbox_for.requests == []


def test_a_wrong_password_stops_the_queue_until_the_admin_fixes_it(
    cupsd: PrivateCupsd,
    installed: str,
    faxprint_root: Path,
    sandbox_for: SandboxServer,
    tmp_path: Path,
) -> None:
    configure_printer(faxprint_root, sandbox_for.url, f"wrong-{TEST_PASSWORD}")
    conn = cupsd.connection()
    job = cupsd.lp(installed, make_pdf(tmp_path / "a.pdf"), options=["fax-to=5556465589"])
    cupsd.wait_printer_stopped(installed)
    printer = conn.getPrinters()[installed]
    assert (
        "authorization failed: check the account's username and password"
        in printer["printer-state-message"]
    )
    assert conn.getJobAttributes(job)["job-state"] == JOB_PENDING
    assert f"wrong-{TEST_PASSWORD}" not in cupsd.error_log_text()
    configure_printer(faxprint_root, sandbox_for.url)
    conn.enablePrinter(installed)
    assert cupsd.wait_job(job) == JOB_COMPLETED
    assert len(sandbox_for.faxes()) == 1


def test_a_service_that_is_down_then_back_gets_the_job_once(
    cupsd: PrivateCupsd, installed: str, faxprint_root: Path, tmp_path: Path
) -> None:
    with SandboxServer(port=0, store=tmp_path / "probe", accounts=TEST_ACCOUNTS) as probe:
        url, port = probe.url, int(probe.url.split(":")[2].split("/")[0])
    configure_printer(faxprint_root, url)
    job = cupsd.lp(installed, make_pdf(tmp_path / "a.pdf"), options=["fax-to=5556465589"])
    cupsd.wait_job_message(job, "will retry")
    with SandboxServer(port=port, store=tmp_path / "store", accounts=TEST_ACCOUNTS) as server:
        assert cupsd.wait_job(job, timeout=60) == JOB_COMPLETED
        assert len(server.faxes()) == 1
    with Journal(faxprint_root / "spool" / "journal.sqlite") as journal:
        [record] = [
            j for j in journal.recent(limit=500) if j.key.startswith(f"cups:{installed}:{job}:")
        ]
    assert record.state is State.ACCEPTED and record.attempts >= 2


def test_a_lost_answer_holds_the_job_and_releasing_it_resends(
    cupsd: PrivateCupsd, installed: str, sandbox_for: SandboxServer, tmp_path: Path
) -> None:
    from faxprint.sandbox import Fault

    sandbox_for.faults.push(Fault.accept_then_drop())
    job = cupsd.lp(installed, make_pdf(tmp_path / "a.pdf"), options=["fax-to=5556465589"])
    assert cupsd.wait_job(job, held=True) == JOB_HELD
    assert "may have been accepted" in job_message(cupsd, job)
    assert len(sandbox_for.faxes()) == 1
    cupsd.connection().setJobHoldUntil(job, "no-hold")  # the admin checked, and resends it
    assert cupsd.wait_job(job) == JOB_COMPLETED
    assert len(sandbox_for.faxes()) == 2


def test_a_fax_type_queue_and_uninstall(
    cupsd: PrivateCupsd, faxprint_root: Path, installed: str
) -> None:
    made = faxprint(
        cupsd,
        faxprint_root,
        "install",
        "--name",
        "FaxType",
        "--fax-type",
        "--backend-dir",
        str(cupsd.backend_dir),
    )
    assert made.returncode == 0, made.stderr
    conn = cupsd.connection()
    cups_printer_fax = 0x40000
    assert conn.getPrinterAttributes("FaxType")["printer-type"] & cups_printer_fax
    assert not conn.getPrinterAttributes(installed)["printer-type"] & cups_printer_fax
    removed = faxprint(
        cupsd,
        faxprint_root,
        "uninstall",
        "--name",
        "FaxType",
        "--backend-dir",
        str(cupsd.backend_dir),
    )
    assert (removed.returncode, removed.stdout) == (0, "faxprint: removed queue FaxType\n")
    assert "FaxType" not in conn.getPrinters()
    assert (cupsd.backend_dir / "faxprint").exists()  # the Fax queue still needs it


def test_uninstall_leaves_other_queues_alone(
    cupsd: PrivateCupsd, faxprint_root: Path, recorder_queue: str
) -> None:
    result = faxprint(
        cupsd,
        faxprint_root,
        "uninstall",
        "--name",
        recorder_queue,
        "--backend-dir",
        str(cupsd.backend_dir),
    )
    assert result.returncode == 78
    assert f"queue {recorder_queue} is not a faxprint queue; leaving it alone" in result.stderr
    assert recorder_queue in cupsd.connection().getPrinters()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can make a file lp cannot read")
def test_install_refuses_a_config_lp_cannot_read(
    cupsd: PrivateCupsd, faxprint_root: Path, installed: str
) -> None:
    config = faxprint_root / "etc" / "faxprint.toml"
    configure_printer(faxprint_root, "http://127.0.0.1:9/faxapi.asp")
    os.chown(config, 0, 0)
    config.chmod(0o600)
    try:
        result = faxprint(
            cupsd,
            faxprint_root,
            "install",
            "--name",
            "FaxLocked",
            "--backend-dir",
            str(cupsd.backend_dir),
        )
    finally:
        configure_printer(faxprint_root, "http://127.0.0.1:9/faxapi.asp")
    assert result.returncode == 78
    assert "user lp cannot run the backend" in result.stderr
    assert "is not readable by this user" in result.stderr
    assert "FaxLocked" not in cupsd.connection().getPrinters()


def test_install_uses_the_config_given_on_the_command_line(
    cupsd: PrivateCupsd, faxprint_root: Path, installed: str
) -> None:
    # Issue 17: `faxprint --config X install --account A` checked the default config (or
    # $FAXPRINT_CONFIG), so an account only X has was "no account ... in ...".
    other = faxprint_root / "etc" / "other.toml"
    default = faxprint_root / "etc" / "faxprint.toml"
    other.write_text(
        default.read_text() + faxout_account("http://127.0.0.1:9/faxapi.asp", name="sales")
    )
    other.chmod(0o640)
    if os.geteuid() == 0:
        os.chown(other, 0, pwd.getpwnam("lp").pw_gid)
    assert "sales" not in default.read_text()
    backend = ["--backend-dir", str(cupsd.backend_dir)]
    made = faxprint(cupsd, faxprint_root, "--config", str(other), "install", "--name",
                    "FaxSales", "--account", "sales", *backend)  # fmt: skip
    try:
        assert made.returncode == 0, made.stderr
        uri = cupsd.connection().getPrinterAttributes("FaxSales")["device-uri"]
        assert uri == "faxprint://sales"
        assert f"SetEnv FAXPRINT_CONFIG {other}" in made.stderr  # what the backend will read
    finally:
        faxprint(cupsd, faxprint_root, "uninstall", "--name", "FaxSales", *backend)
    refused = faxprint(cupsd, faxprint_root, "install", "--name", "FaxSales", "--account",
                       "sales", *backend)  # fmt: skip
    assert refused.returncode == 78 and "no account 'sales'" in refused.stderr
    assert len(refused.stderr.splitlines()) == 1
