"""Pacing: an account's uploads kept within its rate by every process at once, the
service's own count taken from its answers, and jobs deferred rather than bounced."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from faxprint.config import Account, RetryPolicy
from faxprint.documents import DocumentSource
from faxprint.errors import ConfigError
from faxprint.journal import Journal, State
from faxprint.outcome import Source, Status
from faxprint.pacing import Pacer, Rate
from faxprint.sandbox import SandboxServer
from faxprint.submitter import Submitter
from faxprint.ticket import Ticket
from faxprint.transports import Receipt
from tests.support.helpers import make_pdf
from tests.support.rest import Clock
from tests.support.secrets import TEST_PASSWORD


@pytest.mark.parametrize(
    ("text", "rate"),
    [("10/60s", Rate(10, 60.0)), ("10/1m", Rate(10, 60.0)), (" 3 / 2.5 ", Rate(3, 2.5)),
     ("100/1h", Rate(100, 3600.0))],
)  # fmt: skip
def test_rates_are_read(text: str, rate: Rate) -> None:
    assert Rate.parse(text) == rate


@pytest.mark.parametrize("text", ["", "10", "ten/60s", "0/60s", "10/0s", "10/60x"])
def test_a_bad_rate_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="rate"):
        Rate.parse(text)
    with pytest.raises(ConfigError, match="account 'a': rate"):
        Account("a", "https://fax.example/", "1", TEST_PASSWORD, rate=text or "x")


def test_the_rest_transport_paces_at_its_documented_default_until_told() -> None:
    rest = Account("r", "https://platform.example", transport="ringcentral", client_id="c",
                   client_secret=TEST_PASSWORD, jwt=TEST_PASSWORD + "j")  # fmt: skip
    assert rest.pace() == Rate(10, 60.0)  # [docs] rate-limits.md: Heavy, 10 a minute
    assert Account("f", "https://fax.example/", "1", TEST_PASSWORD).pace() is None
    assert Account("f", "https://fax.example/", "1", TEST_PASSWORD, rate="2/1s").pace() == Rate(
        2, 1.0
    )


def test_turns_fill_the_window_then_say_how_long_to_wait(tmp_path: Path) -> None:
    clock = Clock()
    pacer = Pacer(tmp_path / "pace.json", Rate(3, 10.0), clock=clock)
    assert [pacer.turn() for _ in range(3)] == [0.0, 0.0, 0.0]
    clock.sleep(4.0)
    # the first one leaves the window at 1010.25: the window counted here is a little
    # longer than the service's (see pacing._padded), so a turn never arrives early
    assert pacer.turn() == pytest.approx(6.25)
    assert pacer.turn() == pytest.approx(6.25)  # asking takes no turn
    clock.sleep(6.25)
    assert pacer.turn() == 0.0


def test_the_services_count_corrects_the_record(tmp_path: Path) -> None:
    clock = Clock()
    pacer = Pacer(tmp_path / "pace.json", Rate(10, 60.0), clock=clock)
    pacer.turn()
    pacer.learned(limit=4, remaining=1, window=30.0)  # another client sent two meanwhile
    assert pacer.current() == Rate(4, 30.0)
    assert pacer.turn() == 0.0
    assert pacer.turn() > 0  # 4 in the window: the service's count, not ours alone


def _take_turns(path: Path, rounds: int, out: multiprocessing.Queue[int]) -> None:
    pacer = Pacer(path, Rate(5, 3600.0))
    out.put(sum(pacer.turn() == 0 for _ in range(rounds)))


def test_processes_share_one_window(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    out: multiprocessing.Queue[int] = context.Queue()
    workers = [context.Process(target=_take_turns, args=(tmp_path / "p.json", 20, out))
               for _ in range(4)]  # fmt: skip
    for worker in workers:
        worker.start()
    granted = sum(out.get(timeout=30) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
    assert granted == 5  # 80 asks from 4 processes, 5 turns in the window


class Counting:
    """A transport that accepts every fax and counts them."""

    def __init__(self) -> None:
        self.sent = 0

    def send(
        self, ticket: Ticket, documents: object, *, now: object, progress: object = None
    ) -> Receipt:
        self.sent += 1
        return Receipt(0, "accepted")


def test_a_full_window_waits_when_short_and_defers_when_long(tmp_path: Path) -> None:
    clock = Clock()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.sleep(seconds)

    journal = Journal(tmp_path / "journal.sqlite")
    transport = Counting()
    pacer = Pacer(tmp_path / "pace.json", Rate(2, 5.0), clock=clock)
    submitter = Submitter(
        Account("default", "https://fax.example/", "1", TEST_PASSWORD), journal,
        transport=transport, retry=RetryPolicy(tries=1, max_backoff=10.0), pacer=pacer,
        clock=clock, sleep=sleep,
    )  # fmt: skip
    pdf = DocumentSource(make_pdf(tmp_path / "a.pdf"))
    ticket = Ticket.build(["5556465589"])
    for key in ("a", "b", "c"):  # the third waits 5.25 s, within max_backoff
        outcome = submitter.submit(key, ticket, [pdf], source=Source("send"))
        assert outcome.status is Status.ACCEPTED
    assert slept == [pytest.approx(5.25)]  # the window and its margin
    long = Pacer(tmp_path / "long.json", Rate(1, 3600.0), clock=clock)
    submitter.pacer = long
    long.turn()
    deferred = submitter.submit("d", ticket, [pdf], source=Source("send"))
    assert deferred.status is Status.DEFERRED and deferred.retry_after == pytest.approx(3601.0)
    assert "waiting 3601 s for a turn within the account's rate (1 per 3600 s)" in deferred.message
    assert journal.get("d").state is State.RETRY  # type: ignore[union-attr]
    assert journal.get("d").attempts == 0  # type: ignore[union-attr]  # no upload counted
    assert transport.sent == 3


def test_the_rest_transport_takes_the_services_count_and_never_bounces(
    tmp_path: Path, clock: Clock
) -> None:
    # [docs] rate-limits.md: every answer carries X-Rate-Limit-Limit, -Remaining, -Window;
    # a request over the limit gets a 429 and restarts the penalty. The sandbox enforces 2.
    from faxprint.config import Config
    from faxprint.sandbox.rest import RestService
    from tests.support.configs import rest_account
    from tests.support.secrets import TEST_APPS

    service = RestService(TEST_APPS, clock=clock, token_seconds=3600, fax_per_minute=2)
    with SandboxServer(port=0, store=tmp_path / "store", rest=service) as server:
        account = rest_account(server.url)
        settings = Config(accounts={account.name: account}, journal=tmp_path / "journal.sqlite")
        with Journal(settings.journal, clock=clock) as journal:
            submitter = Submitter.configured(settings, account, journal, clock=clock,
                                             sleep=clock.sleep,
                                             retry=RetryPolicy(tries=1, max_backoff=0.0))  # fmt: skip
            pdf = DocumentSource(make_pdf(tmp_path / "a.pdf"))
            outcomes = [submitter.submit(key, Ticket.build(["5556465589"]), [pdf],
                                         source=Source("send")) for key in "abc"]  # fmt: skip
        assert submitter.pacer is not None and submitter.pacer.current() == Rate(2, 60.0)
        assert [o.status for o in outcomes] == [Status.ACCEPTED, Status.ACCEPTED, Status.DEFERRED]
        assert "for a turn within the account's rate (2 per 60 s)" in outcomes[2].message
        assert len(service.messages) == 2  # the third was never asked: no 429, no penalty
        assert service.token_requests == 1


def test_a_rate_record_that_cannot_be_written_never_undoes_an_answer(tmp_path: Path) -> None:
    """The service's count is taken after it answered 200: a shared journal down then must
    not turn the accepted fax into an error (it would be sent again)."""
    from contextlib import contextmanager

    from faxprint.errors import JournalError

    @contextmanager
    def down():  # type: ignore[no-untyped-def]
        raise JournalError("journal postgresql://faxprint@db/faxprint cannot be used")
        yield {}

    pacer = Pacer(tmp_path / "pace.json", Rate(10, 60.0), shared=down)
    pacer.learn({"X-Rate-Limit-Limit": "10", "X-Rate-Limit-Remaining": "9",
                 "X-Rate-Limit-Window": "60"})  # fmt: skip
    with pytest.raises(JournalError):  # before an upload it is said: nothing was sent
        pacer.turn()
