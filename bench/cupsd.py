"""5. Through a real cupsd: ``lp`` to sandbox receipt, faxprint's queue against a curl queue.

A private cupsd (tests/support/cupsd.py: its own folder, port and socket; the system's filters)
gets three queues with faxprint's PPD, so all run the same filter chain: one with
faxprint's backend (``faxprint install``), one with the shell backend an admin would
write (spool, then ``curl -F``), and one with the floor of any Python backend
(bench/floor.py: import requests and pypdf, count the pages, post). Jobs take turns, one
at a time; each is timed from just before ``lp`` to the sandbox logging the accepted
request. A second round runs faxprint's queue again with ``faxprint serve`` running (as lp,
as its systemd unit does), interleaved with the curl queue: the printed job is handed to
the warm service, which sends it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

from bench.common import (
    PASSWORD,
    PYTHON,
    RECIPIENT,
    REPO,
    USERNAME,
    Row,
    Sandbox,
    config_text,
    make_pdf,
    median,
)
from tests.support.cupsd import PrivateCupsd, make_faxprint_root
from tests.support.service import ServiceProcess

TARGET = 1.5
FAXPRINT_QUEUE = "FaxBench"
CURL_QUEUE = "CurlBench"
FLOOR_QUEUE = "FloorBench"
SERVED = "served"  # faxprint's queue, faxprint serve running

#: The floor of any Python backend (bench/floor.py: requests and pypdf), as a backend.
FLOOR_BACKEND = """#!/bin/sh
[ $# -eq 0 ] && { echo 'network floorfax "Unknown" "requests+pypdf floor"'; exit 0; }
if [ $# -ge 6 ]; then exec @PYTHON@ @FLOOR@ @URL@ < "$6"; fi
exec @PYTHON@ @FLOOR@ @URL@
"""

CURL_BACKEND = """#!/bin/sh
# The simplest fax backend: spool the job, post it with curl -F.
[ $# -eq 0 ] && { echo 'network curlfax "Unknown" "curl -F shell backend"'; exit 0; }
spool=$(mktemp) || exit 1
if [ $# -ge 6 ]; then cp "$6" "$spool"; else cat > "$spool"; fi || exit 1
curl -sS -o /dev/null --fail -F Username=@USERNAME@ -F Password=@PASSWORD@ \\
    -F Recipient=@RECIPIENT@ -F Coverpage=Default -F Resolution=Low \\
    -F "Attachment=@$spool;type=application/pdf;filename=doc.pdf" @URL@
status=$?
rm -f "$spool"
exit $status
"""


def bench(work: Path, quick: bool) -> list[Row]:
    jobs = 5 if quick else 50
    root = make_faxprint_root()
    try:
        with Sandbox(work / "store") as sandbox:
            config = root / "etc" / "faxprint.toml"
            config.write_text(config_text(root / "spool" / "journal.sqlite", sandbox.url))
            config.chmod(0o640)
            if os.geteuid() == 0:
                os.chown(config, 0, pwd.getpwnam("lp").pw_gid)
            server = PrivateCupsd(backend_env={"FAXPRINT_CONFIG": str(config)})
            server.start()
            try:
                seconds = _run(server, sandbox, config, work, jobs)
            finally:
                server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    rows = []
    for kind, times in seconds.items():
        ours, curl = median(times[FAXPRINT_QUEUE]), median(times[CURL_QUEUE])
        what = f"{kind}: lp to receipt, median of {jobs} jobs"
        if SERVED in times:  # the service's round: its own curl jobs, interleaved with it
            served, curl_then = median(times[SERVED]), median(times[f"{CURL_QUEUE} "])
            rows.append(Row("5 real cupsd", f"{kind}, faxprint serve running: lp to receipt, "
                            f"median of {jobs} jobs", "curl shell-backend queue",
                            curl_then * 1000, served * 1000, "ms", f"<= {TARGET}x",
                            served / curl_then <= TARGET))  # fmt: skip
        rows.append(Row("5 real cupsd", f"{what}, no service", "curl shell-backend queue",
                        curl * 1000, ours * 1000, "ms", "reported", None))  # fmt: skip
        floor = median(times[FLOOR_QUEUE])
        rows.append(Row("5 real cupsd", f"{what}, no service", "requests+pypdf floor queue",
                        floor * 1000, ours * 1000, "ms", "reported", None))  # fmt: skip
    return rows


def _run(
    server: PrivateCupsd, sandbox: Sandbox, config: Path, work: Path, jobs: int
) -> dict[str, dict[str, list[float]]]:
    """Time jobs of two kinds: a PDF (cupsd hands it to the backend unfiltered) and a
    text file (through cupsd's filter chain, texttopdf and pdftopdf)."""
    env = {**server.env(), "FAXPRINT_CONFIG": str(config)}
    install = [PYTHON, "-m", "faxprint", "install", "--name", FAXPRINT_QUEUE]
    install += ["--backend-dir", str(server.backend_dir)]
    subprocess.run(install, env=env, cwd=REPO, check=True, capture_output=True)
    floor = config.parent.parent / "floor.py"  # where lp can read it
    shutil.copyfile(REPO / "bench" / "floor.py", floor)
    floor.chmod(0o644)
    values = {"USERNAME": USERNAME, "PASSWORD": PASSWORD, "RECIPIENT": RECIPIENT,
              "URL": sandbox.url, "PYTHON": PYTHON, "FLOOR": str(floor)}  # fmt: skip
    for scheme, queue, template in (("curlfax", CURL_QUEUE, CURL_BACKEND),
                                    ("floorfax", FLOOR_QUEUE, FLOOR_BACKEND)):  # fmt: skip
        text = template
        for name, value in values.items():
            text = text.replace(f"@{name}@", value)
        server.install_backend(scheme, text)
        server.add_printer(
            queue, ppd=REPO / "ppd" / "faxprint.ppd", device=f"{scheme}://sandbox",
            error_policy="abort-job",
        )  # fmt: skip
    pdf = make_pdf(work / "one-page.pdf")
    letter = work / "letter.txt"
    letter.write_text("Dear customer,\n\nplease find our offer below.\n" * 20)
    seconds: dict[str, dict[str, list[float]]] = {}
    for kind, document in (("PDF", pdf), ("text file", letter)):
        document.chmod(0o644)
        seconds[kind] = _jobs(server, sandbox, document, jobs,
                              [FAXPRINT_QUEUE, CURL_QUEUE, FLOOR_QUEUE])  # fmt: skip
    as_lp = "lp" if os.geteuid() == 0 else None
    service = ServiceProcess(config, config.parent.parent / "spool" / "journal.sqlite",
                             user=as_lp, log=work / "serve.log")  # fmt: skip
    try:
        for kind, document in (("PDF", pdf), ("text file", letter)):
            served = _jobs(server, sandbox, document, jobs, [FAXPRINT_QUEUE, CURL_QUEUE])
            seconds[kind] |= {SERVED: served[FAXPRINT_QUEUE], f"{CURL_QUEUE} ": served[CURL_QUEUE]}
    finally:
        service.stop()
    return seconds


def _jobs(
    server: PrivateCupsd, sandbox: Sandbox, document: Path, jobs: int, queues: list[str]
) -> dict[str, list[float]]:
    seconds: dict[str, list[float]] = {queue: [] for queue in queues}
    for number in range(1 + jobs):  # the first round warms the caches up
        for queue, times in seconds.items():
            count = len(sandbox.logged) + 1
            started = time.perf_counter()
            job = server.lp(queue, document, options={"fax-to": RECIPIENT})
            moment, record = sandbox.wait_count(count, timeout=120)[-1]
            if record.code != 0:
                raise RuntimeError(f"{queue} job {job} was not accepted: {record.reason}")
            server.wait_job(job, timeout=120)
            if number:
                times.append(moment - started)
    return seconds
