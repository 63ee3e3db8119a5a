from __future__ import annotations

from pathlib import Path

import pytest

from faxprint.errors import DocumentError
from faxprint.transports.multipart import CHUNK_SIZE, FileField, MultipartBody, TextField


def _file(tmp_path: Path, name: str, data: bytes) -> FileField:
    path = tmp_path / name
    path.write_bytes(data)
    return FileField("Attachment", path, name, "application/pdf", len(data))


def test_body_bytes_are_exactly_rfc_7578(tmp_path: Path) -> None:
    body = MultipartBody(
        [TextField("Username", "15555550100"), _file(tmp_path, "a.pdf", b"%PDF-1.4 x")],
        boundary="XyZ",
    )
    expected = (
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="Username"\r\n'
        b"\r\n"
        b"15555550100\r\n"
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="Attachment"; filename="a.pdf"\r\n'
        b"Content-Type: application/pdf\r\n"
        b"\r\n"
        b"%PDF-1.4 x\r\n"
        b"--XyZ--\r\n"
    )
    assert body.read() == expected
    assert len(body) == len(expected)
    assert body.content_type == "multipart/form-data; boundary=XyZ"
    assert body.complete


def test_read_in_small_pieces_gives_the_same_bytes_and_counts_them(tmp_path: Path) -> None:
    data = bytes(range(256)) * 1000  # 256 KB: several chunks
    fields = [TextField("Recipient", "5556465589|A"), _file(tmp_path, "big.pdf", data)]
    whole = MultipartBody(fields, boundary="b").read()
    body = MultipartBody(fields, boundary="b")
    pieces = []
    while piece := body.read(8192):
        assert len(piece) <= 8192
        pieces.append(piece)
        assert body.sent == sum(map(len, pieces))
    assert b"".join(pieces) == whole
    assert body.sent == len(body) == len(whole)


def test_files_are_read_in_bounded_chunks(tmp_path: Path) -> None:
    field = _file(tmp_path, "big.pdf", b"x" * (3 * CHUNK_SIZE + 5))
    sizes = [len(chunk) for chunk in field.payload()]
    assert sizes == [CHUNK_SIZE, CHUNK_SIZE, CHUNK_SIZE, 5]


def test_progress_reports_every_piece(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    body = MultipartBody(
        [_file(tmp_path, "a.pdf", b"y" * 100_000)],
        boundary="b",
        progress=lambda s, t: seen.append((s, t)),
    )
    while body.read(30_000):
        pass
    assert seen[-1] == (len(body), len(body))
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)


def test_boundaries_are_random_by_default() -> None:
    assert MultipartBody([]).boundary != MultipartBody([]).boundary


@pytest.mark.parametrize("bad", ['a"b', "a\\b", "a\r\nX-Evil: 1", "caf\u00e9"])
def test_header_injection_is_impossible(tmp_path: Path, bad: str) -> None:
    field = FileField("Attachment", tmp_path / "x", bad, "text/plain", 1)
    with pytest.raises(ValueError, match="printable ASCII"):
        MultipartBody([field])


def test_a_file_that_shrinks_during_the_upload_stops_it(tmp_path: Path) -> None:
    field = _file(tmp_path, "a.pdf", b"z" * 10)
    body = MultipartBody([field])
    field.path.write_bytes(b"z" * 5)
    with pytest.raises(DocumentError, match="shrank"):
        body.read()


def test_a_file_that_grows_during_the_upload_stops_it(tmp_path: Path) -> None:
    field = _file(tmp_path, "a.pdf", b"z" * 10)
    body = MultipartBody([field])
    field.path.write_bytes(b"z" * 11)
    with pytest.raises(DocumentError, match="grew"):
        body.read()
