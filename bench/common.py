"""What every benchmark shares: result rows, the sandbox, configs, documents, child runs.

A benchmark returns :class:`Row` objects: faxprint and its baseline measured in the same
run, their ratio and the target. Absolute times on a shared machine are noise; ratios of
runs interleaved in one session are what the targets speak of.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from faxprint.sandbox import SandboxServer
from faxprint.sandbox.store import RequestRecord

REPO = Path(__file__).resolve().parent.parent
BACKEND = REPO / "cups-backend" / "faxprint"
PYTHON = sys.executable
GNU_TIME = Path("/usr/bin/time")
CURL = Path("/usr/bin/curl")
MB = 1024 * 1024

#: The sandbox's built-in account and a number it accepts.
USERNAME = "15555550100"
PASSWORD = "sandbox"  # noqa: S105 (the sandbox's public test password)
RECIPIENT = "5556465589"


@dataclass(frozen=True)
class Row:
    """One measured line: faxprint against its baseline, and the target it must meet."""

    bench: str
    what: str
    baseline_label: str
    baseline: float
    faxprint: float
    unit: str
    target: str
    met: bool | None  # None: reported, no target on this row

    @property
    def ratio(self) -> float:
        return self.faxprint / self.baseline if self.baseline else float("inf")


def table(rows: Sequence[Row]) -> str:
    """Render rows as a Markdown table (it reads fine in a terminal too)."""
    lines = [
        "| bench | what | baseline | baseline value | faxprint | ratio | target | met |",
        "|---|---|---|---:|---:|---:|---|---|",
    ]
    for row in rows:
        met = {True: "yes", False: "**NO**", None: "-"}[row.met]
        lines.append(
            f"| {row.bench} | {row.what} | {row.baseline_label} | {_num(row.baseline)} {row.unit}"
            f" | {_num(row.faxprint)} {row.unit} | {row.ratio:.2f} | {row.target} | {met} |"
        )
    return "\n".join(lines)


def _num(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (p99 of 200 values is the 198th smallest)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


class Sandbox(SandboxServer):
    """The sandbox, in this process, noting when each request was logged (monotonic)."""

    def __init__(self, store: Path, **kwargs: float) -> None:
        super().__init__(port=0, store=store, **kwargs)  # type: ignore[arg-type]
        self.logged: list[tuple[float, RequestRecord]] = []
        self.arrived = threading.Condition()

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def record(self, record: RequestRecord) -> None:
        super().record(record)
        with self.arrived:
            self.logged.append((time.perf_counter(), record))
            self.arrived.notify_all()

    def prune(self) -> None:
        """Remove the stored faxes (large benchmarks would fill the disk)."""
        for fax in self.faxes():
            shutil.rmtree(fax.path)

    def wait_count(self, count: int, timeout: float = 600.0) -> list[tuple[float, RequestRecord]]:
        """Wait until ``count`` requests were logged; return them (at least count)."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.logged) >= count, timeout):
                raise TimeoutError(f"{len(self.logged)} of {count} requests after {timeout} s")
            return list(self.logged)


def config_text(journal: Path, url: str, extra: str = "") -> str:
    """One account at the sandbox, no retries (a benchmark's failure must show)."""
    return (
        f'journal = "{journal}"\n[retry]\ntries = 1\n'
        f'[accounts.default]\nurl = "{url}"\nusername = "{USERNAME}"\n'
        f'password = "{PASSWORD}"\nread_timeout = 600\n{extra}'
    )


def write_config(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def make_pdf(path: Path, size: int = 0, pages: int = 1) -> Path:
    """A PDF of ``pages`` pages; the first page's content stream holds about ``size`` bytes."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject

    writer = PdfWriter()
    for number in range(pages):
        page = writer.add_blank_page(width=612, height=792)
        content = DecodedStreamObject()
        filler = b"% filler to make a large document\n" * (size // 35 if number == 0 else 0)
        content.set_data(filler + b"BT /F1 24 Tf 72 700 Td (faxprint benchmark) Tj ET\n")
        page[NameObject("/Contents")] = writer._add_object(content)
    with path.open("wb") as stream:
        writer.write(stream)
    return path


def curl_command(url: str, document: Path) -> list[str]:
    """``curl -F``: the same fields and file as faxprint posts for one recipient."""
    return [
        str(CURL), "-sS", "-o", "/dev/null", "--fail",
        "-F", f"Username={USERNAME}", "-F", f"Password={PASSWORD}",
        "-F", f"Recipient={RECIPIENT}", "-F", "Coverpage=Default", "-F", "Resolution=Low",
        "-F", f"Attachment=@{document};type=application/pdf", url,
    ]  # fmt: skip


@dataclass(frozen=True)
class Run:
    """One child process run: wall seconds, peak RSS in MB (under GNU time), exit status."""

    seconds: float
    peak_mb: float
    status: int
    stderr: str


def run(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdin: Path | None = None,
    measure_memory: bool = False,
    work: Path | None = None,
) -> Run:
    """Run a command to its end; with measure_memory, under ``/usr/bin/time`` for peak RSS.

    GNU time matters: a child forked from this (large) process would report this
    process's high-water mark as its own; a child of ``time`` reports its own.
    """
    report = None
    if measure_memory:
        assert work is not None
        report = work / f"time-{threading.get_ident()}.out"
        command = [str(GNU_TIME), "-f", "%M", "-o", str(report), *command]
    with stdin.open("rb") if stdin else open(os.devnull, "rb") as feed:
        started = time.perf_counter()
        result = subprocess.run(
            list(command), env=dict(env) if env is not None else None, stdin=feed,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
        )  # fmt: skip
        elapsed = time.perf_counter() - started
    peak = int(report.read_text().split()[-1]) / 1024 if report else 0.0
    return Run(elapsed, peak, result.returncode, result.stderr.decode(errors="replace"))


def interleaved(
    contenders: Mapping[str, Callable[[], Run]], rounds: int, warmup: int = 1
) -> dict[str, list[Run]]:
    """Run each contender once per round, in turn, after warm-up rounds (page cache)."""
    results: dict[str, list[Run]] = {name: [] for name in contenders}
    for number in range(warmup + rounds):
        for name, contender in contenders.items():
            outcome = contender()
            if outcome.status != 0:
                raise RuntimeError(f"{name} failed with status {outcome.status}: {outcome.stderr}")
            if number >= warmup:
                results[name].append(outcome)
    return results
