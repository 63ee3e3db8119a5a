"""PostScript made PDF with the real Ghostscript (Debian's ghostscript): pages kept,
errors and endless programs refused with one line, no file access outside its input."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from faxprint.convert import postscript_to_pdf
from faxprint.documents import inspect
from faxprint.errors import ConfigError, DocumentError, ServiceUnavailable

PAGES = b"""%!PS-Adobe-3.0
/Helvetica findfont 24 scalefont setfont
72 700 moveto (page one) show showpage
72 700 moveto (page two) show showpage
72 700 moveto (page three) show showpage
"""


def test_postscript_becomes_a_pdf_with_its_pages_and_text(tmp_path: Path) -> None:
    source = tmp_path / "letter.ps"
    source.write_bytes(PAGES)
    target = tmp_path / "100%d out.pdf"  # %d means a page number to Ghostscript
    postscript_to_pdf(source, target, shown="letter.ps")
    reader = PdfReader(target)
    assert len(reader.pages) == 3
    assert "page two" in reader.pages[1].extract_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["100%d out.pdf", "letter.ps"]


def test_a_postscript_error_is_one_line_naming_the_file(tmp_path: Path) -> None:
    source = tmp_path / "broken.ps"
    source.write_bytes(b"%!PS\nnosuchoperator_x1 showpage\n")
    with pytest.raises(DocumentError) as raised:
        postscript_to_pdf(source, tmp_path / "out.pdf", shown="broken.ps")
    message = raised.value.message
    assert message.startswith("broken.ps: Ghostscript could not convert the PostScript to PDF (")
    assert "Error: /undefined in nosuchoperator_x1" in message and "\n" not in message


@pytest.mark.parametrize(
    "program",
    [b"{} loop", b"{(" + b"x" * 200 + b") print} loop"],  # silent; writing without end
    ids=["silent", "chatty"],
)
def test_a_program_that_never_ends_is_stopped(tmp_path: Path, program: bytes) -> None:
    source = tmp_path / "loop.ps"
    source.write_bytes(b"%!PS\n" + program + b"\n")
    with pytest.raises(DocumentError, match="took longer than 1 s to convert"):
        postscript_to_pdf(source, tmp_path / "out.pdf", shown="loop.ps", timeout=1)


@pytest.mark.parametrize("where", ["beside the output", "in /tmp", "in /etc"])
def test_postscript_cannot_read_other_files(tmp_path: Path, where: str) -> None:
    # -dSAFER alone lets a program read its temporary folder (/tmp by default) and the
    # output's: a document could print another user's file onto its pages and fax it.
    work = tmp_path / "work"
    work.mkdir()
    secret = {
        "beside the output": work / "secret.txt",
        "in /tmp": Path(tempfile.mkdtemp()) / "secret.txt",
        "in /etc": Path("/etc/hostname"),
    }[where]
    if where != "in /etc":
        secret.write_text("the-secret-9f2c\n")
    source = tmp_path / "thief.ps"
    source.write_bytes(
        b"%!PS\n/Helvetica findfont 12 scalefont setfont 72 700 moveto\n"
        + f"({secret}) (r) file 100 string readstring pop show showpage\n".encode()
    )
    with pytest.raises(DocumentError, match=r"Error: /invalidfileaccess in --file--"):
        postscript_to_pdf(source, work / "out.pdf", shown="thief.ps")
    if where == "in /tmp":
        shutil.rmtree(secret.parent)


def test_without_ghostscript_the_message_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a server without gs
    source = tmp_path / "letter.ps"
    source.write_bytes(PAGES)
    # The admin's to fix (CUPS stops the queue, the hot folder keeps the job): the
    # document is fine.
    with pytest.raises(ConfigError, match="not installed on this server: install the ghostscript"):
        postscript_to_pdf(source, tmp_path / "out.pdf", shown="letter.ps")


def test_a_file_changed_since_it_was_inspected_is_not_converted(tmp_path: Path) -> None:
    source = tmp_path / "letter.ps"
    source.write_bytes(PAGES)
    inspected = inspect(source).identity
    source.write_bytes(PAGES + b"% one more line\n")  # swapped after the check
    with pytest.raises(DocumentError, match="letter.ps: the file changed after it was checked"):
        postscript_to_pdf(source, tmp_path / "out.pdf", shown="letter.ps", identity=inspected)
    assert not (tmp_path / "out.pdf").exists()


def test_a_pdf_over_the_size_limit_is_refused_as_too_large(tmp_path: Path) -> None:
    source = tmp_path / "big.ps"
    source.write_bytes(PAGES)
    with pytest.raises(
        DocumentError, match="big.ps: as a PDF it would be over 0.001 MB; send a smaller"
    ):
        postscript_to_pdf(source, tmp_path / "out.pdf", shown="big.ps", max_bytes=1000)


def test_conversion_stops_one_page_past_the_limit(tmp_path: Path) -> None:
    # A 3-page document with a limit of 1 comes out with 2 pages: too long, and shown as
    # such by the page count; a document without end does not run to its end.
    source = tmp_path / "long.ps"
    source.write_bytes(PAGES)
    postscript_to_pdf(source, tmp_path / "out.pdf", shown="long.ps", max_pages=1)
    assert len(PdfReader(tmp_path / "out.pdf").pages) == 2


def test_ghostscript_killed_from_outside_is_a_passing_fault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in gs that dies as the OOM killer would kill it: the document is not at fault.
    fake = tmp_path / "bin" / "gs"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nkill -9 $$\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    source = tmp_path / "letter.ps"
    source.write_bytes(PAGES)
    with pytest.raises(
        ServiceUnavailable, match=r"letter.ps: Ghostscript was stopped \(signal 9\)"
    ):
        postscript_to_pdf(source, tmp_path / "out.pdf", shown="letter.ps")
