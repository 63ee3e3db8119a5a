"""Run the benchmarks and print one table: baseline, faxprint, ratio and target per row.

    python -m bench [--quick] [--save FILE] [NAME ...]

NAME is any of startup, large, latency, throughput, cupsd, journal, codes (default: all). The
cupsd benchmark starts a private cupsd (as root: its backends run as lp). ``--quick``
runs few rounds, to check that every benchmark works (CI): its ratios are not reliable,
and missed targets do not fail it. Without it, the exit status is 1 when a target is
missed, 2 when a benchmark fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import codes, cupsd, hotfolder, journal, large, startup
from bench.common import Row, table

BENCHES: dict[str, Callable[[Path, bool], list[Row]]] = {
    "startup": startup.bench,
    "large": large.bench,
    "latency": hotfolder.latency,
    "throughput": hotfolder.throughput,
    "cupsd": cupsd.bench,
    "journal": journal.bench,
    "codes": codes.bench,
}


def machine() -> str:
    """Say when and where the numbers were taken."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return (
        f"{time.strftime('%Y-%m-%d')}, {platform.platform(terse=True)}, "
        f"{os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", choices=[[], *BENCHES])
    parser.add_argument("--quick", action="store_true", help="few rounds: a smoke test")
    parser.add_argument("--save", type=Path, help="also write the table to FILE (Markdown)")
    args = parser.parse_args()
    rows: list[Row] = []
    failed = []
    for name in args.names or BENCHES:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f"faxprint-bench-{name}-", dir="/tmp") as work:
            Path(work).chmod(0o755)  # the cupsd benchmark's lp must reach its files
            try:
                rows += BENCHES[name](Path(work), args.quick)
            except Exception:
                traceback.print_exc()
                failed.append(name)
        print(f"bench: {name} took {time.perf_counter() - started:.0f} s", file=sys.stderr)
    report = f"{machine()}{' (quick)' if args.quick else ''}\n\n{table(rows)}\n"
    print(report)
    if args.save:
        args.save.write_text(report)
    missed = [row for row in rows if row.met is False]
    if failed:
        print(f"bench: failed: {', '.join(failed)}", file=sys.stderr)
        return 2
    if missed and not args.quick:
        print(f"bench: {len(missed)} target(s) missed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
