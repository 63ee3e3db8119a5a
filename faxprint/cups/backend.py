"""The CUPS backend: ``faxprint://ACCOUNT`` print queues send their jobs as faxes.

cupsd runs ``cups-backend/faxprint`` once per job with ``argv = [uri, job-id, user, title,
copies, options, (file)]``; without arguments it lists the scheme. Everything the user
should see goes to stderr as ``INFO:``/``ERROR:`` lines, and the exit status tells cupsd
what to do with the job (:mod:`faxprint.cups.report`). The job's faxes are planned and
sent by :mod:`faxprint.cups.job`.
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import signal
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO, ClassVar, TextIO
from urllib.parse import unquote, urlsplit

from faxprint import config as configuration
from faxprint.cancellation import Cancellation
from faxprint.cups import jobticket
from faxprint.cups.job import Job
from faxprint.cups.names import document_sources, nothing_from_cupsd
from faxprint.cups.options import option_values, parse_options
from faxprint.cups.report import (
    CANCEL,
    EXIT_STATUS,
    FAILED,
    HOLD,
    OK,
    RETRY,
    STOP,
    accepted_line,
    refused,
    report,
)
from faxprint.cups.spool import Spooled, spool
from faxprint.errors import (
    CancelledError,
    ConfigError,
    DocumentError,
    FaxPrintError,
    TransientError,
)
from faxprint.outcome import JobKey, Kind, Outcome, Source, Status
from faxprint.text import printable

logger = logging.getLogger(__name__)

#: Handed on from faxprint.cups.report for the backend's callers and tests.
__all__ = ["CANCEL", "EXIT_STATUS", "FAILED", "HOLD", "OK", "RETRY", "STOP", "accepted_line",
           "main", "refused", "report"]  # fmt: skip

DISCOVERY = 'network faxprint "Unknown" "Fax through a FaxOut account (faxprint)"'


class CupsLogHandler(logging.Handler):
    """Write log records as the ``LEVEL: message`` lines cupsd reads from stderr."""

    PREFIX: ClassVar[dict[int, str]] = {
        logging.DEBUG: "DEBUG",
        logging.INFO: "INFO",
        logging.WARNING: "WARNING",
    }

    def __init__(self, stream: TextIO) -> None:
        super().__init__(logging.DEBUG)
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        prefix = self.PREFIX.get(record.levelno, "ERROR")
        # "\n" only: splitlines() would also break at characters a title may carry, and
        # each line is made printable, so no message can forge another status line.
        for line in record.getMessage().split("\n"):
            self.stream.write(f"{prefix}: {printable(line, limit=1024)}\n")
        self.stream.flush()


def main(
    argv: Sequence[str],
    env: Mapping[str, str],
    stdin: BinaryIO,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the backend as cupsd does; return the exit status for cupsd."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    if len(argv) == 1:
        print(DISCOVERY, file=stdout, flush=True)
        return OK
    if len(argv) not in (6, 7):
        print(f"Usage: {argv[0]} job-id user title copies options [file]", file=stderr)
        return FAILED
    handler = CupsLogHandler(stderr)
    root = logging.getLogger("faxprint")
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if env.get("FAXPRINT_DEBUG") else logging.INFO)
    quiet_libraries()
    cancellation = Cancellation()
    previous = signal.signal(signal.SIGTERM, cancellation.handle)
    try:
        return run_job(argv, env, stdin, stderr, cancellation)
    except CancelledError:
        logger.info("Fax cancelled")
        return CANCEL
    except Exception as exc:  # a bug: keep the job, say so once, never a traceback
        logger.error("faxprint internal error (%s); the job is held. Please report it",
                     type(exc).__name__)  # fmt: skip
        return HOLD
    finally:
        signal.signal(signal.SIGTERM, previous)
        root.removeHandler(handler)
        root.setLevel(level)


def quiet_libraries() -> None:
    """Keep pypdf's complaints about damaged files out of users' sight: faxprint says it."""
    logging.getLogger("pypdf").setLevel(logging.ERROR)


def run_job(
    argv: Sequence[str],
    env: Mapping[str, str],
    stdin: BinaryIO,
    stderr: TextIO,
    cancellation: Cancellation,
) -> int:
    """Fax one job (or the several faxes its codes make); report on stderr; return the
    exit status."""
    job_id, user, title, options_text = argv[1], argv[2], argv[3], argv[5]
    source = Source(Kind.CUPS, user=user, title=title)
    try:
        settings, account = _configured(env)
    except ConfigError as error:
        return refused(Outcome.refused("", error))
    given = option_values(options_text, "job-uuid")[-1:]  # to name a job refused unspooled
    key = job_key(env, job_id, job_uuid({"job-uuid": given[0]} if given else {})
                  or f"refused-{secrets.token_hex(8)}", Spooled((), "", 0))  # fmt: skip
    folder: Path | None = None
    try:
        options = parse_options(options_text)
        asked = jobticket.request(options)
        uuid = job_uuid(options)
        folder, spooled = _spool(argv, stdin, env, digest=not uuid)
        key = job_key(env, job_id, uuid, spooled)
        if not spooled.paths:
            raise DocumentError(nothing_from_cupsd(env.get("CONTENT_TYPE", "")))
        sources = document_sources(
            [Path(p) for p in spooled.paths],
            title,
            option_values(options_text, "document-name-supplied"),
        )
        job = Job(settings, account, key, source, cancellation)
        return job.run(asked, sources, folder, stderr)
    except CancelledError:
        raise
    except FaxPrintError as error:  # before it could be submitted: an outcome all the same
        outcome = Outcome.refused(key, error)
        if outcome.status is Status.INVALID:  # history shows it too
            _journal_refusal(settings, key, error, source, account.name)
        return refused(outcome)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _configured(env: Mapping[str, str]) -> tuple[configuration.Config, configuration.Account]:
    """The configuration cupsd's environment leads to, and the queue's account."""
    account_name = account_from_uri(env.get("DEVICE_URI", ""))
    settings = configuration.load(env=env)
    account = settings.account(account_name)
    if settings.source is None:
        logger.warning(
            "faxprint has no %s: test mode, faxes go to the local sandbox, not to a "
            "fax service", configuration.DEFAULT_CONFIG,
        )  # fmt: skip
    return settings, account


def _spool(
    argv: Sequence[str], stdin: BinaryIO, env: Mapping[str, str], *, digest: bool
) -> tuple[Path, Spooled]:
    """Copy the job's data to a private folder; a full or broken disk is worth a retry
    (cupsd keeps the job), never a lost job or a traceback."""
    where = env.get("TMPDIR") or tempfile.gettempdir()
    try:
        folder = Path(tempfile.mkdtemp(prefix=f"faxprint-{argv[1]}-", dir=where))
    except OSError as exc:
        raise TransientError(f"cannot spool the job in {where}: {exc.strerror}") from None
    try:
        if len(argv) == 7:
            with open(argv[6], "rb") as stream:
                return folder, spool(stream, folder, digest=digest)
        return folder, spool(stdin, folder, digest=digest)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise TransientError(f"cannot spool the job in {where}: {exc.strerror}") from None


def account_from_uri(uri: str) -> str:
    """Read the account name from ``faxprint://ACCOUNT``; credentials are refused."""
    parts = urlsplit(uri)
    if parts.scheme != "faxprint":
        raise ConfigError(f"device URI {parts.scheme}://... is not a faxprint:// URI")
    if "@" in parts.netloc:
        raise ConfigError("the device URI must not hold credentials; put them in the config")
    return unquote(parts.netloc or parts.path.strip("/")) or "default"


_UUID = re.compile(r"[0-9A-Za-z-]{1,64}")


def _journal_refusal(
    settings: configuration.Config, key: str, error: FaxPrintError, source: Source, account: str
) -> None:
    """Journal a job refused before it could become a fax: history shows it too."""
    from faxprint.journal import open_journal

    try:
        with open_journal(settings) as opened:
            opened.refused(
                key, error.message, source=source.kind, account=account,
                documents=[source.title], user=source.user, title=source.title,
            )  # fmt: skip
    except FaxPrintError as fault:
        logger.debug("the refusal is not in the journal: %s", fault.message)


def job_uuid(options: Mapping[str, str]) -> str:
    """Return the job's UUID from the options cupsd passes, or "" if it is not one."""
    uuid = options.get("job-uuid", "").removeprefix("urn:uuid:")
    return uuid if _UUID.fullmatch(uuid) else ""


def job_key(env: Mapping[str, str], job_id: str, uuid: str, spooled: Spooled) -> str:
    """Name the job in the journal: the same on every retry, never shared with another.

    Job ids start again at 1 when cupsd loses its state, so the key also carries the
    job's UUID (:func:`job_uuid`) or, without one, a digest of the job's data (spooled
    with ``digest=True``).
    """
    if not uuid and not spooled.digest:
        raise ValueError("a job without a UUID needs its data's digest")
    return str(JobKey.cups(env.get("PRINTER", ""), job_id, uuid or spooled.digest[:32]))
