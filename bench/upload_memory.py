"""Peak memory and time of uploading large documents: ``faxprint send`` against ``curl -F``.

Both post the same fields and file to the same sandbox (run in this process, on loopback),
once per size and type. Peak RSS comes from GNU time (``/usr/bin/time``, Debian package
``time``): a child of this large process would inherit its high-water mark, a child of
``time`` does not. The target (issue 2): under 64 MB for ``faxprint send``, whatever the
size.

    python bench/upload_memory.py [--sizes 20,200] [--limit-mb 64]

Exit status 1 when a run exceeds the limit or fails.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject

from faxprint.sandbox import SandboxServer

MB = 1024 * 1024


def make_text(path: Path, size: int) -> Path:
    line = b"faxprint benchmark line of a long text document, to be rendered by the service\n"
    with path.open("wb") as stream:
        for _ in range(size // len(line)):
            stream.write(line)
    return path


def make_big_pdf(path: Path, size: int) -> Path:
    """A one-page PDF whose content stream is ``size`` bytes (PDF comments and a text op)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=612, height=792)
    content = DecodedStreamObject()
    filler = b"% filler to make a large document\n"
    content.set_data(filler * (size // len(filler)) + b"BT ET\n")
    page[NameObject("/Contents")] = writer._add_object(content)
    with path.open("wb") as stream:
        writer.write(stream)
    return path


def run(command: list[str], env: dict[str, str], work: Path) -> tuple[float, float, int]:
    """Run a command under GNU time; return (seconds, peak RSS in MB, exit status)."""
    report = work / "time.out"
    started = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(report), *command],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - started
    return elapsed, int(report.read_text().split()[-1]) / 1024, result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="20,200", help="document sizes in MB")
    parser.add_argument("--limit-mb", type=float, default=64.0)
    args = parser.parse_args()
    failures = 0
    with tempfile.TemporaryDirectory(prefix="faxprint-bench-") as tmp:
        work = Path(tmp)
        with SandboxServer(port=0, store=work / "store") as sandbox:
            config = work / "faxprint.toml"
            config.write_text(
                f'journal = "{work / "journal.sqlite"}"\n[retry]\ntries = 1\n'
                f'[accounts.default]\nurl = "{sandbox.url}"\nusername = "15555550100"\n'
                'password = "sandbox"\nread_timeout = 600\n'
            )
            config.chmod(0o600)
            env = {**os.environ, "FAXPRINT_CONFIG": str(config)}
            print(f"{'document':<14}{'faxprint s':>11}{'curl s':>8}{'ratio':>7}"
                  f"{'faxprint MB':>13}{'curl MB':>9}")
            for size_mb in (int(s) for s in args.sizes.split(",")):
                for kind, maker in (("text", make_text), ("pdf", make_big_pdf)):
                    doc = maker(work / f"doc-{size_mb}.{'txt' if kind == 'text' else 'pdf'}", size_mb * MB)
                    fax = run([sys.executable, "-m", "faxprint", "send", "--to", "5556465589", str(doc)], env, work)
                    curl = run(["curl", "-sS", "-o", "/dev/null",
                                "-F", "Username=15555550100", "-F", "Password=sandbox",
                                "-F", "Recipient=5556465589", "-F", "Coverpage=Default",
                                "-F", f"Attachment=@{doc}", sandbox.url], env, work)
                    doc.unlink()
                    ok = fax[2] == 0 and curl[2] == 0 and fax[1] < args.limit_mb
                    failures += not ok
                    print(f"{f'{size_mb} MB {kind}':<14}{fax[0]:>11.2f}{curl[0]:>8.2f}"
                          f"{fax[0] / curl[0]:>7.2f}{fax[1]:>13.1f}{curl[1]:>9.1f}"
                          f"{'' if ok else '  FAILED (status or limit)'}")
            stored = len(sandbox.faxes())
    print(f"faxes stored by the sandbox: {stored}; peak RSS limit {args.limit_mb:.0f} MB")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
