"""Documents made into PDF where a service does not take their type: PostScript, through
Ghostscript (Debian's ``ghostscript``, which CUPS's own filters use too).

PostScript is a program, and a document may be hostile:

- Ghostscript runs it with ``-dSAFER``, which refuses file access but to its output and
  its temporary folder: that folder is an empty one of its own (by default it would be
  /tmp, whose files a document could print onto its pages);
- it reads the document from a descriptor faxprint opened and checked itself (never a
  name that could be swapped for a link, or a file changed since it was inspected);
- its output, memory and CPU are limited (``prlimit`` on the child: a Ghostscript left
  behind by a killed parent still stops), it stops after ``max_pages`` + 1 pages, and
  its stderr is drained to 64 KB;
- it is stopped after ``timeout`` seconds, and whatever stops a conversion (a cancel
  included) stops Ghostscript too.

What goes wrong is said by what must happen next: the document's fault is a
DocumentError; no Ghostscript is the admin's (ConfigError); a full disk, a failed start or
a Ghostscript killed from outside is transient (ServiceUnavailable).
"""

from __future__ import annotations

import math
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import BinaryIO

from faxprint.documents import Identity, identity_of, open_document
from faxprint.errors import ConfigError, DocumentError, ServiceUnavailable
from faxprint.text import printable

TIMEOUT = 300.0  # seconds: a 200-page PostScript file takes a few
MAX_MEMORY = 2 * 1024**3  # address space: Ghostscript needs a few hundred MB at most
MAX_ERRORS = 64 * 1024  # bytes of Ghostscript's stderr kept
_REASON_LENGTH = 120
_LOW_DISK = 16 * 1024 * 1024  # free bytes under which a failure is taken for a full disk


def postscript_to_pdf(
    source: Path,
    target: Path,
    *,
    shown: str,
    identity: Identity | None = None,
    max_bytes: int = 64 * 1024 * 1024,
    max_pages: int = 1000,
    timeout: float = TIMEOUT,
) -> None:
    """Write ``source`` (PostScript, as inspected: ``identity``) to ``target`` as a PDF of
    at most ``max_bytes``; stop after ``max_pages`` + 1 pages, so that a longer document
    shows as too long."""
    gs = shutil.which("gs")
    if gs is None:
        raise ConfigError(
            f"{shown}: PostScript must be made PDF for this account, and Ghostscript (gs) is "
            "not installed on this server: install the ghostscript package"
        )
    command = [gs, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite",
               f"-dLastPage={max_pages + 1}", "-sstdout=%stderr",
               f"-sOutputFile={_literal(target)}", "-"]  # fmt: skip
    limits = _Limits(max_bytes, timeout)
    with open_document(source, shown) as stream:
        if identity is not None and identity_of(os.fstat(stream.fileno())) != identity:
            raise DocumentError(f"{shown}: the file changed after it was checked; send it again")
        try:
            with tempfile.TemporaryDirectory(dir=target.parent, prefix=".gs-") as private:
                environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": private}
                returncode, errors = _run(command, stream, environment, limits)
        except OSError as exc:  # no process, no folder: nothing wrong with the document
            raise ServiceUnavailable(
                f"{shown}: Ghostscript could not be started ({exc.strerror})"
            ) from None
    _judge(returncode, errors, target, shown, limits)


class _Limits:
    """What one Ghostscript may use."""

    def __init__(self, max_bytes: int, timeout: float) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout

    def apply(self, pid: int) -> None:
        cpu = math.ceil(self.timeout) + 1  # the wall clock stops it first, CPU if orphaned
        limits = {resource.RLIMIT_FSIZE: self.max_bytes, resource.RLIMIT_AS: MAX_MEMORY,
                  resource.RLIMIT_CPU: cpu}  # fmt: skip
        for kind, value in limits.items():
            resource.prlimit(pid, kind, (value, value))


def _run(
    command: list[str], stdin: BinaryIO, environment: dict[str, str], limits: _Limits
) -> tuple[int | None, bytes]:
    """Run Ghostscript; return its exit status (None: stopped after the timeout) and the
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
        # Set after the start, not in the child before exec (unsafe with threads): the
        # child is at most a few instructions into Ghostscript's own start-up by then.
        limits.apply(process.pid)
        return process.wait(limits.timeout), bytes(kept)
    except ProcessLookupError:  # it ended before its limits were set: it did nothing
        return process.wait(), bytes(kept)
    except subprocess.TimeoutExpired:
        return None, bytes(kept)
    finally:  # a timeout, a cancel: Ghostscript stops with the conversion
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join()
        process.stderr.close()


def _judge(
    returncode: int | None, errors: bytes, target: Path, shown: str, limits: _Limits
) -> None:
    """Raise what a failed conversion means; return for a PDF made."""
    if returncode is None or returncode == -signal.SIGXCPU:
        raise DocumentError(
            f"{shown}: the PostScript took longer than {limits.timeout:g} s to convert to "
            "PDF; print it to a PDF and send that"
        )
    if returncode == -signal.SIGXFSZ:
        raise DocumentError(
            f"{shown}: as a PDF it would be over {limits.max_bytes / 1e6:g} MB; send a "
            "smaller document"
        )
    if returncode < 0:  # killed from outside (the OOM killer, an admin): try again later
        raise ServiceUnavailable(f"{shown}: Ghostscript was stopped (signal {-returncode})")
    if returncode == 0 and _size(target) > 0:
        return
    if _free(target.parent) < _LOW_DISK:
        raise ServiceUnavailable(f"{shown}: no room on the disk to convert the PostScript")
    raise DocumentError(
        f"{shown}: Ghostscript could not convert the PostScript to PDF "
        f"({_reason(errors)}); print it to a PDF and send that"
    )


def _size(target: Path) -> int:
    try:
        return target.stat().st_size
    except OSError:
        return 0


def _free(folder: Path) -> int:
    try:
        info = os.statvfs(folder)
    except OSError:
        return 0
    return info.f_bavail * info.f_frsize


def _reason(stderr: bytes) -> str:
    """Ghostscript's own error line (``Error: /undefined in ...``), cut short and
    printable; the document's program may write other lines that look like errors."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    chosen = next((line for line in lines if line.startswith("Error: /")), None)
    chosen = chosen or next((line for line in lines if "Error" in line), None)
    return printable(chosen, limit=_REASON_LENGTH) if chosen else "no reason given"


def _literal(path: Path) -> str:
    """Ghostscript reads ``%d`` in an output name as a page number: keep ``%`` literal."""
    return str(path).replace("%", "%%")
