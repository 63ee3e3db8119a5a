"""6. The journal: status queries on 10,000 recorded jobs, the file's size, and the
service's queue on PostgreSQL against SQLite (1,000 queued jobs claimed and recorded).

Jobs are recorded through the journal's own API, as the submitter does (begin, one
attempt, accepted; every 50th is left uncertain). The baseline is the same query on a
journal of 100 jobs: the ratio shows how the query grows with the journal. The file size
is set beside the same jobs written as JSON lines (what a plain log would take).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from bench.common import PYTHON, REPO, Row, config_text, median, run, write_config
from faxprint.cli import jobs
from faxprint.jobview import as_json
from faxprint.journal import Journal, State, WorkItem

QUERY_LIMIT_MS = 50.0
SMALL = 100


def fill(path: Path, count: int) -> tuple[float, int]:
    """Record ``count`` jobs; return the seconds it took and the JSON-lines size."""
    plain = 0
    started = time.perf_counter()
    with Journal(path) as journal:
        for number in range(count):
            key = f"hotfolder:bench-{number:06d}"
            journal.begin(
                key, source="hotfolder", account="default", user="erp",
                recipients=[f"55564{number % 100000:05d}|Customer {number}"],
                documents=[f"invoice-{number}.pdf"], pages=1 + number % 4,
                title=f"20261126-bench-{number}",
            )  # fmt: skip
            journal.start_attempt(key)
            if number % 50 == 0:
                job = journal.finish(key, State.UNCERTAIN, message="the answer was lost")
            else:
                job = journal.finish(key, State.ACCEPTED, code=0, message="accepted")
            plain += len(json.dumps(as_json(job, time.time()))) + 1
    return time.perf_counter() - started, plain


def _query(path: Path, state: State | None, rounds: int) -> float:
    """Median milliseconds to open the journal, read the newest 20 jobs and close it."""
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        with Journal(path) as journal:
            jobs.table(journal.recent(20, state=state))
        seconds.append(time.perf_counter() - started)
    return median(seconds) * 1000


def cycle(journal: Journal, count: int) -> float:
    """Seconds to queue ``count`` faxes, then claim each, record its one accepted attempt
    and settle it, as ``faxprint serve`` does (take, begin, start, finish, finish_work)."""
    started = time.perf_counter()
    journal.enqueue([WorkItem(f"send:q{n:05d}", "fax", "default", "send:erp", "{}", "/q",
                              queued=float(n)) for n in range(count)])  # fmt: skip
    for item in journal.work(ready_at=time.time()):
        if journal.take(item.key) is None:
            continue
        journal.begin(item.key, source="send", account="default", recipients=["5556465589"],
                      documents=["a.pdf"], pages=1, user="erp")  # fmt: skip
        journal.start_attempt(item.key)
        journal.finish(item.key, State.ACCEPTED, code=0, message="accepted")
        journal.finish_work(item.key)
    return time.perf_counter() - started


def _queue_rows(work: Path) -> list[Row]:
    """The queue on a private PostgreSQL (a Unix socket, every commit synced to disk, as
    the SQLite file's are: synchronous=FULL) against the SQLite file."""
    from faxprint.journal.postgres import PgJournal
    from tests.support.postgres import private_postgres

    count = 1000
    with Journal(work / "queue" / "journal.sqlite") as journal:
        sqlite_seconds = cycle(journal, count)
    with (
        private_postgres(durable=True) as server,
        PgJournal(server.database(), work / "pg" / "j") as journal,
    ):
        pg_seconds = cycle(journal, count)
    return [Row("6 journal", f"the queue: {count} faxes queued, claimed, recorded (PostgreSQL)",
                "SQLite", sqlite_seconds, pg_seconds, "s", "reported", None)]  # fmt: skip


def bench(work: Path, quick: bool) -> list[Row]:
    count = 1000 if quick else 10_000
    rounds = 5 if quick else 31
    paths = {SMALL: work / "small" / "journal.sqlite", count: work / "big" / "journal.sqlite"}
    plain = {}
    for size, path in paths.items():
        fill_seconds, plain[size] = fill(path, size)
    rows = []
    for state, label in ((None, "newest 20"), (State.UNCERTAIN, "newest 20 uncertain")):
        small, big = (_query(paths[size], state, rounds) for size in (SMALL, count))
        rows.append(Row("6 journal", f"open + {label} of {count} jobs (median of {rounds})",
                        f"{SMALL} jobs", small, big, "ms", f"< {QUERY_LIMIT_MS:.0f} ms",
                        big < QUERY_LIMIT_MS))  # fmt: skip
    commands = {}
    for size, path in paths.items():
        config = write_config(
            path.parent / "faxprint.toml", config_text(path, "http://127.0.0.1:9/")
        )
        argv = [PYTHON, "-m", "faxprint", "--config", str(config), "status"]
        env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO)}
        commands[size] = median([run(argv, env=env).seconds for _ in range(rounds)]) * 1000
    rows.append(Row("6 journal", f"`faxprint status` command, {count} jobs", f"{SMALL} jobs",
                    commands[SMALL], commands[count], "ms", "reported", None))  # fmt: skip
    size = sum(os.path.getsize(p) for p in paths[count].parent.glob("journal.sqlite*"))
    rows.append(Row("6 journal", f"file size, {count} jobs ({size / count:.0f} bytes a job)",
                    "the same jobs as JSON lines", plain[count] / 1024, size / 1024, "KiB",
                    "reported", None))  # fmt: skip
    rows.append(Row("6 journal", f"recording {count} jobs (3 transactions each)", "-",
                    fill_seconds, fill_seconds, "s", "reported", None))  # fmt: skip
    return rows + _queue_rows(work)
