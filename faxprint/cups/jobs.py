"""The Fax printer's CUPS jobs, as a person settles them: released or restarted to be
sent again, or cancelled.

A job is named by its queue, its CUPS job id and its UUID (the journal's key
``cups:QUEUE:JOBID:UUID``): job ids start again at 1 when cupsd loses its state, so a job
whose UUID is not the journal's is another job and is never touched.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from faxprint.errors import SettleError
from faxprint.lease import server_name
from faxprint.outcome import JobKey, Kind
from faxprint.text import printable

# CUPS job states (IPP): held, and the three that end a job.
_HELD = 4
_ENDED = (7, 8, 9)


@dataclass(frozen=True)
class CupsJob:
    """A printer job: its queue, CUPS job id and UUID."""

    queue: str
    number: int
    uuid: str

    @classmethod
    def of(cls, key: str, server: str = "") -> CupsJob:
        """The CUPS job a journal key names; SettleError for a key that names none, or
        for a job of another ``server`` (servers sharing a journal: its cupsd has it)."""
        parsed = JobKey.parse(key)
        if parsed is None or parsed.kind is not Kind.CUPS or not parsed.job_id.isdigit():
            raise SettleError(f"job {printable(key)} names no CUPS job")
        if server and server != server_name():
            raise SettleError(f"job {parsed.printer}-{parsed.job_id} was printed on server "
                              f"{printable(server)}: its cupsd has it; do this there")  # fmt: skip
        return cls(parsed.printer, int(parsed.job_id), parsed.ident)

    def __str__(self) -> str:
        return f"{self.queue}-{self.number}"


def _connection() -> Any:
    try:
        import cups
    except ImportError:
        raise SettleError("pycups is missing: install faxprint with its [cups] extras") from None
    try:
        return cups.Connection()
    except RuntimeError as exc:  # no cupsd to talk to
        raise SettleError(f"cannot reach CUPS: {printable(str(exc))}") from None


def check_same(job: CupsJob) -> None:
    """Refuse to act when CUPS job ``job.number`` is not this job any more (cupsd lost its
    state and numbers started again)."""
    import cups

    connection = _connection()
    try:
        attributes = connection.getJobAttributes(job.number, requested_attributes=["job-uuid"])
    except (RuntimeError, cups.IPPError):
        return  # the job is gone: release and cancel say so
    actual = str(attributes.get("job-uuid", "")).removeprefix("urn:uuid:")
    if actual != job.uuid:
        raise SettleError(
            f"CUPS job {job.number} is another job now (cupsd lost its state?): settle it with "
            "`lp -i`/`cancel` after checking, or leave it"
        )


def release(job: CupsJob) -> str:
    """Let CUPS run ``job`` again: release it if held, restart it if it ended; say what was
    done."""
    return _act(job, retry=True)


def cancel(job: CupsJob) -> str:
    """Cancel ``job`` in CUPS unless it ended already; say what was done."""
    return _act(job, retry=False)


def _act(job: CupsJob, *, retry: bool) -> str:
    import cups

    connection = _connection()
    try:
        attributes = connection.getJobAttributes(job.number, requested_attributes=["job-state"])
        state = int(attributes["job-state"])
        if not retry:
            if state in _ENDED:
                return f"{job}: settled (the CUPS job had ended already)"
            connection.cancelJob(job.number)
            return f"{job}: cancelled"
        if state == _HELD:
            connection.setJobHoldUntil(job.number, "no-hold")
            return f"{job}: released; the printer sends it again now"
        if state in _ENDED:
            connection.restartJob(job.number)
            return f"{job}: restarted; the printer sends it again now"
        return f"{job}: waiting in CUPS; it is sent when its turn comes"
    except cups.IPPError as exc:
        raise SettleError(
            f"CUPS refused for job {job}: {printable(str(exc))} (the journal says it may be "
            "sent again; `lp -i JOB -H resume` or `cancel JOB` settle it in CUPS)"
        ) from None
    except RuntimeError as exc:  # cupsd went away
        raise SettleError(f"cannot reach CUPS: {printable(str(exc))}") from None


def address(number: int, options: dict[str, str], *, as_user: str | None = None) -> None:
    """Give held CUPS job ``number`` these fax options and let it go (``lp -i N -o ... -H
    resume``), as ``as_user`` when given (``lp -U``: the outbox acts for the job's owner,
    whom it signed in); SettleError with CUPS's own refusal."""
    command = ["-i", str(number), "-H", "resume"]
    for name, value in options.items():
        command += ["-o", f"{name}={quoted(value)}"]
    _client("lp", command, as_user, f"CUPS refused to address job {number}")


_AS_USER = threading.Lock()  # cups.setUser is the process's: one at a time


def restart_held(number: int, as_user: str) -> None:
    """Run an ended CUPS job again, held (so that its options can be changed first), as
    its owner. ``lp -i N -o ... -H restart`` would restart it with its old options: CUPS
    refuses to change an ended job's attributes."""
    import cups

    with _AS_USER:
        previous = cups.getUser()
        cups.setUser(as_user)
        try:
            cups.Connection().restartJob(number, job_hold_until="indefinite")
        except cups.IPPError as exc:
            raise SettleError(f"CUPS refused to run job {number} again: "
                              f"{printable(str(exc))}") from None  # fmt: skip
        except RuntimeError as exc:
            raise SettleError(f"cannot reach CUPS: {printable(str(exc))}") from None
        finally:
            cups.setUser(previous)


def cancel_as(number: int, as_user: str) -> None:
    """Cancel CUPS job ``number`` as its owner (``cancel -U``), for the outbox."""
    _client("cancel", [str(number)], as_user, f"CUPS refused to cancel job {number}")


def _client(program: str, arguments: list[str], as_user: str | None, refused: str) -> None:
    import shutil
    import subprocess

    found = shutil.which(program)
    if found is None:
        raise SettleError(f"{program} is missing: install the Debian package cups-client")
    command = [found, *(["-U", as_user] if as_user else []), *arguments]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise SettleError(f"{refused}: {printable(said[-1] if said else str(done.returncode))}")


def quoted(value: str) -> str:
    """A value as CUPS's option parser reads it back whole (spaces, commas, quotes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
