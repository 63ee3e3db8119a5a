"""Addressing codes read from real documents (a program's PDF, PostScript made PDF by
Ghostscript, plain text made PDF by CUPS's texttopdf), erased without moving the rest of
the page, and jobs cut into one fax per section."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ContentStream, TextStringObject

from faxprint.addressing.codes import Addressee, find
from faxprint.addressing.erase import erase
from faxprint.addressing.pagetext import read_page
from faxprint.addressing.sections import CodedJob
from faxprint.errors import DocumentError
from tests.support.documents import ghostscript_pdf, lines_pdf, postscript, text_job_pdf

Maker = Callable[[Path, list[list[str]]], Path]


def _program(path: Path, pages: list[list[str]]) -> Path:
    return lines_pdf(path.with_suffix(".pdf"), pages)


def _driver(path: Path, pages: list[list[str]]) -> Path:
    return ghostscript_pdf(postscript(path.with_suffix(".ps"), pages), path.with_suffix(".pdf"))


def _text_job(path: Path, pages: list[list[str]]) -> Path:
    return text_job_pdf("\f".join("\n".join(lines) for lines in pages), path.with_suffix(".pdf"))


MAKERS = pytest.mark.parametrize("make", [_program, _driver, _text_job],
                                 ids=["program PDF", "PostScript", "text job"])  # fmt: skip


def _codes(path: Path, page: int = 0) -> tuple[str, list[str]]:
    reader = PdfReader(path)
    text = read_page(reader.pages[page], reader)
    return text.text(), [a.text() for a in find(text).addressees]


@MAKERS
def test_every_dialect_is_read_in_every_kind_of_document(make: Maker, tmp_path: Path) -> None:
    lines = ["Dear Jane,", "<TOFAXNUM:555-646-5589><TONAME:Jane Doe>", "%%[Fax: 020 7203 4005]",
             "@@+FAX:0991 1234@@", "Body text here."]  # fmt: skip
    text, addressees = _codes(make(tmp_path / "doc", [lines]))
    assert "Body text here." in text  # the text around is read too
    assert addressees == ["555-646-5589|Jane Doe", "020 7203 4005", "0991 1234"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("<tofaxnum:5556465589>", ["5556465589"]),  # any case
        ("< TOFAX NUM : 555 646 5589 >", ["555 646 5589"]),  # extractors split characters
        ("<TONAME:Jane Doe><TOFAXNUM:1><TONAME:Joe><TOFAXNUM:2>", ["1|Jane Doe", "2|Joe"]),
        ("<TOFAXNUM:1><TONAME:Jane><TOCOMPANY:ACME><TOFAXNUM:2>", ["1|Jane, ACME", "2"]),
        ("<TONAME:Accounting>", ["Accounting"]),  # a name alone: for the contacts
        ("%%[to: Jane Doe] %%[FAX: 0207]", ["0207|Jane Doe"]),
        ("<TOFAXNUM:>", []),  # empty: no recipient
        ("<TOFAXNUM:555 and no end", []),  # broken: not a code, faxed as text
        ("TOFAXNUM:5556465589", []),  # no delimiters
        ("<FROMNAME:Sales><NOCOVER>", []),
    ],
)
def test_codes_are_paired_and_read_as_written(
    tmp_path: Path, line: str, expected: list[str]
) -> None:
    assert _codes(lines_pdf(tmp_path / "a.pdf", [[line]]))[1] == expected


def test_no_cover_and_sender_are_read(tmp_path: Path) -> None:
    reader = PdfReader(lines_pdf(tmp_path / "a.pdf", [["<TOFAXNUM:1><NOCOVER><FROMNAME:Sales>"]]))
    found = find(read_page(reader.pages[0], reader))
    assert (found.no_cover, found.sender, found.only_codes) == (True, "Sales", True)


def test_a_code_split_over_two_lines_is_one_code(tmp_path: Path) -> None:
    # RightFax says codes cannot wrap; a wrapped one is read whole rather than faxed half.
    assert _codes(lines_pdf(tmp_path / "a.pdf", [["<TOFAXNUM:555-", "646-5589>"]]))[1] == [
        "555- 646-5589"
    ]


def test_a_value_never_swallows_the_page(tmp_path: Path) -> None:
    stray = ["<TONAME:" + "x" * 30] * 10 + ["<TOFAXNUM:5556465589>"]
    assert _codes(lines_pdf(tmp_path / "a.pdf", [stray]))[1] == ["5556465589"]


def _words(path: Path) -> list[tuple[str, float, float]]:
    """Each word pdftotext finds, with its position (an extractor of its own)."""
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    import re

    return [(m[3], float(m[1]), float(m[2])) for m in re.finditer(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', html)]  # fmt: skip


@pytest.mark.parametrize("make", [_program, _driver], ids=["program PDF", "PostScript"])
def test_erased_codes_are_gone_and_nothing_else_moves(make: Maker, tmp_path: Path) -> None:
    lines = ["Invoice <TOFAXNUM:5556465589> due", "%%[Fax: 0207] Total 42"]
    source = make(tmp_path / "doc", [lines])
    writer = PdfWriter(clone_from=source)
    text = read_page(writer.pages[0], writer)
    erase(writer.pages[0], text, find(text).glyphs)
    erased = tmp_path / "erased.pdf"
    writer.write(erased)
    before, after = _words(source), _words(erased)
    assert not [w for w in after if "TOFAX" in w[0] or "%%[" in w[0] or "5556465589" in w[0]]
    kept = {w for w in before if w[0] in ("Invoice", "due", "Total", "42")}
    assert kept and kept <= set(after)  # the same words, at the same places


def test_a_text_jobs_codes_are_gone_from_its_glyphs(tmp_path: Path) -> None:
    # The font has no ToUnicode map: check with the font's own cmap, read here on its own.
    import io

    from fontTools.ttLib import TTFont

    source = text_job_pdf("Hello\n@@+FAX:0991 1234@@ Bye\n", tmp_path / "t.pdf")
    writer = PdfWriter(clone_from=source)
    text = read_page(writer.pages[0], writer)
    erase(writer.pages[0], text, find(text).glyphs)
    out = tmp_path / "erased.pdf"
    writer.write(out)
    page = PdfReader(out).pages[0]
    font = next(iter(page["/Resources"]["/Font"].values())).get_object()
    program = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]["/FontFile2"]
    tt = TTFont(io.BytesIO(program.get_object().get_data()))
    cmap = tt.getBestCmap()

    def glyphs(word: str) -> bytes:
        return b"".join(tt.getGlyphID(cmap[ord(c)]).to_bytes(2, "big") for c in word)

    shown = b""  # every string the page shows, as bytes (pypdf parses the stream)
    for operands, _ in ContentStream(page.get_contents(), None).operations:
        for operand in operands:
            items = operand if isinstance(operand, list) else [operand]
            for item in items:
                if isinstance(item, TextStringObject):
                    shown += item.get_original_bytes()
                elif isinstance(item, bytes):
                    shown += item
    assert glyphs("Bye") in shown and glyphs("Hello") in shown
    assert glyphs("@@+FAX") not in shown and glyphs("1234@@") not in shown
    assert glyphs("0991") not in shown


def test_a_job_is_cut_where_its_codes_change(tmp_path: Path) -> None:
    pages = [
        ["Cover letter, no code"],  # before the first code: the first fax's
        ["<TOFAXNUM:1111111>", "Statement A page 1"],
        ["Statement A page 2"],
        ["<TOFAXNUM:1111111>", "Statement A page 3"],  # the same codes: the same fax
        ["<TOFAXNUM:2222222><TONAME:B>"],  # a control page: addresses what follows
        ["Statement B page 1"],
        ["<TOFAXNUM:3333333>", "Statement C"],
    ]
    with CodedJob([lines_pdf(tmp_path / "m.pdf", pages)], max_pages=100) as job:
        sections = job.sections()
        out = job.write(sections[1], tmp_path / "b.pdf")
    assert [(s.first_page, s.pages, [a.text() for a in s.addressees]) for s in sections] == [
        (2, (0, 1, 2, 3), ["1111111"]),
        (5, (5,), ["2222222|B"]),
        (7, (6,), ["3333333"]),
    ]
    words = [w[0] for w in _words(out)]
    assert words == ["Statement", "B", "page", "1"]  # its own page, no control page, no code


def test_a_job_without_codes_is_one_section_of_every_page(tmp_path: Path) -> None:
    with CodedJob([lines_pdf(tmp_path / "a.pdf", [["a"], ["b"]])], max_pages=10) as job:
        assert not job.coded
        assert [(s.pages, s.addressees) for s in job.sections()] == [((0, 1), ())]


def test_too_many_pages_to_read_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="more than 2 pages"):
        CodedJob([lines_pdf(tmp_path / "a.pdf", [["a"], ["b"], ["c"]])], max_pages=2)


def test_a_code_in_the_metadata_only_addresses_nothing(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=lines_pdf(tmp_path / "a.pdf", [["Body"]]))
    writer.add_metadata({"/Title": "<TOFAXNUM:5556465589>", "/Subject": "@@+FAX:123456@@"})
    writer.write(tmp_path / "meta.pdf")
    with CodedJob([tmp_path / "meta.pdf"], max_pages=10) as job:
        assert not job.coded


def test_addressees_render_as_recipients() -> None:
    assert Addressee("1", "Jane", "ACME").text() == "1|Jane, ACME"
    assert Addressee(name="Accounting").text() == "Accounting"


def test_a_drawing_sized_content_stream_is_not_read_for_codes(tmp_path: Path) -> None:
    # Megabytes of content are drawings: parsing them would cost seconds and memory.
    from pypdf.generic import DecodedStreamObject, NameObject

    writer = PdfWriter(clone_from=lines_pdf(tmp_path / "a.pdf", [["x"]]))
    big = DecodedStreamObject()
    big.set_data(b"% filler\n" * 600_000 + b"BT /F1 12 Tf 72 700 Td (<TOFAXNUM:5556465589>) Tj ET")
    writer.pages[0][NameObject("/Contents")] = writer._add_object(big)
    writer.write(tmp_path / "drawing.pdf")
    with CodedJob([tmp_path / "drawing.pdf"], max_pages=10) as job:
        assert not job.coded
