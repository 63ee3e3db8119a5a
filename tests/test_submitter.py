from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest

from faxprint import errors
from faxprint.config import Account, Limits, RetryPolicy
from faxprint.documents import Document, DocumentSource
from faxprint.journal import JobRecord, Journal, State
from faxprint.lease import process_identity
from faxprint.outcome import Source, Status
from faxprint.submitter import Submitter
from faxprint.ticket import Ticket
from faxprint.transports import Progress, Receipt
from tests.support.helpers import make_pdf
from tests.support.secrets import TEST_PASSWORD

ACCOUNT = Account("default", "https://fax.example/faxapi.asp", "15555550100", TEST_PASSWORD)
TICKET = Ticket.build(["5556465589|Ann", "5555568552"])


class ScriptedTransport:
    """Answers each send with the next scripted result: an exception or a receipt."""

    def __init__(self, *script: errors.FaxPrintError | Receipt) -> None:
        self.script = list(script)
        self.sent: list[tuple[Ticket, list[str]]] = []

    def send(
        self,
        ticket: Ticket,
        documents: Sequence[Document],
        *,
        now: datetime,
        progress: Progress | None = None,
    ) -> Receipt:
        self.sent.append((ticket, [d.filename for d in documents]))
        result = self.script.pop(0)
        if isinstance(result, Exception):
            raise result
        return result


OK = Receipt(0, "fax accepted by the service")


@pytest.fixture
def pdf(tmp_path: Path) -> DocumentSource:
    return DocumentSource(make_pdf(tmp_path / "a.pdf", pages=3))


def _submitter(
    tmp_path: Path, transport: ScriptedTransport, **kw: object
) -> tuple[Submitter, list[float]]:
    slept: list[float] = []
    journal = Journal(tmp_path / "journal.sqlite")
    retry = kw.pop("retry", RetryPolicy(tries=3, backoff=1.0))
    submitter = Submitter(
        ACCOUNT,
        journal,
        transport=transport,
        retry=retry,  # type: ignore[arg-type]
        sleep=slept.append,
        **kw,
    )  # type: ignore[arg-type]
    return submitter, slept


def test_accepted_once_and_never_again(tmp_path: Path, pdf: DocumentSource) -> None:
    transport = ScriptedTransport(OK)
    submitter, _ = _submitter(tmp_path, transport)
    first = submitter.submit("job-1", TICKET, [pdf], source=Source("send", user="ann"))
    again = submitter.submit("job-1", TICKET, [pdf], source=Source("send", user="ann"))
    assert (first.status, first.pages, first.recipients, first.attempts) == (
        Status.ACCEPTED,
        3,
        2,
        1,
    )
    assert (again.status, again.already) == (Status.ACCEPTED, True)
    assert len(transport.sent) == 1
    record = submitter.journal.get("job-1")
    assert record is not None and (record.state, record.user, record.documents) == (
        State.ACCEPTED,
        "ann",
        ("a.pdf",),
    )


def test_transient_failures_are_retried_with_backoff(tmp_path: Path, pdf: DocumentSource) -> None:
    transport = ScriptedTransport(
        errors.ServiceUnavailable("down"), errors.ServiceError("5", code=5), OK
    )
    submitter, slept = _submitter(tmp_path, transport)
    outcome = submitter.submit("job-1", TICKET, [pdf], source=Source("send"))
    assert (outcome.status, outcome.attempts) == (Status.ACCEPTED, 3)
    assert slept == [1.0, 2.0]
    states = [a.state for a in submitter.journal.attempts("job-1")]
    assert states == [State.RETRY, State.RETRY, State.ACCEPTED]


def test_transient_failures_past_the_tries_are_deferred(
    tmp_path: Path, pdf: DocumentSource
) -> None:
    transport = ScriptedTransport(*[errors.ServiceUnavailable("down")] * 3)
    submitter, slept = _submitter(tmp_path, transport)
    outcome = submitter.submit("job-1", TICKET, [pdf], source=Source("cups"))
    assert (outcome.status, outcome.attempts, outcome.message) == (Status.DEFERRED, 3, "down")
    assert len(slept) == 2  # no pointless wait after the last try
    assert submitter.journal.get("job-1").state is State.RETRY


def test_the_retry_budget_spans_runs(tmp_path: Path, pdf: DocumentSource) -> None:
    transport = ScriptedTransport(*[errors.ServiceUnavailable("down")] * 4)
    submitter, _ = _submitter(
        tmp_path, transport, retry=RetryPolicy(tries=2, backoff=0, max_attempts=4)
    )
    runs = [
        submitter.submit("job-1", TICKET, [pdf], source=Source("cups")).status for _ in range(3)
    ]
    # The run whose last try used up the budget says so at once; later runs say it again.
    assert runs == [Status.DEFERRED, Status.EXPIRED, Status.EXPIRED]
    record = submitter.journal.get("job-1")
    assert (record.state, record.attempts) == (State.FAILED, 4)
    assert record.message == "gave up after 4 attempts; last error: down"
    assert len(transport.sent) == 4


def test_old_jobs_expire(tmp_path: Path, pdf: DocumentSource) -> None:
    now = [1000.0]
    transport = ScriptedTransport(errors.ServiceUnavailable("down"))
    submitter, _ = _submitter(tmp_path, transport, retry=RetryPolicy(tries=1, max_age=60))
    submitter.journal.clock = submitter.clock = lambda: now[0]
    assert submitter.submit("j", TICKET, [pdf], source=Source("cups")).status is Status.DEFERRED
    now[0] += 61
    assert submitter.submit("j", TICKET, [pdf], source=Source("cups")).status is Status.EXPIRED
    assert len(transport.sent) == 1


def test_a_persons_retry_starts_a_new_budget(tmp_path: Path, pdf: DocumentSource) -> None:
    # Found by review: an uncertain job checked three days later was "released" by
    # `faxprint retry` and then given up at once as too old, nothing sent.
    now = [1000.0]
    transport = ScriptedTransport(errors.UncertainError("answer lost"), OK)
    submitter, _ = _submitter(tmp_path, transport, retry=RetryPolicy(tries=1, max_age=86400))
    submitter.journal.clock = submitter.clock = lambda: now[0]
    assert submitter.submit("j", TICKET, [pdf], source=Source("cups")).status is Status.UNCERTAIN
    now[0] += 3 * 86400
    submitter.journal.settle("j", State.RETRY, "released by root to be sent again")
    assert submitter.submit("j", TICKET, [pdf], source=Source("cups")).status is Status.ACCEPTED
    assert len(transport.sent) == 2


@pytest.mark.parametrize(
    ("error", "status", "state"),
    [
        (errors.RejectedError("no recipients", code=3), Status.REJECTED, State.FAILED),
        (errors.AccountError("authorization failed", code=1), Status.ACCOUNT, State.RETRY),
        (errors.ConfigError("no FaxOut service"), Status.CONFIG, State.RETRY),
        (errors.UncertainError("answer lost"), Status.UNCERTAIN, State.UNCERTAIN),
        (errors.DocumentError("shrank"), Status.INVALID, State.FAILED),
    ],
)
def test_permanent_outcomes_are_not_retried(
    tmp_path: Path, pdf: DocumentSource, error: errors.FaxPrintError, status: Status, state: State
) -> None:
    submitter, slept = _submitter(tmp_path, ScriptedTransport(error))
    outcome = submitter.submit("j", TICKET, [pdf], source=Source("send"))
    assert (outcome.status, outcome.message, outcome.code) == (status, error.message, error.code)
    assert submitter.journal.get("j").state is state
    assert slept == []


def test_an_uncertain_job_is_held_unless_resending_is_configured(
    tmp_path: Path, pdf: DocumentSource
) -> None:
    transport = ScriptedTransport(errors.UncertainError("answer lost"), OK)
    submitter, _ = _submitter(tmp_path, transport)
    submitter.submit("j", TICKET, [pdf], source=Source("send"))
    held = submitter.submit("j", TICKET, [pdf], source=Source("send"))
    assert (held.status, held.already, len(transport.sent)) == (Status.UNCERTAIN, True, 1)
    submitter.resend_uncertain = True
    assert submitter.submit("j", TICKET, [pdf], source=Source("send")).status is Status.ACCEPTED
    assert len(transport.sent) == 2


def test_bad_documents_never_reach_the_transport(tmp_path: Path) -> None:
    transport = ScriptedTransport(OK)
    submitter, _ = _submitter(tmp_path, transport)
    (tmp_path / "empty.pdf").write_bytes(b"")
    outcome = submitter.submit(
        "j", TICKET, [DocumentSource(tmp_path / "empty.pdf")], source=Source("send")
    )
    assert (outcome.status, outcome.message) == (Status.INVALID, "empty.pdf: the file is empty")
    assert transport.sent == []
    assert submitter.journal.get("j").state is State.FAILED


def test_no_documents_is_invalid(tmp_path: Path) -> None:
    submitter, _ = _submitter(tmp_path, ScriptedTransport(OK))
    assert submitter.submit("j", TICKET, [], source=Source("send")).message == "no document to fax"


def test_a_cancel_during_the_upload_is_recorded_and_raised(
    tmp_path: Path, pdf: DocumentSource
) -> None:
    submitter, _ = _submitter(tmp_path, ScriptedTransport(errors.CancelledError("job cancelled")))
    with pytest.raises(errors.CancelledError):
        submitter.submit("j", TICKET, [pdf], source=Source("cups"))
    assert submitter.journal.get("j").state is State.CANCELLED


def test_documents_keep_their_order_and_display_names(tmp_path: Path) -> None:
    transport = ScriptedTransport(OK)
    submitter, _ = _submitter(tmp_path, transport)
    a = DocumentSource(make_pdf(tmp_path / "tmp1.pdf"), name="Zebra.pdf")
    b = DocumentSource(make_pdf(tmp_path / "tmp2.pdf", pages=2), name="Aardvark.pdf")
    outcome = submitter.submit("j", TICKET, [a, b], source=Source("cups"))
    assert transport.sent[0][1] == ["Zebra.pdf", "Aardvark.pdf"]
    assert outcome.pages == 3


def test_a_released_uncertain_job_is_sent_again(tmp_path: Path, pdf: DocumentSource) -> None:
    transport = ScriptedTransport(errors.UncertainError("answer lost"), OK)
    submitter, _ = _submitter(tmp_path, transport)
    submitter.submit("j", TICKET, [pdf], source=Source("cups"))
    released = submitter.submit("j", TICKET, [pdf], source=Source("cups"), release=True)
    assert (released.status, released.attempts, len(transport.sent)) == (Status.ACCEPTED, 2, 2)


def test_release_never_resends_an_accepted_job(tmp_path: Path, pdf: DocumentSource) -> None:
    transport = ScriptedTransport(OK)
    submitter, _ = _submitter(tmp_path, transport)
    submitter.submit("j", TICKET, [pdf], source=Source("cups"))
    again = submitter.submit("j", TICKET, [pdf], source=Source("cups"), release=True)
    assert (again.status, again.already, len(transport.sent)) == (Status.ACCEPTED, True, 1)


def test_an_unexpected_error_holds_the_job_as_uncertain(
    tmp_path: Path, pdf: DocumentSource
) -> None:
    class Broken(ScriptedTransport):
        def send(self, *args: object, **kwargs: object) -> Receipt:
            raise ZeroDivisionError("detail that may quote a value")

    submitter, _ = _submitter(tmp_path, Broken())
    outcome = submitter.submit("j", TICKET, [pdf], source=Source("send"))
    assert (outcome.status, outcome.message) == (
        Status.UNCERTAIN,
        "internal error (ZeroDivisionError) while sending; please report it",
    )
    assert submitter.journal.get("j").state is State.UNCERTAIN


def test_a_cancel_right_after_sending_is_recorded_leaves_no_job_sending(
    tmp_path: Path, pdf: DocumentSource
) -> None:
    class CancelledAfterCommit(Journal):
        def start_attempt(self, key: str, *, force: bool = False):  # type: ignore[no-untyped-def]
            super().start_attempt(key, force=force)
            raise errors.CancelledError("SIGTERM between the commit and the handler")

    journal = CancelledAfterCommit(tmp_path / "journal.sqlite")
    submitter = Submitter(ACCOUNT, journal, transport=ScriptedTransport(OK), sleep=lambda s: None)
    with pytest.raises(errors.CancelledError):
        submitter.submit("j", TICKET, [pdf], source=Source("cups"))
    assert journal.get("j").state is State.CANCELLED


@pytest.mark.parametrize(
    ("limits", "complaint"),
    [
        (
            Limits(max_recipients=1),
            "2 recipients; a job may have at most 1 (limits.max_recipients)",
        ),
        (Limits(max_pages=2), "3 pages; a job may have at most 2 (limits.max_pages)"),
        (Limits(max_document_mb=0.001), "a.pdf: 0.0 MB; a document may have at most 0.001 MB"),
        (Limits(max_job_mb=0.001), "the documents come to 0.0 MB; a job may have at most 0.001"),
    ],
)
def test_a_job_over_a_limit_is_refused_and_recorded_never_sent(
    tmp_path: Path, pdf: DocumentSource, limits: Limits, complaint: str
) -> None:
    transport = ScriptedTransport(OK)
    submitter, _ = _submitter(tmp_path, transport, limits=limits)
    outcome = submitter.submit("job-1", TICKET, [pdf], source=Source("send"))
    assert (outcome.status, transport.sent) == (Status.INVALID, [])
    assert complaint in outcome.message
    record = submitter.journal.get("job-1")
    assert record is not None and (record.state, record.message) == (State.FAILED, outcome.message)


def test_a_huge_document_is_refused_without_being_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.pdf"
    with huge.open("wb") as stream:  # sparse: 1 GiB that takes no disk
        stream.write(b"%PDF-1.4\n")
        stream.truncate(1024**3)
    transport = ScriptedTransport(OK)
    submitter, _ = _submitter(tmp_path, transport)
    outcome = submitter.submit("job-1", TICKET, [DocumentSource(huge)], source=Source("send"))
    assert outcome.status is Status.INVALID
    assert outcome.message == (
        "huge.pdf: 1024.0 MB; a document may have at most 100 MB (limits.max_document_mb)"
    )


# -- a transport that prepares the documents (RingCentral REST: PostScript, file names) --


class PreparingTransport(ScriptedTransport):
    """Prepares documents as scripted: an error to raise, or None to pass them on."""

    def __init__(self, preparation: errors.FaxPrintError | None, *script: Receipt) -> None:
        super().__init__(*script)
        self.preparation = preparation
        self.workdirs: list[Path] = []

    def prepare(self, documents: Sequence[Document], workdir: Path) -> list[Document]:
        self.workdirs.append(workdir)
        if self.preparation is not None:
            raise self.preparation
        return list(documents)


@pytest.mark.parametrize(
    ("error", "status", "state"),
    [
        (errors.DocumentError("a.ps: Ghostscript could not convert"), Status.INVALID, State.FAILED),
        (errors.ServiceUnavailable("no room on the disk"), Status.DEFERRED, State.RETRY),
        (errors.ConfigError("Ghostscript (gs) is not installed"), Status.CONFIG, State.RETRY),
    ],
)
def test_a_preparation_that_fails_is_recorded_by_what_must_happen_next(
    tmp_path: Path, pdf: DocumentSource, error: errors.FaxPrintError, status: Status,
    state: State,
) -> None:  # fmt: skip
    transport = PreparingTransport(error, OK)
    submitter, _ = _submitter(tmp_path, transport)
    outcome = submitter.submit("job-1", TICKET, [pdf], source=Source("send"))
    assert (outcome.status, outcome.message, outcome.attempts) == (status, error.message, 0)
    job = submitter.journal.get("job-1")
    assert job is not None and (job.state, job.message) == (state, error.message)
    assert transport.sent == []  # nothing was sent
    assert not transport.workdirs[0].exists()  # and nothing is left behind


def test_a_refusal_never_overwrites_a_job_that_may_have_gone(
    tmp_path: Path, pdf: DocumentSource
) -> None:
    transport = PreparingTransport(errors.DocumentError("a.ps: the conversion timed out"))
    submitter, _ = _submitter(tmp_path, transport, resend_uncertain=True)
    journal = submitter.journal
    journal.begin("job-1", source="send", account="default", recipients=["1"],
                  documents=["a.ps"], pages=None)  # fmt: skip
    journal.finish("job-1", State.UNCERTAIN, message="the answer was lost")
    outcome = submitter.submit("job-1", TICKET, [pdf], source=Source("send"))
    assert outcome.status is Status.INVALID  # said to the person who released it ...
    job = journal.get("job-1")
    assert job is not None and (job.state, job.message) == (State.UNCERTAIN, "the answer was lost")
    assert transport.sent == []  # ... and the journal still says it may have gone


def test_a_job_another_live_process_is_sending_is_not_prepared_again(
    tmp_path: Path, pdf: DocumentSource
) -> None:
    transport = PreparingTransport(errors.DocumentError("never asked"))
    submitter, _ = _submitter(tmp_path, transport)
    journal = submitter.journal
    journal.begin("job-1", source="send", account="default", recipients=["1"],
                  documents=["a.pdf"], pages=3)  # fmt: skip
    other = Journal(journal.path)
    other.owner = process_identity(1)  # init: alive, and not this process
    other.start_attempt("job-1")
    outcome = submitter.submit("job-1", TICKET, [pdf], source=Source("send"))
    assert (outcome.status, outcome.message) == (
        Status.DEFERRED, "another process is sending this job right now")  # fmt: skip
    assert transport.workdirs == [] and transport.sent == []
    assert journal.get("job-1").state is State.SENDING  # type: ignore[union-attr]


class FullDiskJournal(Journal):
    """A journal whose disk fills once the upload has begun (SQLite's SQLITE_FULL)."""

    def finish(self, key: str, state: State, **kwargs: object) -> JobRecord:  # type: ignore[override]
        if state is not State.UNCERTAIN:
            raise errors.JournalError(
                f"journal {self.path} cannot be used: database or disk is full"
            )
        return super().finish(key, state, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("answer", "status"),
    [(OK, Status.ACCEPTED), (errors.RejectedError("no fax data", code=4), Status.REJECTED)],
)
def test_the_services_verdict_stands_when_the_journal_cannot_record_it(
    tmp_path: Path, pdf: DocumentSource, answer: errors.FaxPrintError | Receipt, status: Status
) -> None:
    transport = ScriptedTransport(answer)
    submitter, _ = _submitter(tmp_path, transport)
    submitter.journal = FullDiskJournal(tmp_path / "journal.sqlite")
    outcome = submitter.submit("job-1", TICKET, [pdf], source=Source("send"))
    assert (outcome.status, outcome.attempts) == (status, 1)
    assert outcome.unrecorded.endswith("cannot be used: database or disk is full")
    assert len(transport.sent) == 1  # one upload, and no retry of it
