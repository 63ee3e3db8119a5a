"""The rest of the journal's interface on both engines (an SQLite file, and a database on
the tests' private PostgreSQL): deliveries and messages found in the store, the
service's queue, people's decisions and the people-facing queries; then what only the
PostgreSQL engine has: its URL in the config (never a password), its tables versioned
and migrated by `faxprint journal migrate`, an SQLite journal copied into it whole, and
a server that is down or restarted."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faxprint import config as configuration
from faxprint.errors import ConfigError, JournalError
from faxprint.journal import Contact, Filter, Journal, State, WorkItem, open_journal
from faxprint.journal._schema import VERSION
from faxprint.journal.postgres import PgJournal
from tests.conftest import REPO
from tests.support.configs import faxout_account, write_config
from tests.support.journals import STATE, open_at
from tests.support.postgres import PrivatePostgres


def _begin(journal: Journal, key: str, user: str = "ann") -> None:
    journal.begin(key, source="cups", account="default", recipients=["5556465589|A"],
                  documents=["a.pdf"], pages=1, user=user, title=f"title {key}")  # fmt: skip


def test_deliveries_and_messages_found_in_the_store(journal_place: str) -> None:
    with open_at(journal_place) as journal:
        for key, state in (("cups:Fax:1:a", State.ACCEPTED), ("cups:Fax:2:b", State.UNCERTAIN)):
            _begin(journal, key)
            journal.start_attempt(key)
            journal.finish(key, state, code=0)
        journal.record_delivery("cups:Fax:1:a", "m1", "Queued", "pending")
        assert [d.key for d in journal.pending_deliveries(account="default")] == ["cups:Fax:1:a"]
        journal.record_delivery("cups:Fax:1:a", "m1", "Delivered", "delivered")
        assert journal.pending_deliveries(account="default") == []
        assert journal.delivery("cups:Fax:1:a").status == "Delivered"  # type: ignore[union-attr]
        assert not journal.claim_found("cups:Fax:2:b", "m1", "Queued", "pending", message="x")
        assert journal.claim_found("cups:Fax:2:b", "m2", "Queued", "pending", message="found")
        assert journal.get("cups:Fax:2:b").state is State.ACCEPTED  # type: ignore[union-attr]
        journal.record_delivery("cups:Fax:2:b", "m2", "SendingFailed", "failed")
        assert [j.key for j in journal.undelivered(since=0)] == ["cups:Fax:2:b"]
        assert set(journal.deliveries(["cups:Fax:1:a", "cups:Fax:2:b", "none"])) == {
            "cups:Fax:1:a", "cups:Fax:2:b"}  # fmt: skip


def test_the_services_queue(journal_place: str) -> None:
    items = [WorkItem(f"k{n}", "fax", "default", f"send:u{n}", "{}", f"/q/{n}", queued=float(n))
             for n in range(3)]  # fmt: skip
    with open_at(journal_place) as first, open_at(journal_place) as second:
        assert first.enqueue(items) == 3 and first.enqueue(items) == 0  # the same again: none
        first.owner = "elsewhere:1:1"  # a live server elsewhere (within the lease)
        assert first.take("k0") is not None
        assert second.take("k0") is None  # it is the other's
        now = time.time() + 1
        assert [i.key for i in second.work(ready_at=now)] == ["k1", "k2"]
        second.put_back("k1", not_before=math.inf)  # held for a person: never ready
        assert [i.key for i in second.work(ready_at=now)] == ["k2"]
        assert second.work_item("k1").not_before == math.inf  # type: ignore[union-attr]
        assert second.finish_work("k2") is not None and second.work_item("k2") is None


def test_decisions_budgets_and_what_people_ask(journal_place: str) -> None:
    ticks = iter(range(100, 1000))
    with open_at(journal_place, clock=lambda: float(next(ticks))) as journal:
        for key, user in (("cups:Fax:7:aaaa", "ann"), ("cups:Fax:8:bbbb", "Bob"),
                          ("send:c0ffee", "ann")):  # fmt: skip
            _begin(journal, key, user)
        journal.start_attempt("cups:Fax:7:aaaa")
        journal.finish("cups:Fax:7:aaaa", State.FAILED, message="busy 100%_done")
        journal.settle("cups:Fax:7:aaaa", State.RETRY, "sent again by ann")
        journal.note("cups:Fax:7:aaaa", State.CANCELLED, "cancel came too late")
        assert [d[1] for d in journal.decisions("cups:Fax:7:aaaa")] == [State.RETRY,
                                                                       State.CANCELLED]  # fmt: skip
        since, before = journal.budget("cups:Fax:7:aaaa")
        assert before == 1 and since > 100
        assert [j.key for j in journal.search(Filter(user="ann"))] == ["cups:Fax:7:aaaa",
                                                                        "send:c0ffee"]  # fmt: skip
        assert [j.key for j in journal.find("fax-7")] == ["cups:Fax:7:aaaa"]  # any case
        assert [j.key for j in journal.find("c0f")] == ["send:c0ffee"]
        assert [j.key for j in journal.find("100%")] == []  # % is a character, not a wildcard
        assert journal.counts(since=0) == {"retry": 1, "pending": 2}
        journal.unaddressed("cups:Fax:9:cccc", "waiting", source="cups", account="default")
        assert journal.get("cups:Fax:9:cccc").state is State.UNADDRESSED  # type: ignore[union-attr]


def test_the_config_names_a_database_and_never_holds_its_password(tmp_path: Path) -> None:
    account = faxout_account("http://127.0.0.1:9/faxapi.asp")
    config = write_config(tmp_path, account, extra="")
    text = config.read_text().replace('journal = "', 'journal_old = "')
    url = "postgresql://faxprint@db.example/faxprint"
    config.write_text(f'journal = "{url}"\njournal_passfile = "pgpass"\n'
                      + text.replace("journal_old", "# was"))  # fmt: skip
    settings = configuration.load(config, env={})
    assert (settings.database, settings.database_passfile) == (url, str(tmp_path / "pgpass"))
    assert settings.journal.name == "journal.sqlite"  # this server's own folder stays local
    for secret in ("postgresql://faxprint:hunter2@db.example/faxprint",
                   "postgresql://faxprint@db.example/faxprint?password=hunter2"):  # fmt: skip
        config.write_text(f'journal = "{secret}"\n' + text.replace("journal_old", "# was"))
        with pytest.raises(ConfigError, match="holds a password") as raised:
            configuration.load(config, env={})
        assert "hunter2" not in raised.value.message


def test_tables_are_versioned_and_a_newer_journal_is_refused(postgres: PrivatePostgres) -> None:
    url = postgres.database()
    with PgJournal(url, STATE) as journal:
        assert journal.version_before == 0  # made
        journal._db.execute("UPDATE meta SET value = '99' WHERE name = 'version'")
    with pytest.raises(ConfigError, match=f"tables are version 99; this faxprint knows {VERSION}"):
        PgJournal(url, STATE)
    with pytest.raises(ConfigError, match="upgrade faxprint"):  # not even by a migrate
        PgJournal(url, STATE, migrate=True)


def test_journal_migrate_and_copy_on_the_command_line(
    tmp_path: Path, postgres: PrivatePostgres
) -> None:
    old = tmp_path / "old.sqlite"
    with Journal(old) as journal:
        _begin(journal, "cups:Fax:1:a")
        journal.start_attempt("cups:Fax:1:a")
        journal.finish("cups:Fax:1:a", State.ACCEPTED, code=0)
        journal.record_delivery("cups:Fax:1:a", "m1", "Queued", "pending")
        journal.add_contact(Contact("Jane Doe", "5556465590", "ACME", ("Board",)))
        journal.enqueue([WorkItem("k", "fax", "default", "l", "{}", "/q", math.inf, 1.0)])
    url = postgres.database()
    config = write_config(tmp_path, faxout_account("http://127.0.0.1:9/faxapi.asp"))
    lines = [line for line in config.read_text().splitlines() if not line.startswith("journal")]
    config.write_text(f'journal = "{url}"\n' + "\n".join(lines) + "\n")

    def faxprint(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "faxprint", "--config", str(config),
                               "journal", *args], capture_output=True, text=True, cwd=REPO,
                              timeout=120, check=False, env={**os.environ, "HOME": str(tmp_path)})  # fmt: skip

    made = faxprint("migrate")
    assert made.returncode == 0, made.stderr
    assert made.stdout.endswith(f"tables version {VERSION} (made)\n") and "postgres" in made.stdout
    copied = faxprint("copy", str(old))
    assert copied.returncode == 0, copied.stderr
    assert (
        "1 jobs, 1 attempts, 0 decisions, 1 deliveries, 1 contacts, 1 contact_groups, 1 work"
        in copied.stdout
    )
    again = faxprint("copy", str(old), url)  # the database named on the command line
    assert again.returncode != 0 and "has 1 rows in jobs already" in again.stderr
    settings = configuration.load(config, env={})
    with open_journal(settings) as journal:
        job = journal.get("cups:Fax:1:a")
        assert job is not None and job.state is State.ACCEPTED and job.user == "ann"
        assert journal.delivery("cups:Fax:1:a").message_id == "m1"  # type: ignore[union-attr]
        assert journal.named("jane doe")[0][0].groups == ("Board",)
        assert journal.work_item("k").not_before == math.inf  # type: ignore[union-attr]
        _begin(journal, "cups:Fax:2:b")  # the ids go on past the copied ones
        assert journal.get("cups:Fax:2:b").id == job.id + 1  # type: ignore[union-attr]
    assert faxprint("migrate").stdout.endswith("(already)\n")


def test_a_server_down_is_a_passing_fault_and_its_return_needs_no_one(
    postgres: PrivatePostgres, tmp_path: Path
) -> None:
    url = postgres.database()
    with PgJournal(url, STATE) as journal:
        _begin(journal, "k1")
        postgres.stop(remove=False)
        try:
            with pytest.raises(JournalError, match="cannot be used"):
                journal.get("k1")
            with pytest.raises(JournalError, match="cannot be reached now"):
                PgJournal(url, STATE)
        finally:
            postgres.restart()
    with PgJournal(url, STATE) as journal:  # back: a new connection, nothing lost
        assert journal.get("k1").state is State.PENDING  # type: ignore[union-attr]


def _as_version_1(db: object) -> None:
    """Make a journal what faxprint's version-1 tables were (no server column)."""
    db.execute("ALTER TABLE jobs DROP COLUMN server")  # type: ignore[attr-defined]
    db.execute("UPDATE meta SET value = '1' WHERE name = 'version'")  # type: ignore[attr-defined]


def test_an_older_journal_is_migrated_sqlite_at_once_a_shared_one_by_an_admin(
    tmp_path: Path, postgres: PrivatePostgres
) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    with Journal(path) as journal:
        _begin(journal, "k1")
    with sqlite3.connect(path, isolation_level=None) as db:
        _as_version_1(db)
    with Journal(path) as journal:  # one server's file: brought up to date when opened
        assert journal.version_before == 1 and journal.get("k1").server == ""  # type: ignore[union-attr]
        _begin(journal, "k2")
        assert journal.get("k2").server  # type: ignore[union-attr]
    url = postgres.database()
    with PgJournal(url, STATE) as journal:
        _begin(journal, "k1")
        _as_version_1(journal._db)
    with pytest.raises(ConfigError, match="run `faxprint journal migrate` once every server"):
        PgJournal(url, STATE)  # shared: servers of the old faxprint may still use it
    with PgJournal(url, STATE, migrate=True) as journal:
        assert journal.version_before == 1
        assert journal.get("k1").state is State.PENDING  # type: ignore[union-attr]
    with PgJournal(url, STATE) as journal:
        assert journal.version_before == VERSION


def test_a_printer_job_of_another_server_is_acted_on_there_only() -> None:
    from faxprint.cups.jobs import CupsJob
    from faxprint.errors import SettleError
    from faxprint.lease import server_name

    assert CupsJob.of("cups:Fax:7:u", server_name()).number == 7  # this server's own
    assert CupsJob.of("cups:Fax:7:u", "").number == 7  # a journal of one server
    with pytest.raises(SettleError, match="printed on server beta: its cupsd has it"):
        CupsJob.of("cups:Fax:7:u", "beta")  # job 7 of this cupsd is another job


def test_leases_are_timed_by_the_databases_clock_and_let_go_at_a_stop(
    journal_place: str,
) -> None:
    item = WorkItem("k", "fax", "default", "l", "{}", "/q", queued=1.0)
    behind = 40.0 if journal_place.startswith("postgresql:") else 0.0  # one host: one clock
    with (
        open_at(journal_place, clock=lambda: time.time() - behind) as other,
        open_at(journal_place) as here,
    ):
        other.owner = "elsewhere:1:1"  # a server whose clock is 40 s behind
        other.renew_lease()
        assert other.enqueue([item]) == 1 and other.take("k") is not None
        assert here.take("k") is None  # alive: its lease is fresh by the database's clock
        other.release_lease()  # it stops: what it had is free at once, not in an hour
        assert here.take("k") is not None


def test_a_server_whose_lease_lapsed_starts_no_upload(
    journal_place: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faxprint import lease

    with open_at(journal_place) as journal:
        _begin(journal, "k1")
        monkeypatch.setattr(lease, "_RENEWED", [time.monotonic() - lease.LEASE_SECONDS])
        with pytest.raises(JournalError, match="lease was not renewed"):
            journal.start_attempt("k1")
        assert journal.get("k1").state is State.PENDING  # type: ignore[union-attr]
        lease.note_renewed()
        assert journal.start_attempt("k1").state is State.SENDING


def test_half_made_claims_and_claims_taken_over(tmp_path: Path) -> None:
    from faxprint.hotfolder.spool import CLAIM, Spool

    spool = Spool(tmp_path / "hot")
    spool.prepare()
    half = spool.processing / "20261206-000000-half-00000000"
    half.mkdir()
    assert spool.recover((), leases={}) == [] and half.exists()  # perhaps being made now
    old = time.time() - 120
    os.utime(half, (old, old))
    assert spool.recover((), leases={}) == [] and not half.exists()  # abandoned: cleared
    half.mkdir()  # one server's folder: a half-made claim at start is its own last run's
    assert spool.recover(()) == [] and not half.exists()
    (tmp_path / "hot" / "a.pdf").write_bytes(b"%PDF-1.4\n")
    claim = spool.claim(tmp_path / "hot", "a.pdf", ["a.pdf"], ticket=False)
    assert claim is not None and spool.still_mine(claim)
    record = json.loads((claim.path / CLAIM).read_text())
    (claim.path / CLAIM).write_text(json.dumps({**record, "owner": "beta:1:1"}))
    assert not spool.still_mine(claim)  # another server took it over: not tried again here


def test_a_watcher_of_one_servers_folder_clears_its_last_runs_half_made_claim(
    tmp_path: Path,
) -> None:
    """At start, a claim folder the killed watcher had only begun (no claim.json yet) is
    its own last run's: cleared at once, not kept for a lease as another server's."""
    from tests.support.configs import hot_folder_config
    from tests.support.helpers import Watcher, wait_for

    root = tmp_path / "drop"
    half = root / "processing" / "20261206-000000-half-00000000"
    half.mkdir(parents=True, mode=0o700)
    root.joinpath("processing").chmod(0o700)
    with Watcher(hot_folder_config(tmp_path, "http://127.0.0.1:9/faxapi.asp"), root):
        wait_for(lambda: not half.exists(), timeout=10, what="the half-made claim cleared")
