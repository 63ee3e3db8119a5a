"""Bad documents: damaged and hostile PDFs, bombs, huge and sparse files, FIFOs, devices,
and files that change between inspection and upload or during it.

The rule: a document is either described (a PDF with its pages) or refused with one
DocumentError whose message is one printable line; nothing blocks, nothing reads a huge
file whole, and a file that changes can never complete an upload, so the service cannot
accept a truncated or garbled fax.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faxprint.config import Account
from faxprint.documents import READ_BUDGET, Document, inspect, sniff, wire_filename
from faxprint.errors import DocumentError
from faxprint.sandbox import SandboxServer
from faxprint.ticket import Ticket
from faxprint.transports.faxout import FaxOutTransport, request_fields
from faxprint.transports.multipart import CHUNK_SIZE, FileField, MultipartBody
from tests.conftest import REPO
from tests.support import corpus
from tests.support.configs import faxout_account, write_config
from tests.support.helpers import make_pdf
from tests.support.secrets import TEST_PASSWORD, TEST_USERNAME

GiB = 1024**3
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TICKET = Ticket.build(["5556465589"])
LONG_AGO = (1_600_000_000, 1_600_000_000)  # a file that has sat in a folder for a while


def assert_clear(error: DocumentError) -> None:
    """One line people can read: printable, not empty, not a wall of text."""
    assert error.message and error.message.isprintable(), repr(error.message)
    assert len(error.message) <= 400


def inspect_or_refuse(path: Path, filename: str | None = None) -> Document | None:
    try:
        document = inspect(path, filename=filename)
    except DocumentError as error:
        assert_clear(error)
        return None
    assert document.size == path.stat().st_size > 0
    assert document.pages is None or document.pages >= 1
    return document


# -- the corpus -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("empty", "the file is empty"),
        ("header only", "damaged"),
        ("truncated", "damaged"),
        ("truncated early", "damaged"),
        ("zero pages", "the PDF has no pages"),
        ("lying page count", "the PDF has no pages"),
        ("dangling startxref", 1),
        ("xref loop", 1),
        ("xref self loop", 1),
        ("cyclic page tree", "damaged"),
        ("nested arrays", "damaged"),
        ("nested dictionaries", 1),
        ("garbage after header", "damaged"),
        ("nul bytes", "damaged"),
        ("only an eof marker", "damaged"),
        ("startxref not a number", "damaged"),
    ],
)
def test_nasty_pdfs_are_counted_or_refused_clearly(
    tmp_path: Path, name: str, outcome: int | str
) -> None:
    path = tmp_path / "nasty.pdf"
    path.write_bytes(corpus.NASTY_PDFS[name])
    document = inspect_or_refuse(path)
    if isinstance(outcome, int):
        assert document is not None and document.pages == outcome
        return
    with pytest.raises(DocumentError, match=outcome):
        inspect(path)


def test_a_pdf_with_a_broken_xref_is_repaired(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(corpus.broken_xref_pdf())
    assert inspect(path).pages == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda path: corpus.encrypted_pdf(path, algorithm="AES-256"),
        lambda path: corpus.encrypted_pdf(path, algorithm="AES-128"),
        lambda path: corpus.encrypted_pdf(path, user_password="", algorithm="RC4-40"),
        corpus.qpdf_owner_locked_pdf,
    ],
    ids=["aes-256", "aes-128", "rc4-40 no user password", "qpdf owner password only"],
)
def test_encrypted_pdfs_are_refused(tmp_path: Path, make: Callable[[Path], Path]) -> None:
    path = make(tmp_path / "locked.pdf")
    with pytest.raises(DocumentError, match="the PDF is encrypted; save or print") as caught:
        inspect(path)
    assert_clear(caught.value)


VALID = corpus.one_page_pdf()


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # one file, rewritten
)
@given(
    st.one_of(
        st.binary(max_size=2000).map(lambda tail: b"%PDF-1.4\n" + tail),
        st.tuples(st.integers(0, len(VALID) - 1), st.binary(min_size=1, max_size=8)).map(
            lambda edit: VALID[: edit[0]] + edit[1] + VALID[edit[0] + len(edit[1]) :]
        ),
        st.integers(1, len(VALID) - 1).map(lambda cut: VALID[:cut]),
        st.lists(st.integers(0, len(VALID) - 1), min_size=1, max_size=20).map(
            lambda holes: bytes(b for i, b in enumerate(VALID) if i not in holes)
        ),
    )
)
def test_any_damage_to_a_pdf_is_counted_or_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "mutant.pdf"
    path.write_bytes(data)
    inspect_or_refuse(path)


# -- bombs and huge files, measured in a child process ----------------------------------

_MEASURE = r"""
import json, re, sys, time
from faxprint.documents import inspect
from faxprint.errors import DocumentError
started = time.monotonic()
try:
    document = inspect(sys.argv[1])
    result = {"pages": document.pages, "size": document.size}
except DocumentError as error:
    result = {"error": error.message}
result["seconds"] = time.monotonic() - started
# The peak of this process's memory: VmHWM, not getrusage's ru_maxrss, which keeps the
# larger peak of the test process this one was forked from across the exec.
status = open("/proc/self/status").read()
result["peak_mb"] = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
print(json.dumps(result))
"""


def measure(path: Path) -> dict[str, object]:
    """Inspect ``path`` in a fresh interpreter; return the outcome, time and peak memory."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_an_object_stream_bomb_is_refused_with_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.pdf"
    path.write_bytes(corpus.object_stream_bomb_pdf(mebibytes=1024))  # inflates to 1 GiB
    result = measure(path)
    assert result["error"] == "bomb.pdf: the PDF is damaged and cannot be read"
    assert isinstance(result["peak_mb"], float) and result["peak_mb"] < 400
    assert isinstance(result["seconds"], float) and result["seconds"] < 30


def test_a_content_stream_bomb_is_never_inflated(tmp_path: Path) -> None:
    path = tmp_path / "bomb.pdf"
    path.write_bytes(corpus.content_stream_bomb_pdf(mebibytes=1024))
    result = measure(path)
    assert result["pages"] == 1
    assert isinstance(result["peak_mb"], float) and result["peak_mb"] < 120


def test_a_sparse_gigabyte_pdf_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = corpus.sparse_file(tmp_path / "huge.pdf", GiB, head=b"%PDF-1.4\n")
    try:
        result = measure(path)
    finally:
        path.unlink()  # the session's leak check reads every file left behind
    assert result["error"] == (
        "huge.pdf: the PDF is damaged, and at 1024 MB too large to repair (faxprint reads "
        f"at most {READ_BUDGET // 1024**2} MB of a PDF to count its pages); save or print "
        "it again and fax the new copy"
    )
    assert isinstance(result["peak_mb"], float) and result["peak_mb"] < 200
    assert isinstance(result["seconds"], float) and result["seconds"] < 30


@pytest.mark.parametrize(
    ("name", "head"), [("huge.pdf", b"%PDF-1.4\n"), ("huge.tif", b"II*\x00"), ("huge", b"")]
)
def test_faxprint_send_refuses_a_sparse_gigabyte_file_by_its_size(
    tmp_path: Path, sandbox: SandboxServer, name: str, head: bytes
) -> None:
    path = corpus.sparse_file(tmp_path / name, GiB, head=head)
    config = write_config(tmp_path, faxout_account(sandbox.url))
    command = ["faxprint", "--config", str(config), "send", "--to", "5556465589", str(path)]
    try:
        done = subprocess.run(
            [sys.executable, "-m", *command],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
            check=False,
        )
    finally:
        path.unlink()
    assert (done.returncode, done.stderr) == (
        65,
        f"faxprint: not sent: {name}: 1024.0 MB; a document may have at most 100 MB "
        "(limits.max_document_mb)\n",
    )
    assert sandbox.requests == []


def test_a_sparse_gigabyte_file_of_another_type_is_described_without_reading_it(
    tmp_path: Path,
) -> None:
    # No size limit applies here yet (the submitter's [limits] will refuse it); what
    # documents.py must do is describe it from its first bytes, not read a gigabyte.
    path = corpus.sparse_file(tmp_path / "huge.tif", GiB, head=b"II*\x00")
    try:
        result = measure(path)
    finally:
        path.unlink()
    assert result["size"] == GiB and result["pages"] is None
    assert isinstance(result["peak_mb"], float) and result["peak_mb"] < 100


# -- FIFOs, devices, links --------------------------------------------------------------


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero", "/dev/urandom"])
def test_a_device_is_no_document(device: str) -> None:
    with pytest.raises(DocumentError, match="not a regular file"):
        inspect(Path(device))


def test_a_link_to_a_device_is_no_document(tmp_path: Path) -> None:
    (tmp_path / "zero.pdf").symlink_to("/dev/zero")
    with pytest.raises(DocumentError, match="zero.pdf: not a regular file"):
        inspect(tmp_path / "zero.pdf")


_FLIP = """
import json, os, sys, threading
from pathlib import Path
from faxprint.documents import inspect
from faxprint.errors import DocumentError
folder = Path(sys.argv[1])
name, pipe, plain = folder / "doc.txt", folder / "pipe", folder / "plain"
stop = threading.Event()
def flip():
    while not stop.is_set():
        os.mkfifo(pipe)
        os.replace(pipe, name)
        plain.write_bytes(b"hello")
        os.replace(plain, name)
flipper = threading.Thread(target=flip)
flipper.start()
outcomes = set()
try:
    # At least 3,000 looks, and on until both a plain file and a swapped one were seen
    # (a busy machine can give the flipper the whole of 3,000 looks).
    for count in range(1_000_000):
        try:
            inspect(name)
            outcomes.add("described")
        except DocumentError as error:
            outcomes.add(error.message)
        if count >= 3000 and "described" in outcomes and len(outcomes) > 1:
            break
finally:
    stop.set()
    flipper.join()
print(json.dumps(sorted(outcomes)))
"""


def test_a_fifo_swapped_in_between_stat_and_open_never_blocks(tmp_path: Path) -> None:
    # A child process: were an open() to block on the FIFO, the timeout ends it.
    done = subprocess.run(
        [sys.executable, "-c", _FLIP, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=True,
    )
    outcomes = set(json.loads(done.stdout))
    assert outcomes <= {
        "described",
        "doc.txt: not a regular file; only files can be faxed",
        "doc.txt: no such file",
    }, outcomes
    assert "described" in outcomes


# -- files that change between inspection and upload ------------------------------------


def _pdf(tmp_path: Path, pages: int = 30) -> Path:
    path = make_pdf(tmp_path / "report.pdf", pages=pages, text="x" * 60)
    os.utime(path, LONG_AGO)
    return path


def _field(document: Document) -> FileField:
    (field,) = [
        f
        for f in request_fields(
            Account("a", "https://fax.example/", "1", TEST_PASSWORD), TICKET, [document], now=NOW
        )
        if isinstance(f, FileField)
    ]
    return field


def _same_size_other_bytes(path: Path) -> None:
    data = path.read_bytes()
    other = path.with_name("other")
    other.write_bytes(data.replace(b"x", b"y"))
    os.utime(other, LONG_AGO)
    os.replace(other, path)


def _fifo_instead(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda p: p.write_bytes(p.read_bytes() + b"\n% more"), "changed after it was checked"),
        (lambda p: p.write_bytes(p.read_bytes()[:-10]), "changed after it was checked"),
        (_same_size_other_bytes, "the file changed after it was checked; send it again"),
        (Path.unlink, "report.pdf: no such file"),
        (_fifo_instead, "report.pdf: not a regular file"),
        (lambda p: (p.unlink(), p.symlink_to("/dev/zero")), "report.pdf: not a regular file"),
    ],
    ids=["grown", "shrunk", "replaced", "deleted", "fifo", "device"],
)
def test_a_file_changed_after_inspection_never_starts_a_body_it_cannot_finish(
    tmp_path: Path, change: Callable[[Path], object], complaint: str
) -> None:
    path = _pdf(tmp_path)
    field = _field(inspect(path))
    change(path)
    body = MultipartBody([field])
    with pytest.raises(DocumentError, match=complaint):
        _drain(body)
    assert body.sent < len(body) - field.size  # not one byte of the file went out


def _drain(body: MultipartBody) -> None:
    while body.read(CHUNK_SIZE):
        pass


def _rewrite_in_place(path: Path) -> None:
    with path.open("r+b") as stream:
        stream.write(b"%PDF-9.9")


def _append(path: Path) -> None:
    with path.open("ab") as stream:
        stream.write(b"\n% more")


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (_append, "grew while it was sent"),
        (lambda p: os.truncate(p, CHUNK_SIZE + 10), "shrank while it was sent"),
        (_rewrite_in_place, "changed while it was sent"),
    ],
    ids=["grows", "shrinks", "rewritten"],
)
def test_a_file_changed_during_the_upload_is_never_accepted(
    tmp_path: Path, sandbox: SandboxServer, change: Callable[[Path], object], complaint: str
) -> None:
    path = _pdf(tmp_path, pages=800)
    document = inspect(path)
    assert document.size > 3 * CHUNK_SIZE
    seen: list[tuple[int, int]] = []

    def progress(sent: int, total: int) -> None:
        if sent > CHUNK_SIZE and not changed:  # the file's first chunk is going out
            changed.append(change(path))
        seen.append((sent, total))

    changed: list[object] = []

    account = Account("a", sandbox.url, TEST_USERNAME, TEST_PASSWORD)
    with pytest.raises(DocumentError, match=complaint) as caught:
        FaxOutTransport(account).send(TICKET, [document], now=NOW, progress=progress)
    assert_clear(caught.value)
    assert changed and all(sent < total for sent, total in seen)  # the body never ended
    assert sandbox.store.count() == 0


def test_an_unchanged_file_still_goes_through(tmp_path: Path, sandbox: SandboxServer) -> None:
    path = _pdf(tmp_path, pages=800)
    account = Account("a", sandbox.url, TEST_USERNAME, TEST_PASSWORD)
    receipt = FaxOutTransport(account).send(TICKET, [inspect(path)], now=NOW)
    assert receipt.code == 0
    (fax,) = sandbox.faxes()
    assert fax.record["attachments"][0]["size"] == path.stat().st_size


# -- names and types ---------------------------------------------------------------------

NAMES = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "../../etc/passwd",
            "/etc/shadow",
            "C:\\Windows\\x.pdf",
            'a"b.pdf',
            "a\r\nContent-Type: text/html.pdf",
            "\x00",
            "..",
            ".",
            "",
            "%00.pdf",
            ";.pdf",
            "a" * 10_000 + ".pdf",
            "\udcff\udc80.pdf",
            "\u202egpj.exe",
        ]
    ),
)


@settings(max_examples=200, deadline=None, database=None)
@given(NAMES, st.binary(max_size=64))
def test_any_name_and_content_give_a_safe_header(name: str, head: bytes) -> None:
    content_type = sniff(head, name)
    wire = wire_filename(name, content_type)
    assert wire and len(wire) <= 100
    assert all(" " <= ch <= "~" for ch in wire), wire
    assert not set(wire) & set('"\\/;%')
    assert wire.strip("._ ")
    field = FileField("Attachment", Path("/nonexistent"), wire, content_type, 1)
    MultipartBody([field])  # raises ValueError on anything unsafe in a header


@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # only read from
)
@given(NAMES)
def test_messages_about_a_document_show_its_name_safely(tmp_path: Path, name: str) -> None:
    with pytest.raises(DocumentError) as caught:
        inspect(tmp_path / "missing", filename=name)
    assert_clear(caught.value)


def test_a_long_name_keeps_its_extension() -> None:
    assert wire_filename("a" * 500 + ".pdf", "application/pdf") == "a" * 96 + ".pdf"
