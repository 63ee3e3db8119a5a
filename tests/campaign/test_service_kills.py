"""``faxprint serve`` SIGKILLed at random points of a stream of queued faxes, over and
over, restarted each time, until every fax has ended: nothing lost, nothing sent twice
that the journal could have known about; an upload cut by a kill is held as uncertain
(FaxOut keeps no list to settle it from), never sent again on its own.

The sandbox answers each upload after a short delay, so the kills land before uploads,
in their middle, between the service's acceptance and the journal's record, and while
the queue's items are taken and settled.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from faxprint.journal import Journal, State
from faxprint.sandbox import SandboxServer
from tests.conftest import REPO
from tests.support.configs import faxout_account, write_config
from tests.support.helpers import make_pdf, wait_for
from tests.support.secrets import TEST_ACCOUNTS
from tests.support.service import ServiceProcess

pytestmark = pytest.mark.slow

FAXES = 30
ENDED = {State.ACCEPTED, State.UNCERTAIN}


def _queue(config: Path, pdf: Path, numbers: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for number in numbers:
        done = subprocess.run([sys.executable, "-m", "faxprint", "--config", str(config), "send",
                               "--queue", "--to", number, str(pdf)], capture_output=True,
                              text=True, env=env, timeout=60, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr


def test_the_service_killed_over_and_over_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path,
) -> None:
    chance = random.Random(int(os.environ.get("FAXPRINT_CAMPAIGN_SEED", "19")))
    numbers = [f"55560000{n:02d}" for n in range(FAXES)]
    journal = tmp_path / "journal.sqlite"
    with SandboxServer(port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS,
                       delay=0.15) as sandbox:  # fmt: skip
        config = write_config(tmp_path, faxout_account(sandbox.url),
                              retry={"tries": 3, "backoff": 0.2},
                              extra="[service]\nworkers = 2\n")  # fmt: skip
        _queue(config, make_pdf(tmp_path / "a.pdf"), numbers)

        def ended() -> bool:
            with Journal(journal) as reading:
                jobs = reading.recent(100)
            return len(jobs) == FAXES and all(j.state in ENDED for j in jobs)

        kills = 0
        while not ended() and kills < 25:
            service = ServiceProcess(config, journal, log=tmp_path / f"serve{kills}.log")
            killed = threading.Event()
            killed.wait(chance.uniform(0.05, 0.6))  # a random point of the stream
            service.kill()
            kills += 1
        last = ServiceProcess(config, journal, log=tmp_path / "serve-last.log")
        try:
            wait_for(ended, timeout=120, what=last.said)
        finally:
            assert last.stop() == 0, last.said()
        with Journal(journal) as reading:
            states = {j.recipients[0]: j.state for j in reading.recent(100)}
        sent = [r.recipients[0] for r in sandbox.requests if r.status == 200 and r.code == 0]
    assert kills >= 5, "the stream ended before the service was killed a few times"
    assert len(sent) == len(set(sent)), "a fax was sent twice"
    accepted = {n for n, s in states.items() if s is State.ACCEPTED}
    uncertain = {n for n, s in states.items() if s is State.UNCERTAIN}
    assert set(states) == set(numbers)  # nothing lost
    # What the journal says was accepted was; what else was sent is held as uncertain.
    assert accepted <= set(sent) <= accepted | uncertain, states
    # At most the uploads in flight at each kill (2 workers) are uncertain.
    assert len(uncertain) <= 2 * kills
    left = [p for p in (tmp_path / "queue").iterdir()] if (tmp_path / "queue").exists() else []
    assert len(left) == len(uncertain)  # the documents of held faxes kept, no others
