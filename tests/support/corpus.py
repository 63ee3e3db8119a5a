"""Builders of nasty inputs: damaged, hostile and shape-shifting documents.

Each builder returns bytes or writes a file and returns its path; none needs a network or
a fixed file in the repository. The PDFs are assembled by hand (``raw_pdf``,
``xref_stream_pdf``) so that their defects are exactly the ones named, and nothing else.
"""

from __future__ import annotations

import os
import subprocess
import zlib
from collections.abc import Sequence
from pathlib import Path

from tests.support.helpers import make_pdf

MiB = 1024 * 1024

CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"


# -- assembling PDFs ------------------------------------------------------------------


def raw_pdf(
    objects: Sequence[bytes],
    *,
    trailer: bytes = b"/Root 1 0 R",
    offsets: Sequence[int] | None = None,
    startxref: int | None = None,
) -> bytes:
    """Number ``objects`` from 1, write a classic xref table and trailer around them.

    ``offsets`` replaces the true offsets in the table and ``startxref`` the true
    position of the table: that is how a broken xref is made.
    """
    out, true_offsets = _body(objects)
    table = len(out)
    out += xref_table(offsets if offsets is not None else true_offsets)
    out += b"trailer\n<< /Size %d %s >>\n" % (len(objects) + 1, trailer)
    out += b"startxref\n%d\n%%%%EOF\n" % (table if startxref is None else startxref)
    return bytes(out)


def _body(objects: Sequence[bytes]) -> tuple[bytearray, list[int]]:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    return out, offsets


def xref_table(offsets: Sequence[int]) -> bytes:
    """Render an xref table for objects 1..n at ``offsets``."""
    rows = [b"0000000000 65535 f \n"] + [b"%010d 00000 n \n" % at for at in offsets]
    return b"xref\n0 %d\n%s" % (len(rows), b"".join(rows))


def stream(data: bytes, *, extra: bytes = b"", length: int | None = None) -> bytes:
    """Render a stream object's body; ``length`` may lie about the data."""
    size = len(data) if length is None else length
    return b"<< /Length %d %s >>\nstream\n%s\nendstream" % (size, extra, data)


def flate_bomb(mebibytes: int, *, prefix: bytes = b"") -> bytes:
    """A FlateDecode stream of ``prefix`` and ``mebibytes`` MiB of spaces, ~1000:1.

    The spaces are one compressed block repeated (each ends in a full flush, so it
    stands alone); building 1 GiB takes a fraction of a second.
    """
    chunk = b" " * MiB
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush()
    checksum = zlib.adler32(prefix)
    for _ in range(mebibytes):
        checksum = zlib.adler32(chunk, checksum)
    return b"\x78\xda" + head + block * mebibytes + end + checksum.to_bytes(4, "big")


def xref_stream_pdf(plain: dict[int, bytes], packed: dict[int, tuple[int, int]]) -> bytes:
    """Assemble a PDF 1.5 whose xref is a stream; ``packed`` objects live in object
    streams (number -> (object stream number, index)). The xref stream is the last
    object, numbered after all others."""
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    where: dict[int, int] = {}
    for number in sorted(plain):
        where[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, plain[number])
    xref_number = max([*plain, *packed]) + 1
    where[xref_number] = len(out)
    rows = [b"\x00\x00\x00\x00\x00\xff\xff"]
    for number in range(1, xref_number + 1):
        if number in packed:
            container, index = packed[number]
            rows.append(b"\x02" + container.to_bytes(4, "big") + index.to_bytes(2, "big"))
        else:
            rows.append(b"\x01" + where[number].to_bytes(4, "big") + b"\x00\x00")
    data = b"".join(rows)
    out += b"%d 0 obj\n%s\nendobj\n" % (
        xref_number,
        stream(data, extra=b"/Type /XRef /Size %d /W [1 4 2] /Root 1 0 R" % (xref_number + 1)),
    )
    out += b"startxref\n%d\n%%%%EOF\n" % where[xref_number]
    return bytes(out)


# -- damaged and hostile PDFs ---------------------------------------------------------


def one_page_pdf() -> bytes:
    """A minimal valid PDF of one page."""
    return raw_pdf([CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", PAGE])


def zero_page_pdf() -> bytes:
    """A well-formed PDF whose page tree is empty."""
    return raw_pdf([CATALOG, b"<< /Type /Pages /Kids [] /Count 0 >>"])


def lying_count_pdf() -> bytes:
    """A page tree that claims a billion pages and holds none."""
    return raw_pdf([CATALOG, b"<< /Type /Pages /Kids [] /Count 1000000000 >>"])


def truncated_pdf(fraction: float = 0.5) -> bytes:
    """A real PDF cut short, as an interrupted copy leaves it."""
    whole = one_page_pdf()
    return whole[: int(len(whole) * fraction)]


def broken_xref_pdf() -> bytes:
    """Every xref offset wrong: readers must rebuild the table by scanning the file."""
    objects = [CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", PAGE]
    return raw_pdf(objects, offsets=[7, 7, 7])


def dangling_startxref_pdf() -> bytes:
    """``startxref`` points far past the end of the file."""
    objects = [CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", PAGE]
    return raw_pdf(objects, startxref=10**12)


def looping_xref_pdf(*, self_loop: bool = False) -> bytes:
    """Two xref sections whose ``/Prev`` point at each other (or one at itself)."""
    objects = [CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", PAGE]
    out, offsets = _body(objects)

    def section(previous: int) -> bytes:
        # Fixed-width offsets (leading zeros are allowed) keep every position computable.
        return xref_table(offsets) + b"trailer\n<< /Size 4 /Root 1 0 R /Prev %010d >>\n" % (
            previous
        )

    first = len(out)
    second = first + len(section(0))
    if self_loop:
        out += section(first)
        last = first
    else:
        out += section(second) + section(first)
        last = second
    out += b"startxref\n%d\n%%%%EOF\n" % last
    return bytes(out)


def nested_pdf(depth: int, *, kind: str = "array") -> bytes:
    """A page tree node holding ``depth`` nested arrays or dictionaries."""
    if kind == "array":
        junk = b"[" * depth + b"]" * depth
    else:
        junk = b"<< /A " * depth + b"1" + b" >>" * depth
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 /Junk %s >>" % junk
    return raw_pdf([CATALOG, pages, PAGE])


def cyclic_page_tree_pdf() -> bytes:
    """A page tree whose node lists itself among its kids."""
    return raw_pdf([CATALOG, b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>", PAGE])


def object_stream_bomb_pdf(mebibytes: int = 1024) -> bytes:
    """The page tree root sits in an object stream that inflates to ``mebibytes`` MiB:
    counting pages needs it, so a reader either refuses or stops early."""
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    header = b"2 0 "
    packed = flate_bomb(mebibytes, prefix=header + pages)
    container = stream(
        packed, extra=b"/Type /ObjStm /N 1 /First %d /Filter /FlateDecode" % len(header)
    )
    return xref_stream_pdf({1: CATALOG, 3: PAGE, 4: container}, {2: (4, 0)})


def content_stream_bomb_pdf(mebibytes: int = 1024) -> bytes:
    """A valid one-page PDF whose content stream inflates to ``mebibytes`` MiB: counting
    pages must never touch it."""
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>"
    contents = stream(flate_bomb(mebibytes), extra=b"/Filter /FlateDecode")
    return raw_pdf([CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page, contents])


def encrypted_pdf(path: Path, *, user_password: str = "secret", algorithm: str = "AES-256") -> Path:
    """Write a one-page PDF encrypted by pypdf."""
    from pypdf import PdfReader, PdfWriter

    plain = make_pdf(path.with_name(path.name + ".plain.pdf"))
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm=algorithm)
    with path.open("wb") as out:
        writer.write(out)
    plain.unlink()
    return path


def qpdf_owner_locked_pdf(path: Path) -> Path:
    """Write a PDF that opens without a password but is encrypted (owner password only),
    as qpdf makes them."""
    plain = make_pdf(path.with_name(path.name + ".plain.pdf"))
    subprocess.run(
        ["qpdf", "--encrypt", "", "owner", "256", "--", str(plain), str(path)],
        check=True,
        capture_output=True,
    )
    plain.unlink()
    return path


# -- files that are not what they seem ------------------------------------------------


def sparse_file(path: Path, size: int, *, head: bytes = b"") -> Path:
    """Write ``head`` and stretch the file to ``size`` bytes without using the disk."""
    with path.open("wb") as out:
        out.write(head)
        out.truncate(size)
    return path


def fifo(path: Path) -> Path:
    """Make a named pipe: opening it for reading blocks until a writer comes."""
    os.mkfifo(path)
    return path


NASTY_PDFS = {
    "empty": b"",
    "header only": b"%PDF-1.4\n",
    "truncated": truncated_pdf(),
    "truncated early": truncated_pdf(0.1),
    "zero pages": zero_page_pdf(),
    "lying page count": lying_count_pdf(),
    "dangling startxref": dangling_startxref_pdf(),
    "xref loop": looping_xref_pdf(),
    "xref self loop": looping_xref_pdf(self_loop=True),
    "cyclic page tree": cyclic_page_tree_pdf(),
    "nested arrays": nested_pdf(100_000),
    "nested dictionaries": nested_pdf(100_000, kind="dict"),
    "garbage after header": b"%PDF-1.7\n" + bytes(range(256)) * 64,
    "nul bytes": b"%PDF-1.4\n" + b"\x00" * 100_000,
    "only an eof marker": b"%PDF-1.4\n%%EOF\n",
    "startxref not a number": b"%PDF-1.4\nstartxref\nabc\n%%EOF\n",
}
