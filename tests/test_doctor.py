"""``faxprint doctor`` on a real server set-up (private cupsd, sandbox over HTTP, a
running watcher): healthy, it passes; each thing it checks is broken in turn, and the
check must fail and say how to fix it."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from faxprint.sandbox import SandboxServer
from tests.conftest import REPO
from tests.support.configs import faxout_account, write_config
from tests.support.cupsd import PrivateCupsd, private_cupsd
from tests.support.helpers import make_pdf, started, watch_process
from tests.support.secrets import TEST_PASSWORD
from tests.test_security import TlsSandbox, tls_sandbox  # noqa: F401 -- a fixture

pytestmark = [pytest.mark.cupsd, pytest.mark.slow]
QUEUE = "FaxDoctor"
AS_ROOT = os.geteuid() == 0


@dataclass
class Server:
    cupsd: PrivateCupsd
    config: Path
    journal: Path
    folder: Path
    log: Path
    url: str
    watcher: subprocess.Popen[str] | None = None

    def configure(self, url: str | None = None, **account: object) -> None:
        """Write the server's config: the account ``default`` (at ``url``, with these
        settings) and the hot folder, root:lp 0640."""
        write_config(
            self.config,
            faxout_account(url or self.url, **account),
            journal=self.journal,
            extra=f'[hotfolder]\npath = "{self.folder}"\n',
            lp_readable=True,
        )

    def doctor(self) -> tuple[int, dict[str, tuple[str, str]]]:
        """Run `faxprint doctor`; return its status and {check: (status, detail + fix)}."""
        env = {**self.cupsd.env(), "FAXPRINT_CONFIG": str(self.config)}
        command = [sys.executable, "-m", "faxprint", "doctor"]
        command += ["--backend-dir", str(self.cupsd.backend_dir), "--log", str(self.log)]
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO,
                                timeout=120, check=False)  # fmt: skip
        checks: dict[str, tuple[str, str]] = {}
        last = ""
        for line in result.stdout.splitlines()[:-2]:
            status, name, detail = line[:5].strip(), line[6:26].strip(), line[27:]
            if status:
                checks[name] = (status, detail)
                last = name
            elif last:
                checks[last] = (checks[last][0], checks[last][1] + " " + detail)
        return result.returncode, checks


@pytest.fixture
def server(
    cupsd: PrivateCupsd, faxprint_root: Path, sandbox: SandboxServer, tmp_path: Path
) -> Iterator[Server]:
    folder = tmp_path / "drop"
    folder.mkdir(mode=0o1770)
    folder.chmod(0o1770)
    log = tmp_path / "syslog"
    log.write_text('Nov 26 10:00:00 host kernel: audit: apparmor="STATUS" profile=cupsd\n')
    config = faxprint_root / "etc" / "faxprint.toml"
    server = Server(cupsd, config, faxprint_root / "spool" / "journal.sqlite", folder, log,
                    sandbox.url)  # fmt: skip
    server.configure()
    env = {**cupsd.env(), "FAXPRINT_CONFIG": str(config)}
    install = [sys.executable, "-m", "faxprint", "install", "--name", QUEUE]
    install += ["--backend-dir", str(cupsd.backend_dir)]
    subprocess.run(install, env=env, cwd=REPO, check=True, capture_output=True)
    server.watcher = watch_process(config, folder)
    try:
        started(server.watcher)
        yield server
    finally:
        server.watcher.terminate()
        server.watcher.communicate(timeout=60)  # and close its pipe
        cupsd.connection().deletePrinter(QUEUE)
        (cupsd.backend_dir / "faxprint").unlink(missing_ok=True)  # the next install rewrites it
        server.configure()


@pytest.mark.skipif(not AS_ROOT, reason="the checks of what lp may do need root")
def test_a_healthy_server_passes_every_check(server: Server) -> None:
    status, checks = server.doctor()
    assert status == 0, checks
    expected = {"config", "config permissions", "account default", "backend", f"queue {QUEUE}",
                "journal", "service", "hot folder", "watcher", "AppArmor/SELinux"}  # fmt: skip
    assert expected <= set(checks)  # other tests' queues on this cupsd are listed too
    assert {state for state, _ in checks.values()} == {"ok"}, checks
    assert "GET: HTTP 405" in checks["account default"][1]
    assert f"pid {server.watcher.pid if server.watcher else '?'}" in checks["watcher"][1]


def _fails(server: Server, name: str, *words: str) -> None:
    status, checks = server.doctor()
    assert status == 1
    assert checks[name][0] == "FAIL", checks[name]
    for word in ("fix:", *words):
        assert word in checks[name][1], checks[name]


def test_a_config_that_does_not_parse(server: Server) -> None:
    server.config.write_text("journal = \n")
    _fails(server, "config", "not valid TOML", "Configuration")


def test_a_password_every_user_can_read(server: Server) -> None:
    server.config.chmod(0o644)
    _fails(server, "config permissions", "every user can read", "chmod 0640")


@pytest.mark.skipif(not AS_ROOT, reason="only root can test what lp may read")
def test_a_config_the_backend_cannot_read(server: Server) -> None:
    os.chown(server.config, 0, 0)
    server.config.chmod(0o600)
    _fails(server, "config permissions", "lp (who runs the backend) cannot read")


def test_an_account_that_does_not_answer(server: Server) -> None:
    server.configure(url="http://127.0.0.1:9/faxapi.asp")
    _fails(server, "account default", "cannot connect to 127.0.0.1:9")


def test_an_account_whose_host_does_not_resolve(server: Server) -> None:
    server.configure(url="https://faxprint-test.invalid/faxapi.asp")
    _fails(server, "account default", "faxprint-test.invalid does not resolve")


def test_an_account_with_an_untrusted_certificate(
    server: Server,
    tls_sandbox: TlsSandbox,  # noqa: F811 -- the fixture imported above
) -> None:
    server.configure(url=tls_sandbox.url)
    _fails(server, "account default", "TLS with localhost", "verify")
    server.configure(url=tls_sandbox.url, verify=tls_sandbox.ca)
    _, checks = server.doctor()
    assert checks["account default"][0] == "ok"
    assert tls_sandbox.server.requests == []  # a probe is no fax


def test_a_missing_backend(server: Server) -> None:
    (server.cupsd.backend_dir / "faxprint").unlink()
    _fails(server, "backend", "is not installed", "faxprint install")


def test_a_backend_others_can_write(server: Server) -> None:
    (server.cupsd.backend_dir / "faxprint").chmod(0o777)
    _fails(server, "backend", "only root can write")


def test_a_backend_cupsd_would_run_as_root(server: Server) -> None:
    (server.cupsd.backend_dir / "faxprint").chmod(0o700)
    _fails(server, "backend", "cupsd would run it as root", "chmod 0755")


@pytest.mark.skipif(not AS_ROOT, reason="only root can run the interpreter as lp")
def test_a_backend_whose_interpreter_lp_cannot_run(server: Server, tmp_path: Path) -> None:
    backend = server.cupsd.backend_dir / "faxprint"
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    python = private / "python3"
    python.symlink_to(sys.executable)
    text = backend.read_text()
    backend.write_text(f"#!{python}\n" + text.split("\n", 1)[1])
    _fails(server, "backend", "lp cannot run", str(python))


def test_a_stopped_queue_and_one_that_rejects_jobs(server: Server) -> None:
    connection = server.cupsd.connection()
    connection.disablePrinter(QUEUE, reason="broken by the test")
    _fails(server, f"queue {QUEUE}", "stopped", f"cupsenable {QUEUE}")
    connection.enablePrinter(QUEUE)
    connection.rejectJobs(QUEUE)
    _fails(server, f"queue {QUEUE}", "rejecting jobs", f"cupsaccept {QUEUE}")
    connection.acceptJobs(QUEUE)


def test_a_queue_whose_account_is_gone(server: Server) -> None:
    server.cupsd.connection().addPrinter(QUEUE, device="faxprint://billing")
    _fails(server, f"queue {QUEUE}", "account 'billing'")


def test_no_faxprint_queue(server: Server) -> None:
    # This session's cupsd has other tests' queues: ask a cupsd of its own, with none.
    with private_cupsd() as empty:
        server.cupsd = empty
        _fails(server, "queues", "no CUPS queue uses faxprint", "faxprint install")


@pytest.mark.skipif(not AS_ROOT, reason="only root can test what lp may write")
def test_a_journal_the_backend_cannot_write(server: Server) -> None:
    spool = server.journal.parent
    os.chown(spool, 0, 0)
    try:
        _fails(server, "journal", "cannot write", "chown lp:")
    finally:
        lp = pwd.getpwnam("lp")
        os.chown(spool, lp.pw_uid, lp.pw_gid)


def test_a_missing_hot_folder(server: Server) -> None:
    assert server.watcher is not None
    server.watcher.terminate()  # a running watcher makes its folder again
    server.watcher.wait(60)
    shutil.rmtree(server.folder)
    _fails(server, "hot folder", "does not exist", "-m 3770")
    server.folder.mkdir(mode=0o1770)


def test_a_hot_folder_others_can_write_without_the_sticky_bit(server: Server) -> None:
    server.folder.chmod(0o777)
    _fails(server, "hot folder", "is not sticky", "chmod +t")
    server.folder.chmod(0o1770)


def test_a_subfolder_that_lets_fewer_people_drop_than_the_top(server: Server) -> None:
    sales = server.folder / "sales"
    sales.mkdir(mode=0o750)  # as an older faxprint made it under UMask=0027
    sales.chmod(0o750)
    server.config.write_text(server.config.read_text()
                             + '[hotfolder.folders.sales]\nto = ["5556465589"]\n')  # fmt: skip
    top = server.folder.lstat().st_gid
    _fails(server, "hot subfolder", f"{sales} (mode 750, group {sales.lstat().st_gid}; the top "
           f"folder: 1770, group {top})", "not as open, or not as safe", "chmod 1770")  # fmt: skip
    sales.chmod(0o770)  # as open, but droppers could touch each other's files
    _fails(server, "hot subfolder", f"{sales} (mode 770,")
    sales.chmod(0o1770)
    assert server.doctor()[1]["hot folder"][0] == "ok"
    assert "hot subfolder" not in server.doctor()[1]


def test_no_watcher_running(server: Server) -> None:
    assert server.doctor()[1]["watcher"][0] == "ok"
    assert server.watcher is not None
    server.watcher.terminate()
    server.watcher.wait(60)
    _fails(server, "watcher", "no `faxprint watch` process", "systemctl")


def test_an_apparmor_denial_for_the_backend(server: Server) -> None:
    with server.log.open("a") as log:
        log.write(
            'Nov 26 10:01:02 host kernel: audit: type=1400 apparmor="DENIED" operation="open" '
            'profile="/usr/sbin/cupsd" name="/opt/faxprint/venv/lib/python3.11/site-packages/'
            'faxprint/__init__.py" pid=4242 comm="faxprint" requested_mask="r"\n'
        )
    _fails(server, "AppArmor/SELinux", 'apparmor="DENIED"', "apparmor.d")


def test_an_selinux_denial_for_the_backend(server: Server) -> None:
    with server.log.open("a") as log:
        log.write(
            "type=AVC msg=audit(1795687200.123:42): avc:  denied  { name_connect } for "
            'pid=4242 comm="faxprint" dest=443 scontext=system_u:system_r:cupsd_t:s0 '
            "tcontext=system_u:object_r:http_port_t:s0 tclass=tcp_socket permissive=0\n"
        )
    _fails(server, "AppArmor/SELinux", "avc:  denied")


def test_a_password_file_others_can_read_or_lp_cannot(server: Server, tmp_path: Path) -> None:
    secret = server.config.parent / "default.secret"
    secret.write_text(TEST_PASSWORD + "\n")
    secret.chmod(0o644)
    text = server.config.read_text().replace(f'password = "{TEST_PASSWORD}"\n',
                                             f'password_file = "{secret}"\n')  # fmt: skip
    server.config.write_text(text)
    _fails(server, "secret default", "can be read by every user", "chmod 0640")
    if AS_ROOT:
        secret.chmod(0o600)  # root's alone: the backend, run as lp, cannot read it
        _fails(server, "secret default", "lp (who runs the backend) cannot read")


def test_only_a_real_watcher_counts_as_one(server: Server) -> None:
    from faxprint.cli.doctor.files import _is_watcher

    assert _is_watcher(["/opt/faxprint/venv/bin/faxprint", "watch", "/srv/fax"])
    assert _is_watcher(["/usr/bin/python3", "-m", "faxprint", "--config", "/etc/f.toml", "watch"])
    assert not _is_watcher(["journalctl", "-fu", "faxprint-watch"])
    assert not _is_watcher(["less", "/var/log/faxprint-watch.log"])
    assert not _is_watcher(["faxprint", "history", "--to", "5556465589"])


def test_the_service_runs_the_hot_folder_on_a_private_socket(
    server: Server, tmp_path: Path
) -> None:
    from tests.support.service import ServiceProcess

    assert server.watcher is not None
    server.watcher.terminate()  # the service runs the folder instead
    server.watcher.wait(60)
    service = ServiceProcess(server.config, server.journal, user="lp" if AS_ROOT else None,
                             log=tmp_path / "serve.log")  # fmt: skip
    try:
        status, checks = server.doctor()
    finally:
        assert service.stop() == 0, service.said()
    pid = service.process.pid
    assert checks["service"] == ("ok", f"faxprint serve running (pid {pid}), socket private "
                                 "(mode 600)")  # fmt: skip
    assert checks["watcher"] == ("ok", f"faxprint serve runs the hot folder (pid {pid})")
    assert status == 0, checks


def test_faxes_queued_for_a_service_that_does_not_run(server: Server, tmp_path: Path) -> None:
    env = {**server.cupsd.env(), "FAXPRINT_CONFIG": str(server.config)}
    queued = subprocess.run([sys.executable, "-m", "faxprint", "send", "--queue", "--to",
                             "5556465589", str(make_pdf(tmp_path / "a.pdf"))], env=env,
                            cwd=REPO, capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    key = queued.stdout.split("(job ", 1)[1].split(")", 1)[0]
    try:
        _fails(server, "service", "1 queued item(s) wait", "systemctl enable --now faxprint")
    finally:
        subprocess.run([sys.executable, "-m", "faxprint", "cancel", key], env=env, cwd=REPO,
                       capture_output=True, timeout=60, check=True)  # fmt: skip
