"""What RingCentral's REST fax API takes as attachments, and under which names.

Every rule here is the developer guide's, ``docs/messaging/fax/sending-faxes.md``
(ringcentral-api-docs @ 64067a50d93c; ../shared/ringcentral-rest.md s2): the table
"RingCentral platform supported FAX content types" and "Attachment Limitations".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faxprint.documents import Document, inspect
from faxprint.errors import DocumentError
from faxprint.transports import ringcentral_files as files
from tests.support.helpers import make_pdf, make_png

#: sending-faxes.md: "does not include ampersands (e.g. &) or other special characters
#: such as @#$%^&*, etc...". The list is open, so faxprint sends only these characters.
SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*\.[a-z0-9]+")
FORBIDDEN = set("&@#$%^*")


def _document(name: str, content_type: str, size: int = 1000, pages: int | None = None) -> Document:
    return Document(Path("/nonexistent"), name, content_type, size, pages)


@pytest.mark.parametrize(
    ("name", "content_type", "wire"),
    [
        ("R&D #1 (50_).pdf", "application/pdf", "R_D_1_50.pdf"),  # inspect made % a _
        ("Marz Bericht.pdf", "application/pdf", "Marz_Bericht.pdf"),
        ("REPORT.PDF", "application/pdf", "REPORT.pdf"),
        ("scan", "application/pdf", "scan.pdf"),  # the service types by extension
        ("invoice.2024", "application/pdf", "invoice.2024.pdf"),
        ("photo.png", "image/jpeg", "photo.png.jpg"),  # the content decides, not the name
        ("page.tiff", "image/tiff", "page.tiff"),
        ("page.TIF", "image/tiff", "page.tif"),
        (
            "letter.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "letter.docx",
        ),
        ("sheet.csv", "text/csv", "sheet.csv"),
        ("notes.md", "text/markdown", "notes.md.txt"),  # text under another name is text
        ("README", "text/plain", "README.txt"),
        ("scan.tif", "text/plain", "scan.tif.txt"),  # no TIFF by its bytes: text
        ("x.docx", "text/plain", "x.docx.txt"),
        ("main.c", "text/x-csrc", "main.c"),
        ("page.htm", "text/html", "page.htm"),
        (".pdf", "application/pdf", "document.pdf"),
        ("@@@.pdf", "application/pdf", "document.pdf"),
        ("C:\\Users\\ann\\fax.pdf", "application/pdf", "fax.pdf"),
    ],
)
def test_wire_names_are_safe_and_end_in_a_documented_extension(
    name: str, content_type: str, wire: str
) -> None:
    assert files.wire_name(_document(name, content_type)) == wire


def test_a_long_name_is_cut_but_keeps_its_extension() -> None:
    wire = files.wire_name(_document("x" * 300 + ".pdf", "application/pdf"))
    assert len(wire) == files.MAX_NAME and wire.endswith("x.pdf")


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.text(min_size=1, max_size=300),
    st.sampled_from(["application/pdf", "image/png", "text/plain", "text/x-python"]),
)
def test_any_name_becomes_one_the_api_takes(name: str, content_type: str) -> None:
    wire = files.wire_name(_document(name, content_type))
    assert SAFE_NAME.fullmatch(wire), wire
    assert not FORBIDDEN & set(wire)
    assert wire.rpartition(".")[2] in files.FAX_EXTENSIONS
    assert len(wire) <= files.MAX_NAME
    files.check([_document(wire, content_type)])  # what send() checks again


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("archive.zip", "application/zip"),
        ("letter.odt", "application/vnd.oasis.opendocument.text"),
        ("data.bin", "application/octet-stream"),
        ("data.txt", "application/octet-stream"),  # binary content is no text file
    ],
)
def test_a_type_the_api_does_not_take_is_refused_naming_the_types_it_takes(
    name: str, content_type: str
) -> None:
    with pytest.raises(DocumentError) as raised:
        files.wire_name(_document(name, content_type))
    message = raised.value.message
    assert message.startswith(f"{name}: this service does not fax {content_type} files")
    assert all(f".{extension}" in message for extension in files.FAX_EXTENSIONS)
    assert "PostScript, made PDF here" in message


def test_names_are_unique_in_a_fax_and_the_type_agrees_with_the_name(tmp_path: Path) -> None:
    for name in ("a&b.pdf", "a#b.pdf", "A_B.PDF"):
        make_pdf(tmp_path / name)
    (tmp_path / "notes.md").write_text("# notes\n")
    given = [inspect(tmp_path / n) for n in ("a&b.pdf", "a#b.pdf", "A_B.PDF", "notes.md")]
    ready = files.prepare(given, tmp_path)
    assert [(d.filename, d.content_type) for d in ready] == [
        ("a_b.pdf", "application/pdf"),
        ("a_b-2.pdf", "application/pdf"),
        ("A_B-3.pdf", "application/pdf"),
        ("notes.md.txt", "text/plain"),  # not text/markdown under a .txt name
    ]


def test_more_than_50_mb_or_200_pages_is_refused_before_sending() -> None:
    # "The combined size of all attachments does not exceed 50 MB." Silent on which MB:
    # the smaller reading, 50,000,000 bytes.
    half = 25_000_000
    files.check([_document("a.pdf", "application/pdf", half), _document("b.pdf", "x", half)])
    with pytest.raises(DocumentError, match=r"50\.0 MB; this service takes at most 50 MB \("):
        files.check([_document("a.pdf", "application/pdf", half + 1), _document("b.pdf", "", half)])
    # "The attachments does not exceed 200 pages."
    files.check([_document("a.pdf", "application/pdf", pages=150), _document("b.png", "", 10)])
    with pytest.raises(DocumentError, match="201 pages; this service takes at most 200"):
        files.check([_document("a.pdf", "", pages=150), _document("b.pdf", "", pages=51)])


def test_a_wire_name_send_was_not_given_by_prepare_is_refused() -> None:
    for name in ("R&D.pdf", "letter.odt", "scan"):
        with pytest.raises(DocumentError, match="this service does not fax"):
            files.check([_document(name, "application/pdf")])


POSTSCRIPT = b"""%!PS-Adobe-3.0
%%Pages: 2
/Helvetica findfont 24 scalefont setfont
72 700 moveto (faxprint PostScript page 1) show showpage
72 700 moveto (faxprint PostScript page 2) show showpage
"""


def test_prepare_makes_postscript_a_pdf_and_names_every_document(tmp_path: Path) -> None:
    (tmp_path / "R&D #1 (50%).ps").write_bytes(POSTSCRIPT)
    (tmp_path / "logo.png").write_bytes(make_png())
    work = tmp_path / "work"
    work.mkdir()
    given = [
        inspect(tmp_path / "R&D #1 (50%).ps"),
        inspect(make_pdf(tmp_path / "Ärger.pdf", pages=3)),
        inspect(tmp_path / "logo.png"),
    ]
    assert given[0].content_type == "application/postscript"
    ready = files.prepare(given, work)
    assert [(d.filename, d.content_type, d.pages) for d in ready] == [
        ("R_D_1_50.pdf", "application/pdf", 2),  # counted once it is a PDF
        ("Arger.pdf", "application/pdf", 3),
        ("logo.png", "image/png", None),
    ]
    assert ready[0].path.parent == work and ready[0].path.read_bytes().startswith(b"%PDF-")
    assert ready[1:] == [
        Document(**{**given[1].__dict__, "filename": "Arger.pdf"}),
        given[2],
    ]  # the others are the very files given, under their wire names


def test_prepare_refuses_a_document_the_api_does_not_take_before_converting_others(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.ps").write_bytes(POSTSCRIPT)
    (tmp_path / "b.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    given = [inspect(tmp_path / "a.ps"), inspect(tmp_path / "b.zip")]
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(DocumentError, match="b.zip: this service does not fax application/zip"):
        files.prepare(given, work)
    assert list(work.iterdir()) == []  # nothing was converted for a job that cannot go
