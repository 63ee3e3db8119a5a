"""``faxprint serve`` as a process of its own for the tests: started on a config, waited for
until its socket answers, stopped (or killed) by its PID."""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import sys
from pathlib import Path

from faxprint.link import wire
from tests.conftest import REPO
from tests.support.helpers import wait_for


class ServiceProcess:
    """One running service; ``kill()`` it (SIGKILL) or ``stop()`` it (SIGTERM)."""

    def __init__(self, config: Path, journal: Path, *, user: str | None = None,
                 env: dict[str, str] | None = None, log: Path | None = None) -> None:  # fmt: skip
        """Start it (as ``user``, with that user's group alone, as systemd's ``User=``)."""
        self.config = config
        self.journal = journal
        self.log = log or config.with_name("serve.log")
        # Another user runs the installed faxprint, as cupsd's backend does (the checkout
        # may be out of its reach); this one runs the checkout.
        here = {} if user else {"PYTHONPATH": str(REPO)}
        environment = {**os.environ, **here, **(env or {})}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "faxprint", "--config", str(config), "serve"],
                stdout=out, stderr=subprocess.STDOUT, env=environment, cwd="/" if user else REPO, user=user,
                group=pwd.getpwnam(user).pw_gid if user else None,
                extra_groups=[] if user else None,
            )  # fmt: skip
        wait_for(self.answers, timeout=30, what=lambda: f"the service's socket ({self.said()})")

    def answers(self) -> bool:
        """Tell whether the service answers a ping on its socket."""
        if self.process.poll() is not None:
            raise AssertionError(f"the service ended ({self.process.returncode}): {self.said()}")
        connection = wire.connect(wire.socket_path(self.journal))
        if connection is None:
            return False
        with connection:
            wire.send(connection, {"op": "ping"})
            return next(wire.messages(connection), {}).get("event") == "pong"

    def said(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
        return self.process.wait(timeout=60)
