"""A service that quotes the whole request back, on both transports and the three paths:
no secret, in any form, reaches an output, a file, a journal row or a printer job's status.

Proxies, captive portals and broken services answer with a page that shows what they
were sent: the posted form (FaxOut's password), the headers (RingCentral's Basic header of
the client id and secret, the Bearer token), the sign-in's form (the JWT). faxprint shows
service text to people (``lpstat`` shows a job's status to every local user), logs it and
journals it. Each case sends one job through ``faxprint send``, the hot folder and the
printer (a real cupsd), to a server that echoes, and searches everything they left for
every form of every secret (tests.support.secrets.quoted_forms).
"""

from __future__ import annotations

import html
import logging
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest

from faxprint.journal import Journal
from tests.campaign.ledger import tally
from tests.campaign.paths import QUEUE, HotFolderPath, Printer, campaign_pdf, config_text
from tests.campaign.rest_paths import RestHotFolder, rest_config_text
from tests.conftest import REPO
from tests.support.cupsd import PrivateCupsd
from tests.support.echo import ACCESS_TOKEN, REFRESH_TOKEN, echo_server
from tests.support.secrets import TEST_CLIENT_SECRET, TEST_JWT, TEST_PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.cupsd]

SECRETS = (TEST_PASSWORD, TEST_CLIENT_SECRET, TEST_JWT, ACCESS_TOKEN, REFRESH_TOKEN)
#: Files that hold secrets by design, private to their owner: configs, secret files, the
#: token cache (a 0700 folder of 0600 files).
PRIVATE = (".toml", ".secret")


@dataclass(frozen=True)
class Case:
    status: int
    shape: str  # html, text or json (a RingCentral error whose message quotes it all)
    ends: str  # how the job ends: refused (failed/cancelled) or held (may have gone)


CASES = {
    "400, an HTML page": Case(400, "html", "refused"),
    "200, a page wrapping what it quotes": Case(200, "wrapped", "held"),
    "200, an HTML page": Case(200, "html", "held"),
    "500, plain text": Case(500, "text", "held"),
    "400, a RingCentral error quoting it": Case(400, "json", "refused"),
}


def leaks(texts: dict[str, str | bytes]) -> list[str]:
    """Where any secret shows, in whatever the echo or faxprint may have encoded it in
    (found by decoding each text, not by listing the forms faxprint knows to hide)."""
    found = []
    for where, text in texts.items():
        data = text if isinstance(text, str) else text.decode("latin-1")
        for shown in _undone(data):
            found += [f"{where}: {secret[:6]}..." for secret in SECRETS if secret in shown]
    return sorted(set(found))


def _undone(text: str) -> list[str]:
    """``text`` as it is, and with each encoding a page or a log may apply undone: HTML
    entities, URL encoding (once, twice), JSON escapes; with markup and blanks gone."""
    variants = [text]
    for _ in range(2):
        variants += [html.unescape(v) for v in variants] + [unquote(v) for v in variants]
    variants += [re.sub(r"\\u([0-9a-fA-F]{4})|\\(/)", _json_escape, v) for v in variants]
    variants += [re.sub(r"<[^>]*>|\s+", "", v) for v in variants]
    return list(dict.fromkeys(variants))


def _json_escape(match: re.Match[str]) -> str:
    return match[2] or chr(int(match[1], 16))


def _tally(transport: str, path: str, case: Case, ended: str) -> None:
    """The ledger's row: the echo keeps no fax; the job ended where a person sees it."""
    name = next(n for n, c in CASES.items() if c is case)
    where = f"rest {path}" if transport == "ringcentral" else path
    result = tally(where, f"echo: {name}", ["echoed secrets"], Counter(),
                   {"echoed secrets": ended})  # fmt: skip
    assert (result.accepted, result.lost) == (0, 0)


def files_under(*folders: Path) -> dict[str, bytes]:
    """Every file under ``folders`` but the private ones, which must stay private."""
    found = {}
    for folder in folders:
        for path in folder.rglob("*"):
            if not path.is_file() or path.is_symlink():
                continue
            if path.suffix in PRIVATE or path.parent.name.startswith("ringcentral-"):
                assert path.stat().st_mode & 0o007 == 0, f"{path} is readable by every user"
                continue
            found[str(path)] = path.read_bytes()
    return found


def journal_rows(path: Path) -> dict[str, str]:
    """Every text the journal holds about its jobs and their attempts."""
    if not path.exists():
        return {}
    with Journal(path) as journal:
        rows = {}
        for job in journal.recent(limit=100):
            rows[f"journal {job.key}"] = repr(job)
            rows[f"journal {job.key} attempts"] = repr(journal.attempts(job.key))
        return rows


def lpstat_as_nobody(cupsd: PrivateCupsd) -> str:
    """What every local user sees of the printer's jobs."""
    done = subprocess.run(
        ["lpstat", "-l", "-W", "all", "-o"], capture_output=True, text=True,
        env=cupsd.env(), user="nobody" if os.geteuid() == 0 else None, check=False,
    )  # fmt: skip
    return done.stdout + done.stderr


#: Each case on each transport it applies to (FaxOut answers a digit, never JSON).
COMBINATIONS = [(name, transport) for name, case in CASES.items()
                for transport in ("faxout", "ringcentral")
                if case.shape != "json" or transport == "ringcentral"]  # fmt: skip


@pytest.fixture(params=COMBINATIONS, ids=[f"{n} ({t})" for n, t in COMBINATIONS])
def combination(request: pytest.FixtureRequest) -> tuple[Case, str]:
    name, transport = request.param
    return CASES[name], transport


@pytest.fixture
def case(combination: tuple[Case, str]) -> Case:
    return combination[0]


@pytest.fixture
def transport(combination: tuple[Case, str]) -> str:
    return combination[1]


@pytest.fixture
def echo(case: Case) -> Iterator[str]:
    with echo_server(case.status, case.shape) as (url, _):
        yield url


def _url(echo: str, transport: str) -> str:
    return f"{echo}/faxapi.asp" if transport == "faxout" else echo


def test_faxprint_send_shows_and_keeps_no_secret(
    tmp_path: Path, echo: str, case: Case, transport: str
) -> None:
    config = tmp_path / "faxprint.toml"
    config.touch(mode=0o600)
    journal = tmp_path / "journal.sqlite"
    settings = {"tries": 1, "store_wait": 0.5} if transport == "ringcentral" else {"tries": 1}
    text = (
        rest_config_text(journal, echo, tmp_path, **settings)
        if transport == "ringcentral"
        else config_text(journal, _url(echo, transport), tries=1)
    )
    config.write_text(text)
    pdf = campaign_pdf(tmp_path / "offer.pdf", "echoed secrets")
    done = subprocess.run(
        [sys.executable, "-m", "faxprint", "--config", str(config), "send", "--to", "5556465589",
         str(pdf)],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
        env={**os.environ, "FAXPRINT_LOG_LEVEL": "debug"},
    )  # fmt: skip
    assert done.returncode == (79 if case.ends == "held" else 76), done.stderr
    assert "Traceback" not in done.stderr
    _tally(transport, "send", case, case.ends)
    assert leaks({"stdout": done.stdout, "stderr": done.stderr, **journal_rows(journal),
                  **files_under(tmp_path)}) == []  # fmt: skip


def test_the_hot_folder_files_and_logs_no_secret(
    tmp_path: Path, echo: str, case: Case, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = RestHotFolder(tmp_path) if transport == "ringcentral" else HotFolderPath(tmp_path)
    settings = {"store_wait": 0.5} if transport == "ringcentral" else {}
    path.configure(_url(echo, transport), tries=1, max_attempts=1, **settings)
    caplog.set_level(logging.DEBUG)
    path.start()
    try:
        path.send("echoed secrets")
        ended = path.ended("echoed secrets")
    finally:
        path.stop()
    assert ended.startswith("held" if case.ends == "held" else "failed"), ended
    _tally(transport, "hot folder", case, ended.split(":")[0])
    logged = {f"log {n}": r.getMessage() for n, r in enumerate(caplog.records)}
    assert leaks({**logged, **journal_rows(path.journal), **files_under(tmp_path)}) == []


def test_the_printer_shows_every_user_no_secret(
    printer: Printer, echo: str, case: Case, transport: str, faxprint_root: Path
) -> None:
    settings = {"store_wait": 0.5} if transport == "ringcentral" else {}
    printer.configure(_url(echo, transport), tries=1, **settings)
    printer.send("echoed secrets")
    ended = printer.ended("echoed secrets")
    assert ended.startswith("held" if case.ends == "held" else "cancelled"), ended
    _tally(transport, "printer", case, ended.split(":")[0])
    cupsd = printer.cupsd
    job = printer.jobs["echoed secrets"]
    shown = {
        "job log": cupsd.job_log(job),
        "error_log": cupsd.error_log_text(),
        "lpstat as nobody": lpstat_as_nobody(cupsd),
        "job attributes": repr(cupsd.job_attributes(job)),
    }
    assert leaks({**shown, **journal_rows(printer.journal), **files_under(faxprint_root)}) == []
    assert QUEUE in shown["lpstat as nobody"]  # nobody did see the queue's jobs
