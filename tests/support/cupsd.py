"""A private, throw-away cupsd for integration tests.

``PrivateCupsd`` writes a cupsd.conf and a cups-files.conf into a fresh folder, checks them
with ``cupsd -t``, starts ``cupsd -f`` and waits until ``lpstat -r`` answers. Nothing of the
system's CUPS state is read or written: the server root, spool, cache, state, logs and
backend folder are all private. Filters, CGI programs and helpers are the system's, reached
through symlinks, so jobs run through the real filter chain.

How clients reach it (checked with pycups 2.0.4 on CUPS 2.4.2):

* Command-line clients (``lp``, ``lpstat``, ``lpadmin``) read ``CUPS_SERVER`` from their
  environment; a path means the domain socket. ``env()`` returns such an environment.
* pycups: ``cups.Connection(host=PATH)`` connects to a domain socket when the host starts
  with ``/`` (libcups' ``httpAddrGetList`` treats it as ``AF_LOCAL``), so ``connection()``
  passes the socket explicitly and touches no process-wide state. The alternatives are
  worse for tests: ``cups.setServer()`` changes the default for every later connection in
  the process, and ``CUPS_SERVER`` in ``os.environ`` is read once and then cached by libcups
  (per thread), so setting it after the first ``cups.Connection()`` has no effect.

cupsd runs backends and filters as ``lp`` when started as root, so the folder and every
parent must be traversable by ``lp``; the constructor checks that.
"""

from __future__ import annotations

import atexit
import contextlib
import grp
import json
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cups

CUPSD = Path("/usr/sbin/cupsd")
LP = Path("/usr/bin/lp")
LPSTAT = Path("/usr/bin/lpstat")
SYSTEM_SERVER_BIN = Path("/usr/lib/cups")
SYSTEM_DATA_DIR = Path("/usr/share/cups")

#: The ServerBin sub-folders taken from the system; ``backend`` is private.
LINKED_SERVER_BIN = ("filter", "cgi-bin", "daemon", "driver", "monitor", "notifier")

JOB_PENDING = 3
JOB_HELD = 4
JOB_PROCESSING = 5
JOB_STOPPED = 6
JOB_CANCELED = 7
JOB_ABORTED = 8
JOB_COMPLETED = 9
TERMINAL_JOB_STATES = frozenset({JOB_CANCELED, JOB_ABORTED, JOB_COMPLETED})

_REQUEST_ID = re.compile(r"request id is (?P<dest>\S+)-(?P<id>\d+) ")


def make_faxprint_root(base: Path | str = "/tmp") -> Path:
    """A folder lp can reach for the backend's config (etc/) and journal (spool/).

    Laid out as on a server: etc/ is root:lp 0750 (the config goes in as root:lp 0640),
    spool/ is lp's own (0700). The caller removes it.
    """
    root = Path(tempfile.mkdtemp(prefix="faxprint-root-", dir=base))
    root.chmod(0o755)
    (root / "etc").mkdir(mode=0o750)
    (root / "spool").mkdir(mode=0o700)
    if os.geteuid() == 0:
        lp = pwd.getpwnam("lp")
        os.chown(root / "etc", 0, lp.pw_gid)
        os.chown(root / "spool", lp.pw_uid, lp.pw_gid)
    return root


class CupsdError(RuntimeError):
    """The private cupsd could not be set up, started or asked."""


def lp_can_reach(path: Path | str, user: str = "lp") -> bool:
    """Tell whether ``user`` may search every folder above ``path`` (and ``path``, if a folder)."""
    path = Path(path).absolute()
    folders = [*reversed(path.parents), *([path] if path.is_dir() else [])]
    return all(_user_may(folder, user, _SEARCH) for folder in folders)


def lp_can_execute(program: Path | str, user: str = "lp") -> bool:
    """Tell whether ``user`` may run ``program``, following symlinks (judged by mode bits)."""
    program = Path(program).absolute()
    target = program.resolve()
    return (
        lp_can_reach(program, user)
        and lp_can_reach(target, user)
        and _user_may(target, user, _SEARCH)
    )


_SEARCH = (stat.S_IXUSR, stat.S_IXGRP, stat.S_IXOTH)


def _user_may(path: Path, user: str, bits: tuple[int, int, int]) -> bool:
    try:
        pw = pwd.getpwnam(user)
        st = path.stat()
    except (KeyError, OSError):
        return False
    if pw.pw_uid == 0:
        return True
    if st.st_uid == pw.pw_uid:
        return bool(st.st_mode & bits[0])
    try:
        members = grp.getgrgid(st.st_gid).gr_mem
    except KeyError:
        members = []
    if st.st_gid == pw.pw_gid or user in members:
        return bool(st.st_mode & bits[1])
    return bool(st.st_mode & bits[2])


def free_port() -> int:
    """Return a loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateCupsd:
    """A cupsd with a private configuration in its own folder, stopped by PID."""

    def __init__(
        self,
        *,
        base_dir: Path | str = "/tmp",  # lp must reach it; $TMPDIR may not
        job_retry_limit: int = 3,
        job_retry_interval: int = 1,
        job_kill_delay: int = 5,
        error_policy: str = "stop-printer",
        start_timeout: float = 30.0,
        keep: bool = False,
        backend_env: Mapping[str, str] | None = None,
    ) -> None:
        if not CUPSD.exists():
            raise CupsdError(
                f"{CUPSD} not found: install the Debian packages cups, cups-client, "
                "cups-bsd and cups-filters to run the cupsd tests"
            )
        self.job_retry_limit = job_retry_limit
        self.job_retry_interval = job_retry_interval
        self.job_kill_delay = job_kill_delay
        self.error_policy = error_policy
        self.start_timeout = start_timeout
        self.keep = keep
        self.backend_env = dict(backend_env or {})
        self.as_root = os.geteuid() == 0
        base = Path(base_dir)
        self.dir = Path(tempfile.mkdtemp(prefix="faxprint-cupsd-", dir=base))
        self.dir.chmod(0o755)
        if self.as_root and not lp_can_reach(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)
            raise CupsdError(
                f"user lp cannot traverse {self.dir} (or a parent): cupsd runs backends "
                "as lp; choose a base_dir every parent of which is mode 0755"
            )
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None

    # -- paths ---------------------------------------------------------------------------

    @property
    def socket(self) -> Path:
        """The domain socket the scheduler listens on."""
        return self.dir / "cups.sock"

    @property
    def server_root(self) -> Path:
        return self.dir / "etc"

    @property
    def server_bin(self) -> Path:
        return self.dir / "lib"

    @property
    def backend_dir(self) -> Path:
        """The real (not linked) backend folder; drop a backend in before adding a queue."""
        return self.server_bin / "backend"

    @property
    def log_dir(self) -> Path:
        return self.dir / "log"

    @property
    def error_log(self) -> Path:
        return self.log_dir / "error_log"

    @property
    def cupsd_conf(self) -> Path:
        return self.dir / "cupsd.conf"

    @property
    def cups_files_conf(self) -> Path:
        return self.dir / "cups-files.conf"

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Return an environment for command-line clients that talk to this cupsd."""
        env = dict(os.environ if base is None else base)
        env["CUPS_SERVER"] = str(self.socket)
        # Keep the caller's lpoptions and client.conf (~/.cups, /etc/cups) out of the jobs.
        env["HOME"] = str(self.dir / "home")
        env["CUPS_SERVERROOT"] = str(self.server_root)
        env.pop("CUPS_USER", None)
        env["LC_ALL"] = "C.UTF-8"
        return env

    def error_log_text(self) -> str:
        """Return the whole error log (LogLevel debug), or '' before there is one."""
        try:
            return self.error_log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def job_log(self, job_id: int) -> str:
        """Return the error log lines about one job."""
        tag = f"[Job {job_id}]"
        return "\n".join(line for line in self.error_log_text().splitlines() if tag in line)

    # -- configuration -------------------------------------------------------------------

    def write_config(self) -> None:
        """Create the private folders and both configuration files."""
        for sub in (
            "etc",
            "etc/ppd",
            "etc/ssl",
            "spool",
            "spool/tmp",
            "cache",
            "run",
            "log",
            "lib",
            "home",
        ):
            (self.dir / sub).mkdir(mode=0o755, exist_ok=True)
        for name in LINKED_SERVER_BIN:
            link = self.server_bin / name
            if not link.is_symlink():
                link.symlink_to(SYSTEM_SERVER_BIN / name)
        self.backend_dir.mkdir(mode=0o755, exist_ok=True)
        self.backend_dir.chmod(0o755)
        self.cupsd_conf.write_text(self._cupsd_conf(), encoding="utf-8")
        self.cups_files_conf.write_text(self._cups_files_conf(), encoding="utf-8")
        self.cupsd_conf.chmod(0o644)
        self.cups_files_conf.chmod(0o644)

    def _cupsd_conf(self) -> str:
        return f"""\
# Private cupsd for faxprint's tests: loopback and a domain socket only.
LogLevel debug
MaxLogSize 0
Listen 127.0.0.1:{self.port}
Listen {self.socket}
Browsing Off
BrowseLocalProtocols none
WebInterface No
DefaultAuthType None
DefaultEncryption Never
DefaultShared No
ErrorPolicy {self.error_policy}
JobRetryInterval {self.job_retry_interval}
JobRetryLimit {self.job_retry_limit}
JobKillDelay {self.job_kill_delay}
PreserveJobHistory Yes
PreserveJobFiles 86400
MaxJobs 0
<Location />
  Order allow,deny
  Allow localhost
  Allow 127.0.0.1
</Location>
<Policy default>
  JobPrivateAccess all
  JobPrivateValues none
  SubscriptionPrivateAccess all
  SubscriptionPrivateValues none
  <Limit All>
    Order deny,allow
    Deny all
    Allow localhost
    Allow 127.0.0.1
  </Limit>
</Policy>
"""

    def _set_env(self) -> str:
        # cupsd passes nothing from its own environment to backends but what SetEnv names;
        # CUPS 2.4 reads SetEnv from cups-files.conf (in cupsd.conf it is ignored).
        return "".join(f"SetEnv {name} {value}\n" for name, value in self.backend_env.items())

    def _cups_files_conf(self) -> str:
        if self.as_root:
            who = "User lp\nGroup lp\nSystemGroup root\nLogFileGroup lp\n"
        else:
            group = os.getgid()
            who = f"SystemGroup {group}\n"
        return f"""\
{who}LogFilePerm 0644
ServerRoot {self.server_root}
ServerKeychain {self.server_root}/ssl
StateDir {self.dir}/run
CacheDir {self.dir}/cache
RequestRoot {self.dir}/spool
TempDir {self.dir}/spool/tmp
DataDir {SYSTEM_DATA_DIR}
DocumentRoot {SYSTEM_DATA_DIR}/doc-root
ServerBin {self.server_bin}
AccessLog {self.log_dir}/access_log
ErrorLog {self.error_log}
PageLog {self.log_dir}/page_log
Printcap {self.dir}/run/printcap
FileDevice No
CreateSelfSignedCerts No
{self._set_env()}"""

    def _cupsd_args(self) -> list[str]:
        return [str(CUPSD), "-c", str(self.cupsd_conf), "-s", str(self.cups_files_conf)]

    def check_config(self) -> None:
        """Validate both files with ``cupsd -t``; raise with its output when they fail."""
        result = subprocess.run(
            [*self._cupsd_args(), "-t"], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise CupsdError(
                f"cupsd -t rejected the private configuration (status {result.returncode}):"
                f"\n{result.stdout}{result.stderr}"
            )

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Write and check the configuration, start cupsd and wait until it answers."""
        self.write_config()
        self.check_config()
        out = (self.log_dir / "cupsd.out").open("wb")
        try:
            self.process = subprocess.Popen(
                [*self._cupsd_args(), "-f"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            out.close()
        self.pid = self.process.pid
        atexit.register(self.stop)  # a crashing script must not leave cupsd behind
        try:
            self._wait_running()
        except BaseException:
            self.stop()
            raise

    def _wait_running(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last = ""
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise CupsdError(
                    f"cupsd exited with status {self.process.returncode} while starting:\n"
                    f"{self._diagnostics()}"
                )
            if self.socket.exists():
                result = subprocess.run(
                    [str(LPSTAT), "-r"],
                    env=self.env(),
                    capture_output=True,
                    text=True,
                    check=False,
                    timeout=10,
                )
                last = result.stdout + result.stderr
                if "scheduler is running" in result.stdout:
                    return
            time.sleep(0.05)
        raise CupsdError(
            f"cupsd did not answer within {self.start_timeout} s (lpstat -r said {last!r}):\n"
            f"{self._diagnostics()}"
        )

    def _diagnostics(self) -> str:
        out = self.log_dir / "cupsd.out"
        text = out.read_text(errors="replace") if out.exists() else ""
        return text + "\n".join(self.error_log_text().splitlines()[-40:])

    def stop(self, timeout: float = 10.0) -> None:
        """Stop cupsd by its PID: SIGTERM, wait, then SIGKILL. Remove the folder unless kept."""
        atexit.unregister(self.stop)
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
        if not self.keep and self.dir.exists():
            shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> PrivateCupsd:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- backends and queues -------------------------------------------------------------

    def install_backend(self, scheme: str, text: str, mode: int = 0o755) -> Path:
        """Write a backend program for ``scheme`` (0755: runs as lp; 0700: runs as root)."""
        path = self.backend_dir / scheme
        tmp = path.with_name(f".{scheme}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(mode)
        tmp.replace(path)
        return path

    def add_printer(
        self,
        name: str,
        *,
        ppd: Path | str,
        device: str,
        info: str = "",
        defaults: Mapping[str, str] | None = None,
        error_policy: str | None = None,
    ) -> None:
        """Add an enabled, accepting queue; set its option defaults and error policy."""
        conn = self.connection()
        conn.addPrinter(name, filename=str(ppd), device=device, info=info or name)
        for option, value in (defaults or {}).items():
            conn.addPrinterOptionDefault(name, option, value)
        if error_policy is not None:
            conn.setPrinterErrorPolicy(name, error_policy)
        conn.enablePrinter(name)
        conn.acceptJobs(name)

    # -- clients -------------------------------------------------------------------------

    def connection(self) -> Any:
        """Return a pycups Connection bound to this cupsd's domain socket."""
        return cups.Connection(host=str(self.socket))

    def lp(
        self,
        printer: str,
        *files: Path | str,
        options: Mapping[str, str] | Sequence[str] | None = None,
        title: str | None = None,
        stdin: bytes | None = None,
        user: str | None = None,
    ) -> int:
        """Submit files with the real ``lp`` binary (as ``user``: ``-U``) and return the
        job id."""
        args = [str(LP), "-d", printer, *(["-U", user] if user else [])]
        if title is not None:
            args += ["-t", title]
        for option in _option_args(options):
            args += ["-o", option]
        if files:
            args += ["--", *map(str, files)]
        result = subprocess.run(
            args, env=self.env(), input=stdin, capture_output=True, check=False, timeout=30
        )
        out = result.stdout.decode(errors="replace")
        match = _REQUEST_ID.search(out)
        if result.returncode != 0 or match is None:
            raise CupsdError(
                f"{args} failed with status {result.returncode}: "
                f"{out}{result.stderr.decode(errors='replace')}"
            )
        return int(match["id"])

    def job_attributes(self, job_id: int) -> dict[str, Any]:
        """Return the job's IPP attributes as pycups gives them."""
        return dict(self.connection().getJobAttributes(job_id))

    def wait_job(self, job_id: int, timeout: float = 30.0, *, held: bool = False) -> int:
        """Poll until the job is canceled, aborted or completed (or held when asked)."""
        conn = self.connection()
        wanted = TERMINAL_JOB_STATES | ({JOB_HELD} if held else set())
        deadline = time.monotonic() + timeout
        state = 0
        while True:
            attrs = conn.getJobAttributes(job_id, requested_attributes=["job-state"])
            state = int(attrs["job-state"])
            if state in wanted:
                return state
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"job {job_id} still in state {state} after {timeout} s:\n"
                    f"{self.job_log(job_id)[-4000:]}"
                )
            time.sleep(0.05)

    def wait_printer_stopped(self, printer: str, timeout: float = 30.0) -> None:
        """Poll until the queue is stopped (printer-state 5)."""
        self._poll(
            lambda: self.connection().getPrinters()[printer]["printer-state"] == 5,
            timeout,
            f"queue {printer} did not stop",
        )

    def wait_job_message(self, job_id: int, words: str, timeout: float = 30.0) -> None:
        """Poll until the job's state message contains ``words``."""

        def seen() -> bool:
            attrs = self.connection().getJobAttributes(job_id)
            return words in str(attrs.get("job-printer-state-message", ""))

        self._poll(seen, timeout, f"job {job_id} never said {words!r}")

    def _poll(self, condition: Any, timeout: float, failure: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{failure} within {timeout} s:\n{self.error_log_text()[-4000:]}"
                )
            time.sleep(0.05)


def _option_args(options: Mapping[str, str] | Iterable[str] | None) -> list[str]:
    if options is None:
        return []
    if isinstance(options, Mapping):
        return [f"{name}={value}" for name, value in options.items()]
    return list(options)


RECORDER_SOURCE = Path(__file__).parent / "recorder_backend.py"


@dataclass(frozen=True)
class RecordedRun:
    """One run of the recorder backend: what cupsd handed it."""

    folder: Path
    argv: list[str]
    env: dict[str, str]
    uid: int
    euid: int
    gid: int
    id: str
    source: str
    status: int

    @property
    def options(self) -> str:
        """argv[5], the options string exactly as cupsd built it."""
        return self.argv[5]

    @property
    def data(self) -> bytes:
        return (self.folder / "data").read_bytes()


class Recorder:
    """The recorder backend installed in a private cupsd, and what it recorded."""

    def __init__(self, server: PrivateCupsd, scheme: str = "faxrecord") -> None:
        self.server = server
        self.scheme = scheme
        self.record_dir = server.dir / "records"
        self.interpreter = self.choose_interpreter()

    @staticmethod
    def choose_interpreter() -> Path:
        """Return this Python when lp can run it (a venv under /root cannot), else python3."""
        here = Path(sys.executable)
        if os.geteuid() != 0 or lp_can_execute(here):
            return here
        return Path("/usr/bin/python3")

    def install(self) -> Path:
        """Write the backend into the server's backend folder and make its record folder."""
        self.record_dir.mkdir(mode=0o755, exist_ok=True)
        if os.geteuid() == 0:
            lp = pwd.getpwnam("lp")
            os.chown(self.record_dir, lp.pw_uid, lp.pw_gid)
        lines = RECORDER_SOURCE.read_text(encoding="utf-8").splitlines(keepends=True)
        text = f"#!{self.interpreter}\n" + "".join(lines[1:])
        text = text.replace('"@RECORD_DIR@"', repr(str(self.record_dir)))
        return self.server.install_backend(self.scheme, text)

    def runs(self, job_id: int) -> list[RecordedRun]:
        """Return the job's finished runs, oldest first."""
        job_dir = self.record_dir / f"job-{job_id}"
        folders = sorted(job_dir.glob("run-*"), key=lambda p: int(p.name.split("-")[1]))
        return [self._load(folder) for folder in folders if (folder / "done").exists()]

    def only_run(self, job_id: int) -> RecordedRun:
        """Return the job's single run; fail when there were none or several."""
        runs = self.runs(job_id)
        if len(runs) != 1:
            raise AssertionError(
                f"job {job_id}: expected one backend run, got {len(runs)}:\n"
                f"{self.server.job_log(job_id)[-4000:]}"
            )
        return runs[0]

    @staticmethod
    def _load(folder: Path) -> RecordedRun:
        record = json.loads((folder / "record.json").read_text(encoding="utf-8"))
        return RecordedRun(
            folder=folder,
            argv=record["argv"],
            env=record["env"],
            uid=record["uid"],
            euid=record["euid"],
            gid=record["gid"],
            id=record["id"],
            source=record["source"],
            status=int((folder / "done").read_text()),
        )


@contextlib.contextmanager
def private_cupsd(**kwargs: Any) -> Iterator[PrivateCupsd]:
    """Run a PrivateCupsd for the duration of a ``with`` block."""
    server = PrivateCupsd(**kwargs)
    try:
        server.start()
        yield server
    finally:
        server.stop()
