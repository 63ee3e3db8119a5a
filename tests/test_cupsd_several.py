"""Two print servers, one journal, through real cupsd (issue 22): two private cupsd play
servers ``alpha`` and ``beta`` (``FAXPRINT_SERVER`` given to their backends), each with
its Fax printer, both journaling in one database on the tests' private PostgreSQL.
Jobs printed on both are each sent once, and either server's commands list them all,
saying which server has each. PostgreSQL stopped under a printed job: cupsd keeps the
job and tries it again, and it goes once the database is back, with no one's help."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from faxprint.sandbox import SandboxServer
from tests.conftest import REPO
from tests.support.configs import faxout_account
from tests.support.cupsd import JOB_COMPLETED, TERMINAL_JOB_STATES, PrivateCupsd
from tests.support.helpers import make_pdf, wait_for
from tests.support.postgres import PrivatePostgres
from tests.support.secrets import TEST_ACCOUNTS

pytestmark = pytest.mark.cupsd

SERVERS = ("alpha", "beta")
QUEUE = "FaxShared"


def _etc(root: Path, server: str, database: str, sandbox: str) -> Path:
    """A server's config (root:lp 0640) and its local folder (lp's)."""
    local = root / server
    local.mkdir(mode=0o700)
    config = root / f"{server}.toml"
    config.write_text(f'journal = "{database}"\nlocal = "{local}"\n'
                      "[retry]\ntries = 1\nbackoff = 0.0\n" + faxout_account(sandbox))  # fmt: skip
    config.chmod(0o640)
    if os.geteuid() == 0:
        lp = pwd.getpwnam("lp")
        os.chown(local, lp.pw_uid, lp.pw_gid)
        os.chown(config, 0, lp.pw_gid)
    return config


@pytest.fixture
def servers(
    postgres: PrivatePostgres,
) -> Iterator[tuple[SandboxServer, dict[str, tuple[PrivateCupsd, Path]]]]:
    root = Path(tempfile.mkdtemp(prefix="faxprint-several-", dir="/tmp"))
    root.chmod(0o755)
    database = postgres.database()
    started: dict[str, tuple[PrivateCupsd, Path]] = {}
    with SandboxServer(port=0, store=root / "store", accounts=TEST_ACCOUNTS) as sandbox:
        try:
            for server in SERVERS:
                config = _etc(root, server, database, sandbox.url)
                cupsd = PrivateCupsd(job_retry_limit=60, backend_env={
                    "FAXPRINT_CONFIG": str(config), "FAXPRINT_SERVER": server})  # fmt: skip
                cupsd.start()
                started[server] = (cupsd, config)
                made = _faxprint(cupsd, config, server, "install", "--name", QUEUE,
                                 "--backend-dir", str(cupsd.backend_dir))  # fmt: skip
                assert made.returncode == 0, made.stderr
            yield sandbox, started
        finally:
            for cupsd, _ in started.values():
                cupsd.stop()
            subprocess.run(["rm", "-rf", str(root)], check=False)


def _faxprint(cupsd: PrivateCupsd, config: Path, server: str, *args: str
              ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    env = {**cupsd.env(), "FAXPRINT_CONFIG": str(config), "FAXPRINT_SERVER": server}
    return subprocess.run([sys.executable, "-m", "faxprint", *args], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=60, check=False)  # fmt: skip


def test_jobs_printed_on_two_servers_go_once_and_a_database_restart_loses_none(
    servers: tuple[SandboxServer, dict[str, tuple[PrivateCupsd, Path]]],
    postgres: PrivatePostgres, tmp_path: Path,
) -> None:  # fmt: skip
    sandbox, started = servers
    pdf = make_pdf(tmp_path / "page.pdf")
    printed = [(server, started[server][0].lp(QUEUE, pdf, options=[f"fax-to=555600{n:04d}"]))
               for n in range(8) for server in (SERVERS[n % 2],)]  # fmt: skip
    for server, job in printed:
        assert started[server][0].wait_job(job, timeout=60) == JOB_COMPLETED
    sent = Counter(fax.record["recipients"][0]["number"] for fax in sandbox.faxes())
    assert len(sent) == 8 and max(sent.values()) == 1
    cupsd, config = started["beta"]
    listed = [json.loads(line) for line in _faxprint(cupsd, config, "beta", "history",
                                                     "--json").stdout.splitlines()]  # fmt: skip
    assert Counter(job["server"] for job in listed) == {"alpha": 4, "beta": 4}
    # The database goes away under a printed job: cupsd keeps it, and tries it again.
    cupsd, config = started["alpha"]
    postgres.stop(remove=False)
    try:
        job = cupsd.lp(QUEUE, pdf, options=["fax-to=5556009999"])
        wait_for(lambda: "journal" in cupsd.job_log(job) and "cannot be" in cupsd.job_log(job),
                 timeout=60, what=lambda: cupsd.job_log(job)[-2000:])  # fmt: skip
        state = cupsd.job_attributes(job)["job-state"]
        assert state not in TERMINAL_JOB_STATES, cupsd.job_log(job)[-2000:]
    finally:
        postgres.restart()
    assert cupsd.wait_job(job, timeout=90) == JOB_COMPLETED, cupsd.job_log(job)[-2000:]
    sent = Counter(fax.record["recipients"][0]["number"] for fax in sandbox.faxes())
    assert sent["5556009999"] == 1 and max(sent.values()) == 1
