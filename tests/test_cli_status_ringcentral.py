"""``faxprint status``, ``history`` and ``show`` on a journal with faxes sent (by
``faxprint send``, a real process) through the sandbox's REST side over HTTP, and one
FaxOut fax beside them: an accepted REST fax is ``queued`` and listed as not confirmed
until the service delivers it, then a refresh shows ``delivered`` or ``undelivered`` and
``show`` says what the service answered and when; ``--no-refresh`` shows the last
recorded state without a request to the service; a service that cannot be asked costs a
warning, never the command, and a message the service no longer has does not keep the
account's other faxes from being refreshed; ``--json`` carries the delivery."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from faxprint.cli import jobs
from faxprint.sandbox import SandboxServer
from tests.support.configs import faxout_account, rest_account_toml, write_config
from tests.support.helpers import make_pdf
from tests.support.rest import QUEUED_FOR, CountingRest, RunningClock, queued_rest
from tests.support.secrets import TEST_PASSWORD
from tests.test_cli_send import _send
from tests.test_cli_status import _run

GOOD, BAD, FAXOUT = "5556465589", "5556460000", "5556465500"
NOT_CONFIRMED = "accepted in the last 24 hours, delivery not confirmed:"
WARNING = "faxprint: warning: account office: delivery not refreshed: "


@pytest.fixture
def clock() -> RunningClock:
    """``faxprint send`` runs on real time: the sandbox too, moved forward by the tests."""
    return RunningClock()


@pytest.fixture
def service(clock: RunningClock) -> CountingRest:
    return queued_rest(clock)


@pytest.fixture
def sent(tmp_path: Path, server: SandboxServer, service: CountingRest) -> Path:
    """A config and its journal: REST faxes to GOOD (message 1) and BAD (message 2, whose
    delivery fails), and a FaxOut fax to FAXOUT (no delivery to follow)."""
    faxout = faxout_account(
        server.url, password=None, password_file=_secret(tmp_path), read_timeout=5
    )
    config = write_config(
        tmp_path,
        faxout + rest_account_toml(server.url, tmp_path),
        retry={"tries": 2, "backoff": 0.0},
    )
    pdf = make_pdf(tmp_path / "offer.pdf", pages=2)
    for account, to in (("office", f"{GOOD}|Ann"), ("office", BAD), ("default", FAXOUT)):
        result = _send(config, "--account", account, "--to", to, str(pdf))
        assert result.returncode == 0, result.stderr
    assert sorted(service.messages) == [1, 2] and service.asked == []
    assert len(server.faxes()) == 1  # the FaxOut one
    return config


def _secret(folder: Path) -> Path:
    path = folder / "default.secret"
    path.touch(mode=0o600)
    path.write_text(TEST_PASSWORD + "\n")
    return path


def _ok(config: Path, *args: str) -> str:
    """Run a command that must succeed without a warning; return its output."""
    result = _run(config, *args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def _rows(lines: list[str]) -> dict[str, list[str]]:
    """{recipient number: the row's words} of a table's rows."""
    rows = {}
    for line in lines:
        if line.startswith("20") and (found := re.search(r"\b(555646[0-9]{4})\b", line)):
            rows[found[1]] = line.split()
    return rows


def _main(stdout: str) -> dict[str, str]:
    """{number: shown state} of the first table (status: before the sections)."""
    table = stdout.split("\n\n", maxsplit=1)[0].splitlines()
    return {number: words[2] for number, words in _rows(table).items()}


def _not_confirmed(stdout: str) -> dict[str, str]:
    """{number: shown state} of status's section of deliveries not confirmed."""
    if NOT_CONFIRMED not in stdout:
        return {}
    section = stdout.split(NOT_CONFIRMED + "\n", 1)[1].split("\n\n", maxsplit=1)[0].splitlines()
    assert section[0].split() == list(jobs.HEADER)
    return {number: words[2] for number, words in _rows(section[1:]).items()}


def _state(story: str) -> str:
    """The state ``show`` gives a job."""
    found = re.search(r"^state {7}(\S+)", story, re.M)
    assert found, story
    return found[1]


def _keys(config: Path) -> dict[str, str]:
    """{number: job key}, without asking the service."""
    lines = _ok(config, "history", "--json", "--no-refresh").splitlines()
    return {json.loads(line)["recipients"][0].split("|")[0]: json.loads(line)["key"]
            for line in lines}  # fmt: skip


def _json(config: Path, *args: str) -> dict[str, dict[str, Any]]:
    lines = _ok(config, "history", "--json", *args).splitlines()
    return {json.loads(line)["recipients"][0].split("|")[0]: json.loads(line) for line in lines}


def test_before_delivery_rest_faxes_are_queued_and_not_confirmed(
    sent: Path, service: CountingRest
) -> None:
    shown = _ok(sent, "status")
    assert shown.splitlines()[0] == "no jobs"  # accepted: nothing waits for a person
    assert _not_confirmed(shown) == {GOOD: "queued", BAD: "queued"}  # FaxOut has no delivery
    assert shown.splitlines()[-1] == "last 24 hours: 3 accepted"
    assert sorted(service.asked) == ["1", "2"]  # the refresh asked about each once

    history = _ok(sent, "history")
    assert _main(history) == {GOOD: "queued", BAD: "queued", FAXOUT: "accepted"}
    assert "message 1: Queued" in history and "message 2: Queued" in history
    story = _ok(sent, "show", _keys(sent)[GOOD])
    assert _state(story) == "queued"
    assert re.search(r"^delivery    message 1: Queued \(asked [0-9: -]{19}\)$", story, re.M)


def test_after_delivery_a_refresh_shows_delivered_and_undelivered(
    sent: Path, service: CountingRest, clock: RunningClock
) -> None:
    _ok(sent, "status")  # asked while Queued
    clock.ahead += QUEUED_FOR + 1  # the service delivers 1; delivery to BAD fails
    history = _ok(sent, "history")
    assert _main(history) == {GOOD: "delivered", BAD: "undelivered", FAXOUT: "accepted"}
    assert "message 1: Sent" in history and "message 2: SendingFailed" in history

    shown = _ok(sent, "status")
    assert _not_confirmed(shown) == {BAD: "undelivered"}  # a failed delivery stays listed
    keys = _keys(sent)
    story = _ok(sent, "show", keys[GOOD])
    assert _state(story) == "delivered"
    assert re.search(r"^delivery    message 1: Sent \(asked [0-9: -]{19}\)$", story, re.M)
    failed = _ok(sent, "show", keys[BAD])
    assert _state(failed) == "undelivered"
    assert "delivery    message 2: SendingFailed (asked " in failed
    assert "  #1  " in failed  # the upload's own story is still told
    faxout = _ok(sent, "show", keys[FAXOUT])
    assert _state(faxout) == "accepted" and "\ndelivery " not in faxout

    asked = len(service.asked)
    _ok(sent, "status")
    _ok(sent, "history")
    assert len(service.asked) == asked  # a final delivery is not asked about again


def test_status_json_carries_the_deliveries_not_confirmed_as_the_text_lists_them(
    sent: Path, clock: RunningClock
) -> None:
    def shown() -> dict[str, tuple[str, str]]:
        lines = [json.loads(line) for line in _ok(sent, "status", "--json").splitlines()]
        return {job["recipients"][0].split("|")[0]: (job["state"], job["delivery"]["outcome"])
                for job in lines}  # fmt: skip

    assert shown() == {GOOD: ("queued", "pending"), BAD: ("queued", "pending")}
    clock.ahead += QUEUED_FOR + 1
    assert shown() == {BAD: ("undelivered", "failed")}  # as the text form's section


def test_no_refresh_shows_the_last_recorded_state_and_asks_nothing(
    sent: Path, service: CountingRest, clock: RunningClock
) -> None:
    _ok(sent, "status")  # recorded: Queued
    clock.ahead += QUEUED_FOR + 1  # the service would now say Sent
    asked, tokens = len(service.asked), service.token_requests
    keys = _keys(sent)

    assert _main(_ok(sent, "history", "--no-refresh")) == {
        GOOD: "queued", BAD: "queued", FAXOUT: "accepted",
    }  # fmt: skip
    assert _not_confirmed(_ok(sent, "status", "--no-refresh")) == {GOOD: "queued", BAD: "queued"}
    assert "delivery    message 1: Queued (asked " in _ok(sent, "show", "--no-refresh", keys[GOOD])
    record = json.loads(_ok(sent, "show", "--json", "--no-refresh", keys[GOOD]))
    assert (record["state"], record["delivery"]["status"]) == ("queued", "Queued")
    assert (len(service.asked), service.token_requests) == (asked, tokens)  # not one request

    # Asking is what changes it.
    assert _main(_ok(sent, "history"))[GOOD] == "delivered"
    assert len(service.asked) > asked


def test_a_service_that_cannot_be_asked_costs_a_warning_not_the_command(
    sent: Path, server: SandboxServer
) -> None:
    keys = _keys(sent)
    server.stop()  # nothing listens on its port any more
    for args in (["status"], ["history"], ["show", keys[GOOD]], ["history", "--json"]):
        result = _run(sent, *args)
        assert result.returncode == 0, result.stderr
        [warning] = result.stderr.splitlines()  # one line for the account, not one per fax
        assert warning.startswith(WARNING), warning
        assert "cannot reach the service" in warning
    shown = _run(sent, "status").stdout
    assert _not_confirmed(shown) == {GOOD: "queued", BAD: "queued"}  # as last recorded
    assert shown.splitlines()[-1] == "last 24 hours: 3 accepted"
    assert "delivery    message 1: Queued" in _run(sent, "show", keys[GOOD]).stdout
    # --no-refresh does not even try: no warning.
    assert _run(sent, "status", "--no-refresh").stderr == ""


def test_json_carries_the_delivery_as_last_heard(sent: Path, clock: RunningClock) -> None:
    before = _json(sent)
    for number, message_id in ((GOOD, "1"), (BAD, "2")):
        delivery = before[number]["delivery"]
        assert before[number]["state"] == "queued"
        assert (delivery["message_id"], delivery["status"], delivery["outcome"]) == (
            message_id, "Queued", "pending",
        )  # fmt: skip
        assert delivery["checked"] >= before[number]["updated"]
    assert "delivery" not in before[FAXOUT] and before[FAXOUT]["state"] == "accepted"

    clock.ahead += QUEUED_FOR + 1
    after = _json(sent)
    shown = {n: (r["state"], r["delivery"]["status"], r["delivery"]["outcome"])
             for n, r in after.items() if n != FAXOUT}  # fmt: skip
    assert shown == {
        GOOD: ("delivered", "Sent", "delivered"),
        BAD: ("undelivered", "SendingFailed", "failed"),
    }
    assert after[GOOD]["delivery"]["checked"] > before[GOOD]["delivery"]["checked"]
    story = json.loads(_ok(sent, "show", "--json", after[GOOD]["key"]))
    assert story["state"] == "delivered"
    assert {k: v for k, v in story["delivery"].items() if k != "checked"} == {
        "message_id": "1", "status": "Sent", "outcome": "delivered",
    }  # fmt: skip
    assert [a["state"] for a in story["history"]] == ["accepted"]  # the upload's own record


def test_a_message_the_service_no_longer_has_does_not_stop_the_others_refreshing(
    sent: Path, service: CountingRest, clock: RunningClock
) -> None:
    # The oldest pending fax is asked about first; the service forgot it (deleted in the
    # RingCentral app, or past the message store's retention): 404 for that message only.
    del service.messages[1]
    clock.ahead += QUEUED_FOR + 1  # and delivery to BAD has failed meanwhile
    for _ in range(2):  # and again: the forgotten message must not block the next refresh
        result = _run(sent, "status")
        assert result.returncode == 0, result.stderr
        [warning] = result.stderr.splitlines()
        assert warning.startswith("faxprint: warning: account office: message 1: "), warning
        assert "HTTP 404: Resource for parameter [messageId] is not found (CMN-102)" in warning
        assert _not_confirmed(result.stdout) == {GOOD: "queued", BAD: "undelivered"}
