"""The watcher's log: one ``key=value`` line per job event, from a real ``faxprint watch``
process, that scripts and journald readers can parse back."""

from __future__ import annotations

import logging
import queue
import shlex
import threading
from pathlib import Path

from faxprint.logfmt import Formatter, kv, value
from faxprint.sandbox import Fault, SandboxServer
from tests.support.configs import hot_folder_config
from tests.support.helpers import drop_ticket, make_pdf, started, watch_process


def parse(line: str) -> dict[str, str]:
    """Read a logfmt line back: every token must be key=value."""
    fields = {}
    for token in shlex.split(line):
        key, sep, val = token.partition("=")
        assert sep and key.isidentifier(), f"not key=value: {token!r} in {line!r}"
        fields[key] = val
    return fields


def test_values_are_quoted_only_when_they_must_be_and_never_break_the_line() -> None:
    assert kv(event="done", job="20261126-inv42", pages=3, none=None) == (
        "event=done job=20261126-inv42 pages=3"
    )
    assert value("") == '""'
    assert value('a "b" c=d') == '"a \\"b\\" c=d"'
    hostile = 'x.pdf\nlevel=ERROR event=forged "\\'
    line = kv(event="claimed", file=hostile)
    assert "\n" not in line
    assert parse(line) == {"event": "claimed", "file": 'x.pdf\\nlevel=ERROR event=forged "\\'}


def test_a_record_that_is_no_event_still_parses() -> None:
    record = logging.LogRecord("pypdf", logging.WARNING, "", 0, "odd xref at %d", (12,), None)
    assert parse(Formatter().format(record)) == {
        "level": "WARNING", "event": "log", "logger": "pypdf", "message": "odd xref at 12",
    }  # fmt: skip


def test_the_watcher_logs_one_parsable_line_per_job_event(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    root = tmp_path / "drop"
    process = watch_process(hot_folder_config(tmp_path, sandbox.url), root)
    lines: queue.Queue[str] = queue.Queue()
    reader: threading.Thread | None = None
    try:
        first = parse(started(process).splitlines()[-1])
        assert (first["event"], first["watching"], first["folder"]) == (
            "started", "inotify", str(root),
        )  # fmt: skip
        assert process.stdout is not None
        stdout = process.stdout
        reader = threading.Thread(target=lambda: [lines.put(x) for x in stdout], daemon=True)
        reader.start()
        make_pdf(root / "ok.pdf", pages=2)
        drop_ticket(root, "ok", {"to": ["5556465589"]})
        ended = _until(lines, "done")
        assert (ended["outcome"], ended["pages"], ended["recipients"], ended["attempts"]) == (
            "accepted", "2", "1", "1",
        )  # fmt: skip
        assert ended["level"] == "INFO" and ended["message"] == "fax accepted by the service"
        make_pdf(root / "bad.pdf")
        drop_ticket(root, "bad", {"to": ["not a number"]})
        failed = _until(lines, "failed")
        assert failed["level"] == "WARNING" and failed["outcome"] == "invalid"
        sandbox.faults.push(Fault.accept_then_drop())
        make_pdf(root / "lost.pdf")
        drop_ticket(root, "lost", {"to": ["5556465589"]})
        held = _until(lines, "held")
        assert held["outcome"] == "uncertain" and "answer" in held["message"]
    finally:
        process.terminate()
        process.wait(60)
        if reader is not None:
            reader.join(timeout=30)  # it ends at the end of the output
        assert process.stdout is not None
        process.stdout.close()


def _until(lines: queue.Queue[str], name: str) -> dict[str, str]:
    """Read lines (each must parse) until the event ``name``; return its fields."""
    seen = []
    while True:
        line = lines.get(timeout=60)
        fields = parse(line)
        seen.append(fields["event"])
        assert "job" in fields or fields["event"] not in ("claimed", "done", "failed", "held")
        if fields["event"] == name:
            assert seen[0] == "claimed", seen
            return fields
