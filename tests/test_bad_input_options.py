"""Bad CUPS input: option strings against libcups' cupsParseOptions, and whole backend runs
with hostile users, titles and options.

The backend's rule: whatever cupsd hands it, it returns a status from its EXIT_STATUS
table, writes only well-formed status lines (one line each, nothing unprintable), says
what went wrong in exactly one ERROR line, never leaks the password, and a fax reaches
the service exactly when the job ends OK.
"""

from __future__ import annotations

import ctypes
import io
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from faxprint.cups import backend
from faxprint.cups.options import option_values, parse_options
from faxprint.sandbox import SandboxServer
from tests.support.configs import faxout_account, write_config
from tests.support.helpers import make_pdf
from tests.support.secrets import TEST_PASSWORD
from tests.test_cups_options import CUPSD_ESCAPES, SAFE_NAMES, _CupsOption, _load_libcups

MiB = 1024 * 1024

# -- libcups, on bytes ------------------------------------------------------------------


def cups_parse_bytes(data: bytes) -> dict[bytes, bytes]:
    """Ask libcups' cupsParseOptions, bytes in and bytes out (no UTF-8 assumed)."""
    lib = _load_libcups()
    array = ctypes.POINTER(_CupsOption)()
    count = lib.cupsParseOptions(data, 0, ctypes.byref(array))
    try:
        return {array[i].name: array[i].value for i in range(count)}
    finally:
        lib.cupsFreeOptions(count, array)


def ours_on_bytes(data: bytes) -> dict[bytes, bytes]:
    """Parse ``data`` as the backend gets it: argv decoded with surrogateescape."""
    text = data.decode("utf-8", "surrogateescape")
    options = parse_options(text, tolerate_unescaped_spaces=False)
    return {
        name.encode("utf-8", "surrogateescape"): value.encode("utf-8", "surrogateescape")
        for name, value in options.items()
    }


def name_every_empty_name(data: bytes) -> bytes:
    """Put ``x`` before each ``=`` that would start a token: cupsParseOptions stops there,
    faxprint skips the token (tests/test_cups_options.py covers that difference)."""
    return re.sub(rb"(^|[ \f\n\r\t\v])=", rb"\1x=", data)


#: Pieces that make every quoting style, and bytes that are no UTF-8 at all.
PIECES = [
    b"a",
    b"B",
    b"no",
    b"NO",
    b"=",
    b" ",
    b"\t",
    b"\n",
    b"\r",
    b"\v",
    b"\f",
    b"'",
    b'"',
    b"\\",
    b"{",
    b"}",
    b",",
    b"|",
    b"5556465589",
    b"fax-to",
    b"\xc3\xa9",  # é
    b"\xe2\x80\xa8",  # U+2028, a line separator to Python, a letter to CUPS
    b"\xc2\x85",  # NEL
    b"\xff",
    b"\xc3",  # a lead byte without its continuation
    b"\x80",
    b"\xed\xa0\x80",  # an encoded surrogate, invalid UTF-8
    b"\x1b",
    b"\x01",
    b"\x7f",
]
OPTION_BYTES = st.lists(st.sampled_from(PIECES), max_size=40).map(b"".join)


@settings(max_examples=300, deadline=None, database=None)
@given(OPTION_BYTES)
def test_same_as_cups_parse_options_on_any_bytes(data: bytes) -> None:
    data = b"p=1 " + name_every_empty_name(data)  # "p=1 " keeps the {...} stripping out
    assert ours_on_bytes(data) == cups_parse_bytes(data)


#: libcups moves the rest of the string for every backslash or quote it removes: quadratic
#: (256 KiB of quotes: 20 s), so cross-checks holding them stay this short. faxprint's
#: own parse is linear: the megabyte tests below time it alone.
LIBCUPS_ESCAPES_MAX = 32 * 1024


@settings(max_examples=12, deadline=None, database=None)
@given(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map(b"".join),
    st.sampled_from([b"a=", b"a='", b'a="', b"a={", b"a=\\", b"", b"fax-to="]),
    st.integers(min_value=MiB // 8, max_value=MiB),
)
def test_same_as_cups_parse_options_on_megabyte_values(
    unit: bytes, start: bytes, size: int
) -> None:
    if set(unit + start) & set(b"\\'\""):
        size = min(size, LIBCUPS_ESCAPES_MAX)
    data = b"p=1 " + name_every_empty_name(start + unit * (size // len(unit)))
    assert ours_on_bytes(data) == cups_parse_bytes(data)


@pytest.mark.parametrize(
    ("start", "unit", "expected"),
    [
        (b"a='", b"x", lambda n: {b"a": b"x" * n}),  # never closed
        (b'a="', b"\\\\", lambda n: {b"a": b"\\" * n}),
        (b"a=", b"{", lambda n: {b"a": b"{" * n}),  # a collection never closed
        (b"a=", b"}", lambda n: {b"a": b"}" * n}),
        (b"a=", b"x\\ ", lambda n: {b"a": b"x " * n}),
        (b"", b"a=1 ", lambda n: {b"a": b"1"}),
        (b"", b"noa ", lambda n: {b"a": b"false"}),
        (b"", b" ", lambda n: {}),
        (b"", b"\xff", lambda n: {b"\xff" * n: b"true"}),
    ],
    ids=[
        "unclosed quote",
        "backslashes",
        "open braces",
        "close braces",
        "escaped spaces",
        "repeated option",
        "repeated boolean",
        "blanks",
        "invalid utf-8",
    ],
)
def test_megabyte_options_parse_fast_and_like_cups(
    start: bytes, unit: bytes, expected: Callable[[int], dict[bytes, bytes]]
) -> None:
    count = MiB // len(unit)
    started = time.monotonic()
    assert ours_on_bytes(b"p=1 " + start + unit * count) == {b"p": b"1", **expected(count)}
    assert time.monotonic() - started < 10  # linear: a fraction of a second
    small = b"p=1 " + start + unit * (LIBCUPS_ESCAPES_MAX // len(unit))
    assert ours_on_bytes(small) == cups_parse_bytes(small)


PAIRS = st.lists(
    st.tuples(
        st.sampled_from(["fax-to", "FAX-TO", "Fax-To", "document-name-supplied", "x"]),
        st.text(
            st.characters(exclude_categories=["Cs"], exclude_characters="\0\f\r\v"), max_size=20
        ).filter(lambda v: not v.startswith("{") and ",{" not in v),
    ),
    max_size=8,
)


@settings(max_examples=200, deadline=None, database=None)
@given(PAIRS, st.sampled_from(["fax-to", "document-name-supplied", "X"]))
def test_repeated_options_keep_every_value_in_order(
    pairs: list[tuple[str, str]], name: str
) -> None:
    text = " ".join(
        f"{n}={''.join(chr(92) + c if c in CUPSD_ESCAPES else c for c in v)}" for n, v in pairs
    )
    wanted = [v for n, v in pairs if n.lower() == name.lower()]
    assert option_values(text, name) == wanted
    parsed = parse_options(text)
    matches = [key for key in parsed if key.lower() == name.lower()]
    assert matches == ([next(n for n, _ in pairs if n.lower() == name.lower())] if wanted else [])
    if wanted:
        assert parsed[matches[0]] == wanted[-1]


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(max_size=200), SAFE_NAMES)
def test_any_text_even_invalid_utf8_parses_and_lists_values(text: str, name: str) -> None:
    text = text.encode("utf-8", "surrogatepass").decode("utf-8", "surrogateescape")
    options = parse_options(text)
    assert all(isinstance(v, str) for v in options.values())
    assert all(isinstance(v, str) for v in option_values(text, name))


# -- whole backend runs -----------------------------------------------------------------

STATUS_LINE = re.compile(r"(DEBUG|INFO|WARNING|ERROR|STATE|ATTR|PAGE): .*")
#: What cupsd can put in argv: no NUL; invalid UTF-8 arrives as lone surrogates.
ARGV_TEXT = st.text(
    st.one_of(
        st.characters(exclude_categories=["Cs"], exclude_characters="\0"),
        st.sampled_from(["\udc80", "\udcff", "\x1b", "\n", "\r", "\x85", "\u2028", "/", "\\"]),
    ),
    max_size=60,
)
NASTY_OPTIONS = st.lists(
    st.one_of(
        st.sampled_from(
            [
                r"fax-to=5556465589|John\ Doe",
                "fax-to=5556465589|John\\\nDoe",
                "fax-to=5556465589|\x1b[31mRed",
                "fax-to=555-FAX-1234",
                "fax-to=",
                "fax-to='5556465589",
                "fax-to=5556465589,5556465589,5556465589",
                "fax-to=" + "5556465589," * 300,
                "phone=Custom.555\\ 646\\ 5589 faxPrefix=9",
                "faxCoverPage=Custom.\x1b]0;title\x07",
                "fax-cover-text=" + "x" * 5000,
                "fax-resolution=ultra",
                "fax-send-at=0001-01-01T00:00+01:00",
                "fax-send-at=31:02:26\\ 09:00",
                "fax-send-at=2099-12-31T23:59Z",
                "document-name-supplied=../../etc/passwd",
                "document-name-supplied=\x1b[2J\\ evil.pdf",
                "document-name-supplied=" + "n" * 3000 + ".pdf",
                "document-name-supplied=\udcff.pdf",
                "job-uuid=urn:uuid:not-a-uuid",
                "{",
                "}",
                "=",
                "nofax-to",
            ]
        ),
        ARGV_TEXT,
    ),
    max_size=5,
).map(" ".join)


@pytest.fixture(scope="module")
def pdf_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_pdf(tmp_path_factory.mktemp("pdf") / "a.pdf", pages=2).read_bytes()


def _job(
    folder: Path, url: str, user: str, title: str, options: str, data: bytes, *, debug: bool
) -> tuple[int, str]:
    config = write_config(folder, faxout_account(url, read_timeout=30), retry={"tries": 1})
    env = {
        "DEVICE_URI": "faxprint://default",
        "PRINTER": "Fax",
        "TMPDIR": str(folder),
        "FAXPRINT_CONFIG": str(config),
        **({"FAXPRINT_DEBUG": "1"} if debug else {}),
    }
    err = io.StringIO()
    argv = ["faxprint://default", "42", user, title, "1", options]
    status = backend.main(argv, env, io.BytesIO(data), stderr=err)
    return status, err.getvalue()


@settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    user=ARGV_TEXT,
    title=ARGV_TEXT,
    options=NASTY_OPTIONS,
    recipient=st.sampled_from(["fax-to=5556465589 ", "", r"fax-to=5556465589|Jo\ Doe "]),
    debug=st.booleans(),
)
def test_the_backend_survives_any_user_title_and_options(
    sandbox: SandboxServer,
    tmp_path: Path,
    pdf_bytes: bytes,
    user: str,
    title: str,
    options: str,
    recipient: str,
    debug: bool,
) -> None:
    before = sandbox.store.count()
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        status, err = _job(
            Path(folder), sandbox.url, user, title, recipient + options, pdf_bytes, debug=debug
        )
    event(f"exit status {status}")
    assert status in set(backend.EXIT_STATUS.values())
    assert err.endswith("\n")
    lines = err[:-1].split("\n")
    for line in lines:
        assert STATUS_LINE.fullmatch(line), repr(line)
        assert line.isprintable(), repr(line)
        assert len(line) <= 2048, len(line)
    assert "internal error" not in err
    assert TEST_PASSWORD not in err
    errors = [line for line in lines if line.startswith("ERROR: ")]
    sent = sandbox.store.count() - before
    if status == backend.OK:
        assert (errors, sent) == ([], 1)
        assert lines[-1].startswith("INFO: Fax accepted for ")
    elif status == backend.RETRY:  # the sandbox refuses unknown cover pages with code 5
        assert (errors, sent) == ([], 0)
        assert lines[-1].startswith("WARNING: Fax not sent yet (attempt 1): "), err
    elif status == backend.HOLD:  # no recipient: held until a person addresses it
        assert (errors, sent) == ([], 0)
        assert lines[-1].startswith("WARNING: Fax waiting for an address: "), err
    else:
        assert (status, len(errors), sent) == (backend.CANCEL, 1, 0), err


@pytest.mark.parametrize(
    ("title", "options", "shown"),
    [
        ("evil\x1b[2J\nINFO: all good.pdf", "", "evil\\x1b[2J\\nINFO: all good.pdf"),
        ("x", "document-name-supplied=a\\\nb.pdf", "a\\nb.pdf"),
        ("\udcff\udc80.pdf", "", "\\udcff\\udc80.pdf"),
    ],
)
def test_a_title_or_name_with_control_characters_cannot_forge_a_status_line(
    tmp_path: Path, sandbox: SandboxServer, title: str, options: str, shown: str
) -> None:
    status, err = _job(
        tmp_path,
        sandbox.url,
        "ann",
        title,
        "fax-to=5556465589 " + options,
        b"%PDF-1.4 x",
        debug=False,
    )
    assert status == backend.CANCEL
    assert err.splitlines() == [
        "INFO: Sending fax to 1 recipient",
        f"ERROR: Fax not sent: {shown}: the PDF is damaged and cannot be read",
    ]
