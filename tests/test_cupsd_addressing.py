"""Addressing from any program, end to end on a real cupsd: codes in a program's PDF, in a
plain-text job and in a PostScript job; a mail merge; contacts; a job that waits for an
address while the queue goes on (issue 18's "Done when")."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from faxprint.journal import Journal, State
from faxprint.sandbox import SandboxServer
from tests.conftest import REPO
from tests.support.configs import faxout_account, write_config
from tests.support.cupsd import JOB_COMPLETED, JOB_HELD, PrivateCupsd
from tests.support.documents import ghostscript_pdf, lines_pdf, postscript, shown_text
from tests.support.secrets import TEST_ACCOUNTS

pytestmark = pytest.mark.cupsd

QUEUE = "FaxAddressed"


def faxprint(
    cupsd: PrivateCupsd, root: Path, *args: str, user: int | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**cupsd.env(), "FAXPRINT_CONFIG": str(root / "etc" / "faxprint.toml")}
    return subprocess.run([sys.executable, "-m", "faxprint", *args], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=60, check=False, user=user)  # fmt: skip


def _configure(root: Path, url: str) -> None:
    write_config(root / "etc" / "faxprint.toml", faxout_account(url),
                 journal=root / "spool" / "journal.sqlite",
                 retry={"tries": 1, "backoff": 0.0}, lp_readable=True)  # fmt: skip


@pytest.fixture(scope="module")
def queue(cupsd: PrivateCupsd, faxprint_root: Path) -> str:
    _configure(faxprint_root, "http://127.0.0.1:9/faxapi.asp")
    made = faxprint(cupsd, faxprint_root, "install", "--name", QUEUE, "--backend-dir",
                    str(cupsd.backend_dir))  # fmt: skip
    assert made.returncode == 0, made.stderr
    return QUEUE


@pytest.fixture
def sandbox(faxprint_root: Path, tmp_path: Path, cupsd: PrivateCupsd, queue: str
            ) -> Iterator[SandboxServer]:  # fmt: skip
    with SandboxServer(port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS) as server:
        _configure(faxprint_root, server.url)
        yield server
    conn = cupsd.connection()
    for job in conn.getJobs(which_jobs="not-completed"):
        conn.cancelJob(job)
    conn.enablePrinter(queue)


def _faxes(server: SandboxServer) -> list[tuple[list[str], str]]:
    """Each fax the service took: its recipients (number|name) and the text it shows."""
    found = []
    for fax in server.faxes():
        to = [f"{r['number']}|{r['name']}" if r["name"] else r["number"]
              for r in fax.record["recipients"]]  # fmt: skip
        text = "".join(shown_text(fax.path / a["stored_as"]) for a in fax.record["attachments"])
        found.append((to, " ".join(text.split())))
    return found


def _rightfax(tmp_path: Path) -> Path:
    return lines_pdf(
        tmp_path / "letter.pdf",
        [["Dear Jane,", "<TOFAXNUM:555-646-5589><TONAME:Jane Doe>", "Your order shipped."]],
    )


def _zetafax(tmp_path: Path) -> Path:
    return ghostscript_pdf(
        postscript(tmp_path / "z.ps", [["Dear Jane,", "%%[Fax: 555 646 5589] %%[To: Jane Doe]",
                                        "Your order shipped."]]),
        tmp_path / "zetafax.pdf",
    )  # fmt: skip


def _postscript(tmp_path: Path) -> Path:  # printed as PostScript: CUPS makes it PDF
    return postscript(
        tmp_path / "letter.ps",
        [["Dear Jane,", "<TOFAXNUM:555-646-5589> <TONAME:Jane Doe>", "Your order shipped."]],
    )


def _text(tmp_path: Path) -> Path:  # CUPS's texttopdf: a font no extractor reads
    path = tmp_path / "letter.txt"
    path.write_text("Dear Jane,\n@@+FAX:555-646-5589@@\nYour order shipped.\n")
    return path


@pytest.mark.parametrize("document", [_rightfax, _zetafax, _postscript, _text],
                         ids=["RightFax PDF", "Zetafax PDF", "PostScript", "plain text"])  # fmt: skip
def test_codes_address_the_fax_and_never_reach_the_recipient(
    cupsd: PrivateCupsd, queue: str, sandbox: SandboxServer, tmp_path: Path, document: object
) -> None:
    job = cupsd.lp(queue, document(tmp_path))  # type: ignore[operator]
    assert cupsd.wait_job(job) == JOB_COMPLETED, cupsd.job_log(job)[-2000:]
    [(to, text)] = _faxes(sandbox)
    assert to in (["5556465589|Jane Doe"], ["5556465589"])
    assert "Dear Jane," in text and "Your order shipped." in text
    for code in ("TOFAXNUM", "TONAME", "%%[", "@@", "646"):
        assert code not in text, text


def test_a_mail_merge_is_one_fax_per_section(
    cupsd: PrivateCupsd, queue: str, sandbox: SandboxServer, tmp_path: Path, faxprint_root: Path
) -> None:
    pages = [["<TOFAXNUM:5551110001><TONAME:Ann>"],  # a control page: not faxed
             ["Statement for Ann, page 1"], ["Statement for Ann, page 2"],
             ["<TOFAXNUM:5551110002>", "Statement for Bob"],
             ["<TOFAXNUM:5551110003>", "Statement for Cy"]]  # fmt: skip
    job = cupsd.lp(queue, lines_pdf(tmp_path / "merge.pdf", pages))
    assert cupsd.wait_job(job) == JOB_COMPLETED
    assert sorted(_faxes(sandbox)) == [
        (["5551110001|Ann"], "Statement for Ann, page 1 Statement for Ann, page 2"),
        (["5551110002"], "Statement for Bob"),
        (["5551110003"], "Statement for Cy"),
    ]
    shown = faxprint(cupsd, faxprint_root, "show", f"{queue}-{job}")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count("state       accepted") == 3


def test_contacts_and_groups_address_a_job(
    cupsd: PrivateCupsd, queue: str, sandbox: SandboxServer, tmp_path: Path, faxprint_root: Path
) -> None:
    for args in (["Accounting", "5556465589", "--group", "Board"],
                 ["Jane Doe", "5556465590", "--group", "board"]):  # fmt: skip
        assert faxprint(cupsd, faxprint_root, "contacts", "add", *args).returncode == 0
    pdf = lines_pdf(tmp_path / "a.pdf", [["Minutes"]])
    first = cupsd.lp(queue, pdf, options=["fax-to=accounting"])
    second = cupsd.lp(queue, pdf, options=["fax-to=board"])
    coded = cupsd.lp(queue, lines_pdf(tmp_path / "b.pdf", [["<TONAME:Jane Doe>", "Minutes"]]))
    for job in (first, second, coded):
        assert cupsd.wait_job(job) == JOB_COMPLETED
    assert sorted(to for to, _ in _faxes(sandbox)) == [
        ["5556465589|Accounting"], ["5556465589|Accounting", "5556465590|Jane Doe"],
        ["5556465590|Jane Doe"],
    ]  # fmt: skip
    faxprint(cupsd, faxprint_root, "contacts", "remove", "Accounting")
    faxprint(cupsd, faxprint_root, "contacts", "remove", "Jane Doe")


def test_an_unaddressed_job_waits_while_the_queue_goes_on(
    cupsd: PrivateCupsd, queue: str, sandbox: SandboxServer, tmp_path: Path, faxprint_root: Path
) -> None:
    waiting = cupsd.lp(queue, lines_pdf(tmp_path / "a.pdf", [["From a browser"]]))
    assert cupsd.wait_job(waiting, held=True) == JOB_HELD
    later = cupsd.lp(queue, lines_pdf(tmp_path / "b.pdf", [["Later"]]),
                     options=["fax-to=5556465590"])  # fmt: skip
    assert cupsd.wait_job(later) == JOB_COMPLETED  # the queue was not held up
    with Journal(faxprint_root / "spool" / "journal.sqlite") as journal:
        [job] = journal.find(f"{queue}-{waiting}")
        assert job.state is State.UNADDRESSED
        assert f"faxprint address {queue}-{waiting} --to NUMBER" in job.message
    if os.geteuid() == 0:  # another user may not address it (the job is root's)
        stranger = faxprint(cupsd, faxprint_root, "address", f"{queue}-{waiting}", "--to",
                            "5556465589", user=65534)  # fmt: skip
        assert stranger.returncode == 1, stranger.stderr
        assert "only its owner or root may address it" in stranger.stderr
    early = faxprint(cupsd, faxprint_root, "address", f"{queue}-{later}", "--to", "5556465589")
    assert early.returncode == 1 and "not waiting for an address" in early.stderr
    addressed = faxprint(cupsd, faxprint_root, "address", f"{queue}-{waiting}", "--to",
                         "5556465589|Jane Doe", "--cover-text", "As asked")  # fmt: skip
    assert addressed.returncode == 0, addressed.stderr
    assert cupsd.wait_job(waiting) == JOB_COMPLETED
    assert sorted(to for to, _ in _faxes(sandbox)) == [["5556465589|Jane Doe"], ["5556465590"]]
    [fax] = [f for f in sandbox.faxes() if f.record["recipients"][0]["number"] == "5556465589"]
    assert fax.record["coverpagetext"] == "As asked"


def test_expire_cancels_the_jobs_that_waited_too_long(
    cupsd: PrivateCupsd, queue: str, sandbox: SandboxServer, tmp_path: Path, faxprint_root: Path
) -> None:
    import sqlite3

    from tests.support.cupsd import JOB_CANCELED

    old = cupsd.lp(queue, lines_pdf(tmp_path / "a.pdf", [["Old"]]))
    new = cupsd.lp(queue, lines_pdf(tmp_path / "b.pdf", [["New"]]))
    assert cupsd.wait_job(old, held=True) == JOB_HELD and cupsd.wait_job(new, held=True) == JOB_HELD
    with sqlite3.connect(faxprint_root / "spool" / "journal.sqlite") as db:  # a day ago and more
        db.execute("UPDATE jobs SET created = created - 86460 WHERE key LIKE ?",
                   (f"cups:{queue}:{old}:%",))  # fmt: skip
    expired = faxprint(cupsd, faxprint_root, "expire")
    assert expired.returncode == 0, expired.stderr
    assert expired.stdout == f"faxprint: {queue}-{old} root: no address came in 24 h: cancelled\n"
    assert cupsd.wait_job(old) == JOB_CANCELED
    assert int(cupsd.job_attributes(new)["job-state"]) == JOB_HELD  # its day is not over
    with Journal(faxprint_root / "spool" / "journal.sqlite") as journal:
        assert journal.find(f"{queue}-{old}")[0].state is State.CANCELLED
    assert sandbox.faxes() == []
