"""The backend addressing jobs by their codes, in-process: a merge retried sends none
twice, one bad section is refused alone, a job nothing addresses waits (or is cancelled),
and documents full of codes are refused in one line."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from faxprint.cups import backend
from faxprint.journal import Journal, State
from faxprint.sandbox import SandboxServer
from tests.support.configs import faxout_account, write_config
from tests.support.documents import lines_pdf


def _run(tmp_path: Path, url: str, options: str, pdf: Path, extra: str = "") -> tuple[int, str]:
    config = write_config(tmp_path, faxout_account(url), retry={"tries": 1}, extra=extra)
    env = {"DEVICE_URI": "faxprint://default", "PRINTER": "Fax", "TMPDIR": str(tmp_path),
           "FAXPRINT_CONFIG": str(config)}  # fmt: skip
    err = io.StringIO()
    argv = ["faxprint://default", "7", "ann", "statements.pdf", "1", options]
    status = backend.main(argv, env, io.BytesIO(pdf.read_bytes()), stderr=err)
    return status, err.getvalue()


MERGE = [["<TOFAXNUM:5551110001>", "Ann"], ["<TOFAXNUM:555-FAX-1234>", "Bob"],
         ["<TOFAXNUM:5551110003>", "Cy"]]  # fmt: skip


def test_a_merge_reports_each_fax_and_a_retry_sends_none_twice(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    pdf = lines_pdf(tmp_path / "m.pdf", MERGE)
    status, err = _run(tmp_path, sandbox.url, "job-uuid=urn:uuid:merge-1", pdf)
    assert status == backend.OK  # the job is done: what went went, the rest says why
    assert err.splitlines()[-1] == (
        "ERROR: 3 faxes: 2 accepted, 1 refused: fax 2 (page 2): fax number '555-FAX-1234' "
        "contains letters; type the digits"
    )
    assert len(sandbox.faxes()) == 2
    again, _ = _run(tmp_path, sandbox.url, "job-uuid=urn:uuid:merge-1", pdf)
    assert again == backend.OK and len(sandbox.faxes()) == 2  # accepted before: not again
    with Journal(tmp_path / "journal.sqlite") as journal:
        states = {job.key: job.state for job in journal.find("Fax-7")}
    assert states == {"cups:Fax:7:merge-1#1": State.ACCEPTED,
                      "cups:Fax:7:merge-1#2": State.FAILED,
                      "cups:Fax:7:merge-1#3": State.ACCEPTED}  # fmt: skip


def test_options_address_every_page_and_the_codes_are_only_erased(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    pdf = lines_pdf(tmp_path / "m.pdf", [["<TOFAXNUM:5551110001>"], *MERGE[:1]])
    status, err = _run(tmp_path, sandbox.url, "fax-to=5556465589", pdf)
    assert status == backend.OK, err
    [fax] = sandbox.faxes()
    assert [r["number"] for r in fax.record["recipients"]] == ["5556465589"]
    assert err.splitlines()[-1] == "INFO: Fax accepted for 1 recipient, 1 page"  # no control page


def test_a_job_nothing_addresses_waits_and_is_cancelled_after_the_wait(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    pdf = lines_pdf(tmp_path / "a.pdf", [["From a browser"]])
    status, err = _run(tmp_path, sandbox.url, "job-uuid=urn:uuid:w1", pdf)
    assert status == backend.HOLD
    assert err.splitlines()[-1].startswith(
        "WARNING: Fax waiting for an address: run `faxprint address Fax-7 --to NUMBER` (or "
        "`lp -i 7 -o fax-to=NUMBER -H resume`)"
    )
    with Journal(tmp_path / "journal.sqlite") as journal:
        assert journal.get("cups:Fax:7:w1").state is State.UNADDRESSED  # type: ignore[union-attr]
    with sqlite3.connect(tmp_path / "journal.sqlite") as db:  # a day and a minute ago
        db.execute("UPDATE jobs SET created = created - 86460")
    status, err = _run(tmp_path, sandbox.url, "job-uuid=urn:uuid:w1", pdf)
    assert status == backend.CANCEL
    assert err.splitlines()[-1].startswith("ERROR: no address came in 24 h: cancelled")
    assert sandbox.faxes() == []


def test_a_queue_may_cancel_unaddressed_jobs_at_once(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    pdf = lines_pdf(tmp_path / "a.pdf", [["From a browser"]])
    status, err = _run(tmp_path, sandbox.url, "", pdf, extra='[printer]\nunaddressed = "cancel"\n')
    assert status == backend.CANCEL
    assert err.splitlines()[-1].startswith("ERROR: no recipient: print with -o 'fax-to=NUMBER'")


@pytest.mark.parametrize(
    ("pages", "complaint"),
    [
        ([["Body", " ".join(f"<TOFAXNUM:555{i:07d}>" for i in range(10_000))]],
         "ERROR: Fax not sent: 10000 recipients; a job may have at most 50"),
        ([[f"<TOFAXNUM:555{i:07d}>"] for i in range(600)],
         "ERROR: the document's addressing codes make 600 faxes; a job may become at most 500"),
    ],
    ids=["10,000 recipients", "600 sections"],
)  # fmt: skip
def test_documents_full_of_codes_are_refused_in_one_line(
    tmp_path: Path, sandbox: SandboxServer, pages: list[list[str]], complaint: str
) -> None:
    status, err = _run(tmp_path, sandbox.url, "", lines_pdf(tmp_path / "many.pdf", pages))
    assert status == backend.CANCEL
    assert err.splitlines()[-1].startswith(complaint), err.splitlines()[-1]
    assert sandbox.faxes() == []
