"""The hot folder on a RingCentral REST account, with a real watcher (real inotify), real
files and the sandbox's REST side over real HTTP: a fax is filed in done/ with its
message id and ``"delivery": "pending"``, the watcher keeps asking while the service says
Queued, and rewrites the receipt once the delivery is final (``delivered``, or ``failed``
with the service's own status); a receipt left pending when the watcher stopped is
brought up to date by the next start, and the fax is never sent again."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest

from faxprint.journal import Journal
from faxprint.sandbox import SandboxServer
from faxprint.sandbox.rest import RestService
from tests.support.configs import HOT_FOLDER_RETRY, rest_account_toml, write_config
from tests.support.helpers import Watcher, drop_ticket, make_pdf, wait_for
from tests.support.rest import FAILING, QUEUED_FOR, CountingRest, RunningClock, queued_rest
from tests.support.secrets import TEST_APPS

pytestmark = pytest.mark.slow


def rest_hot_folder_config(tmp_path: Path, url: str) -> Path:
    """A config whose hot folder sends with the REST account ``office``."""
    hot_folder = (
        '[hotfolder]\naccount = "office"\nstable_seconds = 0.3\nrescan_seconds = 0.5\n'
        "concurrency = 4\ndelivery_seconds = 0.2\n"
    )
    return write_config(
        tmp_path, rest_account_toml(url, tmp_path), retry=HOT_FOLDER_RETRY, extra=hot_folder
    )


def filed(root: Path, where: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((root / where).glob("*/receipt.json"))]


def _final(receipts: list[dict[str, Any]], count: int) -> bool:
    return len(receipts) == count and all(r["delivery"] != "pending" for r in receipts)


def receipt_of(root: Path, message_id: str) -> dict[str, Any]:
    [receipt] = [r for r in filed(root, "done") if r.get("message_id") == message_id]
    return receipt


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "drop"


@pytest.fixture
def clock() -> RunningClock:
    """The watcher runs on real time: the sandbox too, moved forward by the tests."""
    return RunningClock()


@pytest.fixture
def service(clock: RunningClock) -> CountingRest:
    return queued_rest(clock)


def test_a_fax_is_filed_pending_and_its_receipt_rewritten_once_delivered(
    tmp_path: Path, root: Path, server: SandboxServer, service: CountingRest, clock: RunningClock
) -> None:
    with Watcher(rest_hot_folder_config(tmp_path, server.url), root):
        make_pdf(root / "offer.pdf", pages=2)
        drop_ticket(root, "offer", {"to": ["555 646 5589|Ann"], "cover_text": "Offer"})
        wait_for(lambda: filed(root, "done"), what="a receipt in done/")
        [receipt] = filed(root, "done")
        assert (receipt["outcome"], receipt["message_id"]) == ("accepted", "1")
        assert (receipt["delivery"], receipt["delivery_status"]) == ("pending", "Queued")
        assert "delivery_time" not in receipt
        # The national number was read as dialled in the account's default_country.
        assert service.messages[1].to == [{"phoneNumber": "+15556465589", "name": "Ann"}]
        assert [a["fileName"] for a in service.messages[1].attachments] == ["offer.pdf"]
        # The watcher asks again and again; while the service says Queued, nothing changes.
        wait_for(lambda: service.asked.count("1") >= 3, what="three delivery questions")
        assert receipt_of(root, "1")["delivery"] == "pending"

        clock.ahead += QUEUED_FOR + 1  # the sandbox delivers message 1
        wait_for(lambda: receipt_of(root, "1")["delivery"] != "pending", what="the rewrite")
        delivered = receipt_of(root, "1")
        # A final delivery is not asked about again: while a second fax is followed,
        # message 1 gets no further question.
        asked = service.asked.count("1")
        make_pdf(root / "next.pdf")
        drop_ticket(root, "next", {"to": ["5556465589"]})
        wait_for(lambda: service.asked.count("2") >= 3, what="three questions about the next")
        assert service.asked.count("1") == asked
    assert (delivered["delivery"], delivered["delivery_status"]) == ("delivered", "Sent")
    moment = dt.datetime.fromisoformat(delivered["delivery_time"])
    assert abs(moment.timestamp() - time.time()) < 60  # when faxprint learnt it, UTC
    # The rest of the receipt is kept as it was written.
    assert {k: v for k, v in delivered.items() if not k.startswith("delivery")} == {
        k: v for k, v in receipt.items() if not k.startswith("delivery")
    }
    with Journal(tmp_path / "journal.sqlite") as journal:
        record = journal.delivery(f"hotfolder:{receipt['job']}")
    assert record is not None
    assert (record.message_id, record.status, record.outcome) == ("1", "Sent", "delivered")
    assert len(service.messages) == 2  # each fax sent once, however often it was followed
    assert not list(root.joinpath("done").glob("*/.receipt.json.*"))  # no temporary left


def test_a_fax_to_a_failing_number_ends_failed_with_the_services_status(
    tmp_path: Path, root: Path
) -> None:
    # Real time this once: the sandbox delivers 0.5 s after accepting, the watcher asks
    # every 0.2 s.
    rest = RestService(TEST_APPS, delivery_seconds=0.5, failing_numbers=[FAILING])
    with (
        SandboxServer(port=0, store=tmp_path / "sandbox-store", rest=rest) as server,
        Watcher(rest_hot_folder_config(tmp_path, server.url), root),
    ):
        make_pdf(root / "good.pdf")
        drop_ticket(root, "good", {"to": ["5556465589"]})
        make_pdf(root / "bad.pdf")
        drop_ticket(root, "bad", {"to": ["(555) 646-0000|Nobody"]})
        wait_for(lambda: _final(filed(root, "done"), 2), what="two final deliveries")
    by_number = {r["recipients"][0].split("|")[0]: r for r in filed(root, "done")}
    assert set(by_number) == {"5556465589", "5556460000"}
    good, bad = by_number["5556465589"], by_number["5556460000"]
    assert (good["delivery"], good["delivery_status"]) == ("delivered", "Sent")
    assert (bad["outcome"], bad["delivery"], bad["delivery_status"]) == (
        "accepted", "failed", "SendingFailed",
    )  # fmt: skip
    assert bad["delivery_time"]
    # Accepted by the service, so filed in done/: the failure is the delivery's.
    assert filed(root, "failed") == filed(root, "held") == []
    assert sorted(m.to[0]["phoneNumber"] for m in rest.messages.values()) == [
        FAILING, "+15556465589",
    ]  # fmt: skip
    with Journal(tmp_path / "journal.sqlite") as journal:
        record = journal.delivery(f"hotfolder:{bad['job']}")
    assert record is not None and (record.status, record.outcome) == ("SendingFailed", "failed")


def test_a_receipt_pending_when_the_watcher_stops_is_updated_at_the_next_start(
    tmp_path: Path, root: Path, server: SandboxServer, service: CountingRest, clock: RunningClock
) -> None:
    config = rest_hot_folder_config(tmp_path, server.url)
    with Watcher(config, root):
        make_pdf(root / "late.pdf")
        drop_ticket(root, "late", {"to": ["5556465589"]})
        wait_for(lambda: filed(root, "done"), what="a receipt in done/")
        wait_for(lambda: "1" in service.asked, what="the watcher asking about it")
    assert receipt_of(root, "1")["delivery"] == "pending"
    asked = len(service.asked)

    clock.ahead += QUEUED_FOR + 1  # delivered while no watcher runs
    assert receipt_of(root, "1")["delivery"] == "pending"  # no one rewrites it meanwhile
    assert len(service.asked) == asked
    with Watcher(config, root):  # its own start finds the pending receipt in done/
        wait_for(lambda: receipt_of(root, "1")["delivery"] == "delivered", what="the rewrite")
    assert receipt_of(root, "1")["delivery_status"] == "Sent"
    assert len(service.asked) > asked
    assert len(service.messages) == 1  # brought up to date, not sent again
