"""``faxprint retry`` and ``faxprint cancel`` on real jobs: a held job of a real cupsd and a
held job of a real watcher, both left uncertain by a sandbox that lost its answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from faxprint.journal import Journal, State
from faxprint.sandbox import Fault, SandboxServer
from tests.campaign.paths import RETRY
from tests.conftest import REPO
from tests.support.configs import faxout_account, hot_folder_config, send_config, write_config
from tests.support.cupsd import JOB_CANCELED, JOB_COMPLETED, JOB_HELD, PrivateCupsd
from tests.support.helpers import Watcher, drop_ticket, make_pdf, wait_for
from tests.test_cli_send import _send
from tests.test_hotfolder import filed

pytestmark = pytest.mark.slow
QUEUE = "FaxSettle"


def _faxprint(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faxprint", *args],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=60, check=False,
    )  # fmt: skip


# -- the printer ----------------------------------------------------------------------


@pytest.fixture
def printer(
    cupsd: PrivateCupsd, faxprint_root: Path, sandbox: SandboxServer
) -> Iterator[dict[str, str]]:
    """A faxprint queue on the private cupsd sending to the sandbox; yield the admin's env."""
    config = write_config(
        faxprint_root / "etc" / "faxprint.toml",
        faxout_account(sandbox.url, read_timeout=30.0),
        journal=faxprint_root / "spool" / "journal.sqlite",
        retry=RETRY,
        lp_readable=True,
    )
    env = {**cupsd.env(), "FAXPRINT_CONFIG": str(config)}
    install = ["install", "--name", QUEUE, "--backend-dir", str(cupsd.backend_dir)]
    assert _faxprint(env, *install).returncode == 0
    yield env
    cupsd.connection().deletePrinter(QUEUE)


def _held_print(cupsd: PrivateCupsd, sandbox: SandboxServer, tmp_path: Path) -> int:
    """Print a job whose answer the sandbox loses: the backend holds it as uncertain."""
    sandbox.faults.push(Fault.accept_then_drop())
    job = cupsd.lp(QUEUE, make_pdf(tmp_path / "offer.pdf"), options={"fax-to": "5556465589"})
    assert cupsd.wait_job(job, timeout=60, held=True) == JOB_HELD
    cupsd.wait_job_message(job, "Fax held")
    assert len(sandbox.faxes()) == 1  # it did arrive: only the answer was lost
    return job


@pytest.mark.cupsd
def test_retry_releases_a_held_printer_job_and_it_is_sent_again(
    cupsd: PrivateCupsd, printer: dict[str, str], sandbox: SandboxServer, tmp_path: Path
) -> None:
    job = _held_print(cupsd, sandbox, tmp_path)
    shown = _faxprint(printer, "status")
    assert f"{QUEUE}-{job}" in shown.stdout and "uncertain" in shown.stdout

    retried = _faxprint(printer, "retry", f"{QUEUE}-{job}")
    assert retried.returncode == 0, retried.stderr
    assert "released" in retried.stdout
    assert cupsd.wait_job(job, timeout=60) == JOB_COMPLETED
    assert len(sandbox.faxes()) == 2  # sent again, deliberately
    story = json.loads(_faxprint(printer, "show", "--json", f"{QUEUE}-{job}").stdout)
    assert story["state"] == "accepted"
    assert [a["state"] for a in story["history"]] == ["uncertain", "accepted"]
    [decision] = story["decisions"]
    assert decision["state"] == "retry" and decision["message"].startswith("released by")
    assert "  --  " in _faxprint(printer, "show", f"{QUEUE}-{job}").stdout


@pytest.mark.cupsd
def test_cancel_settles_a_held_printer_job_and_nothing_is_sent(
    cupsd: PrivateCupsd, printer: dict[str, str], sandbox: SandboxServer, tmp_path: Path
) -> None:
    job = _held_print(cupsd, sandbox, tmp_path)
    cancelled = _faxprint(printer, "cancel", f"{QUEUE}-{job}")
    assert cancelled.returncode == 0, cancelled.stderr
    assert cupsd.wait_job(job, timeout=30) == JOB_CANCELED
    story = json.loads(_faxprint(printer, "show", "--json", f"{QUEUE}-{job}").stdout)
    assert (story["state"], story["message"].split()[0]) == ("cancelled", "cancelled")
    again = _faxprint(printer, "retry", f"{QUEUE}-{job}")  # settled: nothing to retry
    assert again.returncode == 1 and "is cancelled" in again.stderr
    assert len(sandbox.faxes()) == 1


# -- the hot folder -------------------------------------------------------------------


@pytest.fixture
def held(tmp_path: Path, sandbox: SandboxServer) -> Iterator[tuple[Path, dict[str, str]]]:
    """A watcher whose first job was held as uncertain; yield its folder and the env."""
    root = tmp_path / "drop"
    config = hot_folder_config(tmp_path, sandbox.url)
    with Watcher(config, root):
        sandbox.faults.push(Fault.accept_then_drop())
        make_pdf(root / "inv42.pdf", pages=2)
        drop_ticket(root, "inv42", {"to": ["5556465589"], "cover_text": "Invoice 42"})
        wait_for(lambda: filed(root, "held"), 60, "a held job")
        yield root, {**os.environ, "FAXPRINT_CONFIG": str(config)}


def test_retry_puts_a_held_hot_folder_job_back_and_it_is_sent_as_a_new_one(
    held: tuple[Path, dict[str, str]], sandbox: SandboxServer
) -> None:
    root, env = held
    [folder] = (root / "held").iterdir()
    retried = _faxprint(env, "retry", folder.name, "--folder", str(root))
    assert retried.returncode == 0, retried.stderr
    assert "inv42.pdf, inv42.fax.json back in" in retried.stdout
    assert not folder.exists()
    wait_for(lambda: filed(root, "done"), 60, "the job sent again")
    [receipt] = filed(root, "done")
    assert receipt["documents"] == ["inv42.pdf"] and receipt["outcome"] == "accepted"
    assert len(sandbox.faxes()) == 2
    old = json.loads(_faxprint(env, "show", "--json", folder.name).stdout)
    assert old["state"] == "cancelled" and "sent again as a new drop" in old["message"]


def test_cancel_files_a_held_hot_folder_job_in_failed(
    held: tuple[Path, dict[str, str]], sandbox: SandboxServer
) -> None:
    root, env = held
    [folder] = (root / "held").iterdir()
    cancelled = _faxprint(env, "cancel", folder.name, "--folder", str(root))
    assert cancelled.returncode == 0, cancelled.stderr
    [receipt] = filed(root, "failed")
    assert receipt["outcome"] == "cancelled" and receipt["message"].startswith("cancelled by")
    assert (root / "failed" / folder.name / "inv42.pdf").exists()  # nothing is deleted
    assert len(sandbox.faxes()) == 1


def test_a_retry_never_overwrites_a_file_dropped_since(
    held: tuple[Path, dict[str, str]],
) -> None:
    root, env = held
    [folder] = (root / "held").iterdir()
    (root / "inv42.pdf").write_bytes(b"someone else's new file")
    refused = _faxprint(env, "retry", folder.name, "--folder", str(root))
    assert refused.returncode == 1 and "inv42.pdf exists" in refused.stderr
    assert (folder / "inv42.pdf").exists() and (folder / "ticket.fax.json").exists()


# -- refusals -------------------------------------------------------------------------


def test_jobs_that_must_not_be_settled_are_refused_with_the_reason(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    config = send_config(tmp_path, sandbox.url)
    env = {**os.environ, "FAXPRINT_CONFIG": str(config)}
    pdf = make_pdf(tmp_path / "a.pdf")
    assert _send(config, "--to", "5556465589", str(pdf)).returncode == 0
    sandbox.faults.push(Fault.accept_then_drop())
    _send(config, "--to", "5556465590", str(pdf))
    accepted, uncertain = (
        json.loads(_faxprint(env, "history", "--json", "--to", n).stdout)["key"][5:13]
        for n in ("5556465589", "5556465590")
    )
    refused = _faxprint(env, "retry", accepted)
    assert refused.returncode == 1 and "is accepted" in refused.stderr
    refused = _faxprint(env, "retry", uncertain)
    assert refused.returncode == 1 and "run the same `faxprint send` again" in refused.stderr
    assert _faxprint(env, "cancel", uncertain).returncode == 0
    with Journal(tmp_path / "journal.sqlite") as journal:
        journal.begin("live", source="send", account="default", recipients=["1"],
                      documents=["a.pdf"], pages=1)  # fmt: skip
        journal.start_attempt("live")  # this live process is sending it
        with pytest.raises(ValueError, match="being sent right now"):
            journal.settle("live", State.CANCELLED, "no")


def test_a_hot_folder_job_needs_its_folder_and_its_held_copy(tmp_path: Path) -> None:
    config = send_config(tmp_path, "http://127.0.0.1:9/faxapi.asp")  # no [hotfolder] path
    env = {**os.environ, "FAXPRINT_CONFIG": str(config)}
    with Journal(tmp_path / "journal.sqlite") as journal:
        journal.begin("hotfolder:20261126-x", source="hotfolder", account="default",
                      recipients=["1"], documents=["x.pdf"], pages=1, title="20261126-x")  # fmt: skip
        journal.finish("hotfolder:20261126-x", State.UNCERTAIN, message="answer lost")
    refused = _faxprint(env, "retry", "20261126-x")
    assert refused.returncode == 1 and "which hot folder?" in refused.stderr
    refused = _faxprint(env, "cancel", "20261126-x", "--folder", str(tmp_path))
    assert refused.returncode == 1 and "held" in refused.stderr and "is not there" in refused.stderr


def test_a_waiting_job_outside_cups_is_not_cancelled_behind_its_senders_back(
    tmp_path: Path,
) -> None:
    # The watcher or `faxprint send` retries it in its own process, and a cancelled job
    # may be sent: the journal alone cannot stop it, so faxprint says so.
    config = send_config(tmp_path, "http://127.0.0.1:9/faxapi.asp")
    env = {**os.environ, "FAXPRINT_CONFIG": str(config)}
    with Journal(tmp_path / "journal.sqlite") as journal:
        for key, source, title in (("send:aaaa1111", "send", ""),
                                   ("hotfolder:20261126-w", "hotfolder", "20261126-w")):  # fmt: skip
            journal.begin(key, source=source, account="default", recipients=["1"],
                          documents=["a.pdf"], pages=1, title=title)  # fmt: skip
            journal.finish(key, State.RETRY, message="service down")
    for reference in ("aaaa1111", "20261126-w"):
        refused = _faxprint(env, "cancel", reference, "--folder", str(tmp_path))
        assert refused.returncode == 1 and "still trying it" in refused.stderr, refused.stderr
    with Journal(tmp_path / "journal.sqlite") as journal:
        assert journal.get("send:aaaa1111").state is State.RETRY  # type: ignore[union-attr]


def test_a_damaged_or_hostile_claim_is_refused_and_nothing_moves(
    held: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    root, env = held
    [folder] = (root / "held").iterdir()
    claim = folder / "claim.json"
    good = claim.read_text()
    outside = tmp_path / "outside"
    outside.mkdir()
    for text in ("{not json", json.dumps({**json.loads(good), "source": str(outside)}),
                 json.dumps({**json.loads(good), "documents": ["../../x.pdf"]})):  # fmt: skip
        claim.write_text(text)
        refused = _faxprint(env, "retry", folder.name, "--folder", str(root))
        assert refused.returncode == 1 and "damaged" in refused.stderr, refused.stderr
        assert (folder / "inv42.pdf").exists() and (folder / "ticket.fax.json").exists()
        assert list(outside.iterdir()) == []
    story = json.loads(_faxprint(env, "show", "--json", folder.name).stdout)
    assert story["state"] == "uncertain"  # no decision was recorded


def test_a_cancel_writes_the_receipt_through_no_planted_link(
    held: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    root, env = held
    [folder] = (root / "held").iterdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched\n")
    (folder / "receipt.json").unlink()
    (folder / "receipt.json").symlink_to(victim)
    assert _faxprint(env, "cancel", folder.name, "--folder", str(root)).returncode == 0
    assert victim.read_text() == "untouched\n"
    receipt = json.loads((root / "failed" / folder.name / "receipt.json").read_text())
    assert receipt["outcome"] == "cancelled"


def test_a_reference_too_short_to_mean_one_job_is_refused(tmp_path: Path) -> None:
    env = {**os.environ, "FAXPRINT_CONFIG": str(send_config(tmp_path, "http://127.0.0.1:9/x"))}
    for reference in ("", "c"):
        assert _faxprint(env, "cancel", reference).returncode == 64


@pytest.mark.cupsd
def test_a_cups_job_number_that_now_names_another_job_is_left_alone(
    cupsd: PrivateCupsd, printer: dict[str, str], sandbox: SandboxServer, tmp_path: Path
) -> None:
    job = _held_print(cupsd, sandbox, tmp_path)
    journal_path = Path(printer["FAXPRINT_CONFIG"]).parent.parent / "spool" / "journal.sqlite"
    stale = f"cups:{QUEUE}:{job}:0badc0de-0000-4000-8000-000000000000"  # cupsd lost its state
    with Journal(journal_path) as journal:
        journal.begin(stale, source="cups", account="default", recipients=["1"],
                      documents=["old.pdf"], pages=1)  # fmt: skip
        journal.finish(stale, State.UNCERTAIN, message="answer lost")
    refused = _faxprint(printer, "cancel", stale)
    assert refused.returncode == 1 and "is another job now" in refused.stderr
    assert cupsd.wait_job(job, timeout=5, held=True) == JOB_HELD  # still held, not cancelled
