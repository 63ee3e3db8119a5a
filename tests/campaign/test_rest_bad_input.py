"""Bad input on the REST transport, through the hot folder, ``faxprint send`` and the
printer: what RingCentral's API would refuse is refused before a fax is sent, with one
printable line that says why, and the REST side holds no message.

Good input next to the bad (a national number in the account's country, 1,024 characters
of cover text, non-ASCII names, no cover option, a file name the API forbids, PostScript)
is faxed once, as the API wants it (../shared/ringcentral-rest.md s2, s4). Documents over
50 MB are two sparse TIFFs (a TIFF is described from its first bytes, never read whole);
the printer does not take them, as cupsd's filters would render them first, nor a type
cupsd cannot print.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from faxprint.sandbox import SandboxServer
from faxprint.sandbox.rest import RestService
from tests.campaign.ledger import rest_stored_markers, tally
from tests.campaign.paths import QUEUE
from tests.campaign.rest_paths import RestHotFolder, RestPrinter, leaked, rest_config_text
from tests.conftest import REPO
from tests.support import corpus
from tests.support.helpers import make_pdf
from tests.support.secrets import TEST_ACCOUNTS, TEST_APPS

pytestmark = pytest.mark.slow

MB = 1024 * 1024
MAX_MESSAGE = 400


@dataclass(frozen=True)
class Input:
    name: str
    to: str
    words: str  # what the one message must say; "" when the input is good
    cover: str | None = None
    cover_text: str | None = None  # None: the job's marker
    country: str | None = None  # the account's default_country (None: not set, so US)
    megabytes: tuple[int, ...] = ()  # sparse TIFFs of these sizes instead of a PDF
    document: str = ""  # the document's name, if not the job's
    sent_to: str = ""  # good input: the number the service must get
    sent_name: str = ""  # ... and the recipient's name
    sent_file: str = ""  # ... the attachment's name and type, if not offer.pdf's
    sent_cover: int | None = None  # ... and coverIndex (None: left out, the default cover)
    kind: str = "pdf"  # the document: pdf, ps (PostScript) or odt (a type the API refuses)
    bug: str = ""  # a known bug: strict xfail
    printer: bool = True  # also through the printer


INPUTS = [
    Input(
        "a short number (12345)",
        "12345",
        "12345 dialled in US is not a possible fax number (too short)",
    ),
    Input(
        "one digit short (+1 555 646 558)",
        "+1 555 646 558",
        "not a possible fax number (too short)",
    ),
    Input(
        "a country code no country has (+999)",
        "+999 1234567",
        "+9991234567 starts with no country code that exists",
    ),
    Input("16 digits", "1234567890123456", "not a possible fax number (too long)"),
    Input(
        "a local number without area code (555 1234)",
        "555 1234",
        "5551234 dialled in US is not a possible fax number (a local number: give the area code)",
    ),
    Input(
        "national 030 1234567, default_country DE",
        "030 1234567",
        "",
        country="DE",
        sent_to="+49301234567",
    ),
    Input(
        "national 089 123456, no default_country",
        "089 123456",
        "089123456 dialled in US is not a possible fax number (too short)",
    ),
    Input(
        "national 030 1234567, no default_country",
        "030 1234567",
        "0301234567 dialled in US is not a possible fax number (no number there starts like that)",
    ),
    Input(
        "cover text of 1025 characters",
        "5556465589",
        "the cover text has 1025 characters; this service takes at most 1024",
        cover_text="x" * 1025,
    ),
    Input(
        "cover text of 1024 characters", "5556465589", "", cover_text="1024", sent_to="+15556465589"
    ),
    Input(
        "an unknown cover page (Fancy)",
        "5556465589",
        "cover page 'Fancy' is not one of: None, Ancient, Birthday, Blank, Clasmod, Classic, "
        "Confidential, Contempo, Elegant, Express, Formal, Jazzy, Modern, Urgent",
        cover="Fancy",
    ),
    Input(
        "a non-ASCII cover page name",
        "5556465589",
        "cover page 'Vertraulich - U' is not one of: None, Ancient, Birthday",
        cover="Vertraulich – Ü",
    ),
    Input(
        "no cover option: the account's default cover (coverIndex left out)",
        "5556465589",
        "",
        sent_to="+15556465589",
    ),
    Input(
        "cover None (coverIndex 0)",
        "5556465589",
        "",
        cover="None",
        sent_to="+15556465589",
        sent_cover=0,
    ),
    Input(
        "cover Urgent (coverIndex 13)",
        "5556465589",
        "",
        cover="urgent",
        sent_to="+15556465589",
        sent_cover=13,
    ),
    Input(
        "a file the API forbids by name (R&D #1 (50%).pdf)",
        "5556465589",
        "",
        document="R&D #1 (50%).pdf",
        sent_to="+15556465589",
        sent_file="R_D_1_50.pdf",
    ),
    Input(
        "a PostScript document",
        "5556465589",
        "",
        document="letter.ps",
        kind="ps",
        sent_to="+15556465589",
        sent_file="letter.pdf",
    ),
    Input(
        "a type the API does not take (.odt)",
        "5556465589",
        "letter.odt: this service does not fax application/vnd.oasis.opendocument.text files; "
        "it takes .pdf, .psd, .doc, .docx",
        document="letter.odt",
        kind="odt",
        printer=False,
    ),
    Input("a number in Arabic-Indic digits", "٥٥٥٦٤٦٥٥٨٩", "may hold only digits"),
    Input(
        "non-ASCII recipient and document names",
        "5556465589|Jürgen Groß",
        "",
        document="Rechnung März.pdf",
        sent_to="+15556465589",
        sent_name="Jürgen Groß",  # UTF-8, as written: ASCII is FaxOut's rule
        sent_file="Rechnung_Marz.pdf",
    ),
    Input(
        "documents of 60 MiB in all (2 x 30 MiB)",
        "5556465589",
        "the documents come to 62.9 MB; this service takes at most 50 MB (50,000,000 bytes)",
        megabytes=(30, 30),
        printer=False,
    ),
]
IDS = [i.name for i in INPUTS]


def _cover_text(given: Input, marker: str) -> str:
    if given.cover_text == "1024":  # the most the API takes, the marker first
        return (marker + " " + "x" * 1024)[:1024]
    return given.cover_text if given.cover_text is not None else marker


def _settings(given: Input) -> dict[str, float | str]:
    return {"default_country": given.country} if given.country else {}


def _documents(given: Input, folder: Path, marker: str) -> dict[str, Path]:
    """The job's documents by name, made in ``folder``."""
    if given.megabytes:
        return {
            f"part{n}.tif": corpus.sparse_file(folder / f"part{n}.tif", size * MB, head=b"II*\x00")
            for n, size in enumerate(given.megabytes)
        }
    name = given.document or "offer.pdf"
    made = folder / f"made-{len(list(folder.iterdir()))}"
    if given.kind == "ps":
        made.write_bytes(POSTSCRIPT.replace(b"MARKER", marker.encode("ascii", "replace")))
    elif given.kind == "odt":
        made.write_bytes(b"PK\x03\x04" + b"\x00" * 100)  # the start of a zip: not text
    else:
        make_pdf(made, text=marker)
    return {name: made}


POSTSCRIPT = b"""%!PS-Adobe-3.0
/Helvetica findfont 12 scalefont setfont 72 700 moveto (MARKER) show showpage
"""


def _check(
    path: str, given: Input, marker: str, service: RestService, ended: str, message: str
) -> None:
    """The promise, and the ledger's row."""
    stored = rest_stored_markers([service])
    if given.cover_text == "1024":
        stored[marker] = sum(
            1 for m in service.messages.values() if m.cover_text.startswith(marker)
        )
    if ended == "accepted" and given.words:  # a known bug: say where it went
        numbers = [r["phoneNumber"] for m in service.messages.values() for r in m.to]
        ended = f"sent to {', '.join(numbers)} (bug)"
    result = tally(
        path, given.name, [marker], stored, {} if ended == "accepted" else {marker: ended}
    )
    assert (result.duplicates, result.lost) == (0, 0), result
    assert not leaked([message])
    if given.words:
        assert ended != "accepted", f"sent: {[m.to for m in service.messages.values()]}"
        assert (service.messages, service.fax_requests) == ({}, 0)
        assert given.words in message, message
        assert message.isprintable() and len(message) <= MAX_MESSAGE, message
        return
    assert ended == "accepted", message
    [sent] = service.messages.values()
    assert sent.to == [{"phoneNumber": given.sent_to}
                       | ({"name": given.sent_name} if given.sent_name else {})]  # fmt: skip
    assert sent.cover_index == given.sent_cover
    assert [(a["fileName"], a["contentType"]) for a in sent.attachments] == [
        (given.sent_file or "offer.pdf", "application/pdf")
    ]


def _xfail(given: Input, request: pytest.FixtureRequest) -> None:
    if given.bug:
        request.applymarker(pytest.mark.xfail(reason=given.bug, strict=True))


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[RestService, str]]:
    rest = RestService(TEST_APPS)
    with SandboxServer(
        port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS, rest=rest
    ) as server:
        yield rest, server.url.removesuffix("/faxapi.asp")


@pytest.mark.parametrize("given", INPUTS, ids=IDS)
def test_the_hot_folder_refuses_what_the_api_would_with_one_line(
    tmp_path: Path,
    service: tuple[RestService, str],
    given: Input,
    request: pytest.FixtureRequest,
) -> None:
    _xfail(given, request)
    rest, url = service
    path = RestHotFolder(tmp_path)
    path.configure(url, **_settings(given))
    marker = f"bad input, rest hot folder: {given.name}"
    ticket: dict[str, object] = {"to": [given.to], "cover_text": _cover_text(given, marker)}
    if given.cover is not None:
        ticket["cover"] = given.cover
    path.start()
    try:
        path.drop(marker, ticket, _documents(given, tmp_path, marker))
        ended = path.ended(marker)
    finally:
        path.stop()
    message = "" if ended == "accepted" else path.receipt(marker)["message"]
    for big in path.root.glob("*/*/part*.tif"):
        big.unlink()  # the session's leak check would read them whole
    _check(path.name, given, marker, rest, ended.split(":")[0], message)


@pytest.mark.parametrize("given", INPUTS, ids=IDS)
def test_faxprint_send_refuses_what_the_api_would_with_one_line(
    tmp_path: Path,
    service: tuple[RestService, str],
    given: Input,
    request: pytest.FixtureRequest,
) -> None:
    _xfail(given, request)
    rest, url = service
    config = tmp_path / "faxprint.toml"
    config.touch(mode=0o600)
    config.write_text(rest_config_text(tmp_path / "journal.sqlite", url, tmp_path,
                                       **_settings(given)))  # fmt: skip
    marker = f"bad input, rest send: {given.name}"
    folder = tmp_path / "documents"
    folder.mkdir()
    files = []
    for name, made in _documents(given, tmp_path, marker).items():
        files.append(made.rename(folder / name))
    command = ["--config", str(config), "send", "--to", given.to]
    command += ["--cover-text", _cover_text(given, marker)]
    if given.cover is not None:
        command += ["--cover", given.cover]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "faxprint", *command, *map(str, files)],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=120,
            check=False,
        )
    finally:
        for made in files:
            made.unlink()
    assert "Traceback" not in done.stderr, done.stderr
    if done.returncode == 0:
        ended, message = "accepted", done.stdout.strip()
    else:
        assert done.returncode == 65, (done.returncode, done.stderr)
        assert done.stderr.count("\n") == 1, done.stderr  # one line
        ended, message = "refused", done.stderr.strip()
    _check("rest send", given, marker, rest, ended, message)


@pytest.fixture
def transport() -> str:
    """The campaign's printer (the printer fixture), with a REST account."""
    return "ringcentral"


PRINTABLE = [i for i in INPUTS if i.printer]


@pytest.mark.cupsd
@pytest.mark.parametrize("given", PRINTABLE, ids=[i.name for i in PRINTABLE])
def test_the_printer_cancels_what_the_api_would_refuse_with_one_line(
    printer: RestPrinter,
    service: tuple[RestService, str],
    given: Input,
    request: pytest.FixtureRequest,
) -> None:
    _xfail(given, request)
    rest, url = service
    printer.configure(url, **_settings(given))
    marker = f"bad input, rest printer: {given.name}"
    [(name, made)] = _documents(given, printer.work, marker).items()
    pdf = made.rename(printer.work / name)  # cupsd renders PostScript itself
    options = [f'fax-to="{given.to}"', f'fax-cover-text="{_cover_text(given, marker)}"']
    if given.cover is not None:
        options.append(f'fax-cover="{given.cover}"')
    printer.jobs[marker] = printer.cupsd.lp(
        QUEUE, pdf, options=options, title=given.document or marker
    )
    ended = printer.ended(marker)
    state, _, message = ended.partition(": ")
    assert state in ("accepted", "cancelled"), ended
    _check(printer.name, given, marker, rest, state, message)
    assert not leaked([printer.cupsd.job_log(printer.jobs[marker])])
