"""Documents made into PDF where a service does not take their type: PostScript, through
Ghostscript (Debian's ``ghostscript``, which CUPS's own filters use too).

PostScript is a program: Ghostscript runs it with ``-dSAFER``, which refuses file access
but to its output and its temporary folder: that folder is an empty one of its own (by
default it would be /tmp, whose files a document could print onto its pages). It reads
the document from a descriptor faxprint opened itself (never a name that could be
swapped for a link), and is stopped after ``timeout`` seconds, since a program may never
end. Whatever stops a conversion (a cancel included) stops Ghostscript too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import BinaryIO

from faxprint.documents import open_document
from faxprint.errors import DocumentError
from faxprint.text import printable

TIMEOUT = 300.0  # seconds: a 200-page PostScript file takes a few
_REASON_LENGTH = 120
MAX_ERRORS = 64 * 1024  # bytes of Ghostscript's stderr kept


def postscript_to_pdf(source: Path, target: Path, *, shown: str, timeout: float = TIMEOUT) -> None:
    """Write ``source`` (PostScript) to ``target`` as PDF; raise DocumentError if it cannot
    be made (no Ghostscript, a PostScript error, too slow)."""
    gs = shutil.which("gs")
    if gs is None:
        raise DocumentError(
            f"{shown}: PostScript must be made PDF to be faxed through this account, and "
            "Ghostscript (gs) is not installed on this server: install the ghostscript "
            "package, or send a PDF"
        )
    command = [gs, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite",
               "-sstdout=%stderr", f"-sOutputFile={_literal(target)}", "-"]  # fmt: skip
    with (
        open_document(source, shown) as stream,
        tempfile.TemporaryDirectory(dir=target.parent, prefix=".gs-") as private,
    ):
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": private}
        returncode, errors = _run(command, stream, environment, timeout)
    if returncode is None:
        raise DocumentError(
            f"{shown}: the PostScript took longer than {timeout:g} s to convert to PDF; "
            "print it to a PDF and send that"
        )
    if returncode != 0 or not _made(target):
        raise DocumentError(
            f"{shown}: Ghostscript could not convert the PostScript to PDF "
            f"({_reason(errors)}); print it to a PDF and send that"
        )


def _run(
    command: list[str], stdin: BinaryIO, environment: dict[str, str], timeout: float
) -> tuple[int | None, bytes]:
    """Run Ghostscript; return its exit status (None: stopped after ``timeout``) and the
    start of what it wrote to stderr. Only the start is kept: the document's program may
    write without end, and must fill neither memory nor disk."""
    process = subprocess.Popen(
        command, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment
    )
    assert process.stderr is not None
    kept = bytearray()

    def drain() -> None:
        while chunk := process.stderr.read(65536):  # type: ignore[union-attr]
            kept.extend(chunk[: max(0, MAX_ERRORS - len(kept))])

    reader = threading.Thread(target=drain, name="gs-stderr", daemon=True)
    reader.start()
    try:
        return process.wait(timeout), bytes(kept)
    except subprocess.TimeoutExpired:
        return None, bytes(kept)
    finally:  # a timeout, a cancel: Ghostscript stops with the conversion
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join()
        process.stderr.close()


def _made(target: Path) -> bool:
    try:
        return target.stat().st_size > 0
    except OSError:
        return False


def _reason(stderr: bytes) -> str:
    """Ghostscript's first error line, cut short and printable (the document's own
    program may have written it)."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    errors = [line for line in lines if "Error" in line] or [line for line in lines if line]
    return printable(errors[0], limit=_REASON_LENGTH) if errors else "no reason given"


def _literal(path: Path) -> str:
    """Ghostscript reads ``%d`` in an output name as a page number: keep ``%`` literal."""
    return str(path).replace("%", "%%")
