"""faxprint's own cover pages, first part: a fillable template made here (text fields as
LibreOffice exports them: widgets with a default appearance) is checked, filled and
flattened into one page of real text with no form left; bad templates get one line
each; the built-in cover needs no template and carries long comments onto a second page."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from faxprint import covers
from faxprint.errors import DocumentError

VALUES = {"to_name": "Jane Doe", "to_fax": "+1 555 646 5589", "from_name": "ACME Widgets",
          "comments": "Please sign page 2.", "pages": "3", "date": "2026-12-06"}  # fmt: skip


def make_template(path: Path, names: list[str], *, kind: str = "/Tx", pages: int = 1) -> Path:
    """A one-page form with a text field (widget) per name, as a form editor writes it."""
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    for _ in range(pages - 1):
        writer.add_blank_page(612, 792)
    helvetica = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
        NameObject("/Encoding"): NameObject("/WinAnsiEncoding")}))  # fmt: skip
    fields = ArrayObject()
    top = 740.0
    for name in names:
        height = 160.0 if name == "comments" else 20.0  # a box of several lines
        top, y = top - height - 8, top - height
        widget = DictionaryObject({
            NameObject("/FT"): NameObject(kind), NameObject("/T"): TextStringObject(name),
            NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Widget"),
            NameObject("/Rect"): ArrayObject([FloatObject(72), FloatObject(y), FloatObject(500),
                                              FloatObject(y + height)]),
            NameObject("/DA"): TextStringObject("/Helv 10 Tf 0 g"), NameObject("/F"): NumberObject(4),
        })  # fmt: skip
        fields.append(writer._add_object(widget))
    page[NameObject("/Annots")] = fields
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject({
        NameObject("/Fields"): fields, NameObject("/DA"): TextStringObject("/Helv 10 Tf 0 g"),
        NameObject("/DR"): DictionaryObject({NameObject("/Font"): DictionaryObject({
            NameObject("/Helv"): helvetica})})})  # fmt: skip
    writer.write(path)
    return path


def test_a_template_is_filled_and_flattened_into_real_text(tmp_path: Path) -> None:
    template = make_template(tmp_path / "letterhead.pdf",
                             ["to_name", "to_fax", "from_name", "comments", "pages"])  # fmt: skip
    checked = covers.check_template(template)
    assert checked.fields == ("to_name", "to_fax", "from_name", "comments", "pages")
    assert "date" in checked.lacking and checked.others == ()
    reader = PdfReader(io.BytesIO(covers.fill(template, VALUES).data))
    assert len(reader.pages) == 1
    assert "/AcroForm" not in reader.trailer["/Root"]
    annotations = reader.pages[0].get("/Annots") or []
    assert not [a for a in annotations if a.get_object().get("/Subtype") == "/Widget"]
    text = reader.pages[0].extract_text()
    for value in ("Jane Doe", "+1 555 646 5589", "ACME Widgets", "Please sign page 2.", "3"):
        assert value in text, (value, text)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p.write_bytes(b"not a pdf at all"), "not a PDF"),
        (lambda p: make_template(p, ["to_name"], pages=2), "2 pages"),
        (lambda p: make_template(p, []), "has no form fields"),
        (lambda p: make_template(p, ["to_name"], kind="/Btn"), "to_name must be text fields"),
        (lambda p: p.write_bytes(b"%PDF-1.7\n" + b"0" * (covers.MAX_TEMPLATE + 1)), "MB at most"),
        (lambda p: p.write_bytes(b"%PDF-1.7\n%%EOF garbage"), "not a readable PDF"),
        (lambda p: _rotated(make_template(p, ["to_name"])), "rotated; save it upright"),
        (lambda p: _squeezed(make_template(p, ["to_name", "comments"])),
         "comments too small to write in"),
    ],
)  # fmt: skip
def test_a_bad_template_gets_one_clear_line(tmp_path: Path, make: object, words: str) -> None:
    path = tmp_path / "cover.pdf"
    make(path)  # type: ignore[operator]
    with pytest.raises(DocumentError) as raised:
        covers.check_template(path)
    assert words in raised.value.message and "\n" not in raised.value.message


def _rotated(path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(path))
    writer.pages[0].rotate(90)
    writer.write(path)


def _squeezed(path: Path) -> None:
    """The comments field made a zero-height box (a slip of the mouse in an editor)."""
    writer = PdfWriter(clone_from=PdfReader(path))
    for annotation in writer.pages[0]["/Annots"]:
        widget = annotation.get_object()
        if widget["/T"] == "comments":
            x0, y0, x1, _ = widget["/Rect"]
            widget[NameObject("/Rect")] = ArrayObject([x0, y0, x1, y0])
    writer.write(path)


def test_an_encrypted_template_is_refused(tmp_path: Path) -> None:
    template = make_template(tmp_path / "t.pdf", ["to_name"])
    writer = PdfWriter(clone_from=PdfReader(template))
    writer.encrypt("secret")
    writer.write(tmp_path / "locked.pdf")
    with pytest.raises(DocumentError, match="encrypted"):
        covers.check_template(tmp_path / "locked.pdf")


def test_the_builtin_cover_needs_no_template_and_long_comments_continue() -> None:
    reader = PdfReader(io.BytesIO(covers.builtin(VALUES).data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for value in ("FAX", "Jane Doe", "ACME Widgets", "Please sign page 2.", "2026-12-06"):
        assert value in text
    long = covers.builtin({**VALUES, "comments": "word " * 1_500})  # 7,500 characters
    pages = PdfReader(io.BytesIO(long.data)).pages
    assert long.pages == len(pages) and "continues on" in long.notes()[0]
    assert len(pages) >= 2
    assert "(continued on the next page)" in pages[0].extract_text()
    assert "Comments (continued)" in pages[1].extract_text()
    text = "".join(page.extract_text() for page in pages)
    assert text.count("word") == 1_500  # every word, none run off a page
    with pytest.raises(DocumentError, match="100,000 characters; a cover takes 10,000 at most"):
        covers.builtin({**VALUES, "comments": "x" * 100_000})


def test_any_script_is_drawn_in_an_embedded_font_and_what_none_has_is_named(
    tmp_path: Path,
) -> None:
    names = {
        "to_name": "Ελένη Παππά",
        "to_company": "شركة الأمل",
        "from_name": "王小明",
        "subject": "Zoë Müller \U0001d11e",
    }  # fmt: skip  (a G clef: no installed font has it)
    template = make_template(tmp_path / "t.pdf", list(names))
    for rendered in (covers.fill(template, names), covers.builtin(names)):
        text = PdfReader(io.BytesIO(rendered.data)).pages[0].extract_text()
        for shown in ("Ελένη Παππά", "王小明", "Zoë Müller"):
            assert shown in text, (shown, text)
        assert "الأمل" in text or "لمألا" in text  # Arabic, shaped (read back in either order)
        assert rendered.missing == "\U0001d11e"
        assert "could not show" in rendered.notes()[-1]
        fonts = _embedded_fonts(rendered.data)
        assert any("DejaVuSans" in f for f in fonts) and len(fonts) >= 2, fonts


def _embedded_fonts(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    found = []
    for reference in reader.pages[0]["/Resources"]["/Font"].values():
        font = reference.get_object()
        descendant = font.get("/DescendantFonts")
        inner = descendant[0].get_object() if descendant else font
        if "/FontFile2" in inner.get("/FontDescriptor", {}).get_object():
            found.append(str(font["/BaseFont"]))
    return found


def test_a_libreoffice_style_template_works(tmp_path: Path) -> None:
    """As LibreOffice exports a form: each text field its own widget with an appearance
    stream (/AP: its border and value), /MK colours, /DR fonts under its own names, a
    multi-line field (Ff bit 13), and a field whose widget is a kid of the named field."""
    path = _libreoffice_like(tmp_path / "lo.pdf")
    assert covers.check_template(path).fields == ("to_name", "comments")
    rendered = covers.fill(path, {"to_name": "Jane Doe", "comments": "line one\nline two"})
    reader = PdfReader(io.BytesIO(rendered.data))
    assert rendered.pages == 1 and len(reader.pages) == 1
    assert "/AcroForm" not in reader.trailer["/Root"] and not reader.pages[0].get("/Annots")
    text = reader.pages[0].extract_text()
    assert "Jane Doe" in text and "line one" in text and "line two" in text
    assert "Office letterhead" in text  # the page's own content stays


def _libreoffice_like(path: Path) -> Path:
    from pypdf.generic import DecodedStreamObject

    writer = PdfWriter()
    page = writer.add_blank_page(595.3, 841.9)  # A4, as LibreOffice writes it
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica")}))  # fmt: skip
    body = DecodedStreamObject()
    body.set_data(b"BT /F1 18 Tf 56 790 Td (Office letterhead) Tj ET")
    page[NameObject("/Contents")] = writer._add_object(body)
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
        {NameObject("/F1"): font})})  # fmt: skip

    def appearance(width: float, height: float) -> object:
        stream = DecodedStreamObject()
        stream.set_data(f"0.5 G 0.5 0.5 {width - 1} {height - 1} re S /Tx BMC EMC".encode())
        stream.update({NameObject("/Type"): NameObject("/XObject"),
                       NameObject("/Subtype"): NameObject("/Form"),
                       NameObject("/BBox"): ArrayObject([FloatObject(0), FloatObject(0),
                                                         FloatObject(width), FloatObject(height)])})  # fmt: skip
        return writer._add_object(stream)

    def widget(rect: list[float], **extra: object) -> DictionaryObject:
        return DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Widget"),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in rect]),
            NameObject("/F"): NumberObject(4),
            NameObject("/MK"): DictionaryObject({NameObject("/BC"): ArrayObject([FloatObject(0.5)])}),
            NameObject("/AP"): DictionaryObject({NameObject("/N"): appearance(rect[2] - rect[0],
                                                                              rect[3] - rect[1])}),
            **{NameObject(k): v for k, v in extra.items()}})  # fmt: skip

    name = widget([56, 700, 400, 724], **{"/FT": NameObject("/Tx"), "/T": TextStringObject("to_name"),
                  "/DA": TextStringObject("0 0 0 rg /F3 12 Tf")})  # fmt: skip
    parent = writer._add_object(DictionaryObject({
        NameObject("/FT"): NameObject("/Tx"), NameObject("/T"): TextStringObject("comments"),
        NameObject("/Ff"): NumberObject(4096), NameObject("/DA"): TextStringObject("/F3 0 Tf 0 g")}))  # fmt: skip
    kid = widget([56, 400, 540, 680], **{"/Parent": parent})
    kid_ref = writer._add_object(kid)
    parent.get_object()[NameObject("/Kids")] = ArrayObject([kid_ref])
    name_ref = writer._add_object(name)
    page[NameObject("/Annots")] = ArrayObject([name_ref, kid_ref])
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject({
        NameObject("/Fields"): ArrayObject([name_ref, parent]),
        NameObject("/DR"): DictionaryObject({NameObject("/Font"): DictionaryObject(
            {NameObject("/F3"): font})})})  # fmt: skip
    writer.write(path)
    return path


def test_covers_check_says_what_a_template_has_and_draws_it_filled(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import REPO

    template = make_template(tmp_path / "letterhead.pdf", ["to_name", "comments", "logo_text"])
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "faxprint", "covers", "check", str(template), "-o",
                           str(tmp_path / "cover.png")], capture_output=True, text=True,
                          env=env, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"faxprint: {template}: fields to_name, comments"
    assert lines[1].startswith("faxprint: lacks to_company, to_fax, from_name")
    assert lines[2] == "faxprint: other fields, left empty: logo_text"
    assert (tmp_path / "cover.png").read_bytes().startswith(b"\x89PNG")
    builtin = subprocess.run([sys.executable, "-m", "faxprint", "covers", "--builtin", "-o",
                              str(tmp_path / "own.png")], capture_output=True, text=True,
                             env=env, timeout=60, check=False)  # fmt: skip
    assert builtin.returncode == 0 and (tmp_path / "own.png").exists(), builtin.stderr


def test_covers_in_the_config_and_a_name_the_services_use(tmp_path: Path) -> None:
    import subprocess
    import sys

    from faxprint import config as configuration
    from faxprint.errors import ConfigError
    from tests.conftest import REPO
    from tests.support.configs import faxout_account, write_config

    make_template(tmp_path / "letterhead.pdf", ["to_name", "from_name"])
    (tmp_path / "broken.pdf").write_bytes(b"not a pdf")
    tables = ('[covers.letterhead]\ntemplate = "letterhead.pdf"\nfrom_name = "ACME Widgets"\n'
              '[covers.plain]\nfrom_name = "ACME"\n[covers.old]\ntemplate = "broken.pdf"\n')  # fmt: skip
    config = write_config(tmp_path, faxout_account("http://127.0.0.1:9/faxapi.asp"),
                          extra=tables)  # fmt: skip
    settings = configuration.load(config, env={})
    assert settings.covers["letterhead"].template == str(tmp_path / "letterhead.pdf")
    assert settings.covers["letterhead"].from_name == "ACME Widgets"
    listed = subprocess.run([sys.executable, "-m", "faxprint", "--config", str(config), "covers", "list"],
                            capture_output=True, text=True, timeout=60, check=False,
                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert listed.returncode == 1, listed.stderr
    assert listed.stdout.splitlines() == [
        "faxprint: faxprint (built-in): needs no template",
        f"faxprint: letterhead: {tmp_path / 'letterhead.pdf'}: fields to_name, from_name",
        "faxprint: old: cannot be used: broken.pdf: not a PDF",
        "faxprint: plain: the built-in design, from ACME",
    ]
    for name in ("Urgent", "none", "DEFAULT"):
        clash = write_config(tmp_path, faxout_account("http://127.0.0.1:9/faxapi.asp"),
                             extra=f'[covers.{name}]\nfrom_name = "x"\n')  # fmt: skip
        with pytest.raises(ConfigError, match=f"{name!r} is also a cover page of the fax"):
            configuration.load(clash, env={})
    typo = write_config(tmp_path, faxout_account("http://127.0.0.1:9/faxapi.asp"),
                        extra='[covers.x]\nfrom_nmae = "x"\n')  # fmt: skip
    with pytest.raises(ConfigError, match="unknown setting from_nmae"):
        configuration.load(typo, env={})
