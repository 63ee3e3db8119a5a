"""Helpers shared by the tests: real files made on the spot, waiting on a condition, and
hot-folder watchers run in a thread or as a process."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from faxprint import config as configuration
from faxprint.hotfolder.service import HotFolder
from faxprint.hotfolder.settings import from_table
from tests.conftest import REPO


def make_pdf(path: Path, pages: int = 1, text: str = "faxprint test") -> Path:
    """Write a real PDF of ``pages`` Letter pages, each showing ``text`` and its number."""
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    for number in range(1, pages + 1):
        page = writer.add_blank_page(width=612, height=792)
        content = DecodedStreamObject()
        content.set_data(f"BT /F1 24 Tf 72 700 Td ({text} page {number}) Tj ET".encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(content)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
    with path.open("wb") as stream:
        writer.write(stream)
    return path


def as_unprivileged_user(work: Callable[[], str]) -> str:
    """Run ``work`` in a forked child as user ``nobody`` (when root) and return its answer.

    Root reads every file, so permission checks are only real as another user.
    """
    if os.geteuid() != 0:
        return work()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            os.close(read_end)
            os.setgid(65534)
            os.setuid(65534)
            os.write(write_end, work().encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as stream:
        answer = stream.read().decode()
    os.waitpid(child, 0)
    return answer


def make_png(width: int = 48, height: int = 32) -> bytes:
    """Build an 8-bit greyscale PNG with a horizontal gradient."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    row = b"\x00" + bytes(x * 255 // (width - 1) for x in range(width))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def wait_for(
    condition: Callable[[], object],
    timeout: float = 30.0,
    what: str | Callable[[], str] = "condition",
) -> None:
    """Poll ``condition`` every 20 ms until it is true; fail after ``timeout`` seconds.

    ``what`` names what was awaited in the failure; a function is asked for it only then,
    so the failure can say how things stood at the end (a process's status, its log).
    """
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, (
            f"timed out waiting for {what() if callable(what) else what}"
        )
        time.sleep(0.02)


def drop_ticket(folder: Path, name: str, ticket: dict[str, object]) -> None:
    """Write a ticket the way programs should: a temporary name, then a rename."""
    temp = folder / f".{name}.tmp"
    temp.write_text(json.dumps(ticket))
    os.rename(temp, folder / f"{name}.fax.json")


class Watcher:
    """A HotFolder service in a thread of this process; stopped and joined at the end."""

    def __init__(self, config: Path, root: Path) -> None:
        settings = configuration.load(config, env={})
        self.service = HotFolder(settings, from_table(settings.hotfolder), root)
        self.thread = threading.Thread(target=self.service.run, name="hotfolder")

    def start(self) -> HotFolder:
        self.thread.start()
        assert self.service.ready.wait(timeout=30)
        return self.service

    def stop(self) -> None:
        self.service.stopping.set()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()

    def __enter__(self) -> HotFolder:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def watch_process(config: Path, root: Path) -> subprocess.Popen[str]:
    """Start ``faxprint watch`` as its own process, its output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "faxprint", "--config", str(config), "watch", str(root)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def started(process: subprocess.Popen[str]) -> str:
    """Read a watcher's output until it has resumed what it may resume and is serving."""
    assert process.stdout is not None
    seen = ""
    while "event=started" not in seen:
        line = process.stdout.readline()
        assert line, f"the watcher ended early: {seen}"
        seen += line
    return seen
