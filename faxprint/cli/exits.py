"""Exit statuses of the command line (sysexits.h values where one fits), and the one
table from a job's outcome to its exit status and words.

====  ==========================================================================
  0   accepted by the service
 64   usage error (unknown option, missing argument)
 65   the job is invalid: a recipient, send time, cover or document must be fixed
 70   internal error (a bug: please report it)
 74   the journal could not record the service's verdict, printed first (a full
      disk): an accepted fax was accepted, do not send it again
 75   not sent: the service was unreachable or failing; try again later
 76   refused by the service as bad data (no recipients, no fax data)
 77   the account cannot send: wrong credentials or faxing prohibited
 78   configuration error: unreadable, invalid or unsafe config, unknown account
 79   uncertain: the upload ended but the answer was lost; check before resending
130   interrupted (Ctrl-C, SIGTERM)
====  ==========================================================================
"""

from __future__ import annotations

import sys

from faxprint.errors import FaxPrintError
from faxprint.outcome import Status, status_of

#: The table above, for --help.
TABLE = (__doc__ or "").split("\n\n", 1)[1]

EX_USAGE = 64
EX_DATAERR = 65
EX_SOFTWARE = 70
EX_IOERR = 74
EX_TEMPFAIL = 75
EX_PROTOCOL = 76
EX_NOPERM = 77
EX_CONFIG = 78
EX_UNCERTAIN = 79
EX_INTERRUPTED = 130

#: A job's outcome as the command line's exit status.
EXIT_STATUS: dict[Status, int] = {
    Status.ACCEPTED: 0,
    Status.INVALID: EX_DATAERR,
    Status.REJECTED: EX_PROTOCOL,
    Status.ACCOUNT: EX_NOPERM,
    Status.CONFIG: EX_CONFIG,
    Status.DEFERRED: EX_TEMPFAIL,
    Status.EXPIRED: EX_TEMPFAIL,
    Status.UNCERTAIN: EX_UNCERTAIN,
    Status.CANCELLED: EX_INTERRUPTED,
}

#: A job's outcome in words, first on its one line.
WORDS: dict[Status, str] = {
    Status.ACCEPTED: "accepted",
    Status.INVALID: "not sent",
    Status.REJECTED: "refused by the service",
    Status.ACCOUNT: "not sent, the account must be fixed",
    Status.CONFIG: "not sent, the configuration must be fixed",
    Status.DEFERRED: "not sent, try again later",
    Status.EXPIRED: "not sent, gave up",
    Status.UNCERTAIN: "maybe sent",
    Status.CANCELLED: "cancelled, nothing was sent",
}


def failed(error: FaxPrintError) -> int:
    """Say in one line why a command could not do its work; return the exit status of
    what must happen next."""
    print(f"faxprint: {error.message}", file=sys.stderr)
    return EXIT_STATUS[status_of(error)]


def say(message: str, status: int) -> int:
    """Print one line on stderr; return ``status``."""
    print(f"faxprint: {message}", file=sys.stderr)
    return status
