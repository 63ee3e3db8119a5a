from __future__ import annotations

import os
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from faxprint.documents import inspect, sniff, wire_filename
from faxprint.errors import DocumentError
from tests.support.helpers import as_unprivileged_user, make_pdf, make_png


def test_a_pdf_is_described_with_its_pages(tmp_path: Path) -> None:
    doc = inspect(make_pdf(tmp_path / "Rechnung März.pdf", pages=3))
    assert (doc.filename, doc.content_type, doc.pages) == (
        "Rechnung Marz.pdf",
        "application/pdf",
        3,
    )
    assert doc.size == (tmp_path / "Rechnung März.pdf").stat().st_size


def test_other_types_pass_through_without_a_page_count(tmp_path: Path) -> None:
    path = tmp_path / "memo.txt"
    path.write_text("Hello fax\n")
    doc = inspect(path)
    assert (doc.content_type, doc.pages) == ("text/plain", None)


@pytest.mark.parametrize(
    ("head", "name", "content_type"),
    [
        (b"%PDF-1.7\n", "x.bin", "application/pdf"),
        (b"\n %PDF-1.4", "x", "application/pdf"),
        (b"notes about %PDF-1.7 files", "notes.txt", "text/plain"),
        (b"%!PS-Adobe-3.0", "x", "application/postscript"),
        (b"\x89PNG\r\n\x1a\n....", "x", "image/png"),
        (b"\xff\xd8\xff\xe0", "x", "image/jpeg"),
        (b"II*\x00", "x", "image/tiff"),
        (
            b"PK\x03\x04",
            "letter.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (b"\xd0\xcf\x11\xe0", "x", "application/octet-stream"),
        (b"plain words", "x", "text/plain"),
    ],
)
def test_sniffing(head: bytes, name: str, content_type: str) -> None:
    assert sniff(head, name) == content_type


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="nope.pdf: no such file"):
        inspect(tmp_path / "nope.pdf")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.pdf").write_bytes(b"")
    with pytest.raises(DocumentError, match="empty"):
        inspect(tmp_path / "e.pdf")


def test_a_directory_or_fifo_is_not_a_document(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    for path in (tmp_path, tmp_path / "pipe"):
        with pytest.raises(DocumentError, match="not a regular file"):
            inspect(path)


def test_unreadable_file(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "secret.pdf")
    path.chmod(0)
    assert (
        as_unprivileged_user(lambda: _complaint(path))
        == "secret.pdf: cannot be read (Permission denied)"
    )


def _complaint(path: Path) -> str:
    try:
        inspect(path)
    except DocumentError as error:
        return error.message
    return "no error"


def test_truncated_pdf_is_refused(tmp_path: Path) -> None:
    good = make_pdf(tmp_path / "good.pdf", pages=2).read_bytes()
    (tmp_path / "cut.pdf").write_bytes(good[: len(good) // 3])
    with pytest.raises(DocumentError, match="damaged"):
        inspect(tmp_path / "cut.pdf")


def test_garbage_behind_a_pdf_header_is_refused(tmp_path: Path) -> None:
    (tmp_path / "g.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(2000))
    with pytest.raises(DocumentError, match="damaged|no pages"):
        inspect(tmp_path / "g.pdf")


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(make_pdf(tmp_path / "plain.pdf")))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    with (tmp_path / "locked.pdf").open("wb") as stream:
        writer.write(stream)
    with pytest.raises(DocumentError, match="encrypted"):
        inspect(tmp_path / "locked.pdf")


@pytest.mark.parametrize(
    ("name", "wire"),
    [
        ("C:\\Users\\jo\\example.doc", "example.doc"),
        ('quote"d.pdf', "quote'd.pdf"),
        ("Ångström résumé.pdf", "Angstrom resume.pdf"),
        ("北京.pdf", "BeiJing.pdf"),
        ("\x00\x01", "document.pdf"),
        ("50%;off.pdf", "50__off.pdf"),
    ],
)
def test_wire_filenames_are_safe_ascii(name: str, wire: str) -> None:
    assert wire_filename(name, "application/pdf") == wire


@pytest.mark.parametrize(
    ("name", "data", "sent_as", "content_type"),
    [
        ("notes.pdf", b"just some notes\n", "notes.pdf.txt", "text/plain"),
        ("scan.tif", make_png(), "scan.tif.png", "image/png"),
        ("letter.pdf", b"%!PS-Adobe-3.0\n", "letter.pdf.ps", "application/postscript"),
        ("real.pdf", None, "real.pdf", "application/pdf"),
    ],
)
def test_a_file_is_sent_under_the_type_it_holds_not_the_one_its_name_says(
    tmp_path: Path, name: str, data: bytes | None, sent_as: str, content_type: str
) -> None:
    # A service that types documents by their name would fail "notes.pdf" after it
    # accepted it, telling the account holder by email only.
    path = tmp_path / name
    if data is None:
        make_pdf(path)
    else:
        path.write_bytes(data)
    doc = inspect(path)
    assert (doc.filename, doc.content_type) == (sent_as, content_type)


def test_a_file_that_is_not_what_its_name_says_nor_anything_known_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(b"\x00\x01\x02binary junk\xff" * 10)
    with pytest.raises(
        DocumentError, match=r"^invoice.pdf: its name says PDF, but it holds no PDF"
    ):
        inspect(path)


def test_only_postscripts_own_first_line_makes_postscript() -> None:
    assert sniff(b"%!PS-Adobe-3.0\n", "x") == "application/postscript"
    assert sniff(b"%!\n/Helvetica findfont\n", "x") == "application/postscript"
    assert sniff(b"%!TEX program = xelatex\n", "notes") == "text/plain"  # a TeX comment
