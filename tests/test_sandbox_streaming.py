"""The sandbox streams bodies to disk, and a body cut short leaves nothing behind."""

from __future__ import annotations

import hashlib
import http.client
import socket
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from faxprint.sandbox import SandboxServer

BOUNDARY = b"sandbox-stream-boundary"
CONTENT_TYPE = "multipart/form-data; boundary=" + BOUNDARY.decode()
HEAD = (
    b"--sandbox-stream-boundary\r\n"
    b'Content-Disposition: form-data; name="Username"\r\n'
    b"\r\n"
    b"15555550100\r\n"
    b"--sandbox-stream-boundary\r\n"
    b'Content-Disposition: form-data; name="Password"\r\n'
    b"\r\n"
    b"sandbox\r\n"
    b"--sandbox-stream-boundary\r\n"
    b'Content-Disposition: form-data; name="Recipient"\r\n'
    b"\r\n"
    b"5556465589\r\n"
    b"--sandbox-stream-boundary\r\n"
    b'Content-Disposition: form-data; name="Attachment"; filename="big.bin"\r\n'
    b"Content-Type: application/octet-stream\r\n"
    b"\r\n"
)
TAIL = b"\r\n--sandbox-stream-boundary--\r\n"
CHUNK = 64 * 1024
MB = 1024 * 1024


def document(size: int) -> Iterator[bytes]:
    """Yield size bytes in 64 KiB chunks, each chunk different, never holding more."""
    for offset in range(0, size, CHUNK):
        length = min(CHUNK, size - offset)
        yield ((offset // CHUNK).to_bytes(4, "big") * (length // 4 + 1))[:length]


def digest(chunks: Iterator[bytes]) -> str:
    hasher = hashlib.sha256()
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.hexdigest()


def address(server: SandboxServer) -> tuple[str, int]:
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def upload(server: SandboxServer, size: int) -> tuple[int, bytes]:
    def body() -> Iterator[bytes]:
        yield HEAD
        yield from document(size)
        yield TAIL

    connection = http.client.HTTPConnection(*address(server), timeout=60)
    try:
        headers = {
            "Content-Type": CONTENT_TYPE,
            "Content-Length": str(len(HEAD) + size + len(TAIL)),
        }
        connection.request("POST", "/faxapi.asp", body=body(), headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def check_stored(server: SandboxServer, size: int) -> None:
    [stored] = server.faxes()
    [entry] = stored.record["attachments"]
    expected = digest(document(size))
    assert (entry["size"], entry["sha256"]) == (size, expected)
    path = stored.path / entry["stored_as"]
    with path.open("rb") as file:
        assert digest(iter(lambda: file.read(CHUNK), b"")) == expected


def test_a_50_mb_upload_is_stored_without_holding_it_in_memory(tmp_path: Path) -> None:
    size = 50 * MB
    with SandboxServer(store=tmp_path) as server:
        tracemalloc.start()
        try:
            baseline = tracemalloc.get_traced_memory()[0]
            answer = upload(server, size)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert answer == (200, b"0")
        # Client and server share this process: the peak covers both sides' buffers.
        assert peak - baseline < 16 * MB
        check_stored(server, size)


@pytest.mark.slow
def test_a_200_mb_upload_is_fine(tmp_path: Path) -> None:
    size = 200 * MB
    with SandboxServer(store=tmp_path) as server:
        assert upload(server, size) == (200, b"0")
        check_stored(server, size)
        assert server.requests[-1].reason == f"Accepted: 1 recipient, 1 attachment ({size} bytes)"


def cut_short(server: SandboxServer, declared: int, sent: bytes) -> bytes:
    """Declare a length, send fewer bytes, half-close; return whatever comes back."""
    with socket.create_connection(address(server), timeout=60) as sock:
        sock.sendall(
            b"POST /faxapi.asp HTTP/1.1\r\nHost: sandbox\r\nContent-Type: "
            + CONTENT_TYPE.encode()
            + b"\r\nContent-Length: "
            + str(declared).encode()
            + b"\r\n\r\n"
        )
        sock.sendall(sent)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(CHUNK):
            reply += chunk
    return reply


def test_a_body_cut_short_stores_nothing(tmp_path: Path) -> None:
    whole = HEAD + b"%PDF-1.4 data" + TAIL
    with SandboxServer(store=tmp_path) as server:
        # The log is written before the connection closes, so no waiting is needed.
        assert cut_short(server, len(whole), whole[:-10]) == b""
        record = server.requests[0]
        assert (record.code, record.decided, record.status, record.seq) == (None, None, None, None)
        assert (
            record.reason == f"No answer: body ended after {len(whole) - 10} of {len(whole)} bytes"
        )
        assert record.bytes == len(whole) - 10
        assert server.faxes() == []
        assert sorted(p.name for p in tmp_path.iterdir()) == ["requests.jsonl"]
        # The server carries on.
        assert upload(server, 10) == (200, b"0")


def test_a_large_body_cut_short_leaves_no_partial_file(tmp_path: Path) -> None:
    sent = HEAD + b"x" * (5 * MB)
    with SandboxServer(store=tmp_path) as server:
        assert cut_short(server, 50 * MB, sent) == b""
        assert (
            server.requests[0].reason
            == f"No answer: body ended after {len(sent)} of {50 * MB} bytes"
        )
        assert sorted(p.name for p in tmp_path.iterdir()) == ["requests.jsonl"]


def test_a_stalled_body_times_out_and_stores_nothing(tmp_path: Path) -> None:
    whole = HEAD + b"data" + TAIL
    with (
        SandboxServer(store=tmp_path, timeout=0.5) as server,
        socket.create_connection(address(server), timeout=60) as sock,
    ):
        sock.sendall(
            b"POST /faxapi.asp HTTP/1.1\r\nHost: sandbox\r\nContent-Type: "
            + CONTENT_TYPE.encode()
            + b"\r\nContent-Length: "
            + str(len(whole)).encode()
            + b"\r\n\r\n"
            + whole[:100]
        )
        assert sock.recv(CHUNK) == b""  # closed without an answer once the timeout passed
        assert (
            server.requests[0].reason == f"No answer: body stalled after 100 of {len(whole)} bytes"
        )
        assert server.faxes() == []
