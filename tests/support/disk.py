"""A real filesystem that fills up: a small tmpfs mounted for a test (root mounts it; CI
runs as root), and a way to fill it."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

#: Tests that mount a small disk: they need root, as CI has.
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small disk needs root")


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "2m", mode: str = "0700") -> Iterator[Path]:
    """Mount a tmpfs of ``size`` at ``folder`` (made here) for the block's length."""
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode={mode}", "tmpfs",
                    str(folder)], check=True)  # fmt: skip
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(folder: Path) -> Path:
    """Write to ``folder``'s disk until it is full; return the file that filled it."""
    full: OSError | None = None
    filler = folder / ".filler"
    with filler.open("wb", buffering=0) as stream:
        try:
            while stream.write(b"\0" * 65536):
                pass
        except OSError as exc:
            full = exc
    assert full is not None and full.errno == errno.ENOSPC
    assert os.statvfs(folder).f_bavail == 0
    return filler
