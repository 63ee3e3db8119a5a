"""Two print servers, one queue (issue 22): two ``faxprint serve`` processes, told apart as
servers ``alpha`` and ``beta`` (``$FAXPRINT_SERVER``: one machine plays both), share one
hot folder (polled, as on a network share) and one journal in the tests' private
PostgreSQL. 60 tickets; ``alpha`` is SIGKILLed once 20 faxes were accepted. Every ticket
ends accepted or held as uncertain (at most the uploads alpha had in hand), none is faxed
twice, and once alpha's lease ran out (30 s) ``beta`` has taken its claims over: nothing
is left in ``processing/``. Then PostgreSQL is restarted under a running service: nothing
queued is lost and the service goes on without a person."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from faxprint.lease import LEASE_SECONDS
from faxprint.sandbox import SandboxServer
from tests.conftest import REPO
from tests.support.configs import faxout_account
from tests.support.helpers import drop_ticket, make_pdf, wait_for
from tests.support.postgres import PrivatePostgres
from tests.support.secrets import TEST_ACCOUNTS
from tests.support.service import ServiceProcess

pytestmark = pytest.mark.slow

TICKETS = 60
WORKERS = 2


def _config(folder: Path, server: str, database: str, sandbox: str, hot: Path) -> Path:
    """A server's config: the shared database and hot folder, a local folder of its own."""
    (folder / server).mkdir(mode=0o700, exist_ok=True)
    path = folder / f"{server}.toml"
    path.write_text(
        f'journal = "{database}"\nlocal = "{folder / server}"\n'
        "[retry]\nbackoff = 0.2\nmax_attempts = 50\n"
        + faxout_account(sandbox, read_timeout=30)
        + f'[hotfolder]\npath = "{hot}"\npolling = true\nstable_seconds = 0.2\n'
        f"rescan_seconds = 0.3\nconcurrency = {WORKERS}\n[service]\nworkers = {WORKERS}\n"
        '[web]\nlisten = ""\n'  # no outbox: the test is about sending
    )
    path.chmod(0o600)
    return path


def _serve(config: Path, server: str) -> ServiceProcess:
    local = config.with_suffix("").parent / server / "journal.sqlite"
    return ServiceProcess(config, local, env={"FAXPRINT_SERVER": server},
                          log=config.with_name(f"{server}.log"))  # fmt: skip


def _filed(hot: Path, where: str) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in (hot / where).glob("*/receipt.json")]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    # Each answer takes a while, so that the kill lands with uploads in hand.
    with SandboxServer(port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS,
                       delay=0.15) as server:  # fmt: skip
        yield server


def test_a_dead_servers_tickets_are_taken_over_and_none_goes_twice(
    tmp_path: Path, postgres: PrivatePostgres, sandbox: SandboxServer
) -> None:
    database, hot = postgres.database(), tmp_path / "hot"
    hot.mkdir()
    pdf = make_pdf(tmp_path / "page.pdf").read_bytes()
    for n in range(TICKETS):
        number = f"555300{n:04d}"
        (hot / f"t{n}.pdf").write_bytes(pdf)
        drop_ticket(hot, f"t{n}", {"to": [number], "documents": [f"t{n}.pdf"]})
    alpha = _serve(_config(tmp_path, "alpha", database, sandbox.url, hot), "alpha")
    beta = _serve(_config(tmp_path, "beta", database, sandbox.url, hot), "beta")
    try:
        wait_for(lambda: len(sandbox.faxes()) >= 20, timeout=60, what=alpha.said)
        alpha.kill()
        killed_at = len(sandbox.faxes())
        orphans = {p.name for p in (hot / "processing").iterdir()  # alpha's, claimed whole
                   if _owner(p).startswith("alpha:")}  # fmt: skip
        # Every ticket filed, and alpha's leftovers gone from processing/ (a claim it had
        # half made when killed, too) within a lease and a look or two.
        wait_for(lambda: len(_filed(hot, "done")) + len(_filed(hot, "held")) == TICKETS
                 and not list((hot / "processing").iterdir()),
                 timeout=LEASE_SECONDS * 3 + 60, what=beta.said)  # fmt: skip
    finally:
        assert beta.stop() == 0, beta.said()
    sent = Counter(fax.record["recipients"][0]["number"] for fax in sandbox.faxes())
    assert [n for n, times in sent.items() if times > 1] == []  # none faxed twice
    done, held = _filed(hot, "done"), _filed(hot, "held")
    assert len(done) + len(held) == TICKETS and len(held) <= WORKERS, (len(held), killed_at)
    # Held: uploads alpha had in hand (the service may have them: FaxOut keeps no list to
    # ask); every accepted one was sent once.
    assert len(done) <= len(sent) <= len(done) + len(held)
    assert not list((hot / "processing").iterdir())  # every claim of alpha's taken over
    filed = {p.name for where in ("done", "held") for p in (hot / where).iterdir()}
    assert orphans <= filed, orphans - filed  # alpha's claims, taken over and filed by beta
    said = beta.log.read_text()
    assert all(f"event=resume job={job}" in said for job in orphans), orphans
    # Either server's commands see every job, and say which server has each.
    history = _faxprint(tmp_path / "beta.toml", "beta", "history", "--limit", "100")
    assert history.splitlines()[0].split()[:3] == ["UPDATED", "STATE", "SERVER"]
    servers = Counter(json.loads(line)["server"] for line in _faxprint(
        tmp_path / "beta.toml", "beta", "history", "--limit", "100", "--json").splitlines())  # fmt: skip
    assert set(servers) == {"alpha", "beta"} and sum(servers.values()) == TICKETS, servers


def _owner(claim: Path) -> str:
    try:
        return str(json.loads((claim / "claim.json").read_text()).get("owner", ""))
    except (OSError, ValueError):
        return ""  # gone, or half made


def _faxprint(config: Path, server: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "faxprint", "--config", str(config), *args],
                          capture_output=True, text=True, cwd=REPO, timeout=60, check=True,
                          env={**os.environ, "FAXPRINT_SERVER": server})  # fmt: skip
    return done.stdout


def test_a_database_restart_under_a_running_service_loses_nothing(
    tmp_path: Path, postgres: PrivatePostgres, sandbox: SandboxServer
) -> None:
    database, hot = postgres.database(), tmp_path / "hot"
    hot.mkdir()
    service = _serve(_config(tmp_path, "gamma", database, sandbox.url, hot), "gamma")
    pdf = make_pdf(tmp_path / "page.pdf").read_bytes()
    try:
        for n in range(10):
            (hot / f"a{n}.pdf").write_bytes(pdf)
            drop_ticket(hot, f"a{n}", {"to": [f"555400{n:04d}"], "documents": [f"a{n}.pdf"]})
        wait_for(lambda: len(sandbox.faxes()) >= 3, timeout=60, what=service.said)
        postgres.restart()  # every connection cut, mid-batch
        for n in range(10, 20):
            (hot / f"a{n}.pdf").write_bytes(pdf)
            drop_ticket(hot, f"a{n}", {"to": [f"555400{n:04d}"], "documents": [f"a{n}.pdf"]})
        wait_for(lambda: len(_filed(hot, "done")) + len(_filed(hot, "held")) == 20,
                 timeout=120, what=service.said)  # fmt: skip
    finally:
        assert service.stop() == 0, service.said()
    sent = Counter(fax.record["recipients"][0]["number"] for fax in sandbox.faxes())
    assert [n for n, times in sent.items() if times > 1] == []
    assert len(_filed(hot, "done")) + len(_filed(hot, "held")) == 20
    assert len(_filed(hot, "held")) <= WORKERS  # at most what was in hand at the restart
    assert os.listdir(hot / "processing") == []


def test_the_accounts_rate_is_one_across_servers(tmp_path: Path, postgres: PrivatePostgres) -> None:
    """Both servers send for one FaxOut account of 3 uploads in any 3 s: its record of
    turns is in the shared journal, so together they keep the one rate (no 429) and
    the batch takes as long as the rate asks, not half."""
    database, hot = postgres.database(), tmp_path / "hot"
    hot.mkdir()
    with SandboxServer(port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS,
                       faxout_rate=(3, 3.0)) as limited:  # fmt: skip
        configs = [_config(tmp_path, name, database, limited.url, hot) for name in ("a1", "b1")]
        for config in configs:
            config.write_text(config.read_text().replace(
                'username = "', 'rate = "3/3s"\nusername = "', 1))  # fmt: skip
        services = [_serve(config, name) for config, name in zip(configs, ("a1", "b1"),
                                                                 strict=True)]  # fmt: skip
        pdf = make_pdf(tmp_path / "page.pdf").read_bytes()
        try:  # dropped while both watch: each claims its share
            for n in range(12):
                (hot / f"r{n}.pdf").write_bytes(pdf)
                drop_ticket(hot, f"r{n}", {"to": [f"555500{n:04d}"], "documents": [f"r{n}.pdf"]})
            wait_for(lambda: len(_filed(hot, "done")) == 12, timeout=120,
                     what=services[0].said)  # fmt: skip
        finally:
            for service in services:
                assert service.stop() == 0, service.said()
        refused = [r for r in limited.requests if r.status == 429]
        times = sorted(r.time for r in limited.requests if r.status == 200 and r.code == 0)
    assert refused == []
    assert len(times) == 12
    from datetime import datetime

    span = (datetime.fromisoformat(times[-1]) - datetime.fromisoformat(times[0])).total_seconds()
    assert span >= (12 - 1) // 3 * 3.0 - 0.05, span  # 9 s at least: the one rate held
    served = {n for n in ("a1", "b1") if "event=done" in (tmp_path / f"{n}.log").read_text()}
    assert served == {"a1", "b1"}  # both sent some: the rate was shared, not one server's
