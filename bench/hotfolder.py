"""3. Hot-folder latency and 4. throughput, with ``faxprint watch`` as its own process.

Latency: a document is moved into the folder, then its ticket is renamed in (what a
program should do); the clock runs from the ticket's rename to the sandbox logging the
accepted request (both clocks are this machine's monotonic clock). One drop at a time,
after a random pause (up to one polling interval): drops made right after the previous
upload would fall in step with the polling and all wait the same, longest, time.
The baseline is the upload alone: ``curl -F`` posting the same document.

Throughput: every ticket of a batch is dropped at once to a sandbox that takes 50 ms per
request; the watcher with the configured concurrency against the same watcher uploading
one job after another (concurrency 1). The sandbox counts the requests in flight.
"""

from __future__ import annotations

import os
import random
import subprocess
import threading
import time
from pathlib import Path

from bench.common import (
    PYTHON,
    RECIPIENT,
    REPO,
    Row,
    Sandbox,
    config_text,
    curl_command,
    make_pdf,
    median,
    percentile,
    run,
    write_config,
)

LATENCY_P50 = 0.100
LATENCY_P99 = 1.0
POLL_SECONDS = 0.5
STABLE_SECONDS = 0.5
SPEED_UP = 4.0
CONCURRENCY = 8
SERVICE_DELAY = 0.05


class Watch:
    """``faxprint watch`` on a folder, its output drained by a thread (and kept)."""

    def __init__(self, work: Path, url: str, settings: str) -> None:
        self.root = work / "drop"
        self.root.mkdir()
        self.staging = work / "staging"  # same file system: documents arrive by rename
        self.staging.mkdir()
        hotfolder = f"[hotfolder]\nstable_seconds = {STABLE_SECONDS}\n{settings}"
        self.config = write_config(
            work / "faxprint.toml", config_text(work / "journal.sqlite", url, hotfolder)
        )
        self.output: list[str] = []
        self.ready = threading.Event()
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> Watch:
        command = [PYTHON, "-m", "faxprint", "--config", str(self.config), "watch", str(self.root)]
        self.process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        threading.Thread(target=self._drain, daemon=True).start()
        if not self.ready.wait(60):
            raise RuntimeError(f"the watcher did not start: {''.join(self.output)}")
        return self

    def _drain(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if "event=started" in line:
                self.ready.set()

    def __exit__(self, *exc_info: object) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(60)

    def place(self, name: str, pdf: bytes) -> None:
        """Put a document in the folder: written elsewhere, renamed in."""
        (self.staging / f"{name}.pdf").write_bytes(pdf)
        os.rename(self.staging / f"{name}.pdf", self.root / f"{name}.pdf")

    def write_ticket(self, name: str) -> Path:
        """Write a ticket under a temporary name in the folder (as the README says)."""
        temporary = self.root / f".{name}.tmp"
        temporary.write_text(f'{{"to": ["{RECIPIENT}"]}}')
        return temporary

    def drop(self, name: str, temporary: Path) -> float:
        """Rename the ticket into place; return the moment it was dropped."""
        moment = time.perf_counter()
        os.rename(temporary, self.root / f"{name}.fax.json")
        return moment


#: (mode, how documents arrive, drops (full run), target on p50 and p99 in seconds)
LATENCY_CASES = (
    ("inotify", "with its document", 200, (LATENCY_P50, LATENCY_P99)),
    ("polling", "after its documents", 100, (POLL_SECONDS + 0.1,) * 2),
    ("polling", "with its document", 50, None),
)


def latency(work: Path, quick: bool) -> list[Row]:
    pdf = make_pdf(work / "one-page.pdf").read_bytes()
    pauses = random.Random(6)  # noqa: S311 -- the same pauses in every run, not secrets
    rows = []
    for number, (mode, documents, drops, targets) in enumerate(LATENCY_CASES):
        count = 10 if quick else drops
        folder = work / f"case-{number}"
        folder.mkdir()
        with Sandbox(folder / "store") as sandbox:
            curl = [
                run(curl_command(sandbox.url, work / "one-page.pdf")).seconds for _ in range(21)
            ]
            settings = f"polling = true\npoll_seconds = {POLL_SECONDS}\n" * (mode == "polling")
            watch = Watch(folder, sandbox.url, settings)
            first = documents == "after its documents"
            for job in range(count if first else 0):
                watch.place(f"job{job}", pdf)
            with watch:
                seconds = _drops(watch, sandbox, pdf, count, pauses, first=first)
        base = median(curl) * 1000
        for name, fraction, limit in zip(
            ("p50", "p99"), (0.5, 0.99), targets or (None, None), strict=True
        ):
            value = percentile(seconds, fraction) * 1000
            rows.append(Row(
                "3 hot-folder latency", f"{mode}, ticket {documents}, {name} of {count} drops",
                "curl -F (upload alone)", base, value, "ms",
                f"< {limit * 1000:.0f} ms" if limit else
                f"reported (at most poll + stable_seconds: {POLL_SECONDS + STABLE_SECONDS:.1f} s)",
                value < limit * 1000 if limit else None,
            ))  # fmt: skip
    return rows


def _drops(
    watch: Watch, sandbox: Sandbox, pdf: bytes, count: int, pauses: random.Random, *, first: bool
) -> list[float]:
    """Drop ``count`` tickets one at a time, each after a random pause; return latencies."""
    seconds = []
    already = len(sandbox.logged)
    for number in range(count):
        name = f"job{number}"
        time.sleep(pauses.uniform(0, POLL_SECONDS))
        if not first:
            watch.place(name, pdf)
        dropped = watch.drop(name, watch.write_ticket(name))
        moment, record = sandbox.wait_count(already + number + 1, timeout=60)[-1]
        if record.code != 0:
            raise RuntimeError(f"drop {number} was not accepted: {record.reason}")
        seconds.append(moment - dropped)
    return seconds


def throughput(work: Path, quick: bool) -> list[Row]:
    count = 100 if quick else 1000
    pdf = make_pdf(work / "one-page.pdf").read_bytes()
    seconds: dict[int, float] = {}
    peaks: dict[int, int] = {}
    for concurrency in (1, CONCURRENCY):
        folder = work / f"concurrency-{concurrency}"
        folder.mkdir()
        with Sandbox(folder / "store", delay=SERVICE_DELAY) as sandbox:
            with Watch(folder, sandbox.url, f"concurrency = {concurrency}\n") as watch:
                names = [f"job{number}" for number in range(count)]
                tickets = {}
                for name in names:
                    watch.place(name, pdf)
                    tickets[name] = watch.write_ticket(name)
                started = min(watch.drop(name, tickets[name]) for name in names)
                logged = sandbox.wait_count(count, timeout=count * 2)
            refused = [record for _, record in logged if record.code != 0]
            if refused or len(sandbox.faxes()) != count:
                raise RuntimeError(
                    f"{len(refused)} refused, {len(sandbox.faxes())} of {count} stored"
                )
            seconds[concurrency] = max(moment for moment, _ in logged) - started
            peaks[concurrency] = sandbox.max_in_flight
    speed_up = seconds[1] / seconds[CONCURRENCY]
    return [
        Row("4 hot-folder throughput", f"{count} tickets at once, 50 ms service, "
            f"concurrency {CONCURRENCY}", "one after another", seconds[1],
            seconds[CONCURRENCY], "s", f">= {SPEED_UP:.0f}x faster", speed_up >= SPEED_UP),
        Row("4 hot-folder throughput", "most uploads in flight", "configured concurrency",
            CONCURRENCY, peaks[CONCURRENCY], "", f"<= {CONCURRENCY}",
            peaks[CONCURRENCY] <= CONCURRENCY),
    ]  # fmt: skip
