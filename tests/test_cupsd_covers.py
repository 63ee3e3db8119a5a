"""Own cover pages from the Fax printer, on a real cupsd: a job printed with
``fax-cover=letterhead`` to two recipients becomes two faxes, each with the office's
template filled for its recipient (and the job's title as its subject) before the printed
pages, and the service told to add no cover (FaxOut ``Coverpage=None``,
``shared/faxout-api.txt`` section 1). The account's ``cover`` gives the built-in cover to
a job that names none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from faxprint.sandbox import SandboxServer
from faxprint.sandbox.store import StoredFax
from tests.support.configs import faxout_account, write_config
from tests.support.cupsd import JOB_COMPLETED, PrivateCupsd
from tests.support.helpers import make_pdf
from tests.support.secrets import TEST_ACCOUNTS
from tests.test_covers import make_template
from tests.test_cupsd_addressing import faxprint

pytestmark = pytest.mark.cupsd

QUEUE = "FaxCovered"


def _configure(root: Path, url: str, extra: str = "") -> None:
    template = make_template(root / "etc" / "letterhead.pdf",
                             ["to_name", "to_fax", "from_name", "subject", "comments", "pages"])  # fmt: skip
    template.chmod(0o644)
    covers = f'[covers.letterhead]\ntemplate = "{template}"\nfrom_name = "ACME Widgets"\n'
    write_config(root / "etc" / "faxprint.toml", faxout_account(url) + extra,
                 journal=root / "spool" / "journal.sqlite", extra=covers,
                 retry={"tries": 1, "backoff": 0.0}, lp_readable=True)  # fmt: skip


@pytest.fixture(scope="module")
def queue(cupsd: PrivateCupsd, faxprint_root: Path) -> Iterator[str]:
    _configure(faxprint_root, "http://127.0.0.1:9/faxapi.asp")
    made = faxprint(cupsd, faxprint_root, "install", "--name", QUEUE, "--backend-dir",
                    str(cupsd.backend_dir))  # fmt: skip
    assert made.returncode == 0, made.stderr
    yield QUEUE
    cupsd.connection().deletePrinter(QUEUE)


def _covers(faxes: list[StoredFax]) -> list[tuple[str, str, int, str]]:
    """Each fax: its recipient, the cover the service was asked for, and the pages and
    text of its first document (faxprint's cover)."""
    found = []
    for fax in faxes:
        reader = PdfReader(fax.path / fax.record["attachments"][0]["stored_as"])
        assert "/AcroForm" not in reader.trailer["/Root"]
        found.append((fax.record["recipients"][0]["number"], fax.record["coverpage"],
                      len(reader.pages), reader.pages[0].extract_text()))  # fmt: skip
    return found


def test_a_printed_job_to_two_recipients_gets_a_cover_each(
    cupsd: PrivateCupsd, queue: str, faxprint_root: Path, tmp_path: Path
) -> None:
    with SandboxServer(port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS) as server:
        _configure(faxprint_root, server.url)
        letter = make_pdf(tmp_path / "letter.pdf", pages=2)
        job = cupsd.lp(queue, letter, title="Order 4711", options=[
            'fax-to="5556465589|Jane Doe,5555568552|Bob Roe"', "fax-cover=letterhead",
            'fax-cover-text="Please sign page 2."'])  # fmt: skip
        assert cupsd.wait_job(job) == JOB_COMPLETED, cupsd.job_log(job)[-2000:]
        faxes = _covers(server.faxes())
    assert [(number, cover, pages) for number, cover, pages, _ in faxes] == [
        ("5556465589", "None", 1), ("5555568552", "None", 1)]  # fmt: skip
    for (_, _, _, text), name in zip(faxes, ["Jane Doe", "Bob Roe"], strict=True):
        for said in (name, "ACME Widgets", "Order 4711", "Please sign page 2.", "2"):
            assert said in text, (said, text)
    assert "Bob Roe" not in faxes[0][3]
    assert "2 faxes" in cupsd.job_log(job) or "2 accepted" in cupsd.job_log(job)


def test_the_accounts_cover_goes_to_a_job_that_names_none(
    cupsd: PrivateCupsd, queue: str, faxprint_root: Path, tmp_path: Path
) -> None:
    with SandboxServer(port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS) as server:
        _configure(faxprint_root, server.url, extra='cover = "faxprint"\n')
        job = cupsd.lp(queue, make_pdf(tmp_path / "a.pdf"), options=["fax-to=5556465589"])
        assert cupsd.wait_job(job) == JOB_COMPLETED, cupsd.job_log(job)[-2000:]
        none = cupsd.lp(queue, make_pdf(tmp_path / "b.pdf"),
                        options=["fax-to=5556465589", "fax-cover=None"])  # fmt: skip
        assert cupsd.wait_job(none) == JOB_COMPLETED, cupsd.job_log(none)[-2000:]
        faxes = server.faxes()
    [(_, cover, pages, text)] = _covers(faxes[:1])
    assert (cover, pages) == ("None", 1) and "FAX" in text and "5556465589" in text
    assert faxes[1].record["coverpage"] == "None"
    assert [a["filename"] for a in faxes[1].record["attachments"]] == ["b.pdf"]  # no cover
