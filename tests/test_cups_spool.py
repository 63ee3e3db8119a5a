from __future__ import annotations

import hashlib
import io
import stat
from pathlib import Path

import pytest

from faxprint.cups.spool import CHUNK_SIZE, spool
from tests.support.helpers import make_pdf


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r", b""])
def test_concatenated_pdfs_are_cut_into_documents(tmp_path: Path, eol: bytes) -> None:
    a = make_pdf(tmp_path / "a.pdf", pages=2, text="first").read_bytes().rstrip(b"\r\n") + eol
    b = make_pdf(tmp_path / "b.pdf", pages=1, text="second").read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    spooled = spool(io.BytesIO(a + b + a), out)
    assert [Path(p).read_bytes() for p in spooled.paths] == [a, b, a]
    assert spooled.size == 2 * len(a) + len(b)


def test_a_boundary_split_across_reads_is_still_found(tmp_path: Path) -> None:
    a = b"%PDF-1.4\n" + b"x" * (CHUNK_SIZE - 12) + b"%%EOF\n"
    b = b"%PDF-1.4\nsecond\n%%EOF\n"
    for cut in range(len(a) - 8, len(a) + 4):
        out = tmp_path / f"out{cut}"
        out.mkdir()

        class Trickle(io.BytesIO):
            def read(self, size: int = -1, first: int = cut) -> bytes:
                return super().read(first if self.tell() == 0 else size)

        spooled = spool(Trickle(a + b), out)
        assert [Path(p).read_bytes() for p in spooled.paths] == [a, b], cut


def test_other_data_is_one_private_file(tmp_path: Path) -> None:
    data = b"plain text %%EOF not a boundary %PDF- either\n" * 5000
    spooled = spool(io.BytesIO(data), tmp_path)
    assert [Path(p).read_bytes() for p in spooled.paths] == [data]
    assert stat.S_IMODE(Path(spooled.paths[0]).stat().st_mode) == 0o600


def test_the_digest_names_the_data(tmp_path: Path) -> None:
    (tmp_path / "1").mkdir()
    (tmp_path / "2").mkdir()
    assert (
        spool(io.BytesIO(b"abc"), tmp_path / "1").digest
        == spool(io.BytesIO(b"abc"), tmp_path / "2").digest
    )


def test_without_the_digest_the_same_documents_are_spooled(tmp_path: Path) -> None:
    one = make_pdf(tmp_path / "a.pdf", pages=2, text="first").read_bytes()
    two = make_pdf(tmp_path / "b.pdf", pages=1, text="second").read_bytes()
    data = one + two
    (tmp_path / "1").mkdir()
    (tmp_path / "2").mkdir()
    hashed = spool(io.BytesIO(data), tmp_path / "1")
    plain = spool(io.BytesIO(data), tmp_path / "2", digest=False)
    assert plain.digest == ""
    assert hashed.digest == hashlib.sha256(data).hexdigest()
    assert [Path(p).read_bytes() for p in plain.paths] == [one, two]
    assert [Path(p).read_bytes() for p in hashed.paths] == [one, two]
    assert plain.size == hashed.size == len(data)


def test_empty_input_spools_no_document(tmp_path: Path) -> None:
    assert spool(io.BytesIO(b""), tmp_path).paths == ()
