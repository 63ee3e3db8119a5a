"""The sandbox's multipart grammar, parser and intake, without sockets."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faxprint.sandbox.headers import (
    HeaderError,
    HeaderValue,
    check_boundary,
    parse_disposition,
    parse_media_type,
)
from faxprint.sandbox.intake import (
    MAX_TEXT_FIELD,
    Part,
    SpooledFile,
    Submission,
    Truncated,
    boundary_of,
    drain,
    receive,
)
from faxprint.sandbox.parser import (
    MultipartError,
    MultipartParser,
    PartData,
    PartEnd,
    PartHeaders,
    PartStart,
)

# The shape of RFC 7578's own example, with a second part carrying a file.
BODY = (
    b"--AaB03x\r\n"
    b'Content-Disposition: form-data; name="Recipient"\r\n'
    b"\r\n"
    b"5556465589|John Doe\r\n"
    b"--AaB03x\r\n"
    b'Content-Disposition: form-data; name="Attachment"; filename="file1.txt"\r\n'
    b"Content-Type: text/plain\r\n"
    b"\r\n"
    b"...contents of file1.txt...\r\n"
    b"--AaB03x--\r\n"
)
PARTS = [
    (PartHeaders("Recipient", None, None), b"5556465589|John Doe"),
    (PartHeaders("Attachment", "file1.txt", "text/plain"), b"...contents of file1.txt..."),
]


def parse(
    body: bytes, boundary: str = "AaB03x", cuts: list[int] | None = None
) -> list[tuple[PartHeaders, bytes]]:
    """Feed body split at cuts; return [(headers, content), ...]."""
    parser = MultipartParser(boundary)
    events = []
    start = 0
    for cut in [*sorted(cuts or []), len(body)]:
        events += parser.feed(body[start:cut])
        start = cut
    parser.finish()
    parts: list[tuple[PartHeaders, bytes]] = []
    for event in events:
        if isinstance(event, PartStart):
            parts.append((event.headers, b""))
        elif isinstance(event, PartData):
            parts[-1] = (parts[-1][0], parts[-1][1] + event.data)
        else:
            assert isinstance(event, PartEnd)
    return parts


def rejection(body: bytes, boundary: str = "AaB03x") -> str:
    with pytest.raises(MultipartError) as caught:
        parse(body, boundary)
    return str(caught.value)


def one_part(headers: bytes, content: bytes = b"x") -> bytes:
    return b"--AaB03x\r\n" + headers + b"\r\n" + content + b"\r\n--AaB03x--\r\n"


def test_parses_the_rfc_7578_shape() -> None:
    assert parse(BODY) == PARTS


@given(st.lists(st.integers(min_value=0, max_value=len(BODY)), max_size=12))
def test_any_chunking_gives_the_same_parts(cuts: list[int]) -> None:
    assert parse(BODY, cuts=cuts) == PARTS


def test_one_byte_at_a_time() -> None:
    assert parse(BODY, cuts=list(range(len(BODY)))) == PARTS


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\r\n",
        b"--AaB03x",  # the boundary without the CRLF before it is content
        b"\r\n--AaB03",  # a delimiter cut short is content
        b"line\r\n--AaB03y",  # another boundary is content too
        b"\x00\xff" * 100,
        b"ends with CR\r",
    ],
)
def test_content_that_only_looks_like_a_boundary_is_kept(content: bytes) -> None:
    body = one_part(b'Content-Disposition: form-data; name="Attachment"; filename="a"\r\n', content)
    for cuts in ([], list(range(len(body)))):
        assert parse(body, cuts=cuts) == [(PartHeaders("Attachment", "a", None), content)]


def test_content_streams_out_without_being_held() -> None:
    parser = MultipartParser("AaB03x")
    head = b'--AaB03x\r\nContent-Disposition: form-data; name="Attachment"; filename="a"\r\n\r\n'
    assert parser.feed(head) == [PartStart(PartHeaders("Attachment", "a", None))]
    held = 0
    for _ in range(64):
        chunk = b"z" * 65536
        out = sum(len(e.data) for e in parser.feed(chunk) if isinstance(e, PartData))
        held += len(chunk) - out
        assert held <= len(b"\r\n--AaB03x") - 1
    assert parser.feed(b"\r\n--AaB03x--") == [PartData(b"z" * held), PartEnd()]
    parser.finish()


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (b"content-disposition: FORM-DATA; NAME=Username\r\n", PartHeaders("Username", None, None)),
        (
            b'Content-Disposition:form-data;name="Attachment";filename="a;b=c.pdf"\r\n',
            PartHeaders("Attachment", "a;b=c.pdf", None),
        ),
        (
            b'Content-Disposition: form-data ; name = "Attachment" ;\tfilename="x y.pdf"\r\n'
            b"Content-Type: application/pdf; name=x\r\n",
            PartHeaders("Attachment", "x y.pdf", "application/pdf; name=x"),
        ),
        (
            b'Content-Type: text/plain\r\nContent-Disposition: form-data; name="A"; filename=""\r\n',
            PartHeaders("A", "", "text/plain"),
        ),
        (
            b'Content-Disposition: form-data; name="A"; filename="r\xc3\xa9sum\xc3\xa9.pdf"\r\n',
            PartHeaders("A", "r\u00e9sum\u00e9.pdf", None),
        ),
        (
            b'Content-Disposition: form-data; name="A"; size=3; filename="a"\r\n',
            PartHeaders("A", "a", None),
        ),
    ],
)
def test_header_forms_accepted(headers: bytes, expected: PartHeaders) -> None:
    assert parse(one_part(headers)) == [(expected, b"x")]


def test_closing_crlf_is_optional() -> None:
    assert parse(BODY[:-2]) == PARTS


CD = b'Content-Disposition: form-data; name="A"\r\n'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "body ended before the closing boundary (in part 0)"),
        (b"preamble\r\n" + BODY, "body does not start with '--' and the boundary"),
        (BODY.replace(b"AaB03x", b"AaB03y"), "body does not start with '--' and the boundary"),
        (BODY[:-14], "body ended before the closing boundary (in part 2)"),
        (BODY + b"epilogue", "data after the closing boundary"),
        (BODY + b"\r\n", "data after the closing boundary"),
        (
            BODY.replace(b"--AaB03x\r\n", b"--AaB03x  \r\n", 1),
            "boundary after part 0 is followed by neither CRLF nor '--'",
        ),
        (
            BODY.replace(b"Doe", b"Doe\r\n--AaB03xyz"),
            "boundary after part 1 is followed by neither CRLF nor '--'",
        ),
        (
            BODY.replace(b'"Recipient"\r\n', b'"Recipient"\n'),
            "part 1: header lines must end in CRLF",
        ),
        (BODY.replace(b"\r\n\r\n5556", b"\r\n\n5556"), "part 1: header lines must end in CRLF"),
        (BODY.replace(b"form-data;", b"form-data;\r", 1), "part 1: header lines must end in CRLF"),
        (one_part(b""), "part 1 has no Content-Disposition header"),
        (one_part(b"Content-Type: text/plain\r\n"), "part 1 has no Content-Disposition header"),
        (
            one_part(b'Content-Disposition: form-data;\r\n name="A"\r\n'),
            "part 1, header line 2 is folded (starts with whitespace)",
        ),
        (one_part(CD + b"sandbox\r\n"), "part 1, header line 2 has no ':'"),
        (
            one_part(b'Content-Disposition : form-data; name="A"\r\n'),
            "part 1, header line 1: field name is not a token",
        ),
        (
            one_part(CD + b"X-Secret: 1\r\n"),
            "part 1, header line 2: only Content-Disposition and Content-Type are allowed"
            " in form-data",
        ),
        (
            one_part(CD + b"Content-Transfer-Encoding: base64\r\n"),
            "part 1: Content-Transfer-Encoding is not allowed (RFC 7578 section 4.7)",
        ),
        (one_part(CD + CD), "part 1: Content-Disposition given twice"),
        (
            one_part(CD + b"Content-Type: a/b\r\ncontent-type: a/b\r\n"),
            "part 1: Content-Type given twice",
        ),
        (
            one_part(b'Content-Disposition: attachment; name="A"\r\n'),
            "part 1: Content-Disposition type is not form-data",
        ),
        (
            one_part(b'Content-Disposition: form-data; filename="a"\r\n'),
            "part 1: Content-Disposition has no name parameter",
        ),
        (
            one_part(b"Content-Disposition: form-data; name=\"A\"; filename*=UTF-8''a\r\n"),
            "part 1: filename* is not allowed (RFC 7578 section 4.2)",
        ),
        (
            one_part(b'Content-Disposition: form-data; name="A"; NAME="B"\r\n'),
            "part 1: parameter name given twice",
        ),
        (
            one_part(b'Content-Disposition: form-data; name="A\r\n'),
            "part 1: quoted string opened at column 17 is not closed",
        ),
        (
            one_part(b'Content-Disposition: form-data; name="A";\r\n'),
            "part 1: expected parameter name at column 21",
        ),
        (
            one_part(b'Content-Disposition: form-data; name="A" filename="b"\r\n'),
            "part 1: expected ';' at column 21",
        ),
        (
            one_part(b'Content-Disposition: form-data; name="A"; filename="C:\\\\x.doc"\r\n'),
            "part 1: Content-Disposition holds a backslash, which servers read differently;"
            " send a bare filename without backslashes or quotes",
        ),
        (one_part(CD + b"Content-Type: pdf\r\n"), "part 1: expected '/' at column 4"),
        (one_part(CD + b"Content-Type: a/b; c\r\n"), "part 1: expected '=' at column 7"),
        (
            one_part(b'Content-Disposition: form-data; name="A\x01"\r\n'),
            "part 1, header line 1 holds a control character",
        ),
        (
            one_part(b"Content-Disposition: form-data; name=" + b"a" * 8200 + b"\r\n"),
            "part 1: header line over 8192 bytes",
        ),
        (one_part(CD + b"Content-Type: a/b\r\n" * 16), "part 1: more than 16 header lines"),
    ],
)
def test_malformed_bodies_are_rejected(body: bytes, message: str) -> None:
    assert rejection(body) == message


def test_the_unterminated_header_line_is_refused_before_it_is_all_buffered() -> None:
    parser = MultipartParser("AaB03x")
    parser.feed(b"--AaB03x\r\nContent-Disposition: form-data; name=")
    assert parser.feed(b"a" * 4096) == []
    with pytest.raises(MultipartError, match="header line over 8192 bytes"):
        parser.feed(b"a" * 4096)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "multipart/form-data; boundary=abc",
            HeaderValue("multipart/form-data", {"boundary": "abc"}),
        ),
        (
            'Multipart/Form-Data;BOUNDARY="a b:c"; charset=x',
            HeaderValue("multipart/form-data", {"boundary": "a b:c", "charset": "x"}),
        ),
        ("text/plain", HeaderValue("text/plain", {})),
    ],
)
def test_media_types(text: str, expected: HeaderValue) -> None:
    assert parse_media_type(text) == expected


def test_quoted_pairs_are_unescaped() -> None:
    parsed = parse_disposition(r'form-data; name="a\"b\\c"')
    assert parsed == HeaderValue("form-data", {"name": 'a"b\\c'})


@pytest.mark.parametrize("text", ["", "multipart", "multipart/", "a/b;", "a/b; x=", "a/b x"])
def test_bad_media_types(text: str) -> None:
    with pytest.raises(HeaderError):
        parse_media_type(text)


@pytest.mark.parametrize(
    "boundary", ["a", "x" * 70, "---------------------------7d54b1fee05aa", "a b"]
)
def test_good_boundaries(boundary: str) -> None:
    assert check_boundary(boundary) is None  # accepted: nothing raised, nothing returned
    # and a request's Content-Type carrying it yields it as it was sent
    assert boundary_of(f'multipart/form-data; boundary="{boundary}"') == boundary


@pytest.mark.parametrize("boundary", ["", "x" * 71, "a ", "a;b", 'a"b', "caf\u00e9"])
def test_bad_boundaries(boundary: str) -> None:
    with pytest.raises(HeaderError):
        check_boundary(boundary)


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        (None, "Content-Type missing; expected multipart/form-data; boundary=..."),
        (
            "application/x-www-form-urlencoded",
            "Content-Type is application/x-www-form-urlencoded;"
            " expected multipart/form-data; boundary=...",
        ),
        (
            "multipart/form-data",
            "Content-Type has no boundary; expected multipart/form-data; boundary=...",
        ),
        (
            "multipart/form-data; boundary=",
            "Content-Type: expected value of parameter boundary at column 31",
        ),
        (
            'multipart/form-data; boundary="a "',
            "Content-Type: boundary holds characters RFC 2046 does not allow",
        ),
    ],
)
def test_request_content_type_must_be_form_data(content_type: str | None, message: str) -> None:
    with pytest.raises(MultipartError) as caught:
        boundary_of(content_type)
    assert str(caught.value) == message


class Spool:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.asked: list[tuple[int, str | None]] = []

    def __call__(self, number: int, filename: str | None) -> Path:
        self.asked.append((number, filename))
        return self.root / f"{number:02d}"


def test_receive_spools_attachments_and_keeps_text(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    body = (
        b"--AaB03x\r\n"
        b'Content-Disposition: form-data; name="Attachment"; filename="one.pdf"\r\n'
        b"\r\n"
        b"%PDF-1\r\n--AaB03\r\n"
        b"\r\n--AaB03x\r\n"
        b'Content-Disposition: form-data; name="Recipient"\r\n'
        b"\r\n"
        b"5556465589|John Doe"
        b"\r\n--AaB03x\r\n"
        b'Content-Disposition: form-data; name="Attachment"; filename="two.txt"\r\n'
        b"Content-Type: text/plain\r\n"
        b"\r\n"
        b"two"
        b"\r\n--AaB03x--\r\n"
    )
    submission = receive(io.BytesIO(body), len(body), "multipart/form-data; boundary=AaB03x", spool)
    one = b"%PDF-1\r\n--AaB03\r\n"
    assert submission == Submission(
        (
            Part("Attachment", "one.pdf", None, file=SpooledFile(tmp_path / "01", 17, sha(one))),
            Part("Recipient", None, None, b"5556465589|John Doe"),
            Part(
                "Attachment",
                "two.txt",
                "text/plain",
                file=SpooledFile(tmp_path / "02", 3, sha(b"two")),
            ),
        ),
        len(body),
    )
    assert (tmp_path / "01").read_bytes() == one
    assert (tmp_path / "02").read_bytes() == b"two"
    assert spool.asked == [(1, "one.pdf"), (2, "two.txt")]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_receive_reads_a_malformed_body_to_its_end(tmp_path: Path) -> None:
    body = b"garbage" + BODY + b"x" * 200_000
    stream = io.BytesIO(body)
    submission = receive(stream, len(body), "multipart/form-data; boundary=AaB03x", Spool(tmp_path))
    assert submission.error == "body does not start with '--' and the boundary"
    assert stream.tell() == len(body)


def test_receive_reads_to_the_end_after_a_bad_content_type(tmp_path: Path) -> None:
    stream = io.BytesIO(BODY)
    submission = receive(stream, len(BODY), "text/plain", Spool(tmp_path))
    error = "Content-Type is text/plain; expected multipart/form-data; boundary=..."
    assert submission == Submission((), len(BODY), error)
    assert stream.tell() == len(BODY)


def test_receive_caps_text_fields(tmp_path: Path) -> None:
    body = one_part(CD, b"a" * (MAX_TEXT_FIELD + 1))
    submission = receive(
        io.BytesIO(body), len(body), "multipart/form-data; boundary=AaB03x", Spool(tmp_path)
    )
    assert (
        submission.error
        == "field 'A' is longer than 65536 bytes or text fields total over 1048576 bytes"
    )


@pytest.mark.parametrize("cut", [0, 1, len(BODY) // 2, len(BODY) - 1])
def test_receive_raises_truncated_when_the_body_ends_early(tmp_path: Path, cut: int) -> None:
    with pytest.raises(Truncated) as caught:
        receive(
            io.BytesIO(BODY[:cut]),
            len(BODY),
            "multipart/form-data; boundary=AaB03x",
            Spool(tmp_path),
        )
    assert str(caught.value) == f"body ended after {cut} of {len(BODY)} bytes"
    assert (caught.value.received, caught.value.expected) == (cut, len(BODY))


def test_receive_reads_no_further_than_content_length(tmp_path: Path) -> None:
    stream = io.BytesIO(BODY + b"next request")
    submission = receive(stream, len(BODY), "multipart/form-data; boundary=AaB03x", Spool(tmp_path))
    assert submission.error is None
    assert stream.read() == b"next request"


def test_drain_counts_what_came() -> None:
    assert drain(io.BytesIO(b"x" * 100), 70) == 70
    assert drain(io.BytesIO(b"x" * 100), 300) == 100
