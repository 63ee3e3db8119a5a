"""Checking a person's password without running the outbox as root.

Only root may check another user's password (``pam_unix`` reads ``/etc/shadow``; as any
other user it checks that user's own password alone). cupsd does it as root for its own
web interface; faxprint does the same with the smallest part it can: ``faxprint
auth-helper`` runs as root, listens on a Unix socket only root and the ``lp`` group can
open (``/run/faxprint/auth.sock``, 0660 root:lp; systemd's socket unit, or the helper
itself), checks peer credentials again, and answers one question: is this the password
of this user, as the PAM service ``cups`` (the one cupsd uses) says? It counts failures
per user and refuses more checks for a while after five, so the service's user cannot
use it to guess passwords. It logs names and outcomes, never a password.

The outbox (``faxprint serve``, as lp) asks it through :func:`check_password`.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import struct
import threading
import time
from collections import defaultdict, deque
from pathlib import Path

logger = logging.getLogger(__name__)

SOCKET = Path("/run/faxprint/auth.sock")
#: Failures per user before the helper refuses to check that user's password for a while.
MAX_FAILURES, FAILURE_WINDOW = 5, 300.0
MAX_REQUEST = 8192
MAX_CHECKS = 8  # connections answered at once; more are closed unanswered


class AuthUnavailable(Exception):
    """The helper cannot be asked (not running, or not reachable by this user)."""


def valid_user_name(name: str) -> bool:
    """A name PAM is asked about: printable, no separators, at most 64 characters."""
    return (
        0 < len(name) <= 64
        and name.isprintable()
        and not any(c in name for c in ":/\\ \t")
        and not name.startswith("-")
    )


def check_password(user: str, password: str, path: Path = SOCKET, timeout: float = 10.0) -> bool:
    """Ask the helper whether ``password`` is ``user``'s; AuthUnavailable if it cannot be
    asked."""
    if not valid_user_name(user) or not password or len(password) > 1024:
        return False
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(timeout)
    try:
        client.connect(str(path))
        client.sendall(json.dumps({"user": user, "password": password}).encode() + b"\n")
        answer = client.makefile("rb").readline(MAX_REQUEST)
    except OSError as exc:
        raise AuthUnavailable(f"the sign-in helper at {path} cannot be asked: "
                              f"{exc.strerror or exc}") from None  # fmt: skip
    finally:
        client.close()
    try:
        return json.loads(answer).get("ok") is True
    except (ValueError, AttributeError):
        raise AuthUnavailable(f"the sign-in helper at {path} answered nonsense") from None


class Helper:
    """The root side: one socket, one question per connection."""

    def __init__(self, service: str = "cups", group: str = "lp",
                 clock: object = time.monotonic) -> None:  # fmt: skip
        import grp

        self.service = service
        self.gid = grp.getgrnam(group).gr_gid
        self.clock = clock if callable(clock) else time.monotonic
        self.stopping = threading.Event()
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_CHECKS)

    def listen(self, path: Path) -> socket.socket:
        """The socket systemd passed (LISTEN_FDS), or one bound here: 0660 root:group."""
        if os.environ.get("LISTEN_FDS") == "1" and os.environ.get("LISTEN_PID") == str(os.getpid()):
            return socket.socket(fileno=3)
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        folder = path.parent.lstat()
        if folder.st_uid != 0 or folder.st_mode & 0o022 or not stat.S_ISDIR(folder.st_mode):
            raise OSError(f"{path.parent} must be a folder of root's that only root may "
                          "write (the socket's owner and mode are set there)")  # fmt: skip
        path.unlink(missing_ok=True)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        previous = os.umask(0o177)
        try:
            server.bind(str(path))
        finally:
            os.umask(previous)
        os.chown(path, 0, self.gid)
        os.chmod(path, 0o660)
        server.listen(16)
        return server

    def serve(self, server: socket.socket) -> None:
        """Answer until ``stopping`` is set."""
        server.settimeout(0.5)
        while not self.stopping.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:  # the socket was closed: stopping
                if self.stopping.is_set():
                    return
                raise
            if not self._slots.acquire(blocking=False):  # at most MAX_CHECKS at once
                connection.close()
                continue
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        try:
            self._answer_one(connection)
        finally:
            self._slots.release()

    def _answer_one(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(10.0)
            try:
                if not self._trusted(connection):
                    return
                line = connection.makefile("rb").readline(MAX_REQUEST)
                asked = json.loads(line)
                user, password = str(asked["user"]), str(asked["password"])
            except (OSError, ValueError, KeyError, TypeError):
                return
            ok = self.check(user, password)
            try:
                connection.sendall(json.dumps({"ok": ok}).encode() + b"\n")
            except OSError:
                return

    def _trusted(self, connection: socket.socket) -> bool:
        """Root, or a process of the group (the service): SO_PEERCRED says, whatever the
        socket's mode."""
        creds = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                      struct.calcsize("3i"))  # fmt: skip
        pid, uid, gid = struct.unpack("3i", creds)
        trusted = bool(uid == 0 or gid == self.gid)
        if not trusted:
            logger.warning("sign-in helper: refused a connection from uid %d (pid %d)", uid, pid)
        return trusted

    def check(self, user: str, password: str) -> bool:
        """Whether PAM takes the password; False while the user is locked out. The attempt
        counts as a failure before PAM is asked (and is taken back if it succeeds), so
        many attempts at once cannot get past the limit."""
        if not valid_user_name(user) or not password or len(password) > 1024:
            return False
        now = self.clock()
        key = user.casefold()  # directories that ignore case: one count for every spelling
        with self._lock:
            failures = self._failures[key]
            while failures and failures[0] <= now - FAILURE_WINDOW:
                failures.popleft()
            if len(failures) >= MAX_FAILURES:
                logger.warning("sign-in helper: %s is locked out for now", user)
                return False
            failures.append(now)  # counted now; taken back below if PAM takes it
        import pamela

        try:
            pamela.authenticate(user, password, service=self.service, resetcred=0)
        except pamela.PAMError:
            logger.info("sign-in helper: wrong password for %s", user)
            return False
        with self._lock:
            if now in self._failures[key]:
                self._failures[key].remove(now)
        logger.info("sign-in helper: %s signed in", user)
        return True
