#!/usr/bin/python3
"""A CUPS backend for tests: record what cupsd hands a backend, then exit.

Installed by the test fixtures into a private cupsd's backend folder, with the first line
replaced by an interpreter that user lp can run and ``RECORD_DIR`` filled in. Each run
writes ``RECORD_DIR/job-<id>/run-<n>/``: ``data`` (the document bytes, from the file
argument or stdin), ``record.json`` (argv, environment, identity) and, last, ``done``.

The device URI may carry ``?exit=N`` to make the run end with status N (for retry tests).
Standard library only: it runs as lp under whatever interpreter the fixture chose.
"""

import json
import os
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

RECORD_DIR = "@RECORD_DIR@"
SCHEME = "faxrecord"
ENV_NAMES = (
    "DEVICE_URI",
    "CONTENT_TYPE",
    "FINAL_CONTENT_TYPE",
    "PPD",
    "PRINTER",
    "USER",
    "CLASS",
    "CUPS_SERVER",
    "TMPDIR",
    "HOME",
    "LANG",
    "AUTH_INFO_REQUIRED",
    "CUPS_MAX_MESSAGE",
    "SOFTWARE",
)
CHUNK = 65536


def new_run_dir(job_id):
    """Create and return the next free run folder of this job."""
    job_dir = os.path.join(RECORD_DIR, "job-" + job_id)
    os.makedirs(job_dir, exist_ok=True)
    n = 1
    while True:
        run_dir = os.path.join(job_dir, f"run-{n}")
        try:
            os.mkdir(run_dir)
        except FileExistsError:
            n += 1
        else:
            return run_dir


def copy_document(argv, target):
    """Copy the document (file argument or stdin) to target; return its source and size."""
    if len(argv) > 6:
        with open(argv[6], "rb") as source:
            return "file", copy_stream(source, target)
    return "stdin", copy_stream(sys.stdin.buffer, target)


def copy_stream(source, target):
    """Copy source to the file target in chunks; return the byte count."""
    size = 0
    with open(target, "wb") as out:
        while chunk := source.read(CHUNK):
            out.write(chunk)
            size += len(chunk)
    return size


def main(argv):
    """Record one backend run; discovery mode when called without arguments."""
    if len(argv) == 1:
        print(f'network {SCHEME} "Unknown" "faxprint test recorder"')
        return 0
    if len(argv) not in (6, 7):
        print(f"ERROR: usage: {SCHEME} job-id user title copies options [file]", file=sys.stderr)
        return 1
    run_dir = new_run_dir(argv[1])
    source, size = copy_document(argv, os.path.join(run_dir, "data"))
    ident = subprocess.run(["/usr/bin/id"], capture_output=True, text=True, check=False)
    record = {
        "argv": argv,
        "env": {name: os.environ[name] for name in ENV_NAMES if name in os.environ},
        "uid": os.getuid(),
        "euid": os.geteuid(),
        "gid": os.getgid(),
        "id": ident.stdout.strip(),
        "source": source,
        "size": size,
    }
    with open(os.path.join(run_dir, "record.json"), "w", encoding="utf-8") as out:
        json.dump(record, out, ensure_ascii=False, indent=1)
    query = parse_qs(urlsplit(os.environ.get("DEVICE_URI", "")).query)
    status = int(query.get("exit", ["0"])[0])
    with open(os.path.join(run_dir, "done"), "w", encoding="utf-8") as out:
        out.write(str(status))
    print(f"INFO: recorded {size} bytes from {source}", file=sys.stderr, flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
