"""``faxprint serve`` as a process on real sockets and a real sandbox: queued faxes sent
once, users in turn, within the account's rate; killed and restarted, nothing lost; one
service per journal; garbage on its socket answered in one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from faxprint.journal import Journal, State
from faxprint.link import wire
from faxprint.sandbox import SandboxServer
from tests.conftest import REPO
from tests.support.configs import faxout_account, write_config
from tests.support.helpers import make_pdf, wait_for
from tests.support.secrets import TEST_ACCOUNTS
from tests.support.service import ServiceProcess

RATE, WINDOW = 3, 3.0
ENDED = {State.ACCEPTED, State.UNCERTAIN}


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[SandboxServer]:
    with SandboxServer(port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS,
                       faxout_rate=(RATE, WINDOW)) as server:  # fmt: skip
        yield server


def _config(tmp_path: Path, url: str) -> Path:
    account = faxout_account(url) + f'rate = "{RATE}/{WINDOW:g}s"\n'
    return write_config(tmp_path, account, retry={"tries": 1, "backoff": 0.5},
                        extra="[service]\nworkers = 2\n")  # fmt: skip


def _queue(config: Path, number: str, pdf: Path, user: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "USER": user}
    done = subprocess.run([sys.executable, "-m", "faxprint", "--config", str(config), "send",
                           "--queue", "--to", number, str(pdf)], capture_output=True,
                          text=True, env=env, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr


def _batch(tmp_path: Path, server: SandboxServer, numbers: list[str]) -> tuple[Path, Path]:
    """A config on the limited sandbox and ``numbers`` queued by a program; (config, pdf)."""
    config = _config(tmp_path, server.url)
    pdf = make_pdf(tmp_path / "a.pdf")
    for number in numbers:
        _queue(config, number, pdf, "erp")
    return config, pdf


def _accepted(server: SandboxServer) -> list[tuple[datetime, str]]:
    return [(datetime.fromisoformat(r.time), r.recipients[0]) for r in server.requests
            if r.status == 200 and r.code == 0]  # fmt: skip


def test_a_batch_and_a_persons_fax_go_in_turn_within_the_rate(
    tmp_path: Path, limited: SandboxServer
) -> None:
    batch = [f"55510000{n:02d}" for n in range(9)]
    config, pdf = _batch(tmp_path, limited, batch)
    service = ServiceProcess(config, tmp_path / "journal.sqlite")
    try:
        _queue(config, "5552220000", pdf, "ann")  # a person, after the batch
        wait_for(lambda: len(_accepted(limited)) == 10, timeout=60, what="ten faxes accepted")
    finally:
        assert service.stop() == 0, service.said()
    accepted = _accepted(limited)
    order = [number for _, number in sorted(accepted)]
    assert sorted(order) == sorted([*batch, "5552220000"])  # each once
    assert order.index("5552220000") < len(order) // 2, order
    refused = [r for r in limited.requests if r.status == 429]
    assert len(refused) <= 1, refused
    times = sorted(t for t, _ in accepted)
    span = (times[-1] - times[0]).total_seconds()
    minimum = (len(times) - 1) // RATE * WINDOW  # the rate's own least time for ten faxes
    assert minimum <= span <= 1.25 * minimum + 0.5, (span, minimum)


def test_a_killed_service_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, limited: SandboxServer
) -> None:
    numbers = [f"55530000{n:02d}" for n in range(7)]
    config, _ = _batch(tmp_path, limited, numbers)
    first = ServiceProcess(config, tmp_path / "journal.sqlite")
    wait_for(lambda: len(_accepted(limited)) >= 2, timeout=60, what="two faxes accepted")
    first.kill()  # SIGKILL mid-batch
    second = ServiceProcess(config, tmp_path / "journal.sqlite", log=tmp_path / "serve2.log")
    try:
        with Journal(tmp_path / "journal.sqlite") as journal:

            def settled() -> bool:
                jobs = journal.recent(50)
                return len(jobs) == 7 and all(j.state in ENDED for j in jobs)

            wait_for(settled, timeout=60, what="every job settled")
            ended = {job.recipients[0].split("|")[0]: job.state for job in journal.recent(50)}
    finally:
        assert second.stop() == 0, second.said()
    sent = [number for _, number in _accepted(limited)]
    assert len(sent) == len(set(sent))  # nothing twice
    accepted = {n for n, state in ended.items() if state is State.ACCEPTED}
    uncertain = {n for n, state in ended.items() if state is State.UNCERTAIN}
    # Accepted once each, or held as uncertain where the kill cut an upload (at most one
    # per worker: the uploads in flight); the service may have taken those, or not.
    assert set(ended) == set(numbers) and accepted <= set(sent) <= accepted | uncertain
    assert len(uncertain) <= 2, ended


def test_one_service_per_journal(tmp_path: Path, limited: SandboxServer) -> None:
    config = _config(tmp_path, limited.url)
    service = ServiceProcess(config, tmp_path / "journal.sqlite")
    try:
        second = subprocess.run(
            [sys.executable, "-m", "faxprint", "--config", str(config), "serve"],
            capture_output=True, text=True, timeout=60, check=False, cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
        assert second.returncode == 78
        assert second.stderr.splitlines() == [
            f"faxprint: another faxprint serve runs on the journal {tmp_path / 'journal.sqlite'} "
            f"(pid {service.process.pid}); one service per journal"
        ]
    finally:
        assert service.stop() == 0


@pytest.mark.parametrize(
    "garbage", [b"not json\n", b"[1, 2]\n", b"x" * 70_000, b'{"op": "dance"}\n']
)
def test_garbage_on_the_socket_gets_one_line_and_the_service_goes_on(
    tmp_path: Path, limited: SandboxServer, garbage: bytes
) -> None:
    config = _config(tmp_path, limited.url)
    service = ServiceProcess(config, tmp_path / "journal.sqlite")
    try:
        connection = wire.connect(wire.socket_path(tmp_path / "journal.sqlite"))
        assert connection is not None
        with connection:
            connection.sendall(garbage)
            connection.shutdown(socket.SHUT_WR)
            answers = list(wire.messages(connection))
        assert len(answers) == 1 and answers[0]["event"] == "error", answers
        assert service.answers()  # still serving
    finally:
        assert service.stop() == 0


def test_the_socket_is_the_services_alone(tmp_path: Path, limited: SandboxServer) -> None:
    config = _config(tmp_path, limited.url)
    service = ServiceProcess(config, tmp_path / "journal.sqlite")
    try:
        path = Path(wire.socket_path(tmp_path / "journal.sqlite"))
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    finally:
        assert service.stop() == 0


def test_queued_faxes_wait_for_a_service_and_it_sends_them(
    tmp_path: Path, limited: SandboxServer
) -> None:
    config = _config(tmp_path, limited.url)
    pdf = make_pdf(tmp_path / "a.pdf")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    said = subprocess.run([sys.executable, "-m", "faxprint", "--config", str(config), "send",
                           "--queue", "--to", "5556465589", str(pdf)], capture_output=True,
                          text=True, env=env, timeout=60, check=False)  # fmt: skip
    assert said.returncode == 0 and "no faxprint serve is running" in said.stdout
    assert limited.faxes() == []
    pdf.unlink()  # the queue keeps its own copy
    service = ServiceProcess(config, tmp_path / "journal.sqlite")
    try:
        wait_for(lambda: len(limited.faxes()) == 1, timeout=30, what="the fax sent")
    finally:
        assert service.stop() == 0
    assert list((tmp_path / "queue").iterdir()) == []  # its documents went with it


def _faxprint(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "faxprint", "--config", str(config), *args],
                          capture_output=True, text=True, env=env, timeout=60, check=False)  # fmt: skip


def test_a_queued_fax_is_cancelled_out_of_the_queue_and_never_sent(
    tmp_path: Path, limited: SandboxServer
) -> None:
    config = _config(tmp_path, limited.url)
    queued = _faxprint(config, "send", "--queue", "--to", "5556465589",
                       str(make_pdf(tmp_path / "a.pdf")))  # fmt: skip
    key = queued.stdout.split("(job ", 1)[1].split(")", 1)[0]
    cancelled = _faxprint(config, "cancel", key)
    assert cancelled.returncode == 0, cancelled.stderr
    assert "cancelled (taken out of faxprint serve's queue)" in cancelled.stdout
    assert list((tmp_path / "queue").iterdir()) == []
    service = ServiceProcess(config, tmp_path / "journal.sqlite")
    try:
        assert service.answers()
    finally:
        assert service.stop() == 0
    assert limited.requests == []  # never sent
    with Journal(tmp_path / "journal.sqlite") as journal:
        assert journal.get(key).state is State.CANCELLED  # type: ignore[union-attr]


def test_an_uncertain_queued_fax_is_retried_or_cancelled_through_the_service(
    tmp_path: Path, limited: SandboxServer
) -> None:
    from faxprint.sandbox.faults import Fault

    config = _config(tmp_path, limited.url)
    limited.faults.push(Fault.accept_then_drop())
    limited.faults.push(Fault.accept_then_drop())
    keys = []
    for name in ("a", "b"):
        queued = _faxprint(config, "send", "--queue", "--to", "5556465589",
                           str(make_pdf(tmp_path / f"{name}.pdf")))  # fmt: skip
        keys.append(queued.stdout.split("(job ", 1)[1].split(")", 1)[0])
    service = ServiceProcess(config, tmp_path / "journal.sqlite")
    try:
        with Journal(tmp_path / "journal.sqlite") as journal:

            def states() -> list[State | None]:
                return [getattr(journal.get(k), "state", None) for k in keys]

            wait_for(lambda: states() == [State.UNCERTAIN] * 2, timeout=30, what="both held")
            retried = _faxprint(config, "retry", keys[0])
            assert "back in faxprint serve's queue" in retried.stdout, retried.stderr
            cancelled = _faxprint(config, "cancel", keys[1])
            assert cancelled.stdout.strip().endswith("cancelled before it was sent")
            wait_for(lambda: states() == [State.ACCEPTED, State.CANCELLED], timeout=30,
                     what="the retried one sent, the other cancelled")  # fmt: skip
    finally:
        assert service.stop() == 0
    assert len(limited.requests) == 3  # two lost answers, then the one a person resent
    assert list((tmp_path / "queue").iterdir()) == []
