"""The campaign's ledger: for every case, jobs given, accepted, duplicated and lost.

Evidence only: a job is *accepted* when the sandbox stored a fax carrying its marker (the
cover text; on the REST side, a message with that cover page text), a *duplicate* is every
stored fax beyond the first for one marker, and a job is *lost* when it was neither
accepted nor came to an end someone can see (a held or cancelled CUPS job with its
message, a receipt in failed/ or held/ beside its document).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from faxprint.sandbox import SandboxServer
from faxprint.sandbox.rest import RestService


@dataclass(frozen=True)
class Tally:
    """What one case did with its jobs."""

    path: str  # "printer", "hot folder"; "rest printer", ... for the REST transport
    case: str
    jobs: int
    accepted: int
    duplicates: int
    lost: int
    ends: str  # how the jobs ended, e.g. "accepted 1" or "held 1"


LEDGER: list[Tally] = []


def stored_markers(servers: Iterable[SandboxServer]) -> Counter[str]:
    """Count the stored faxes per marker (cover text) over one or more sandboxes."""
    return Counter(str(f.record.get("coverpagetext", "")) for s in servers for f in s.faxes())


def rest_stored_markers(services: Iterable[RestService]) -> Counter[str]:
    """Count the messages the REST side accepted per marker (cover page text)."""
    return Counter(m.cover_text for s in services for m in list(s.messages.values()))


def tally(
    path: str,
    case: str,
    markers: Iterable[str],
    stored: Counter[str],
    ended: Mapping[str, str],
) -> Tally:
    """Record a case: ``ended`` maps a marker to how a job that was not accepted ended."""
    markers = list(markers)
    accepted = [m for m in markers if stored[m] > 0]
    ends: Counter[str] = Counter()
    for marker in markers:
        ends[ended.get(marker) or ("accepted" if stored[marker] else "lost")] += 1
    result = Tally(
        path=path,
        case=case,
        jobs=len(markers),
        accepted=len(accepted),
        duplicates=sum(max(0, stored[m] - 1) for m in markers),
        lost=sum(1 for m in markers if not stored[m] and not ended.get(m)),
        ends=", ".join(f"{what} {n}" for what, n in sorted(ends.items())),
    )
    LEDGER.append(result)
    return result


def table(tallies: Iterable[Tally]) -> list[str]:
    """Render the ledger as text lines, with a total."""
    rows = list(tallies)
    lines = [f"{'path':<15} {'case':<44} jobs accepted dup lost  ends"]
    for t in rows:
        lines.append(
            f"{t.path:<15} {t.case:<44} {t.jobs:>4} {t.accepted:>8} {t.duplicates:>3} "
            f"{t.lost:>4}  {t.ends}"
        )
    total = [sum(getattr(t, f) for t in rows) for f in ("jobs", "accepted", "duplicates", "lost")]
    lines.append(
        f"{'total':<15} {f'{len(rows)} cases':<44} {total[0]:>4} {total[1]:>8} "
        f"{total[2]:>3} {total[3]:>4}"
    )
    return lines


def save(tallies: Iterable[Tally], where: str | os.PathLike[str]) -> Path:
    """Write the ledger as JSON (for the README's numbers)."""
    path = Path(where)
    path.write_text(json.dumps([asdict(t) for t in tallies], indent=1) + "\n")
    return path
