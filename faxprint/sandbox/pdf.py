"""Count a PDF's pages for the REST side's 200-page limit, without faxprint's PDF code.

The sandbox shares no document code with the client (which counts with pypdf), so a
mistake in one cannot hide in both. This counts page objects (``/Type /Page``) in the
file and in its Flate-compressed object streams. It can count high (an incrementally
updated PDF keeps its replaced pages) and never reads a PDF's own page tree: for a limit
a client must stay under, counting high is the safe side.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z0-9#_.-])")
_OBJECT_STREAM = re.compile(rb"/Type\s*/ObjStm(?![A-Za-z0-9#_.-])")
_STREAM = re.compile(rb"stream\r?\n")
#: How much one object stream may inflate to: a bound against compression bombs.
MAX_INFLATED = 64 * 1024 * 1024


def count_pages(path: Path) -> int | None:
    """Return how many page objects the PDF at path holds, None if it is not a PDF."""
    data = path.read_bytes()
    if not data.startswith(b"%PDF-"):
        return None
    pages = len(_PAGE.findall(data))
    for match in _OBJECT_STREAM.finditer(data):
        pages += len(_PAGE.findall(_inflate(data, match.start())))
    return pages


def _inflate(data: bytes, at: int) -> bytes:
    """Inflate the stream of the object whose dictionary holds position at, if Flate."""
    start = max(0, data.rfind(b"obj", 0, at))
    stream = _STREAM.search(data, at)
    if stream is None or b"/FlateDecode" not in data[start : stream.start()]:
        return b""
    try:
        return zlib.decompressobj().decompress(data[stream.end() :], MAX_INFLATED)
    except zlib.error:
        return b""
