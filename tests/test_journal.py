"""The journal's promises, on both engines where they are the engine's to keep (SQLite's
file and PostgreSQL's database; tests/support/postgres.py starts a private server)."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path
from typing import Any

import pytest

from faxprint.errors import ConfigError
from faxprint.journal import Journal, State
from tests.support.journals import open_at


def _begin(journal: Journal, key: str = "k1") -> None:
    journal.begin(
        key,
        source="send",
        account="default",
        recipients=["5556465589|A"],
        documents=["a.pdf"],
        pages=2,
        user="ann",
        title="report",
    )


def test_a_job_goes_from_pending_to_accepted(journal_place: str) -> None:
    ticks = iter(range(100, 200))
    with open_at(journal_place, clock=lambda: float(next(ticks))) as journal:
        _begin(journal)
        assert journal.get("k1").state is State.PENDING
        assert journal.start_attempt("k1").state is State.SENDING
        done = journal.finish("k1", State.ACCEPTED, code=0, message="fax accepted")
    assert (done.state, done.attempts, done.code, done.pages) == (State.ACCEPTED, 1, 0, 2)
    assert (done.recipients, done.documents, done.user) == (("5556465589|A",), ("a.pdf",), "ann")
    with open_at(journal_place) as journal:
        [attempt] = journal.attempts("k1")
    assert (attempt.number, attempt.state, attempt.started, attempt.ended) == (
        1,
        State.ACCEPTED,
        101.0,
        102.0,
    )


def test_begin_is_idempotent(journal_place: str) -> None:
    with open_at(journal_place) as journal:
        _begin(journal)
        journal.start_attempt("k1")
        journal.finish("k1", State.RETRY, message="down")
        _begin(journal)
        assert journal.get("k1").attempts == 1
        assert journal.get("k1").state is State.RETRY


def test_an_accepted_job_is_never_started_again(journal_place: str) -> None:
    with open_at(journal_place) as journal:
        _begin(journal)
        journal.start_attempt("k1")
        journal.finish("k1", State.ACCEPTED, code=0)
        again = journal.start_attempt("k1", force=True)
    assert (again.state, again.attempts) == (State.ACCEPTED, 1)


def _start_and_die(path: str) -> None:
    journal = open_at(path)
    _begin(journal)
    journal.start_attempt("k1")  # and the process ends without finishing


def test_a_job_left_sending_by_a_dead_process_becomes_uncertain(journal_place: str) -> None:
    path = journal_place
    child = multiprocessing.get_context("spawn").Process(target=_start_and_die, args=(path,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    with open_at(path) as journal:
        found = journal.start_attempt("k1")
        assert (found.state, found.attempts) == (State.UNCERTAIN, 1)
        assert "may have accepted" in found.message
        assert journal.start_attempt("k1").state is State.UNCERTAIN
        forced = journal.start_attempt("k1", force=True)
        assert (forced.state, forced.owner, forced.attempts) == (State.SENDING, journal.owner, 2)


def test_a_job_being_sent_by_a_live_process_is_left_alone(journal_place: str) -> None:
    with open_at(journal_place) as first, open_at(journal_place) as second:
        _begin(first)
        first.start_attempt("k1")
        second.owner = "elsewhere-but-this-host-is-checked"  # a second sender's identity
        seen = second.start_attempt("k1")
    assert (seen.state, seen.owner, seen.attempts) == (State.SENDING, first.owner, 1)


def test_recent_lists_newest_first_and_filters(journal_place: str) -> None:
    ticks = iter(range(1000))
    with open_at(journal_place, clock=lambda: float(next(ticks))) as journal:
        for key in ("a", "b", "c"):
            _begin(journal, key)
        journal.finish("b", State.FAILED, message="bad")
        assert [j.key for j in journal.recent()] == ["b", "c", "a"]
        assert [j.key for j in journal.recent(state=State.FAILED)] == ["b"]
        assert [j.key for j in journal.recent(limit=1)] == ["b"]


def test_the_file_is_private(tmp_path: Path) -> None:
    with Journal(tmp_path / "sub" / "j.sqlite") as journal:
        _begin(journal)
    for path in (tmp_path / "sub" / "j.sqlite", tmp_path / "sub" / "j.sqlite-wal"):
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "sub").stat().st_mode) == 0o700


def test_an_unusable_path_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="cannot be opened"):
        Journal(tmp_path / "file" / "j.sqlite")


def _worker(path: str, worker: int, jobs: int) -> None:
    with open_at(path) as journal:
        for n in range(jobs):
            key = f"w{worker}-{n}"
            _begin(journal, key)
            journal.start_attempt(key)
            journal.finish(key, State.ACCEPTED, code=0)
            # every worker also races for one shared job: only one may send it
            _begin(journal, "shared")
            if journal.start_attempt("shared").state is State.SENDING:
                journal.finish("shared", State.ACCEPTED, code=0)


def test_many_processes_write_at_once(journal_place: str) -> None:
    path = journal_place
    open_at(path).close()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_worker, args=(path, w, 40)) for w in range(6)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
        assert process.exitcode == 0
    with open_at(path) as journal:
        jobs = journal.recent(limit=1000)
        shared = journal.get("shared")
    assert len(jobs) == 6 * 40 + 1
    assert all(j.state is State.ACCEPTED and j.attempts == 1 for j in jobs)
    assert shared is not None and shared.attempts == 1


def test_sqlite_errors_become_journal_errors(tmp_path: Path) -> None:
    from faxprint.errors import JournalError

    journal = Journal(tmp_path / "j.sqlite")
    journal.close()
    with pytest.raises(JournalError, match="cannot be used"):
        journal.get("k")


def _threads_with_a_journal_each(path: str, worker: int) -> None:
    import threading

    def work(thread: int) -> None:
        for n in range(60):
            with Journal(path) as journal:  # as the hot folder does: one per job
                key = f"p{worker}-t{thread}-{n}"
                _begin(journal, key)
                journal.start_attempt(key)
                journal.finish(key, State.ACCEPTED, code=0)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)


def test_processes_with_several_connections_each_keep_the_journal_intact(tmp_path: Path) -> None:
    # Regression: opening and closing the database file by hand dropped the POSIX locks
    # of every SQLite connection in that process, so another process wrote at the same
    # time and the file was corrupted ("database disk image is malformed").
    import sqlite3

    path = str(tmp_path / "j.sqlite")
    Journal(path).close()
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_threads_with_a_journal_each, args=(path, w)) for w in range(3)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(180)
        assert process.exitcode == 0
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with Journal(path) as journal:
        assert len(journal.recent(limit=1000)) == 3 * 3 * 60


def _open_at(barrier: Any, path: str, answers: Any) -> None:
    barrier.wait()
    try:
        Journal(path).close()
        answers.put("ok")
    except Exception as exc:  # reported to the test, which fails on it
        answers.put(f"{type(exc).__name__}: {exc}")


def test_many_processes_opening_a_new_journal_at_once_all_succeed(tmp_path: Path) -> None:
    # SQLite refuses one of two processes switching a new file to WAL at the same moment
    # ("database is locked", without waiting): the journal must wait, not fail (the
    # backend would stop the queue on it).
    context = multiprocessing.get_context("fork")
    for round_ in range(10):
        path = str(tmp_path / f"journal-{round_}.sqlite")
        barrier, answers = context.Barrier(8), context.Queue()
        workers = [
            context.Process(target=_open_at, args=(barrier, path, answers)) for _ in range(8)
        ]
        for worker in workers:
            worker.start()
        results = [answers.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
        assert results == ["ok"] * 8, results


def test_a_job_this_process_left_sending_is_never_sent_again_unchecked(
    journal_place: str,
) -> None:
    # A try that ended in an unexpected error leaves the job "sending" under this very
    # process; the hot folder's next try in the same process must not upload it again.
    with open_at(journal_place) as journal:
        journal.begin("k", source="hotfolder", account="a", recipients=["1"], documents=["d"],
                      pages=1)  # fmt: skip
        assert journal.start_attempt("k").state is State.SENDING
        again = journal.start_attempt("k")
    assert (again.state, again.attempts) == (State.UNCERTAIN, 1)
    assert "ended with no verdict" in again.message


def test_a_refusal_never_overwrites_a_job_that_went(journal_place: str) -> None:
    # A printer job accepted once, restarted later with options it refuses this time:
    # the journal must go on saying it was accepted (retry would send a failed job again).
    with open_at(journal_place) as journal:
        journal.begin("cups:Fax:7:u", source="cups", account="default", recipients=["1"],
                      documents=["a.pdf"], pages=1)  # fmt: skip
        journal.finish("cups:Fax:7:u", State.ACCEPTED, code=0, message="accepted")
        kept = journal.refused("cups:Fax:7:u", "bad option", source="cups", account="default")
        new = journal.refused("cups:Fax:8:v", "bad option", source="cups", account="default",
                              documents=["b.pdf"], user="ann", title="b.pdf")  # fmt: skip
    assert (kept.state, kept.message) == (State.ACCEPTED, "accepted")
    assert (new.state, new.message, new.user, new.documents) == (
        State.FAILED, "bad option", "ann", ("b.pdf",))  # fmt: skip
