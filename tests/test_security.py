"""Security checks: the password never leaks, TLS is verified, the hot folder cannot be
turned against files its droppers could not read.

Every test gives faxprint the distinctive test password (tests.support.secrets) and looks
for it where it must never be: output at debug level, the journal's bytes, receipts, the
device URI, the backend's and the watcher's command lines and environments. The leak
check plugin (tests/support/leakcheck.py) looks again at every file the session left.
"""

from __future__ import annotations

import io
import json
import os
import pwd
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import trustme

from faxprint import config as configuration
from faxprint.cups import backend
from faxprint.errors import ConfigError
from faxprint.hotfolder.service import HotFolder
from faxprint.journal import Journal, State
from faxprint.sandbox import Account, Fault, SandboxServer
from faxprint.transports.http import translate as _translate
from faxprint.transports.multipart import MultipartBody
from tests.conftest import REPO
from tests.support import leakcheck
from tests.support.configs import faxout_account, write_config
from tests.support.cupsd import JOB_COMPLETED, PrivateCupsd
from tests.support.helpers import Watcher, make_pdf, wait_for
from tests.support.secrets import TEST_ACCOUNTS, TEST_PASSWORD

NEEDLE = TEST_PASSWORD.encode()
BACKEND = REPO / "cups-backend" / "faxprint"
NOBODY = 65534
FAXPRINT = (sys.executable, "-m", "faxprint")


def _config(tmp_path: Path, url: str, *, extra: str = "", **account: object) -> Path:
    """A config with the test password, one try, its journal in tmp_path."""
    return write_config(
        tmp_path,
        faxout_account(url, read_timeout=30, **account),
        retry={"tries": 1, "backoff": 0.0},
        extra=extra,
    )


def assert_no_leak(*texts: str | bytes) -> None:
    for text in texts:
        data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
        assert NEEDLE not in data, "the test password leaked"


def assert_folder_clean(folder: Path) -> None:
    """No file holds the password but configs other users cannot read."""
    assert [str(leak) for leak in leakcheck.scan_tree(folder)] == []


def journal_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


def closed_url() -> str:
    """A loopback URL nothing listens on (a port that was free a moment ago)."""
    with SandboxServer(port=0, store=tempfile.mkdtemp(), accounts=TEST_ACCOUNTS) as probe:
        url = probe.url
    shutil.rmtree(probe.store.root)
    return url


# -- the leak check itself --------------------------------------------------------------

INNER_TESTS = {
    "clean": "def test_it(tmp_path):\n    print('nothing to hide')\n",
    "stdout": "def test_it():\n    print('the password is', TEST_PASSWORD)\n",
    "log": "import logging\n\ndef test_it():\n"
    "    logging.getLogger('x').warning('password %s', TEST_PASSWORD)\n",
    "failure": "def test_it():\n    assert TEST_PASSWORD == 'something else'\n",
    "file": "def test_it(tmp_path):\n"
    "    (tmp_path / 'app.log').write_text('0123456789' + TEST_PASSWORD)\n",
    "private config": "def test_it(tmp_path):\n"
    "    (tmp_path / 'a.toml').touch(mode=0o600)\n"
    "    (tmp_path / 'a.toml').write_text(f'password = \"{TEST_PASSWORD}\"')\n",
    "fixture folder": "def test_it(faxprint_root):\n"
    "    (faxprint_root / 'journal.sqlite').write_bytes(b'xx' + TEST_PASSWORD.encode())\n",
    "public config": "def test_it(tmp_path):\n"
    "    (tmp_path / 'a.toml').write_text(f'password = \"{TEST_PASSWORD}\"')\n"
    "    (tmp_path / 'a.toml').chmod(0o644)\n",
}


#: A folder outside basetemp that its fixture removes, as faxprint_root does.
INNER_CONFTEST = """
import shutil, tempfile
from pathlib import Path
import pytest

@pytest.fixture(scope="session")
def faxprint_root():
    root = Path(tempfile.mkdtemp(prefix="faxprint-root-"))
    yield root
    shutil.rmtree(root)
"""


@pytest.mark.parametrize(
    ("case", "status", "report"),
    [
        ("clean", 0, ""),
        ("stdout", 1, "test_inner.py::test_it (Captured stdout call): shows the test password"),
        ("log", 1, "test_inner.py::test_it (Captured log call): shows the test password"),
        ("failure", 1, "test_inner.py::test_it (failure text): shows the test password"),
        ("file", 1, "app.log: holds the test password at byte 10\n"),
        ("private config", 0, ""),
        ("fixture folder", 1, "journal.sqlite: holds the test password at byte 2\n"),
        ("public config", 1, "a.toml: holds the test password and other users can read it"),
    ],
    ids=list(INNER_TESTS),  # the cases, in this order
)
def test_the_leak_check_fails_a_session_that_leaks(
    tmp_path: Path, case: str, status: int, report: str
) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pytest.ini").write_text("[pytest]\n")
    source = "from tests.support.secrets import TEST_PASSWORD\n\n" + INNER_TESTS[case]
    (inner / "test_inner.py").write_text(source)
    (inner / "conftest.py").write_text(INNER_CONFTEST)
    try:
        result = subprocess.run(
            [
                *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"),
                *("-p", "tests.support.leakcheck", "-c", str(inner / "pytest.ini")),
                *("--rootdir", str(inner), "--basetemp", str(inner / "base"), "test_inner.py"),
            ],
            capture_output=True,
            text=True,
            cwd=inner,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            timeout=120,
            check=False,
        )
    finally:
        shutil.rmtree(inner / "base", ignore_errors=True)  # planted leaks must not stay
    assert result.returncode == status, result.stdout + result.stderr
    assert report in result.stdout
    if status:
        assert "leak check failed: 1 leak(s)" in result.stdout
        assert ("1 failed" if case == "failure" else "1 passed") in result.stdout
    else:
        assert "the test password leaked" not in result.stdout
    if case != "failure":  # pytest itself shows a failing test's text; the plugin never does
        assert_no_leak(result.stdout, result.stderr)


# -- faxprint send, at debug level -------------------------------------------------------

DRIVER = """
import sys
from faxprint import config
from faxprint.cli import main
from faxprint.transports import faxout

def broken(status, body, redact=None):
    # A bug whose message quotes a value that holds the password.
    account = config.load(sys.argv[1]).account()
    raise ValueError(f"cannot read the answer for {account.username}:{account.password}")

faxout.parse_answer = broken
sys.exit(main(["--config", *sys.argv[1:]]))
"""


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("accepted", 0, ""),
        ("wrong password", 77, "authorization failed: check the account's username and password"),
        ("service down", 75, "cannot reach the service: connection refused"),
        ("service failing", 75, "the service is unavailable (HTTP 503)"),
        ("internal error", 79, "internal error (ValueError) while sending; please report it"),
    ],
)
def test_faxprint_send_never_shows_or_stores_the_password(
    tmp_path: Path, case: str, status: int, message: str
) -> None:
    accounts = {"15555550100": Account("another-password")} if case == "wrong password" else None
    with SandboxServer(
        port=0, store=tmp_path / "store", accounts=accounts or TEST_ACCOUNTS
    ) as server:
        if case == "service failing":
            server.faults.push(Fault.http_status(503))
        config = _config(tmp_path, closed_url() if case == "service down" else server.url)
        command = ["-c", DRIVER] if case == "internal error" else ["-m", "faxprint", "--config"]
        pdf = make_pdf(tmp_path / "a.pdf")
        result = subprocess.run(
            [*(sys.executable, *command, str(config)), "send", "--to", "5556465589", str(pdf)],
            capture_output=True,
            text=True,
            cwd=REPO,
            env={**os.environ, "FAXPRINT_LOG_LEVEL": "debug"},
            timeout=60,
            check=False,
        )
    assert result.returncode == status, result.stderr
    assert message in result.stderr
    assert "faxprint: DEBUG: " in result.stderr  # the most verbose level was on
    assert "Traceback" not in result.stderr
    assert_no_leak(result.stdout, result.stderr, journal_bytes(tmp_path / "journal.sqlite"))
    assert_folder_clean(tmp_path)
    assert (tmp_path / "journal.sqlite").stat().st_mode & 0o077 == 0


# -- the CUPS backend, run as cupsd runs it ----------------------------------------------


def backend_env(tmp_path: Path, config: Path) -> dict[str, str]:
    """The environment cupsd gives a backend: its own variables, and what SetEnv adds."""
    return {
        "DEVICE_URI": "faxprint://default",
        "PRINTER": "Fax",
        "CONTENT_TYPE": "application/pdf",
        "TMPDIR": str(tmp_path),
        "PATH": "/usr/lib/cups/filter:/usr/bin:/bin",
        "FAXPRINT_CONFIG": str(config),
        "FAXPRINT_DEBUG": "1",
    }


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("accepted", backend.OK, "INFO: Fax accepted for 1 recipient, 1 page"),
        ("wrong password", backend.STOP, "ERROR: Fax not sent: authorization failed"),
        ("service down", backend.RETRY, "cannot reach the service: connection refused"),
        ("internal error", backend.HOLD, "ERROR: Fax held: internal error (KeyError)"),
    ],
)
def test_the_backend_never_shows_or_stores_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, status: int, message: str
) -> None:
    from faxprint.transports import faxout

    def broken(*args: object) -> None:
        raise KeyError(f"answer for {TEST_PASSWORD}")  # a bug quoting the password

    if case == "internal error":
        monkeypatch.setattr(faxout, "parse_answer", broken)
    accounts = {"15555550100": Account("another-password")} if case == "wrong password" else None
    with SandboxServer(
        port=0, store=tmp_path / "store", accounts=accounts or TEST_ACCOUNTS
    ) as server:
        config = _config(tmp_path, closed_url() if case == "service down" else server.url)
        err = io.StringIO()
        pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
        argv = ["faxprint://default", "7", "ann", "report.pdf", "1", "fax-to=5556465589"]
        code = backend.main(argv, backend_env(tmp_path, config), io.BytesIO(pdf), stderr=err)
    assert code == status, err.getvalue()
    assert message in err.getvalue()
    assert "DEBUG: " in err.getvalue()
    assert_no_leak(err.getvalue(), journal_bytes(tmp_path / "journal.sqlite"))
    assert_folder_clean(tmp_path)


def descendants(pid: int) -> list[int]:
    """Return pid and every process below it, from /proc (as ps sees them)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat_line = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat_line.rsplit(")", 1)[1].split()[1])
    found = [pid]
    for candidate in found:
        found += [child for child, parent in parents.items() if parent == candidate]
    return found


def process_texts(pids: list[int]) -> dict[str, bytes]:
    """Read what ps shows of each process: its command line and its environment."""
    texts = {}
    for pid in pids:
        for part in ("cmdline", "environ"):
            try:
                texts[f"{pid}/{part}"] = (Path("/proc") / str(pid) / part).read_bytes()
            except OSError:  # gone meanwhile
                continue
    return texts


def test_the_backend_process_shows_no_password_while_it_uploads(tmp_path: Path) -> None:
    release = threading.Event()
    with SandboxServer(port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS) as server:
        server.faults.push(Fault.hold(release))  # the service has the fax and answers later
        config = _config(tmp_path, server.url)
        with make_pdf(tmp_path / "a.pdf").open("rb") as data:
            process = subprocess.Popen(
                [sys.executable, str(BACKEND), "9", "ann", "report", "1", "fax-to=5556465589"],
                stdin=data,
                stderr=subprocess.PIPE,
                env=backend_env(tmp_path, config),
            )
        try:
            wait_for(server.faxes, 60.0, "the upload to reach the service")
            shown = process_texts(descendants(process.pid))
        finally:
            release.set()
            _, err = process.communicate(timeout=60)
    assert process.returncode == backend.OK, err
    assert (
        f"{process.pid}/environ" in shown and b"FAXPRINT_CONFIG=" in shown[f"{process.pid}/environ"]
    )
    assert_no_leak(*shown.values(), err)


def test_the_watcher_process_shows_no_password_while_it_uploads(tmp_path: Path) -> None:
    root = tmp_path / "drop"
    release = threading.Event()
    with SandboxServer(port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS) as server:
        server.faults.push(Fault.hold(release))
        config = _config(tmp_path, server.url, extra="[hotfolder]\nstable_seconds = 0.2\n")
        watcher = subprocess.Popen(
            [sys.executable, "-m", "faxprint", "--config", str(config), "watch", str(root)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "FAXPRINT_LOG_LEVEL": "debug"},
        )
        try:
            wait_for((root / "processing").is_dir, 60.0, "the watcher to start")
            make_pdf(root / "held.pdf")
            (root / ".held.tmp").write_text(json.dumps({"to": ["5556465589"]}))
            os.rename(root / ".held.tmp", root / "held.fax.json")
            wait_for(server.faxes, 60.0, "the upload to reach the service")
            shown = process_texts(descendants(watcher.pid))
            release.set()
            wait_for(lambda: list((root / "done").glob("*/receipt.json")), 60.0, "a receipt")
        finally:
            release.set()
            watcher.send_signal(signal.SIGTERM)
            out, _ = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, out
    assert "DEBUG" in out
    assert_no_leak(*shown.values(), out)
    [receipt] = (root / "done").glob("*/receipt.json")
    assert json.loads(receipt.read_text())["outcome"] == "accepted"
    assert_folder_clean(tmp_path)


# -- the Fax printer on a real cupsd -----------------------------------------------------


@pytest.mark.cupsd
def test_an_installed_queue_and_its_jobs_show_no_password(
    cupsd: PrivateCupsd, faxprint_root: Path, tmp_path: Path
) -> None:
    release = threading.Event()
    config = faxprint_root / "etc" / "faxprint.toml"  # the file cupsd's SetEnv names
    with SandboxServer(port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS) as server:
        server.faults.push(Fault.hold(release))
        config.touch(mode=0o640)
        config.write_text(
            f'journal = "{faxprint_root / "spool" / "journal.sqlite"}"\n[retry]\ntries = 1\n'
            f'[accounts.default]\nurl = "{server.url}"\nusername = "15555550100"\n'
            f'password = "{TEST_PASSWORD}"\n'
        )
        config.chmod(0o640)
        os.chown(config, 0, pwd.getpwnam("lp").pw_gid)
        env = {**cupsd.env(), "FAXPRINT_CONFIG": str(config)}
        installed = subprocess.run(
            [*FAXPRINT, "install", "--name", "FaxSecret", "--backend-dir", str(cupsd.backend_dir)],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            timeout=60,
            check=False,
        )
        assert installed.returncode == 0, installed.stderr
        try:
            job = cupsd.lp("FaxSecret", make_pdf(tmp_path / "a.pdf"), options=["fax-to=5556465589"])
            wait_for(server.faxes, 60.0, "the upload to reach the service")
            assert cupsd.pid is not None
            shown = process_texts(descendants(cupsd.pid))
            release.set()
            assert cupsd.wait_job(job) == JOB_COMPLETED
            listed = subprocess.run(
                ["lpstat", "-v", "FaxSecret"], capture_output=True, text=True, env=env, check=True
            )
            attributes = cupsd.connection().getPrinterAttributes("FaxSecret")
            job_attributes = cupsd.job_attributes(job)
        finally:
            release.set()
            subprocess.run(
                [
                    *FAXPRINT,
                    "uninstall",
                    "--name",
                    "FaxSecret",
                    "--backend-dir",
                    str(cupsd.backend_dir),
                ],
                capture_output=True,
                env=env,
                cwd=REPO,
                timeout=60,
                check=True,
            )
    assert attributes["device-uri"] == "faxprint://default"
    assert listed.stdout == "device for FaxSecret: faxprint://default\n"
    assert any(b"faxprint://default" in text for text in shown.values())  # the backend ran
    assert_no_leak(installed.stdout, installed.stderr, listed.stdout, *shown.values())
    assert_no_leak(cupsd.error_log_text(), str(job_attributes))
    assert_folder_clean(cupsd.dir)
    assert_folder_clean(faxprint_root)


# -- TLS ---------------------------------------------------------------------------------


@dataclass
class TlsSandbox:
    server: SandboxServer
    url: str  # https://localhost:PORT/faxapi.asp
    ca: Path  # the CA that signed its certificate, as PEM


@pytest.fixture
def tls_sandbox(tmp_path: Path) -> Iterator[TlsSandbox]:
    """The sandbox over HTTPS on loopback, its certificate from a CA no one trusts."""
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    ca = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca))
    server = SandboxServer(port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS)
    # The sandbox has no TLS option: wrap its listening socket before it serves.
    server._httpd.socket = context.wrap_socket(server._httpd.socket, server_side=True)
    with server:
        port = server.url.split(":")[2].split("/")[0]
        yield TlsSandbox(server, f"https://localhost:{port}/faxapi.asp", ca)


def send(config: Path) -> subprocess.CompletedProcess[str]:
    pdf = make_pdf(config.parent / "a.pdf")
    return subprocess.run(
        [*FAXPRINT, "--config", str(config), "send", "--to", "5556465589", str(pdf)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )


UNVERIFIED = "the service's TLS certificate could not be verified"


def test_an_untrusted_certificate_stops_faxprint_send(
    tmp_path: Path, tls_sandbox: TlsSandbox
) -> None:
    config = _config(tmp_path, tls_sandbox.url)
    result = send(config)
    assert (result.returncode, result.stderr) == (  # a config error is 78, in submit too
        78,
        f"faxprint: not sent, the configuration must be fixed: {UNVERIFIED}: check the account's "
        'url, or name the CA that signed it with verify = "/path/to/ca.pem"\n',
    )
    assert tls_sandbox.server.requests == []


def test_an_untrusted_certificate_stops_the_queue_without_retrying(
    tmp_path: Path, tls_sandbox: TlsSandbox
) -> None:
    config = _config(tmp_path, tls_sandbox.url)
    config.write_text(config.read_text().replace("tries = 1", "tries = 3"))
    err = io.StringIO()
    argv = ["faxprint://default", "7", "ann", "a", "1", "fax-to=5556465589 job-uuid=tls"]
    pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
    status = backend.main(argv, backend_env(tmp_path, config), io.BytesIO(pdf), stderr=err)
    assert status == backend.STOP, err.getvalue()
    assert f"ERROR: Fax not sent: {UNVERIFIED}" in err.getvalue()
    with Journal(tmp_path / "journal.sqlite") as journal:
        record = journal.get("cups:Fax:7:tls")
    assert record is not None and (record.state, record.attempts) == (State.RETRY, 1)
    assert tls_sandbox.server.requests == []


def test_the_accounts_ca_makes_the_certificate_trusted(
    tmp_path: Path, tls_sandbox: TlsSandbox
) -> None:
    config = _config(tmp_path, tls_sandbox.url, verify=tls_sandbox.ca)
    result = send(config)
    assert result.returncode == 0, result.stderr
    [fax] = tls_sandbox.server.faxes()
    assert fax.record["password_supplied"] is True


def test_a_missing_ca_file_is_a_configuration_error(
    tmp_path: Path, tls_sandbox: TlsSandbox
) -> None:
    missing = tmp_path / "missing-ca.pem"
    config = _config(tmp_path, tls_sandbox.url, verify=missing)
    result = send(config)
    assert (result.returncode, result.stderr) == (  # a config error is 78, in submit too
        78,
        f"faxprint: not sent, the configuration must be fixed: account 'default': verify names "
        f"{missing}, which does not exist; give the CA file (PEM) that signed the service's "
        "certificate\n",
    )
    assert tls_sandbox.server.requests == []


def test_verify_false_sends_but_warns(tmp_path: Path, tls_sandbox: TlsSandbox) -> None:
    config = _config(tmp_path, tls_sandbox.url, verify=False)
    result = send(config)
    assert result.returncode == 0, result.stderr
    assert (
        "faxprint: WARNING: account 'default': TLS certificates are not verified (verify = false)"
        in result.stderr
    )
    assert len(tls_sandbox.server.faxes()) == 1


def test_a_certificate_refusal_is_configuration_wherever_it_is_wrapped(tmp_path: Path) -> None:
    ssl_error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    wrapped = requests.exceptions.SSLError(requests.exceptions.SSLError(ssl_error))
    body = MultipartBody([])
    assert type(_translate(wrapped, body)) is ConfigError
    handshake = requests.exceptions.SSLError(ssl.SSLError(1, "wrong version number"))
    assert type(_translate(handshake, body)).__name__ == "ServiceUnavailable"


@pytest.mark.parametrize(
    ("url", "allow_http", "refused"),
    [
        ("http://192.0.2.1/faxapi.asp", False, True),
        ("http://fax.example/faxapi.asp", False, True),
        ("http://192.0.2.1/faxapi.asp", True, False),
        ("http://127.0.0.1:8025/faxapi.asp", False, False),
        ("http://localhost:8025/faxapi.asp", False, False),
    ],
)
def test_plain_http_to_another_host_is_refused_at_load(
    tmp_path: Path, url: str, allow_http: bool, refused: bool
) -> None:
    config = _config(tmp_path, url, allow_http=True if allow_http else None)
    if refused:
        with pytest.raises(ConfigError, match="plain http to another host") as caught:
            configuration.load(config, env={})
        assert_no_leak(str(caught.value))
        result = send(config)
        assert result.returncode == 78
        assert "which would send the password in clear" in result.stderr
        assert_no_leak(result.stderr)
    else:
        assert configuration.load(config, env={}).account().url == url


# -- the hot folder, run by root, against unprivileged droppers -------------------------


@dataclass
class DropZone:
    root: Path  # the drop folder: sticky, world-writable (1777)
    secret: Path  # root's file, mode 0600
    secret_bytes: bytes
    home: Path  # a folder of the dropper's own


@pytest.fixture
def zone() -> Iterator[DropZone]:
    # Under /tmp, not tmp_path: user nobody must reach it (pytest's basetemp is 0700).
    base = Path(tempfile.mkdtemp(prefix="faxprint-sec-", dir="/tmp"))
    try:
        base.chmod(0o755)
        root = base / "drop"
        root.mkdir()
        root.chmod(0o1777)
        vault = base / "vault"
        vault.mkdir(mode=0o755)  # traversable: only the file's own mode protects it
        secret = vault / "payroll.pdf"
        secret_bytes = b"TOP-SECRET-" + secrets.token_hex(16).encode()
        secret.touch(mode=0o600)
        secret.write_bytes(b"%PDF-1.4\n" + secret_bytes + b"\n")
        home = base / "home"
        home.mkdir()
        os.chown(home, NOBODY, NOBODY)
        yield DropZone(root, secret, secret_bytes, home)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def as_nobody(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Python code as user nobody, as a person dropping files would."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd="/",
        env={"PATH": "/usr/bin:/bin"},
        user=NOBODY,
        group=NOBODY,
        extra_groups=[],
        timeout=60,
        check=False,
    )


DROP_TICKET = """
import json, os, sys
folder, name, ticket = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with open(os.path.join(folder, "." + name + ".tmp"), "w") as stream:
    json.dump(ticket, stream)
os.rename(os.path.join(folder, "." + name + ".tmp"), os.path.join(folder, name + ".fax.json"))
"""


def drop_ticket_as_nobody(root: Path, name: str, ticket: dict[str, object]) -> None:
    result = as_nobody(DROP_TICKET, str(root), name, json.dumps(ticket))
    assert result.returncode == 0, result.stderr


HOTFOLDER = "[hotfolder]\nstable_seconds = 0.2\nrescan_seconds = 0.5\nticket_wait = 0\n"


def receipts(root: Path, where: str) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted((root / where).glob("*/receipt.json"))]


def stored_bytes(server: SandboxServer) -> bytes:
    """Everything the sandbox kept: every attachment of every fax, and its logs."""
    files = [p for p in server.store.root.rglob("*") if p.is_file() and not p.is_symlink()]
    return b"".join(p.read_bytes() for p in files)


@pytest.fixture
def watched(tmp_path: Path, zone: DropZone, sandbox: SandboxServer) -> Iterator[HotFolder]:
    with Watcher(_config(tmp_path, sandbox.url, extra=HOTFOLDER), zone.root) as service:
        yield service


def test_a_symlink_to_roots_secret_is_refused(
    watched: HotFolder, zone: DropZone, sandbox: SandboxServer
) -> None:
    made = as_nobody(
        "import os, sys; os.symlink(sys.argv[1], sys.argv[2])",
        str(zone.secret),
        str(zone.root / "grab.pdf"),
    )
    assert made.returncode == 0, made.stderr
    drop_ticket_as_nobody(zone.root, "grab", {"to": ["5550001111"]})
    wait_for(lambda: receipts(zone.root, "failed"), 60.0, "a receipt in failed/")
    [receipt] = receipts(zone.root, "failed")
    assert "grab.pdf: is a symbolic link; drop the file itself" in str(receipt["message"])
    assert sandbox.requests == []
    assert zone.secret_bytes not in stored_bytes(sandbox)


def test_a_hard_link_to_roots_secret_cannot_be_made_nor_sent(
    watched: HotFolder, zone: DropZone, sandbox: SandboxServer
) -> None:
    # fs.protected_hardlinks=1: nobody may not link a file it can neither read nor write.
    made = as_nobody(
        "import os, sys\ntry:\n    os.link(sys.argv[1], sys.argv[2])\n"
        "except PermissionError as exc:\n    print(exc.errno)",
        str(zone.secret),
        str(zone.root / "grab.pdf"),
    )
    assert (made.returncode, made.stdout) == (0, "1\n")  # EPERM
    assert not (zone.root / "grab.pdf").exists()
    # The watcher's own refusal, shown with a link root made to the dropper's own file.
    own = zone.home / "own.pdf"
    assert (
        as_nobody(
            "import sys; open(sys.argv[1], 'wb').write(b'%PDF-1.4 mine')", str(own)
        ).returncode
        == 0
    )
    os.link(own, zone.root / "linked.pdf")
    drop_ticket_as_nobody(zone.root, "linked", {"to": ["5550001111"]})
    wait_for(lambda: receipts(zone.root, "failed"), 60.0, "a receipt in failed/")
    [receipt] = receipts(zone.root, "failed")
    assert "linked.pdf: has other hard links; drop a copy of the file" in str(receipt["message"])
    assert sandbox.requests == []


@pytest.mark.parametrize("owner", ["root", "daemon"])
def test_a_ticket_cannot_send_another_users_document(
    watched: HotFolder, zone: DropZone, sandbox: SandboxServer, owner: str
) -> None:
    other = zone.root / ".payroll.tmp"
    other.touch(mode=0o600)
    make_pdf(other, text="payroll")  # a sound PDF: its owner's own ticket sends it
    user = pwd.getpwnam(owner)
    os.chown(other, user.pw_uid, user.pw_gid)
    other = other.rename(zone.root / "payroll.pdf")
    assert as_nobody("import sys; open(sys.argv[1], 'rb')", str(other)).returncode != 0
    drop_ticket_as_nobody(zone.root, "grab", {"to": ["5550001111"], "documents": ["payroll.pdf"]})
    wait_for(lambda: receipts(zone.root, "failed"), 60.0, "a receipt in failed/")
    [receipt] = receipts(zone.root, "failed")
    assert str(receipt["message"]) == (
        "payroll.pdf: belongs to another user than the ticket; it was left where it was"
    )
    assert sandbox.requests == []
    # Untouched, where its owner left it: once moved into the other's failed job, the
    # owner's own ticket found nothing ("document not found").
    assert other.exists() and other.stat().st_uid == user.pw_uid
    assert not list((zone.root / "failed").glob("*/payroll.pdf"))
    own = zone.root / ".mine.tmp"  # the owner's own ticket, renamed into place as theirs
    own.write_text(json.dumps({"to": ["5550001111"], "documents": ["payroll.pdf"]}))
    os.chown(own, user.pw_uid, user.pw_gid)
    own.rename(zone.root / "mine.fax.json")
    wait_for(lambda: receipts(zone.root, "done"), 60.0, "the owner's own fax in done/")
    assert len(sandbox.faxes()) == 1


SWAPPER = """
import os, sys
folder, secret, name = sys.argv[1], sys.argv[2], sys.argv[3]
target = os.path.join(folder, name)
temp = os.path.join(folder, ".swap")
print("swapping", flush=True)
n = 0
while True:
    n += 1
    with open(temp, "wb") as stream:
        stream.write(b"harmless document %d\\n" % n)
    os.rename(temp, target)
    os.symlink(secret, temp)
    os.rename(temp, target)
"""

TICKETS = """
import json, os, sys, time
folder, rounds = sys.argv[1], int(sys.argv[2])
for n in range(rounds):
    name = os.path.join(folder, "race%d.fax.json" % n)
    with open(os.path.join(folder, ".ticket"), "w") as stream:
        json.dump({"to": ["5550001111"], "documents": ["race.pdf"]}, stream)
    os.rename(os.path.join(folder, ".ticket"), name)
    deadline = time.monotonic() + 30
    while os.path.exists(name):  # claimed: the next one
        if time.monotonic() > deadline:
            sys.exit("ticket %d never claimed" % n)
        time.sleep(0.005)
"""

ROUNDS = 100


@pytest.mark.slow
def test_swapping_a_document_for_a_symlink_never_sends_the_secret(
    watched: HotFolder, zone: DropZone, sandbox: SandboxServer
) -> None:
    swapper = subprocess.Popen(
        [sys.executable, "-c", SWAPPER, str(zone.root), str(zone.secret), "race.pdf"],
        stdout=subprocess.PIPE,
        text=True,
        cwd="/",
        env={"PATH": "/usr/bin:/bin"},
        user=NOBODY,
        group=NOBODY,
        extra_groups=[],
    )
    try:
        assert swapper.stdout is not None and swapper.stdout.readline() == "swapping\n"
        dropped = as_nobody(TICKETS, str(zone.root), str(ROUNDS))
        assert dropped.returncode == 0, dropped.stderr
        wait_for(
            lambda: len(receipts(zone.root, "done") + receipts(zone.root, "failed")) == ROUNDS,
            timeout=240,
            what=f"{ROUNDS} receipts",
        )
    finally:
        swapper.kill()
        swapper.communicate(timeout=30)
    done, failed = receipts(zone.root, "done"), receipts(zone.root, "failed")
    reasons = {str(r["message"]).split(": ", 1)[-1] for r in failed}
    assert reasons <= {
        "is a symbolic link; drop the file itself",
        "document not found next to the ticket",
    }, reasons
    assert all(r["outcome"] == "accepted" for r in done)
    assert any("symbolic link" in str(r["message"]) for r in failed)  # the race was run
    assert len(sandbox.faxes()) == len(done) >= 1
    assert zone.secret_bytes not in stored_bytes(sandbox)
    for where in ("done", "failed"):
        for path in (zone.root / where).rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert zone.secret_bytes not in path.read_bytes()
    assert list((zone.root / "processing").iterdir()) == []
    assert list((zone.root / "held").iterdir()) == []
