"""A private PostgreSQL server for the tests: Debian's own binaries, a cluster in a
temporary folder, reachable only through a Unix socket in that folder (no TCP at all),
started once per test session and stopped by its PID. Local users may reach the socket
(trust: a test server; the backends run as lp).

Each test gets a database of its own (:meth:`PrivatePostgres.database`). As root the
server runs as the ``postgres`` user (PostgreSQL refuses to run as root) and the tests
connect as that role over the socket (``trust``: only this folder's owner and root can
reach the socket).
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PACKAGES = "postgresql (apt-get install postgresql; scripts/setup.sh test does)"


class PostgresError(RuntimeError):
    """The private server could not be started."""


class PrivatePostgres:
    """One cluster, one server process, many test databases."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable  # fsync as a real server does (off: the tests' speed)
        binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
        if not binaries:
            raise PostgresError(f"no PostgreSQL server installed: {PACKAGES}")
        self.bin = binaries[-1].parent
        self.folder = Path(tempfile.mkdtemp(prefix="faxprint-pg-"))
        self.data = self.folder / "data"
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self.process: subprocess.Popen[bytes] | None = None
        self._numbers = itertools.count(1)

    def _as_server(self) -> dict[str, object]:
        return {"user": self.user} if os.geteuid() == 0 else {}

    def start(self) -> PrivatePostgres:
        if os.geteuid() == 0:
            entry = pwd.getpwnam(self.user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        # The cluster (data/) is 0700; the folder holding the socket may be passed through,
        # so that CUPS backends (user lp) reach the server as a print server's would.
        self.folder.chmod(0o755)
        subprocess.run([str(self.bin / "initdb"), "-D", str(self.data), "-U", self.user,
                        "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
                       capture_output=True, check=True, timeout=120, **self._as_server())  # type: ignore[call-overload]  # fmt: skip
        self._launch()
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until the server takes connections (pg_isready on its socket)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise PostgresError(f"postgres exited: {self.log()[-2000:]}")
            ready = subprocess.run([str(self.bin / "pg_isready"), "-h", str(self.folder), "-q"],
                                   check=False, timeout=10)  # fmt: skip
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise PostgresError(f"postgres did not get ready: {self.log()[-2000:]}")

    def log(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def url(self, database: str = "postgres") -> str:
        return f"postgresql:///{database}?host={self.folder}&user={self.user}"

    def database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = f"test_{os.getpid()}_{next(self._numbers)}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def restart(self) -> None:
        """Stop the server (fast: open connections are cut) and start it again."""
        self.stop(remove=False)
        self._launch()
        self.wait_ready()

    def _launch(self) -> None:
        with (self.folder / "server.log").open("ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(  # type: ignore[call-overload]
                [str(self.bin / "postgres"), "-D", str(self.data), "-k", str(self.folder),
                 "-c", "listen_addresses=", "-c", f"fsync={'on' if self.durable else 'off'}",
                 "-c", "max_connections=200"],
                stdout=subprocess.DEVNULL, stderr=log, **self._as_server(),
            )  # fmt: skip

    def stop(self, *, remove: bool = True) -> None:
        """Stop the server by its PID (SIGINT: PostgreSQL's fast shutdown)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self.process = None
        if remove:
            shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def private_postgres(*, durable: bool = False) -> Iterator[PrivatePostgres]:
    server = PrivatePostgres(durable=durable).start()
    try:
        yield server
    finally:
        server.stop()
