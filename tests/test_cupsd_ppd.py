"""faxprint's PPD on a real (private) cupsd, with the recorder backend in place of faxprint.

Each test prints with the real ``lp`` and looks at what the backend was handed: argv, the
environment, the user it ran as and the document bytes. docs/cups-findings.md sums up the
results.
"""

from __future__ import annotations

import io
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfReader

from faxprint.cups.options import parse_options
from tests.support.cupsd import JOB_COMPLETED, CupsdError, PrivateCupsd, RecordedRun, Recorder
from tests.support.cupsd_fixtures import PPD
from tests.support.helpers import make_png

pytestmark = pytest.mark.cupsd

CUPS_PRINTER_FAX = 0x40000  # printer-type bit (cups/cups.h)
JOB_TIMEOUT = 60.0


# -- test documents ---------------------------------------------------------------------


def make_pdf(pages: list[str]) -> bytes:
    """Build a PDF with one Helvetica line per page, cross-reference table and all."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(len(pages))), len(pages)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, text in enumerate(pages):
        content = b"BT /F1 24 Tf 72 700 Td (%s) Tj ET" % text.encode("ascii")
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def make_ps(pages: list[str]) -> bytes:
    """Build a DSC PostScript file with one Helvetica line per page."""
    body = "".join(
        f"%%Page: {n} {n}\n/Helvetica findfont 24 scalefont setfont\n"
        f"72 700 moveto ({text}) show showpage\n"
        for n, text in enumerate(pages, 1)
    )
    return f"%!PS-Adobe-3.0\n%%Pages: {len(pages)}\n%%EndComments\n{body}%%EOF\n".encode()


@dataclass(frozen=True)
class Doc:
    """A test document: where it is, its MIME type, and the marker text on each page."""

    path: Path
    mime: str
    pages: tuple[str, ...]


@pytest.fixture(scope="session")
def docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Doc]:
    """Write one document of each kind the tests print."""
    folder = tmp_path_factory.mktemp("docs")
    made = {
        "pdf": ("two.pdf", make_pdf(["PDFALPHA one", "PDFALPHA two"]), "application/pdf"),
        "pdf2": ("one.pdf", make_pdf(["PDFBRAVO one"]), "application/pdf"),
        "txt": ("note.txt", b"TEXTCHARLIE first line\nsecond line\n", "text/plain"),
        "png": ("image.png", make_png(), "image/png"),
        "ps": ("two.ps", make_ps(["PSDELTA one", "PSDELTA two"]), "application/postscript"),
    }
    pages = {
        "pdf": ("PDFALPHA one", "PDFALPHA two"),
        "pdf2": ("PDFBRAVO one",),
        "txt": ("TEXTCHARLIE",),
        "png": ("",),
        "ps": ("PSDELTA one", "PSDELTA two"),
    }
    result = {}
    for key, (name, data, mime) in made.items():
        path = folder / name
        path.write_bytes(data)
        result[key] = Doc(path, mime, pages[key])
    return result


# -- looking at what arrived ------------------------------------------------------------


def split_pdfs(data: bytes) -> list[bytes]:
    """Cut a stream of PDF files laid back to back into the files."""
    starts = []
    pos = data.find(b"%PDF-")
    while pos != -1:
        starts.append(pos)
        pos = data.find(b"%PDF-", pos + 1)
    return [data[a:b] for a, b in zip(starts, [*starts[1:], len(data)], strict=True)]


def page_texts(pdf: bytes) -> list[str]:
    """Return each page's text, by pdftotext, after checking pypdf agrees on the count."""
    count = len(PdfReader(io.BytesIO(pdf)).pages)
    texts = []
    for page in range(1, count + 1):
        result = subprocess.run(
            ["pdftotext", "-q", "-f", str(page), "-l", str(page), "-", "-"],
            input=pdf,
            capture_output=True,
            check=True,
        )
        texts.append(result.stdout.decode("utf-8", "replace"))
    return texts


def shows(text: str, marker: str) -> bool:
    """Tell whether a page's extracted text shows the marker.

    texttopdf embeds its font without a ToUnicode map, so pdftotext reads glyph codes: each
    character comes out 29 code points lower ("T" as "7").
    """
    shifted = "".join(chr(ord(char) - 29) if ord(char) > 32 else char for char in marker)
    return marker in text or shifted in text


def print_and_record(
    cupsd: PrivateCupsd,
    recorder: Recorder,
    queue: str,
    *files: Path,
    options: list[str] | None = None,
    title: str | None = None,
) -> RecordedRun:
    """Print with lp, wait for the job to complete and return the backend's only run."""
    job = cupsd.lp(queue, *files, options=options, title=title)
    state = cupsd.wait_job(job, JOB_TIMEOUT)
    assert state == JOB_COMPLETED, cupsd.job_log(job)
    return recorder.only_run(job)


# -- the PPD ----------------------------------------------------------------------------


def test_ppd_passes_cupstestppd() -> None:
    result = subprocess.run(
        ["cupstestppd", "-W", "all", str(PPD)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"{PPD}: PASS"


def fax_type_variant(folder: Path) -> Path:
    """Write the fax-type variant: the PPD plus one line, as docs/cups-findings.md says."""
    variant = folder / "faxprint-faxtype.ppd"
    variant.write_bytes(PPD.read_bytes() + b"*cupsFax: True\n")
    return variant


def test_queue_is_not_fax_type(cupsd: PrivateCupsd, recorder_queue: str) -> None:
    attrs = cupsd.connection().getPrinterAttributes(recorder_queue)
    assert attrs["printer-type"] & CUPS_PRINTER_FAX == 0


def test_fax_type_variant(cupsd: PrivateCupsd, recorder: Recorder, tmp_path: Path) -> None:
    variant = fax_type_variant(tmp_path)
    check = subprocess.run(
        ["cupstestppd", str(variant)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout
    cupsd.add_printer("FaxTypeVariant", ppd=variant, device=f"{recorder.scheme}://variant")
    try:
        attrs = cupsd.connection().getPrinterAttributes("FaxTypeVariant")
        assert attrs["printer-type"] & CUPS_PRINTER_FAX
    finally:
        cupsd.connection().deletePrinter("FaxTypeVariant")


# -- documents --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["pdf", "txt", "png", "ps"])
def test_one_document_reaches_the_backend_as_pdf(
    cupsd: PrivateCupsd, recorder: Recorder, recorder_queue: str, docs: dict[str, Doc], kind: str
) -> None:
    doc = docs[kind]
    run = print_and_record(cupsd, recorder, recorder_queue, doc.path)
    assert run.env["CONTENT_TYPE"] == doc.mime
    assert run.env["FINAL_CONTENT_TYPE"] == "application/pdf"
    assert run.source == "stdin"
    (pdf,) = split_pdfs(run.data)
    texts = page_texts(pdf)
    assert len(texts) == len(doc.pages)
    for text, marker in zip(texts, doc.pages, strict=True):
        assert shows(text, marker), (marker, text)


@pytest.mark.parametrize(
    "kinds",
    [
        ("txt", "pdf"),
        ("pdf", "txt"),
        ("pdf", "pdf2"),
        ("txt", "pdf", "png"),
        ("png", "ps", "txt"),
        ("ps", "pdf2"),
    ],
    ids="+".join,
)
def test_every_document_of_a_job_reaches_the_backend(
    cupsd: PrivateCupsd,
    recorder: Recorder,
    recorder_queue: str,
    docs: dict[str, Doc],
    kinds: tuple[str, ...],
) -> None:
    chosen = [docs[kind] for kind in kinds]
    run = print_and_record(cupsd, recorder, recorder_queue, *(doc.path for doc in chosen))
    assert run.env["CONTENT_TYPE"] == chosen[0].mime  # the first document's type only
    assert run.env["FINAL_CONTENT_TYPE"] == "application/pdf"
    pdfs = split_pdfs(run.data)
    assert len(pdfs) == len(chosen), "one PDF per document, in order, on stdin"
    for pdf, doc in zip(pdfs, chosen, strict=True):
        texts = page_texts(pdf)
        assert len(texts) == len(doc.pages)
        for text, marker in zip(texts, doc.pages, strict=True):
            assert shows(text, marker), (marker, text)
    names = [doc.path.name for doc in chosen]
    assert run.options.count("document-name-supplied=") == len(chosen)
    assert parse_options(run.options)["document-name-supplied"] == names[-1]


@pytest.fixture
def pass_through_queue(cupsd: PrivateCupsd, recorder: Recorder, tmp_path: Path) -> Iterator[str]:
    """A queue whose PPD passes PDF straight to the backend: the rule this PPD avoids."""
    text = PPD.read_text(encoding="latin-1")
    rule = '*cupsFilter2: "application/vnd.cups-pdf application/pdf 0 -"'
    assert rule in text
    ppd = tmp_path / "pass-through.ppd"
    ppd.write_text(
        text.replace(rule, '*cupsFilter2: "application/pdf application/pdf 0 -"'),
        encoding="latin-1",
    )
    name = "FaxPassThrough"
    cupsd.add_printer(
        name, ppd=ppd, device=f"{recorder.scheme}://pass-through", error_policy="abort-job"
    )
    yield name
    cupsd.connection().deletePrinter(name)


@pytest.mark.parametrize("kinds", [("txt", "pdf"), ("pdf", "txt"), ("pdf", "pdf2")], ids="+".join)
def test_pass_through_rule_drops_documents(
    cupsd: PrivateCupsd,
    recorder: Recorder,
    pass_through_queue: str,
    docs: dict[str, Doc],
    kinds: tuple[str, ...],
) -> None:
    """The control for the test above: with a pass-through PDF rule, cupsd 2.4.2 drops a
    document that needs no filter (and jobs such as pdf+png hang, see the findings)."""
    run = print_and_record(
        cupsd, recorder, pass_through_queue, *(docs[kind].path for kind in kinds)
    )
    assert len(split_pdfs(run.data)) == 1


def test_copies_do_not_multiply_pages(
    cupsd: PrivateCupsd, recorder: Recorder, recorder_queue: str, docs: dict[str, Doc]
) -> None:
    run = print_and_record(cupsd, recorder, recorder_queue, docs["pdf"].path, options=["copies=3"])
    assert run.argv[4] == "3"
    (pdf,) = split_pdfs(run.data)
    assert len(page_texts(pdf)) == 2  # *cupsManualCopies: False leaves copies to the backend


def test_title_arrives_in_argv3(
    cupsd: PrivateCupsd, recorder: Recorder, recorder_queue: str, docs: dict[str, Doc]
) -> None:
    run = print_and_record(
        cupsd, recorder, recorder_queue, docs["txt"].path, title="Quarterly Report: José"
    )
    assert run.argv[3] == "Quarterly Report: José"
    assert run.argv[2] == "root"


# -- the backend's process --------------------------------------------------------------


def test_backend_runs_as_lp_with_mode_0755(
    cupsd: PrivateCupsd, recorder: Recorder, recorder_queue: str, docs: dict[str, Doc]
) -> None:
    backend = cupsd.backend_dir / recorder.scheme
    info = backend.stat()
    assert stat.S_IMODE(info.st_mode) == 0o755
    assert info.st_uid == 0
    run = print_and_record(cupsd, recorder, recorder_queue, docs["txt"].path)
    lp = pwd.getpwnam("lp")
    assert (run.uid, run.euid, run.gid) == (lp.pw_uid, lp.pw_uid, lp.pw_gid)
    assert run.id.startswith(f"uid={lp.pw_uid}(lp) gid={lp.pw_gid}(lp)")
    assert run.env["USER"] == "root"  # what cupsd sets, whoever the backend runs as
    assert run.env["DEVICE_URI"] == f"{recorder.scheme}://test"
    assert run.env["PRINTER"] == recorder_queue
    assert run.env["PPD"] == str(cupsd.server_root / "ppd" / f"{recorder_queue}.ppd")
    assert run.env["CUPS_SERVER"] == str(cupsd.socket)
    assert run.env["TMPDIR"] == run.env["HOME"] == str(cupsd.dir / "spool" / "tmp")
    assert run.env["AUTH_INFO_REQUIRED"] == "none"
    assert run.env["SOFTWARE"].startswith("CUPS/2.")
    assert Path(run.argv[0]).name == recorder.scheme  # a script sees its path, not the URI


def test_backend_discovery_mode(cupsd: PrivateCupsd, recorder: Recorder) -> None:
    backend = cupsd.backend_dir / recorder.scheme
    result = subprocess.run([str(backend)], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stdout == 'network faxrecord "Unknown" "faxprint test recorder"\n'
    listed = subprocess.run(
        ["lpinfo", "-v"], env=cupsd.env(), capture_output=True, text=True, check=False
    )
    assert "network faxrecord" in listed.stdout.splitlines()


# -- options ----------------------------------------------------------------------------

#: (lp -o arguments, the fragment of argv[5] observed on CUPS 2.4.2, parsed name and value)
OPTION_CASES = [
    (
        ['fax-to="5556465589|John Doe,5555568552"'],
        r"fax-to=5556465589|John\ Doe,5555568552",
        ("fax-to", "5556465589|John Doe,5555568552"),
    ),
    (
        ['fax-to="5556465589|José Müller"'],
        r"fax-to=5556465589|José\ Müller",
        ("fax-to", "5556465589|José Müller"),
    ),
    (
        ["fax-to=5556465589|A,5555568552|B"],
        "fax-to=5556465589|A,5555568552|B",
        ("fax-to", "5556465589|A,5555568552|B"),
    ),
    (["phone=Custom.5556465589"], "phone=Custom.5556465589", ("phone", "Custom.5556465589")),
    (['phone="Custom.555 1234"'], r"phone=Custom.555\ 1234", ("phone", "Custom.555 1234")),
    (["phone='Custom.555 1234'"], r"phone=Custom.555\ 1234", ("phone", "Custom.555 1234")),
    (["faxPrefix=Custom.9"], "faxPrefix=Custom.9", ("faxPrefix", "Custom.9")),
    (["faxCoverPage=None"], "faxCoverPage=None", ("faxCoverPage", "None")),
    (["faxCoverPage=Default"], "faxCoverPage=Default", ("faxCoverPage", "Default")),
    (["media=A4"], " media=A4 ", ("media", "A4")),
    (["PageSize=A4"], " PageSize=A4 ", ("PageSize", "A4")),
    (
        ['faxCoverPage="Custom.My Cover"'],
        r"faxCoverPage=Custom.My\ Cover",
        ("faxCoverPage", "Custom.My Cover"),
    ),
    (
        ["""faxCoverText="Custom.Line one, 'two' & \\"three\\"" """.strip()],
        r"faxCoverText=Custom.Line\ one,\ \'two\'\ &\ \"three\"",
        ("faxCoverText", "Custom.Line one, 'two' & \"three\""),
    ),
    (["faxResolution=Low"], "faxResolution=Low", ("faxResolution", "Low")),
    (["note=it\\'s"], r"note=it\'s", ("note", "it's")),
    (['note="say \\"hi\\""'], r"note=say\ \"hi\"", ("note", 'say "hi"')),
    (["note=back\\\\slash"], r"note=back\\slash", ("note", "back\\slash")),
    (["note='back\\slash'"], "note=backslash", ("note", "backslash")),
    (["note=a=b"], "note=a=b", ("note", "a=b")),
    (["note="], "note=", ("note", "")),
    (["flag"], " flag ", ("flag", "true")),
    (["noflag"], " noflag ", ("flag", "false")),
]


@pytest.mark.parametrize(("args", "fragment", "parsed"), OPTION_CASES)
def test_option_strings_arrive_escaped(
    cupsd: PrivateCupsd,
    recorder: Recorder,
    recorder_queue: str,
    docs: dict[str, Doc],
    args: list[str],
    fragment: str,
    parsed: tuple[str, str],
) -> None:
    run = print_and_record(cupsd, recorder, recorder_queue, docs["txt"].path, options=args)
    assert fragment in f" {run.options} "
    name, value = parsed
    assert parse_options(run.options)[name] == value


def test_unquoted_space_splits_the_option(
    cupsd: PrivateCupsd, recorder: Recorder, recorder_queue: str, docs: dict[str, Doc]
) -> None:
    run = print_and_record(
        cupsd, recorder, recorder_queue, docs["txt"].path, options=["phone=Custom.555 1234"]
    )
    # lp splits it; the stray word sorts to the front with lp's other options.
    assert run.options.startswith("1234 ")
    assert " phone=Custom.555 " in run.options
    options = parse_options(run.options)
    assert options["phone"] == "Custom.555"
    assert options["1234"] == "true"


@pytest.mark.parametrize(
    "arg", ["job-faxprint=1", "note={a=b}", "note='{a=b c=d}'"], ids=["job-", "collection", "q"]
)
def test_options_never_delivered(
    cupsd: PrivateCupsd, recorder: Recorder, recorder_queue: str, docs: dict[str, Doc], arg: str
) -> None:
    run = print_and_record(cupsd, recorder, recorder_queue, docs["txt"].path, options=[arg])
    assert arg.split("=", maxsplit=1)[0] + "=" not in run.options


EXTRA_ARGV5 = "finishings=3 number-up=1 print-color-mode=monochrome"


def test_plain_job_options(
    cupsd: PrivateCupsd, recorder: Recorder, recorder_queue: str, docs: dict[str, Doc]
) -> None:
    run = print_and_record(cupsd, recorder, recorder_queue, docs["txt"].path)
    options = parse_options(run.options)
    assert run.options.startswith(EXTRA_ARGV5 + " job-uuid=urn:uuid:")
    assert list(options) == [
        "finishings",
        "number-up",
        "print-color-mode",
        "job-uuid",
        "job-originating-host-name",
        "date-time-at-creation",
        "date-time-at-processing",
        "time-at-creation",
        "time-at-processing",
        "document-name-supplied",
    ]
    # No PPD default arrives: faxResolution is High in the PPD, but nobody sent it.
    for name in ("phone", "faxPrefix", "faxCoverPage", "faxCoverText", "faxResolution"):
        assert name not in options


@pytest.fixture
def defaults_queue(cupsd: PrivateCupsd, recorder: Recorder) -> Iterator[str]:
    name = "FaxDefaults"
    cupsd.add_printer(
        name,
        ppd=PPD,
        device=f"{recorder.scheme}://defaults",
        defaults={
            "faxResolution": "Low",
            "phone": "Custom.555 1234",
            "faxCoverText": "Custom.Hello, World",
            "fax-to": "5556465589|Jo Doe",
        },
        error_policy="abort-job",
    )
    yield name
    cupsd.connection().deletePrinter(name)


def test_queue_defaults_arrive(
    cupsd: PrivateCupsd, recorder: Recorder, defaults_queue: str, docs: dict[str, Doc]
) -> None:
    run = print_and_record(cupsd, recorder, defaults_queue, docs["txt"].path)
    assert run.options.startswith(
        r"fax-to=5556465589|Jo\ Doe faxCoverText=Custom.Hello,\ World faxResolution=Low "
        r"finishings=3 number-up=1 phone=Custom.555\ 1234 print-color-mode=monochrome "
    )
    options = parse_options(run.options)
    assert options["phone"] == "Custom.555 1234"
    assert options["fax-to"] == "5556465589|Jo Doe"
    overridden = print_and_record(
        cupsd, recorder, defaults_queue, docs["txt"].path, options=["faxResolution=High"]
    )
    assert parse_options(overridden.options)["faxResolution"] == "High"


# -- the harness itself -----------------------------------------------------------------


def test_harness_starts_and_stops_a_second_cupsd() -> None:
    server = PrivateCupsd()
    folder = server.dir
    try:
        server.start()
        assert server.pid is not None
        assert server.running
        assert (
            "scheduler is running"
            in subprocess.run(
                ["lpstat", "-r"], env=server.env(), capture_output=True, text=True, check=True
            ).stdout
        )
        assert server.connection().getPrinters() == {}
        assert f"Listening to {server.socket} (Domain)" in server.error_log_text()
        assert f"Listening to 127.0.0.1:{server.port} (IPv4)" in server.error_log_text()
    finally:
        pid = server.pid
        server.stop()
    assert not server.running
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not folder.exists()


def test_harness_fails_clearly_without_cupsd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tests.support.cupsd.CUPSD", Path("/nonexistent/cupsd"))
    with pytest.raises(CupsdError, match="install the Debian packages cups"):
        PrivateCupsd()


def test_harness_rejects_a_folder_lp_cannot_reach() -> None:
    if os.geteuid() != 0:
        pytest.fail("the cupsd tests run as root (cupsd runs backends as lp only then)")
    hidden = Path(tempfile.mkdtemp(prefix="faxprint-hidden-", dir="/tmp"))  # mode 0700
    try:
        with pytest.raises(RuntimeError, match="cannot traverse"):
            PrivateCupsd(base_dir=hidden)
    finally:
        shutil.rmtree(hidden)
