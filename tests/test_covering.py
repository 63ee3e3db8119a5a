"""faxprint's own cover pages on the way out (issue 21): a fillable template made here is
filled for two recipients and `faxprint send` (a real process) sends two faxes to the
sandbox over real HTTP, each with a one-page flattened cover naming its recipient, the
sender, the cover text and the page count, and each telling the service to add no cover:

- FaxOut: ``Coverpage=None`` ("None. Cover page is not used"; and "If parameter is not
  specified or its value is empty then default cover page will be used", so the field is
  sent, not left out), ``shared/faxout-api.txt`` section 1, Coverpage;
- REST: ``coverIndex`` 0 ("If `coverIndex` is set to '0' (zero) a cover page is not
  attached"; left out, "the default cover page is attached"), ``shared/ringcentral-rest.md``
  rows 44 and 70, the fax request's body fields and the cover dictionary.

The cover text is drawn on faxprint's cover and never sent to the service as well (the
service would print it on a cover it was told not to add, or refuse more than 1,024).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from faxprint.config import Cover
from faxprint.covering import Covers
from faxprint.sandbox import SandboxServer
from faxprint.ticket import Ticket
from tests.conftest import REPO, SandboxProcess
from tests.support.configs import faxout_account, rest_account_toml, write_config
from tests.support.helpers import make_pdf
from tests.test_covers import make_template

TEXT = "Please sign page 2 and fax it back. Ευχαριστώ!"
FIELDS = ["to_name", "to_fax", "from_name", "from_company", "comments", "pages", "date"]


def _send(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "faxprint", "--config", str(config), "send",
                           *args], capture_output=True, text=True, cwd=REPO, timeout=120,
                          check=False)  # fmt: skip


def _covers(tmp_path: Path) -> str:
    template = make_template(tmp_path / "letterhead.pdf", FIELDS)
    return (f'[covers.letterhead]\ntemplate = "{template}"\nfrom_name = "Anna Schmidt"\n'
            'from_company = "ACME Widgets"\n')  # fmt: skip


def _cover_of(pdf: bytes) -> tuple[int, str]:
    """A sent cover's page count and text, after checking no form is left in it."""
    reader = PdfReader(io.BytesIO(pdf))
    assert "/AcroForm" not in reader.trailer["/Root"]
    for page in reader.pages:
        widgets = [a for a in page.get("/Annots") or [] if a.get_object()["/Subtype"] == "/Widget"]
        assert not widgets
    return len(reader.pages), reader.pages[0].extract_text()


def test_a_template_filled_for_two_recipients_makes_two_faxes_with_no_service_cover(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    config = write_config(tmp_path, faxout_account(sandbox_process.url), extra=_covers(tmp_path))
    letter = make_pdf(tmp_path / "letter.pdf", pages=3)
    done = _send(config, "--to", "+1 555 646 5589|Jane Doe", "--to", "555 556 8552|Γιώργος",
                 "--cover", "Letterhead", "--cover-text", TEXT, str(letter))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "fax accepted for 2 recipients, 8 pages" in done.stdout  # 2 covers + 2 x 3 pages
    assert "2 faxes, one per recipient (their cover names each)" in done.stdout
    faxes = [json.loads(p.read_text()) for p in sorted(sandbox_process.store.glob("*/fax.json"))]
    assert len(faxes) == 2
    for fax, number in zip(faxes, ["+15556465589", "5555568552"], strict=True):
        assert [r["number"] for r in fax["recipients"]] == [number]
        assert fax["coverpage"] == "None" and fax["coverpagetext"] is None
        assert [a["filename"] for a in fax["attachments"]] == ["cover.pdf", "letter.pdf"]
        folder = sandbox_process.store / f"{fax['seq']:06d}"
        pages, text = _cover_of((folder / fax["attachments"][0]["stored_as"]).read_bytes())
        assert pages == 1
        for said in (number, "Anna Schmidt", "ACME Widgets", "Please sign page 2", "3"):
            assert said in text, (said, text)
    texts = [_cover_of((sandbox_process.store / f"{f['seq']:06d}" / f["attachments"][0]
                        ["stored_as"]).read_bytes())[1] for f in faxes]  # fmt: skip
    assert "Jane Doe" in texts[0] and "Γιώργος" not in texts[0]
    assert "Γιώργος" in texts[1] and "Ευχαριστώ!" in texts[1]  # Greek, drawn in a real font
    shown = subprocess.run([sys.executable, "-m", "faxprint", "--config", str(config), "history",
                            "--json"], capture_output=True, text=True, cwd=REPO, timeout=60,
                           check=True).stdout  # fmt: skip
    keys = sorted(json.loads(line)["key"] for line in shown.splitlines())
    assert [k.rpartition("#")[2] for k in keys] == ["to+15556465589", "to5555568552"]


def test_rest_is_told_cover_index_0_and_gets_no_cover_text(
    tmp_path: Path, server: SandboxServer
) -> None:
    accounts = rest_account_toml(server.url, tmp_path).replace("[accounts.office]",
                                                                "[accounts.default]")  # fmt: skip
    config = write_config(tmp_path, accounts, extra=_covers(tmp_path))
    letter = make_pdf(tmp_path / "letter.pdf", pages=2)
    done = _send(config, "--to", "+1 555 646 5589|Jane Doe", "--to", "+1 555 556 8552|Bob",
                 "--cover", "letterhead", "--cover-text", "Thank you. " * 150, str(letter))  # fmt: skip
    assert done.returncode == 0, done.stderr
    messages = list(server.rest.messages.values())  # type: ignore[union-attr]
    assert len(messages) == 2
    for message in messages:
        assert message.cover_index == 0 and message.cover_text == ""  # 1,650 > 1,024: ours
        assert [a["fileName"] for a in message.attachments] == ["cover.pdf", "letter.pdf"]
        assert message.attachments[0]["pages"] == 1
    assert sorted(m.to[0]["name"] for m in messages) == ["Bob", "Jane Doe"]


def test_the_builtin_cover_needs_no_template(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    config = write_config(tmp_path, faxout_account(sandbox_process.url),
                          extra='[covers.faxprint]\nfrom_name = "ACME Widgets"\n')  # fmt: skip
    done = _send(config, "--to", "555 646 5589|Jane Doe", "--cover", "faxprint",
                 "--cover-text", "Hello", str(make_pdf(tmp_path / "a.pdf", pages=2)))  # fmt: skip
    assert done.returncode == 0, done.stderr
    [fax] = [json.loads(p.read_text()) for p in sandbox_process.store.glob("*/fax.json")]
    assert fax["coverpage"] == "None"
    pages, text = _cover_of((sandbox_process.store / f"{fax['seq']:06d}"
                             / fax["attachments"][0]["stored_as"]).read_bytes())  # fmt: skip
    assert pages == 1
    for said in ("FAX", "Jane Doe", "5556465589", "ACME Widgets", "Hello", "2 after this one"):
        assert said in text, (said, text)


def test_a_broken_template_sends_nothing_and_says_so(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    (tmp_path / "gone.pdf").write_bytes(b"not a pdf")
    config = write_config(tmp_path, faxout_account(sandbox_process.url),
                          extra='[covers.letterhead]\ntemplate = "gone.pdf"\n')  # fmt: skip
    done = _send(config, "--to", "555 646 5589", "--cover", "letterhead",
                 str(make_pdf(tmp_path / "a.pdf")))  # fmt: skip
    assert done.returncode != 0
    assert "cover 'letterhead': gone.pdf: not a PDF" in done.stderr
    assert not list(sandbox_process.store.glob("*/fax.json"))


def _ticket(cover: str, *to: str) -> Ticket:
    return Ticket.build(list(to), cover=cover)


@pytest.mark.parametrize(
    ("cover", "default", "own"),
    [("LETTERHEAD", "", "letterhead"), ("faxprint", "", "faxprint"), ("Urgent", "", None),
     ("None", "letterhead", None), ("Default", "letterhead", "letterhead"),
     ("Default", "Urgent", None), ("Default", "", None)],
)  # fmt: skip
def test_which_cover_is_faxprints_own(cover: str, default: str, own: str | None) -> None:
    covers = Covers({"letterhead": Cover(template="/nowhere.pdf")}, default)
    chosen = covers.chosen(_ticket(cover, "5556465589"))
    assert (chosen.name if chosen else None) == own


def test_one_fax_per_recipient_only_when_the_cover_names_one(tmp_path: Path) -> None:
    named = make_template(tmp_path / "named.pdf", ["to_name", "comments"])
    plain = make_template(tmp_path / "plain.pdf", ["from_name", "comments"])
    covers = Covers({"named": Cover(template=str(named)), "plain": Cover(template=str(plain))})
    two = ("5556465589|Ann", "5555568552|Bob")
    split = covers.split("send:x", _ticket("named", *two))
    assert [(k, [r.name for r in t.recipients]) for k, t in split] == [
        ("send:x#to5556465589", ["Ann"]), ("send:x#to5555568552", ["Bob"])]  # fmt: skip
    backwards = covers.split("send:x", _ticket("named", *reversed(two)))
    assert sorted(backwards) == sorted(split)  # the same keys whatever the order
    assert covers.split("send:x", _ticket("plain", *two))[0][0] == "send:x"  # one fax, one cover
    assert len(covers.split("send:x", _ticket("faxprint", *two))) == 2  # the built-in names one
    assert len(covers.split("send:x", _ticket("Urgent", *two))) == 1  # the service's own


def test_a_hot_folder_ticket_gets_a_fax_and_a_cover_per_recipient(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    from tests.support.configs import hot_folder_config
    from tests.support.helpers import Watcher, drop_ticket, wait_for

    root = tmp_path / "drop"
    config = hot_folder_config(tmp_path, sandbox.url,
                               extra='[covers.faxprint]\nfrom_name = "ACME Widgets"\n')  # fmt: skip
    with Watcher(config, root):
        make_pdf(root / "invoice.pdf", pages=2)
        drop_ticket(root, "invoice", {"to": ["5556465589|Jane Doe", "5555568552|Bob Roe"],
                                      "cover": "faxprint", "cover_text": "Invoice 42"})  # fmt: skip
        wait_for(lambda: list(root.glob("done/*/receipt.json")), what="a receipt in done/")
    [receipt] = [json.loads(p.read_text()) for p in root.glob("done/*/receipt.json")]
    assert receipt["outcome"] == "accepted" and receipt["pages"] == 6  # 2 x (cover + 2)
    assert receipt["message"].startswith("2 faxes, one per recipient: 2 accepted")
    faxes = sandbox.faxes()
    assert [f.record["recipients"][0]["name"] for f in faxes] == ["Jane Doe", "Bob Roe"]
    for fax, name in zip(faxes, ["Jane Doe", "Bob Roe"], strict=True):
        assert fax.record["coverpage"] == "None" and fax.record["coverpagetext"] is None
        _, text = _cover_of((fax.path / fax.record["attachments"][0]["stored_as"]).read_bytes())
        assert name in text and "Invoice 42" in text and "2 after this one" in text


def test_a_job_stays_as_the_journal_has_it_and_the_limits_count_before_the_split(
    tmp_path: Path,
) -> None:
    from faxprint.config import Limits
    from faxprint.errors import TicketError

    named = make_template(tmp_path / "named.pdf", ["to_name"])
    covers = Covers({"named": Cover(template=str(named))})
    three = _ticket("named", "5556465589|Ann", "5555568552|Bob", "5555550100|Cy")
    recorded = {"send:x#to5556465589": 1}  # split before: sent again to one, it stays split
    again = covers.split("send:x", _ticket("named", "5556465589|Ann"), known=recorded.get)
    assert [k for k, _ in again] == ["send:x#to5556465589"]
    whole = covers.split("send:x", three, known={"send:x": 1}.get)  # sent whole before
    assert [k for k, _ in whole] == ["send:x"]
    broken = Covers({"named": Cover(template=str(tmp_path / "gone.pdf"))})
    assert len(broken.split("send:x", three)) == 3  # unreadable: split, never all at once
    with pytest.raises(TicketError, match="3 recipients; a job may have at most 2"):
        covers.split("send:x", three, Limits(max_recipients=2))
    with pytest.raises(TicketError, match="make 3 faxes; a job may become at most 2"):
        covers.split("send:x", three, Limits(max_faxes=2))


def test_a_job_some_of_whose_faxes_were_refused_is_not_accepted() -> None:
    from faxprint.outcome import Outcome, Status, combined

    outcomes = [Outcome(Status.ACCEPTED, "ok", "k#to1", 1, 2, 1),
                Outcome(Status.REJECTED, "busy number", "k#to2", 1, None, 1, 3)]  # fmt: skip
    both = combined("k", outcomes)
    assert both.status is Status.REJECTED and not both.ok
    assert both.message == "2 faxes, one per recipient: 1 accepted; k#to2: busy number"
    assert (both.recipients, both.pages) == (2, 2)
    waiting = combined("k", [outcomes[0], Outcome(Status.DEFERRED, "429", "k#to2")])
    assert waiting.status is Status.DEFERRED  # what must happen next comes first


def test_the_recipients_company_comes_from_the_contacts(tmp_path: Path) -> None:
    from faxprint.journal import Contact, Journal

    template = make_template(tmp_path / "t.pdf", ["to_name", "to_company", "to_fax"])
    covers = Covers({"letterhead": Cover(template=str(template))})
    with Journal(tmp_path / "journal.sqlite") as book:
        book.import_contacts(
            [
                Contact("Jane Doe", "5556465589", "Doe & Partners"),
                Contact("Jane Doe", "5555568552", "Another Firm"),
            ]
        )  # two of a name
        drawn = covers.drawn(_ticket("letterhead", "5556465589|Jane Doe"), [], "", book)
        unknown = covers.drawn(_ticket("letterhead", "5550001111|Jane Doe"), [], "", book)
    assert drawn is not None and unknown is not None
    text = PdfReader(io.BytesIO(drawn.data)).pages[0].extract_text()
    assert "Doe & Partners" in text and "Another Firm" not in text  # her entry, by number
    assert "Partners" not in PdfReader(io.BytesIO(unknown.data)).pages[0].extract_text()
