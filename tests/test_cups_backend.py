"""The backend's main() in-process (argv, env, stdin in; status and stderr lines out), and as
a process for signals. The real-cupsd tests are in test_cupsd_backend.py."""

from __future__ import annotations

import io
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faxprint.cups import backend
from faxprint.journal import Journal, State
from faxprint.sandbox import SandboxServer
from tests.conftest import REPO
from tests.support.configs import faxout_account, write_config
from tests.support.helpers import make_pdf, wait_for
from tests.support.secrets import TEST_ACCOUNTS, TEST_PASSWORD


def _config(tmp_path: Path, url: str, password: str = TEST_PASSWORD) -> Path:
    account = faxout_account(url, password=password, read_timeout=30)
    return write_config(tmp_path, account, retry={"tries": 1})


def _run(
    tmp_path: Path,
    url: str,
    options: str,
    data: bytes,
    *,
    uri: str = "faxprint://default",
    password: str = TEST_PASSWORD,
) -> tuple[int, str]:
    env = {
        "DEVICE_URI": uri,
        "PRINTER": "Fax",
        "TMPDIR": str(tmp_path),
        "FAXPRINT_CONFIG": str(_config(tmp_path, url, password)),
    }
    err = io.StringIO()
    status = backend.main(
        [uri, "7", "ann", "report.pdf", "1", options], env, io.BytesIO(data), stderr=err
    )
    return status, err.getvalue()


def test_discovery_lists_the_scheme() -> None:
    out = io.StringIO()
    assert backend.main(["faxprint"], {}, io.BytesIO(), stdout=out) == 0
    assert (
        out.getvalue() == 'network faxprint "Unknown" "Fax through a FaxOut account (faxprint)"\n'
    )


def test_wrong_argument_count_is_a_usage_error() -> None:
    err = io.StringIO()
    assert backend.main(["faxprint", "1", "2"], {}, io.BytesIO(), stderr=err) == backend.FAILED
    assert err.getvalue().startswith("Usage: faxprint job-id user title copies options [file]")


def test_a_job_is_accepted_with_status_lines(tmp_path: Path, sandbox: SandboxServer) -> None:
    pdf = make_pdf(tmp_path / "a.pdf", pages=3).read_bytes()
    status, err = _run(
        tmp_path, sandbox.url, "fax-to=5556465589|John\\ Doe job-uuid=urn:uuid:1234", pdf
    )
    assert status == backend.OK
    assert err.splitlines()[-3:] == [
        "PAGE: total 3",
        "ATTR: job-impressions-completed=3",
        "INFO: Fax accepted for 1 recipient, 3 pages",
    ]
    with Journal(tmp_path / "journal.sqlite") as journal:
        record = journal.get("cups:Fax:7:1234")
    assert record is not None and (record.state, record.user, record.title) == (
        State.ACCEPTED,
        "ann",
        "report.pdf",
    )


def test_a_rerun_of_an_accepted_job_sends_nothing(tmp_path: Path, sandbox: SandboxServer) -> None:
    pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
    assert _run(tmp_path, sandbox.url, "fax-to=5556465589 job-uuid=u1", pdf)[0] == backend.OK
    status, err = _run(tmp_path, sandbox.url, "fax-to=5556465589 job-uuid=u1", pdf)
    assert (status, err.splitlines()[-1]) == (
        backend.OK,
        "INFO: Fax accepted (earlier) for 1 recipient, 1 page",
    )
    assert len(sandbox.requests) == 1


@pytest.mark.parametrize(
    ("uri", "status", "words"),
    [
        ("faxprint://user:pw@default", backend.STOP, "must not hold credentials"),
        ("faxprint://sales", backend.STOP, "no account 'sales'"),
        ("ipp://default", backend.STOP, "is not a faxprint:// URI"),
    ],
)
def test_configuration_faults_stop_the_queue(
    tmp_path: Path, uri: str, status: int, words: str
) -> None:
    code, err = _run(tmp_path, "http://127.0.0.1:9/", "fax-to=5556465589", b"%PDF-1.4", uri=uri)
    assert code == status
    assert words in err and err.startswith("ERROR: ")
    assert "pw@" not in err


def test_bad_input_cancels_with_one_error_line(tmp_path: Path, sandbox: SandboxServer) -> None:
    status, err = _run(tmp_path, sandbox.url, "fax-to=555-FAX-1234", b"%PDF-1.4")
    assert (status, err) == (
        backend.CANCEL,
        "ERROR: fax number '555-FAX-1234' contains letters; type the digits\n",
    )
    status, err = _run(tmp_path, sandbox.url, "fax-to=5556465589", b"%PDF-1.4 broken")
    assert status == backend.CANCEL
    assert "ERROR: Fax not sent: report.pdf: the PDF is damaged and cannot be read" in err
    assert sandbox.requests == []


def test_the_password_never_reaches_the_status_lines(tmp_path: Path) -> None:
    from faxprint.sandbox import Account

    with SandboxServer(
        port=0, store=tmp_path / "s", accounts={"15555550100": Account("other")}
    ) as server:
        status, err = _run(
            tmp_path,
            server.url,
            "fax-to=5556465589",
            make_pdf(tmp_path / "a.pdf").read_bytes(),
            password=TEST_PASSWORD,
        )
    assert status == backend.STOP
    assert "authorization failed" in err and TEST_PASSWORD not in err


def test_sigterm_stops_an_upload_promptly(tmp_path: Path) -> None:
    # A server that accepts connections but never reads: the upload blocks once the
    # socket buffers are full, as with a stalled service.
    with socket.socket() as stalled:
        stalled.bind(("127.0.0.1", 0))
        stalled.listen(1)
        url = f"http://127.0.0.1:{stalled.getsockname()[1]}/faxapi.asp"
        big = tmp_path / "big.txt"
        big.write_bytes(b"a line of a long text document\n" * (1024 * 1024))
        env = {
            **os.environ,
            "DEVICE_URI": "faxprint://default",
            "PRINTER": "Fax",
            "TMPDIR": str(tmp_path),
            "FAXPRINT_CONFIG": str(_config(tmp_path, url)),
            "PYTHONPATH": str(REPO),
        }
        log = tmp_path / "stderr.txt"  # a file, not a pipe: a full pipe would stall it
        with log.open("w") as stderr:
            process = subprocess.Popen(
                [
                    sys.executable,
                    str(REPO / "cups-backend" / "faxprint"),
                    "9",
                    "ann",
                    "big",
                    "1",
                    "fax-to=5556465589",
                    str(big),
                ],
                stderr=stderr,
                text=True,
                env=env,
            )
        with Journal(tmp_path / "journal.sqlite") as journal:
            wait_for(
                lambda: any(j.state is State.SENDING for j in journal.recent()),
                60,
                lambda: f"the upload to start (backend status {process.poll()}): {log.read_text()}",
            )
            stopped_at = time.monotonic()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)  # a hang fails here
            elapsed = time.monotonic() - stopped_at
            [record] = journal.recent()
    err = log.read_text()
    assert process.returncode == backend.CANCEL, err
    assert "INFO: Fax cancelled" in err
    assert record.state is State.CANCELLED
    assert elapsed < 10, f"took {elapsed:.1f} s to stop"


def test_a_cancel_after_the_upload_waits_for_the_answer(tmp_path: Path) -> None:
    import threading

    from faxprint.sandbox import Fault

    release = threading.Event()
    with SandboxServer(port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS) as server:
        server.faults.push(Fault.hold(release))
        env = {
            **os.environ,
            "DEVICE_URI": "faxprint://default",
            "PRINTER": "Fax",
            "TMPDIR": str(tmp_path),
            "FAXPRINT_CONFIG": str(_config(tmp_path, server.url)),
            "PYTHONPATH": str(REPO),
        }
        doc = make_pdf(tmp_path / "a.pdf")
        process = subprocess.Popen(
            [
                sys.executable,
                str(REPO / "cups-backend" / "faxprint"),
                "9",
                "ann",
                "a",
                "1",
                "fax-to=5556465589 job-uuid=u-held",
                str(doc),
            ],
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        # the service has the whole fax and is about to answer
        wait_for(server.faxes, 30, "the service to have the whole fax")
        process.send_signal(signal.SIGTERM)
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=0.5)  # it must wait for the answer, not give up the fax
        release.set()
        _, err = process.communicate(timeout=30)
    assert process.returncode == backend.OK, err
    with Journal(tmp_path / "journal.sqlite") as journal:
        record = journal.get("cups:Fax:9:u-held")
    assert record is not None and record.state is State.ACCEPTED
    assert len(server.faxes()) == 1


def test_an_internal_error_holds_the_job_without_a_traceback(
    tmp_path: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faxprint.transports import faxout

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("secret-looking detail")

    monkeypatch.setattr(faxout, "parse_answer", broken)
    status, err = _run(
        tmp_path,
        sandbox.url,
        "fax-to=5556465589 job-uuid=u-bug",
        make_pdf(tmp_path / "a.pdf").read_bytes(),
    )
    assert status == backend.HOLD
    assert "ERROR: Fax held: internal error (KeyError) while sending; please report it" in err
    assert "secret-looking detail" not in err and "Traceback" not in err
    with Journal(tmp_path / "journal.sqlite") as journal:
        assert journal.get("cups:Fax:7:u-bug").state is State.UNCERTAIN


def test_a_title_that_is_no_utf8_is_recorded(tmp_path: Path, sandbox: SandboxServer) -> None:
    env = {
        "DEVICE_URI": "faxprint://default",
        "PRINTER": "Fax",
        "TMPDIR": str(tmp_path),
        "FAXPRINT_CONFIG": str(_config(tmp_path, sandbox.url)),
    }
    title = b"Caf\xe9 report.pdf".decode("utf-8", "surrogateescape")
    err = io.StringIO()
    status = backend.main(
        ["faxprint", "7", "ann", title, "1", "fax-to=5556465589 job-uuid=u-t"],
        env,
        io.BytesIO(make_pdf(tmp_path / "a.pdf").read_bytes()),
        stderr=err,
    )
    assert status == backend.OK, err.getvalue()
    with Journal(tmp_path / "journal.sqlite") as journal:
        assert journal.get("cups:Fax:7:u-t").title == "Caf\\udce9 report.pdf"


def test_documents_keep_their_senders_names(tmp_path: Path, sandbox: SandboxServer) -> None:
    pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
    options = "fax-to=5556465589 document-name-supplied=/home/ann/Q3\\ report.pdf document-name-supplied=notes.txt"
    assert _run(tmp_path, sandbox.url, options, pdf + pdf)[0] == backend.OK
    assert [a["filename"] for a in sandbox.faxes()[0].record["attachments"]] == [
        "Q3 report.pdf",
        "notes.pdf",
    ]


def test_names_fall_back_to_the_title_when_they_do_not_match(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
    assert (
        _run(
            tmp_path,
            sandbox.url,
            "fax-to=5556465589 document-name-supplied=only-one.pdf",
            pdf + pdf,
        )[0]
        == backend.OK
    )
    assert [a["filename"] for a in sandbox.faxes()[0].record["attachments"]] == [
        "report-1.pdf",
        "report-2.pdf",
    ]


def test_a_job_uuid_cupsd_would_never_send_is_replaced_by_the_data_digest() -> None:
    from faxprint.cups.spool import Spooled

    spooled = Spooled((), "ab" * 32, 0)
    env = {"PRINTER": "Fax"}
    uuid = backend.job_uuid({"job-uuid": "urn:uuid:1b4e28ba-2fa1-11d2"})
    assert backend.job_key(env, "7", uuid, spooled) == "cups:Fax:7:1b4e28ba-2fa1-11d2"
    for hostile in ("urn:uuid:\x1b\udc80", "urn:uuid:a b", "urn:uuid:ü", "urn:uuid:" + "a" * 65):
        uuid = backend.job_uuid({"job-uuid": hostile})
        assert uuid == ""
        assert backend.job_key(env, "7", uuid, spooled) == "cups:Fax:7:" + "ab" * 16
    with pytest.raises(ValueError, match="digest"):
        backend.job_key(env, "7", "", Spooled((), "", 0))


def test_status_lines_cannot_be_forged_by_a_message() -> None:
    err = io.StringIO()
    handler = backend.CupsLogHandler(err)
    record = logging.LogRecord("x", logging.ERROR, "", 0, "a\u2028INFO: b\x1b[2J\nc", None, None)
    handler.emit(record)
    assert err.getvalue() == "ERROR: a\\u2028INFO: b\\x1b[2J\nERROR: c\n"


def test_a_cancel_waits_for_the_verdict_of_a_complete_upload_but_not_in_a_wait() -> None:
    # After the store was searched (the submitter slept between looks), the verdict of a
    # complete upload is recorded before a cancel may end the job: a job recorded
    # "cancelled" would be sent again, unchecked, when it is restarted.
    cancellation = backend.Cancellation()
    cancellation.progress(100, 100)  # the whole upload is out
    cancellation.sleeping = True  # a wait between two looks in the message store
    with pytest.raises(backend.CancelledError):
        cancellation.handle(signal.SIGTERM, None)
    cancellation.sleeping = False
    cancellation.requested = False
    cancellation.handle(signal.SIGTERM, None)  # recording the verdict: deferred
    assert cancellation.requested
    with pytest.raises(backend.CancelledError):
        cancellation.sleep(0)  # and it ends the job at the next wait


# -- refused before a fax could be made: said, and in the journal (issue 16, point 7) ----


def test_a_job_refused_for_its_options_is_in_the_journal(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    options = "fax-to=555-FAX-1234 job-uuid=urn:uuid:9d2f6a1e-2fa1-11d2-aaaa-0123456789ab"
    status, err = _run(tmp_path, sandbox.url, options, make_pdf(tmp_path / "a.pdf").read_bytes())
    assert status == backend.CANCEL
    message = "fax number '555-FAX-1234' contains letters; type the digits"
    assert f"ERROR: {message}" in err.splitlines()
    with Journal(tmp_path / "journal.sqlite") as journal:
        [job] = journal.recent()
    assert (job.key, job.state, job.message, job.user, job.title) == (
        "cups:Fax:7:9d2f6a1e-2fa1-11d2-aaaa-0123456789ab", State.FAILED, message, "ann",
        "report.pdf",
    )  # fmt: skip
    assert sandbox.requests == []


def test_a_job_cupsd_filters_gave_nothing_of_says_the_filter_failed(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    env = {"DEVICE_URI": "faxprint://default", "PRINTER": "Fax", "TMPDIR": str(tmp_path),
           "CONTENT_TYPE": "application/vnd.oasis.opendocument.text",
           "FAXPRINT_CONFIG": str(_config(tmp_path, sandbox.url))}  # fmt: skip
    err = io.StringIO()
    argv = ["faxprint://default", "8", "ann", "letter.odt", "1", "fax-to=5556465589"]
    assert backend.main(argv, env, io.BytesIO(b""), stderr=err) == backend.CANCEL
    said = (
        "no document to fax: cupsd's filters made nothing of "
        "application/vnd.oasis.opendocument.text (a filter failed: see cupsd's error_log for "
        "this job), or the job was empty"
    )
    assert f"ERROR: {said}" in err.getvalue().splitlines()
    with Journal(tmp_path / "journal.sqlite") as journal:
        [job] = journal.recent()
    assert (job.state, job.message) == (State.FAILED, said)
