"""The RingCentral REST transport against the sandbox's REST side, over real HTTP on
loopback: the request as the API wants it, tokens shared and renewed, 429 honoured across
processes, outcomes mapped, uncertain uploads settled through the message store, and
delivery followed."""

from __future__ import annotations

import json
import socket
import sqlite3
import tempfile
import threading
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from faxprint import delivery, errors
from faxprint.config import Account, Config, RetryPolicy
from faxprint.documents import DocumentSource, inspect
from faxprint.hotfolder.follow import follow
from faxprint.hotfolder.spool import Spool
from faxprint.journal import Journal, State
from faxprint.outcome import Source, Status
from faxprint.sandbox import SandboxServer
from faxprint.sandbox.rest import RestService
from faxprint.sandbox.rest_messages import Message
from faxprint.submitter import Submitter
from faxprint.ticket import Ticket
from faxprint.transports.ringcentral import RingCentralTransport
from tests.support.configs import rest_account
from tests.support.helpers import make_pdf
from tests.support.rest import Clock
from tests.support.secrets import TEST_APPS


@pytest.fixture
def account(server: SandboxServer) -> Account:
    return rest_account(server.url)


def _transport(account: Account, tmp_path: Path, clock: Clock) -> RingCentralTransport:
    return RingCentralTransport(account, tmp_path / "state", clock=clock)


def _submitter(
    account: Account, tmp_path: Path, clock: Clock, **kw: object
) -> tuple[Submitter, Journal]:
    journal = Journal(tmp_path / "journal.sqlite", clock=clock)
    submitter = Submitter(
        account, journal, transport=_transport(account, tmp_path, clock),
        retry=RetryPolicy(tries=3, backoff=1.0), clock=clock, sleep=clock.sleep, **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return submitter, journal


def _send(submitter: Submitter, tmp_path: Path, ticket: Ticket, key: str = "job-1") -> object:
    pdf = make_pdf(tmp_path / f"{key}.pdf", pages=2)
    return submitter.submit(key, ticket, [DocumentSource(pdf, "offer.pdf")], source=Source("send"))


NOW = datetime.fromtimestamp(1_800_000_000.0, UTC)


def test_a_ticket_becomes_the_request_the_api_wants(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    submitter, journal = _submitter(replace(account, default_country="DE"), tmp_path, clock)
    ticket = Ticket.build(
        ["030 1234567|Ann", "+1 555 646 5589"], cover="confidential", cover_text="Hello\nAnn",
        resolution="high", send_at=datetime(2027, 3, 1, 9, 30, tzinfo=UTC),
    )  # fmt: skip
    outcome = _send(submitter, tmp_path, ticket)
    assert outcome.status is Status.ACCEPTED  # type: ignore[attr-defined]
    message = service.messages[1]
    assert message.to == [{"phoneNumber": "+49301234567", "name": "Ann"},
                          {"phoneNumber": "+15556465589"}]  # fmt: skip
    assert (message.cover_index, message.cover_text) == (6, "Hello\nAnn")
    # The JSON root part as every documented example and official SDK sends it
    # (sending-faxes.md's JavaScript sample; ringcentral-python multipart_builder.py).
    assert message.json_part == {
        "name": "json", "filename": "request.json", "content_type": "application/json"
    }  # fmt: skip
    assert (message.resolution, message.send_time) == ("High", "2027-03-01T09:30:00Z")
    assert [(a["fileName"], a["contentType"]) for a in message.attachments] == [
        ("offer.pdf", "application/pdf")
    ]
    assert outcome.message_id == "1" and outcome.delivery == "Queued"  # type: ignore[attr-defined]
    record = journal.delivery("job-1")
    assert record is not None and (record.message_id, record.outcome) == ("1", "pending")


#: The en-US cover pages, in the dictionary's order (index = id). There is no "Default":
#: the account's default cover is what a request without ``coverIndex`` gets ([spec]
#: CreateFaxMessageRequest.coverIndex; ../shared/ringcentral-rest.md s4).
EN_US_COVERS = ("None", "Ancient", "Birthday", "Blank", "Clasmod", "Classic", "Confidential",
                "Contempo", "Elegant", "Express", "Formal", "Jazzy", "Modern", "Urgent")  # fmt: skip


def test_a_fax_with_no_cover_option_leaves_cover_index_out(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    # "If not specified, the default cover page is attached (which is configured in
    # 'Outbound Fax Settings')"; "If coverIndex is set to '0' (zero) a cover page is not
    # attached" (the spec's coverIndex). Once every such fax was refused: "Default" was
    # looked up in a dictionary that has no such record.
    submitter, _ = _submitter(account, tmp_path, clock)
    for key, cover in (("default", None), ("named default", "default"), ("none", "None")):
        outcome = _send(submitter, tmp_path, Ticket.build(["+15556465589"], cover=cover), key)
        assert outcome.status is Status.ACCEPTED, outcome  # type: ignore[attr-defined]
    assert [m.cover_index for m in service.messages.values()] == [None, None, 0]
    transport = _transport(account, tmp_path, clock)
    for cover, index in ((None, "left out"), ("None", 0)):
        request = json.loads(transport.fax_request(Ticket.build(["5556465589"], cover=cover), [],
                                                   now=NOW))  # fmt: skip
        assert request.get("coverIndex", "left out") == index  # not even null
    assert not list((tmp_path / "state").glob("*.covers.json"))  # no dictionary was read


@pytest.mark.parametrize(("index", "name"), list(enumerate(EN_US_COVERS)))
def test_every_named_cover_page_maps_to_its_index(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock,
    index: int, name: str,
) -> None:  # fmt: skip
    submitter, _ = _submitter(account, tmp_path, clock)
    outcome = _send(submitter, tmp_path, Ticket.build(["+15556465589"], cover=name.upper()))
    assert outcome.status is Status.ACCEPTED, outcome  # type: ignore[attr-defined]
    assert service.messages[1].cover_index == index


def test_an_unknown_cover_page_is_refused_with_the_names_and_the_dictionary_is_cached(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    transport = _transport(account, tmp_path, clock)
    assert transport.cover_index("URGENT") == 13
    with pytest.raises(errors.TicketError) as raised:
        transport.cover_index("Fancy")
    assert raised.value.message == f"cover page 'Fancy' is not one of: {', '.join(EN_US_COVERS)}"
    # The dictionary is cached: one token request, one dictionary read, for both.
    assert service.token_requests == 1
    assert json.loads((tmp_path / "state").joinpath(
        next(p.name for p in (tmp_path / "state").iterdir() if p.name.endswith(".covers.json"))
    ).read_text())["covers"]["6"] == "Confidential"  # fmt: skip


def test_names_and_cover_text_reach_the_api_in_utf8(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    # The JSON root part is JSON, and JSON is UTF-8 (RFC 8259 s8.1); the spec gives
    # to[].name and coverPageText as strings, with no ASCII rule: that rule is FaxOut's.
    ticket = Ticket.build(["+15556465589|José Müller", "+15555568552|北京 Ltd"],
                          cover_text="Grüße aus Köln\n— Ünal")  # fmt: skip
    request = _transport(account, tmp_path, clock).fax_request(ticket, [], now=NOW)
    assert "José Müller".encode() in request and b"\\u" not in request  # as written
    submitter, _ = _submitter(account, tmp_path, clock)
    assert _send(submitter, tmp_path, ticket).status is Status.ACCEPTED  # type: ignore[attr-defined]
    message = service.messages[1]
    assert [r["name"] for r in message.to] == ["José Müller", "北京 Ltd"]
    assert message.cover_text == "Grüße aus Köln\n— Ünal"


def test_cover_text_is_counted_as_the_service_may_count_it(
    server: SandboxServer, account: Account, tmp_path: Path, clock: Clock
) -> None:
    # coverPageText maxLength 1024: characters or UTF-16 units is not said, and a Java
    # service counts units. The safe reading: an emoji counts twice.
    transport = _transport(account, tmp_path, clock)
    transport.fax_request(Ticket.build(["+15556465589"], cover_text="é" * 1024), [], now=NOW)
    transport.fax_request(Ticket.build(["+15556465589"], cover_text="x" * 1022 + "📠"), [], now=NOW)
    with pytest.raises(errors.TicketError, match=r"has 1025 characters \(emoji .* count twice\)"):
        transport.fax_request(
            Ticket.build(["+15556465589"], cover_text="x" * 1023 + "📠"), [], now=NOW
        )


def test_one_token_serves_many_faxes_and_is_refreshed_before_it_expires(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    submitter, _ = _submitter(account, tmp_path, clock)
    for number in range(3):
        _send(submitter, tmp_path, Ticket.build(["+15556465589"]), key=f"job-{number}")
    assert (service.token_requests, len(service.messages)) == (1, 3)
    clock.now += 3400  # within the 300 s margin of the hour: renewed with the refresh token
    _send(submitter, tmp_path, Ticket.build(["+15556465589"]), key="job-late")
    assert (service.token_requests, len(service.messages)) == (2, 4)


def test_a_token_the_service_forgot_is_replaced_once(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    submitter, _ = _submitter(account, tmp_path, clock)
    _send(submitter, tmp_path, Ticket.build(["+15556465589"]), key="first")
    service._access.clear()  # revoked, or the service restarted: 401 TokenInvalid
    outcome = _send(submitter, tmp_path, Ticket.build(["+15556465589"]), key="second")
    assert outcome.status is Status.ACCEPTED  # type: ignore[attr-defined]
    assert (service.token_requests, len(service.messages)) == (2, 2)


# tokens.md: "If an expired or invalidated token is used, RingCentral rejects the request
# with an HTTP 401 ... applications must obtain a new access token". The codes a token
# that no longer serves comes back with: errors.md and the swagger's per-endpoint tables.
# The new token comes from the refresh token where the session lives on (a refresh
# continues a session, tokens.md), else from a new grant (the refresh refused first):
# the token requests the renewal takes.
SESSION_ENDS = {
    "session ended (OAU-213 Token not found)": (lambda s: s.end_sessions("OAU-213"), 2),
    "expired early (OAU-128)": (lambda s: s.expire_tokens(), 1),
    "corrupted (OAU-129)": (lambda s: s.end_sessions("OAU-129"), 2),
    "unparsable (OAU-149)": (lambda s: s.end_sessions("OAU-149"), 2),
    "revoked, unknown to the service": (lambda s: s._access.clear(), 1),
}


@pytest.mark.parametrize("shape", ["documented", "observed"])
@pytest.mark.parametrize("end", list(SESSION_ENDS))
def test_a_token_the_service_no_longer_takes_is_renewed_once_and_the_fax_goes(
    tmp_path: Path, clock: Clock, end: str, shape: str
) -> None:
    service = RestService(TEST_APPS, clock=clock, error_shape=shape)  # type: ignore[arg-type]
    with SandboxServer(port=0, store=tmp_path / "store", rest=service) as server:
        submitter, journal = _submitter(rest_account(server.url), tmp_path, clock)
        _send(submitter, tmp_path, Ticket.build(["+15556465589"]), key="first")
        fault, grants = SESSION_ENDS[end]
        fault(service)  # the cached token still looks valid to faxprint
        outcome = _send(submitter, tmp_path, Ticket.build(["+15556465589"]), key="second")
    assert outcome.status is Status.ACCEPTED, outcome  # type: ignore[attr-defined]
    assert [a.state for a in journal.attempts("second")] == [State.ACCEPTED]  # one attempt
    assert (service.token_requests, len(service.messages)) == (1 + grants, 2)


def test_a_401_with_a_new_token_is_the_accounts_in_one_line(tmp_path: Path, clock: Clock) -> None:
    service = RestService(TEST_APPS, clock=clock, token_seconds=0)  # every token refused
    with SandboxServer(port=0, store=tmp_path / "store", rest=service) as server:
        submitter, journal = _submitter(rest_account(server.url), tmp_path, clock)
        outcome = _send(submitter, tmp_path, Ticket.build(["+15556465589"]))
    assert outcome.status is Status.ACCOUNT, outcome  # type: ignore[attr-defined]
    message = outcome.message  # type: ignore[attr-defined]
    assert message.startswith("the service refused the account (HTTP 401: ")
    assert "(OAU-128)" in message and "{" not in message  # the API's words, not its JSON
    assert (service.token_requests, service.messages) == (2, {})  # renewed once, no more
    assert journal.get("job-1").state is State.RETRY  # type: ignore[union-attr]


def test_bad_credentials_are_the_admins_and_leave_the_job_to_retry(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    for wrong in ({"client_secret": "not-the-secret"}, {"jwt": "not-the-jwt"}):
        submitter, journal = _submitter(replace(account, **wrong), tmp_path / str(wrong), clock)
        outcome = _send(submitter, tmp_path, Ticket.build(["+15556465589"]))
        assert outcome.status is Status.ACCOUNT  # type: ignore[attr-defined]
        assert "client_id, client_secret and jwt" in outcome.message  # type: ignore[attr-defined]
        assert journal.get("job-1").state is State.RETRY  # type: ignore[union-attr]
    assert not service.messages


def test_429_waits_what_the_service_asked_in_every_process(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    submitter, _ = _submitter(account, tmp_path, clock)
    _send(submitter, tmp_path, Ticket.build(["+15556465589"]), key="warm")  # token in cache
    service.push_429(7)
    started = clock.now
    outcome = _send(submitter, tmp_path, Ticket.build(["+15556465589"]))
    assert outcome.status is Status.ACCEPTED  # type: ignore[attr-defined]
    assert clock.now - started >= 7  # slept what Retry-After said, not the 1 s backoff
    # Another process of the account, while a pause is on, does not even ask.
    service.push_429(30)
    with pytest.raises(errors.ServiceUnavailable):
        _transport(account, tmp_path, clock).send(
            Ticket.build(["+15556465589"]), [], now=NOW
        )  # the 429 itself
    other = _transport(account, tmp_path, clock)
    service.push_429(99)  # would be answered if the other process asked
    with pytest.raises(errors.ServiceUnavailable, match="wait 30 s more") as raised:
        other.send(Ticket.build(["+15556465589"]), [], now=NOW)
    assert raised.value.retry_after == 30
    assert list(service._forced_429) == [99]  # the pause was honoured without a request


def test_a_retry_after_longer_than_the_backoff_cap_is_left_to_the_next_run(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    submitter, journal = _submitter(account, tmp_path, clock)
    service.push_429(600)
    outcome = _send(submitter, tmp_path, Ticket.build(["+15556465589"]))
    assert outcome.status is Status.DEFERRED  # type: ignore[attr-defined]
    assert journal.get("job-1").attempts == 1  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("ticket", "words"),
    [
        (Ticket.build(["+15556465589"], cover_text="x" * 1025), "at most 1024"),
        (Ticket.build(["12345"]), "not a possible fax number"),
        (Ticket.build(["+15556465589"], cover="Fancy"), "not one of"),
    ],
)
def test_what_the_api_would_refuse_is_refused_before_sending(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock,
    ticket: Ticket, words: str,
) -> None:  # fmt: skip
    submitter, journal = _submitter(account, tmp_path, clock)
    outcome = _send(submitter, tmp_path, ticket)
    assert outcome.status is Status.INVALID, outcome  # type: ignore[attr-defined]
    assert words in outcome.message  # type: ignore[attr-defined]
    assert journal.get("job-1").state is State.FAILED  # type: ignore[union-attr]
    assert not service.messages


def test_a_file_name_the_api_forbids_is_faxed_under_a_safe_one(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    # sending-faxes.md, "Attachment Limitations": "The file name of the attached files
    # does not include ampersands (e.g. &) or other special characters such as @#$%^&*".
    submitter, journal = _submitter(account, tmp_path, clock)
    pdf = make_pdf(tmp_path / "made.pdf", pages=2)
    outcome = submitter.submit("job-1", Ticket.build(["+15556465589"]),
                               [DocumentSource(pdf, "R&D #1 (50%).pdf")],
                               source=Source("send"))  # fmt: skip
    assert outcome.status is Status.ACCEPTED, outcome
    assert [a["fileName"] for a in service.messages[1].attachments] == ["R_D_1_50.pdf"]
    assert journal.get("job-1").documents == ("R&D #1 (50%).pdf",)  # type: ignore[union-attr]


def test_postscript_is_faxed_as_pdf_with_its_pages_counted(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # PostScript is not in sending-faxes.md's "supported FAX content types".
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    letter = tmp_path / "letter.ps"
    letter.write_bytes(
        b"%!PS-Adobe-3.0\n/Helvetica findfont 20 scalefont setfont\n"
        + b"72 700 moveto (one) show showpage 72 700 moveto (two) show showpage\n"
    )
    submitter, journal = _submitter(account, tmp_path, clock)
    outcome = submitter.submit("job-1", Ticket.build(["+15556465589"]),
                               [DocumentSource(letter)], source=Source("send"))  # fmt: skip
    assert (outcome.status, outcome.pages) == (Status.ACCEPTED, 2), outcome
    assert journal.get("job-1").pages == 2  # type: ignore[union-attr]
    [attachment] = service.messages[1].attachments
    assert (attachment["fileName"], attachment["contentType"]) == ("letter.pdf", "application/pdf")
    assert journal.get("job-1").documents == ("letter.ps",)  # type: ignore[union-attr]
    assert list(scratch.iterdir()) == []  # the PDF made for it is gone


def test_the_pdf_made_of_postscript_lasts_through_the_retries_of_a_run(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock,
) -> None:  # fmt: skip
    letter = tmp_path / "letter.ps"
    letter.write_bytes(b"%!PS\n/Helvetica findfont 20 scalefont setfont 72 700 moveto (x) show"
                       b" showpage\n")  # fmt: skip
    service.push_status(503)  # the first try is refused before the service took it
    submitter, journal = _submitter(account, tmp_path, clock)
    outcome = submitter.submit("job-1", Ticket.build(["+15556465589"]),
                               [DocumentSource(letter)], source=Source("send"))  # fmt: skip
    assert outcome.status is Status.ACCEPTED, outcome
    assert [a.state for a in journal.attempts("job-1")] == [State.RETRY, State.ACCEPTED]
    [message] = service.messages.values()
    assert [a["fileName"] for a in message.attachments] == ["letter.pdf"]


def test_a_type_the_api_does_not_take_is_refused_before_any_request(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    odt = tmp_path / "letter.odt"
    odt.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    submitter, journal = _submitter(account, tmp_path, clock)
    outcome = submitter.submit("job-1", Ticket.build(["+15556465589"]),
                               [DocumentSource(odt)], source=Source("send"))  # fmt: skip
    assert outcome.status is Status.INVALID, outcome
    assert outcome.message.startswith(
        "letter.odt: this service does not fax application/vnd.oasis.opendocument.text files;"
        " it takes .pdf, .psd, .doc, .docx"
    )
    assert journal.get("job-1").state is State.FAILED  # type: ignore[union-attr]
    assert (service.token_requests, service.fax_requests) == (0, 0)  # not even a sign-in


def test_a_lost_answer_is_settled_by_the_message_store(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    submitter, journal = _submitter(account, tmp_path, clock)
    _send(submitter, tmp_path, Ticket.build(["+15556465589"]), key="earlier")  # not this one
    service.lost_answers = 1
    outcome = _send(submitter, tmp_path, Ticket.build(["+15556465589"]))
    assert outcome.status is Status.ACCEPTED, outcome  # type: ignore[attr-defined]
    assert outcome.message_id == "2"  # type: ignore[attr-defined]
    assert len(service.messages) == 2  # found, not sent again
    assert journal.get("job-1").attempts == 1  # type: ignore[union-attr]


def test_the_store_match_prefers_a_fax_made_after_the_upload_began(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    # A fax to the same number from elsewhere (not faxprint's: no job owns it), 30 s
    # before this upload began, within the clock skew allowed: not taken for this job's.
    pdf = make_pdf(tmp_path / "other.pdf")
    other = _transport(account, tmp_path, clock)
    other.send(Ticket.build(["+15556465589"]), [inspect(pdf)], now=NOW)
    clock.now += 30
    submitter, _ = _submitter(account, tmp_path, clock)
    service.lost_answers = 1
    outcome = _send(submitter, tmp_path, Ticket.build(["+15556465589"]))
    assert (outcome.status, outcome.message_id) == (Status.ACCEPTED, "2")  # type: ignore[attr-defined]
    clock.now += 120  # and one made long before an upload is never a match
    assert [
        r.message_id for r in other.lookup(Ticket.build(["+15556465589"]), clock.now, clock.now)
    ] == []


def test_an_upload_the_store_never_saw_is_sent_again_after_store_wait(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    submitter, journal = _submitter(replace(account, store_wait=20), tmp_path, clock)
    service.ignored_requests = 1  # read whole, never accepted, never answered
    before = clock.now
    outcome = _send(submitter, tmp_path, Ticket.build(["+15556465589"]))
    assert outcome.status is Status.ACCEPTED, outcome  # type: ignore[attr-defined]
    assert clock.now - before >= 20  # looked for store_wait seconds first
    attempts = journal.attempts("job-1")
    assert [a.state for a in attempts] == [State.RETRY, State.ACCEPTED]
    assert "holds no such fax" in attempts[0].message
    assert len(service.messages) == 1


def _store_down(*args: object) -> list[object]:
    raise errors.ServiceUnavailable("the store cannot be asked")


def test_an_uncertain_job_from_an_earlier_run_is_settled_by_the_store(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    submitter, _ = _submitter(account, tmp_path, clock)
    service.lost_answers = 1
    service_down = replace(account, store_wait=0)
    first, _ = _submitter(service_down, tmp_path, clock)
    first.transport.lookup = _store_down  # type: ignore[attr-defined]
    outcome = _send(first, tmp_path, Ticket.build(["+15556465589"]))
    assert outcome.status is Status.UNCERTAIN  # type: ignore[attr-defined]
    again = _send(submitter, tmp_path, Ticket.build(["+15556465589"]))
    assert again.status is Status.ACCEPTED and again.message_id == "1"  # type: ignore[attr-defined]
    assert len(service.messages) == 1


def test_a_job_whose_sender_died_mid_upload_is_looked_up_before_anything_else(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    # A backend killed during its upload left the job "sending"; the fax did reach the
    # service. The next run asks the store first: found, accepted, not sent again.
    submitter, journal = _submitter(account, tmp_path, clock)
    journal.begin("job-1", source="cups", account="office", recipients=["+15556465589"],
                  documents=["offer.pdf"], pages=2)  # fmt: skip
    dead = Journal(journal.path, clock=clock)
    dead.owner = f"{socket.gethostname()}:999999999:1"  # no such process
    dead.start_attempt("job-1")
    pdf = make_pdf(tmp_path / "offer.pdf", pages=2)
    _transport(account, tmp_path, clock).send(
        Ticket.build(["+15556465589"]), [inspect(pdf)], now=NOW
    )  # what the dead process uploaded
    clock.now += 5
    outcome = submitter.submit("job-1", Ticket.build(["+15556465589"]),
                               [DocumentSource(pdf)], source=Source("cups"), release=True)  # fmt: skip
    assert (outcome.status, outcome.message_id) == (Status.ACCEPTED, "1"), outcome
    assert len(service.messages) == 1


def test_delivery_moves_from_queued_to_delivered_or_failed(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    submitter, _ = _submitter(account, tmp_path, clock)
    _send(submitter, tmp_path, Ticket.build(["+15556465589"]), key="good")
    _send(submitter, tmp_path, Ticket.build(["+15556460000"]), key="bad")
    transport = _transport(account, tmp_path, clock)
    assert transport.delivery("1").outcome == "pending"
    clock.now += 31
    # A delivered outbound fax reads Sent: the spec's MessageStatusEnum gives outbound
    # faxes the aggregated status, "Sent" when no recipient is Queued or failed.
    assert (transport.delivery("1").status, transport.delivery("1").outcome) == (
        "Sent", "delivered")  # fmt: skip
    assert (transport.delivery("2").status, transport.delivery("2").outcome) == (
        "SendingFailed", "failed")  # fmt: skip
    # The documented error body: {"errors": [{"errorCode", "message"}]} (errors.md).
    with pytest.raises(errors.RejectedError, match=r"HTTP 404: .+ \(CMN-102\)"):
        transport.delivery("9")


def test_the_credentials_check_gets_a_token_and_sends_nothing(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    assert _transport(account, tmp_path, clock).check() == "token valid for 60 min"
    assert (service.token_requests, service.messages) == (1, {})
    with pytest.raises(errors.AccountError, match="refused the app's credentials"):
        _transport(replace(account, jwt="expired-jwt"), tmp_path / "x", clock).check()


def test_a_refresh_is_not_starved_by_faxes_of_an_account_no_longer_configured(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    submitter, journal = _submitter(account, tmp_path, clock)
    for number in range(25):  # an account since renamed: its faxes stay pending for good
        key = f"old-{number}"
        journal.begin(key, source="send", account="renamed", recipients=["+15556465589"],
                      documents=["a.pdf"], pages=1)  # fmt: skip
        journal.finish(key, State.ACCEPTED, code=0, message="accepted")
        journal.record_delivery(key, str(1000 + number), "Queued", "pending")
    _send(submitter, tmp_path, Ticket.build(["+15556465589"]), key="current")
    clock.now += 31
    config = Config(accounts={"office": account}, journal=journal.path)
    refreshed = delivery.refresh(
        config, journal, transport_of=lambda a: _transport(a, tmp_path, clock)
    )
    assert [r.key for r in refreshed.changed] == ["current"]
    assert journal.delivery("current").outcome == "delivered"  # type: ignore[union-attr]


# -- found by review: each of these once sent a fax twice, lost one, hung or leaked ------


def test_a_429_from_the_sign_in_is_an_error_not_a_hang_and_pauses_no_fax(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    transport = _transport(account, tmp_path, clock)
    service.limited_grants = 1
    with pytest.raises(errors.ServiceUnavailable, match="sign-in rate limit") as raised:
        transport.check()  # took the token lock; once deadlocked on it to write the pause
    assert raised.value.retry_after == 5
    assert transport.paused() == 0  # the sign-in's limit is its own, not the fax call's
    assert transport.check() == "token valid for 60 min"


def _cancel(seconds: float) -> None:
    raise errors.CancelledError("the job was cancelled")


def test_a_cancel_while_looking_in_the_store_leaves_the_upload_uncertain(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    submitter, journal = _submitter(account, tmp_path, clock)
    submitter.sleep = _cancel  # SIGTERM while waiting between two looks
    service.ignored_requests = 1  # not in the store yet: the submitter waits to look again
    outcome = _send(submitter, tmp_path, Ticket.build(["+15556465589"]))
    assert outcome.status is Status.UNCERTAIN, outcome  # type: ignore[attr-defined]
    assert "cancelled while looking" in outcome.message  # type: ignore[attr-defined]
    assert journal.get("job-1").state is State.UNCERTAIN  # type: ignore[union-attr]


def test_the_services_answer_takes_a_message_back_from_a_job_that_found_it(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    for key in ("lost", "answered"):
        journal.begin(key, source="send", account="office", recipients=["+15556465589"],
                      documents=["a.pdf"], pages=1)  # fmt: skip
    journal.finish("lost", State.UNCERTAIN, message="answer lost")
    assert journal.claim_found("lost", "7", "Queued", "pending", message="found")
    assert not journal.claim_found("answered", "7", "Queued", "pending", message="found")
    assert journal.get("lost").state is State.ACCEPTED  # type: ignore[union-attr]
    # The other job's upload gets its answer: message 7 is its own. The first job took
    # someone else's fax for its own, so it goes back to a person.
    journal.finish("answered", State.ACCEPTED, code=0, message="accepted")
    journal.record_delivery("answered", "7", "Queued", "pending")
    lost = journal.get("lost")
    assert lost is not None and lost.state is State.UNCERTAIN
    assert "is job answered's" in lost.message
    assert journal.delivery("lost") is None
    assert journal.delivery("answered").message_id == "7"  # type: ignore[union-attr]


def test_a_listing_the_service_cut_short_never_counts_as_not_there(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    to = [{"phoneNumber": "+15550000001", "name": ""}]
    for number in range(1, 1002):  # more than a page of 1000 in the window
        service.messages[number] = Message(number, "faxprint-test-client", to, "Low", 0, "",
                                           None, [], clock.now)  # fmt: skip
    transport = _transport(account, tmp_path, clock)
    with pytest.raises(errors.ServiceUnavailable, match="could not be read whole"):
        transport.lookup(Ticket.build(["+15556465589"]), clock.now, clock.now)


def test_one_failed_recipient_makes_the_fax_undelivered(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    submitter, _ = _submitter(account, tmp_path, clock)
    _send(submitter, tmp_path, Ticket.build(["+15556465589", "+15556460000"]))
    clock.now += 31
    delivery_ = _transport(account, tmp_path, clock).delivery("1")
    # The spec's aggregated status says SendingFailed "if at least one recipient is";
    # how many, and why (to[].faxErrorCode), only the recipients say.
    assert (delivery_.status, delivery_.outcome) == (
        "SendingFailed; 1 of 2 recipients failed (NoAnswer)", "failed")  # fmt: skip


def test_a_sign_in_error_never_echoes_what_was_sent(tmp_path: Path) -> None:
    class Echo(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # a wrong server at the url that echoes its request
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = body + str(self.headers).encode()
            self.send_response(400)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Echo) as echo:
        thread = threading.Thread(target=echo.serve_forever)
        thread.start()
        try:
            account = rest_account(f"http://127.0.0.1:{echo.server_address[1]}")
            with pytest.raises(errors.AccountError) as raised:
                RingCentralTransport(account, tmp_path / "state").check()
        finally:
            echo.shutdown()
            thread.join()
    assert "no OAuth error code" in raised.value.message
    for secret in (account.jwt, account.client_secret):
        assert secret not in str(raised.value)


def test_new_credentials_never_reuse_the_old_token(account: Account, tmp_path: Path) -> None:
    old = RingCentralTransport(account, tmp_path)
    new = RingCentralTransport(replace(account, jwt="another-users-jwt"), tmp_path)
    assert old.tokens.path != new.tokens.path
    assert account.jwt not in old.tokens.path.name


def test_a_released_job_never_takes_a_fax_made_after_its_answer_was_lost(
    server: SandboxServer, service: RestService, account: Account, tmp_path: Path, clock: Clock
) -> None:
    first, journal = _submitter(replace(account, store_wait=0), tmp_path, clock)
    first.transport.lookup = _store_down  # type: ignore[attr-defined]
    service.ignored_requests = 1  # not accepted, and the store cannot be asked: held
    assert _send(first, tmp_path, Ticket.build(["+15556465589"])).status is Status.UNCERTAIN  # type: ignore[attr-defined]
    clock.now += 3 * 3600  # released three hours later; meanwhile a fax from elsewhere
    _transport(account, tmp_path, clock).send(
        Ticket.build(["+15556465589"]), [inspect(make_pdf(tmp_path / "o.pdf"))], now=NOW
    )
    submitter, _ = _submitter(replace(account, store_wait=0), tmp_path, clock)
    outcome = _send(submitter, tmp_path, Ticket.build(["+15556465589"]))
    assert (outcome.status, outcome.message_id) == (Status.ACCEPTED, "2")  # type: ignore[attr-defined]
    assert journal.delivery("job-1").message_id == "2"  # type: ignore[union-attr]


def test_a_job_whose_claim_is_its_own_is_not_sent_again(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    journal.begin("k", source="send", account="office", recipients=["+15556465589"],
                  documents=["a.pdf"], pages=1)  # fmt: skip
    journal.finish("k", State.UNCERTAIN, message="answer lost")
    assert journal.claim_found("k", "7", "Queued", "pending", message="found")
    journal.finish("k", State.UNCERTAIN, message="cut short after the claim")
    assert journal.claim_found("k", "7", "Queued", "pending", message="found again")
    assert journal.get("k").state is State.ACCEPTED  # type: ignore[union-attr]


def test_a_journal_from_before_store_claims_gets_the_column(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    Journal(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE deliveries")
        db.execute("CREATE TABLE deliveries (job INTEGER PRIMARY KEY, account TEXT NOT NULL,"
                   " message_id TEXT NOT NULL, status TEXT NOT NULL, outcome TEXT NOT NULL,"
                   " checked REAL NOT NULL, UNIQUE (account, message_id))")  # fmt: skip
    journal = Journal(path)
    journal.begin("k", source="send", account="office", recipients=["1"], documents=["a"],
                  pages=1)  # fmt: skip
    journal.finish("k", State.UNCERTAIN, message="answer lost")
    assert journal.claim_found("k", "7", "Queued", "pending", message="found")


def test_a_hot_folder_job_whose_message_was_anothers_goes_to_held(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "drop")
    spool.prepare()
    (spool.done / "inv-1").mkdir()
    (spool.done / "inv-1" / "receipt.json").write_text(
        json.dumps({"job": "inv-1", "outcome": "accepted", "delivery": "pending"})
    )
    journal = Journal(tmp_path / "journal.sqlite")
    for key in ("hotfolder:inv-1", "send:other"):
        journal.begin(key, source="send", account="office", recipients=["+15556465589"],
                      documents=["a.pdf"], pages=1)  # fmt: skip
    journal.finish("hotfolder:inv-1", State.UNCERTAIN, message="answer lost")
    journal.claim_found("hotfolder:inv-1", "7", "Queued", "pending", message="found")
    journal.finish("send:other", State.ACCEPTED, code=0, message="accepted")
    journal.record_delivery("send:other", "7", "Queued", "pending")  # it was the other's
    config = Config(accounts={}, journal=journal.path)
    assert follow(config, spool, {"inv-1"}) == set()
    receipt = json.loads((spool.held / "inv-1" / "receipt.json").read_text())
    assert (receipt["outcome"], receipt["delivery"]) == ("uncertain", "unknown")
    assert "is job send:other's" in receipt["message"]
