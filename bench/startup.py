"""1. Backend start-to-accepted: one one-page PDF, the backend run as cupsd runs it.

Three contenders post the same fields and file to the same sandbox, one after another in
each round: the ``cups-backend/faxprint`` executable with a job's argv and environment
(data on stdin), the floor of faxprint's stack (``bench/floor.py``: import requests and
pypdf, count the pages, post), and ``curl -F``. Each backend run is a new job (its own
job id and job-uuid), so the journal never short-cuts it.
"""

from __future__ import annotations

import itertools
import os
import uuid
from pathlib import Path

from bench.common import (
    BACKEND,
    PYTHON,
    RECIPIENT,
    REPO,
    Row,
    Run,
    Sandbox,
    config_text,
    curl_command,
    interleaved,
    make_pdf,
    median,
    run,
    write_config,
)

TARGET = 1.3


def bench(work: Path, quick: bool) -> list[Row]:
    rounds = 3 if quick else 20
    spool = work / "tmp"
    spool.mkdir()
    with Sandbox(work / "store") as sandbox:
        config = write_config(
            work / "faxprint.toml", config_text(work / "journal.sqlite", sandbox.url)
        )
        pdf = make_pdf(work / "one-page.pdf")
        env = {
            "DEVICE_URI": "faxprint://default",
            "PRINTER": "Fax",
            "TMPDIR": str(spool),
            "FAXPRINT_CONFIG": str(config),
            "PATH": os.environ["PATH"],
        }
        jobs = itertools.count(1)

        def backend() -> Run:
            options = f"fax-to={RECIPIENT} job-uuid=urn:uuid:{uuid.uuid4()}"
            argv = [PYTHON, str(BACKEND), str(next(jobs)), "ann", "benchmark", "1", options]
            return run(argv, env=env, stdin=pdf)

        results = interleaved(
            {
                "backend": backend,
                "floor": lambda: run(
                    [PYTHON, str(REPO / "bench" / "floor.py"), sandbox.url, str(pdf)]
                ),
                "curl": lambda: run(curl_command(sandbox.url, pdf)),
            },
            rounds,
        )
        accepted = sum(1 for _, record in sandbox.logged if record.code == 0)
    if accepted != len(sandbox.logged):
        raise RuntimeError(f"only {accepted} of {len(sandbox.logged)} requests were accepted")
    seconds = {name: median([r.seconds for r in runs]) * 1000 for name, runs in results.items()}
    ratio = seconds["backend"] / seconds["floor"]
    return [
        Row("1 start-up", f"one-page PDF, median of {rounds}", "requests+pypdf floor",
            seconds["floor"], seconds["backend"], "ms", f"<= {TARGET}x", ratio <= TARGET),
        Row("1 start-up", f"one-page PDF, median of {rounds}", "curl -F",
            seconds["curl"], seconds["backend"], "ms", "reported", None),
    ]  # fmt: skip
