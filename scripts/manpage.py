"""Write docs/faxprint.1, the manual page, from the command line's own parser.

    python scripts/manpage.py            write docs/faxprint.1
    python scripts/manpage.py --check    exit 1 if docs/faxprint.1 is not what the parser says

argparse-manpage (a test extra) renders the options of every command; the sections it
cannot know (exit status, files, environment) are added here. The tests run --check, so
the page cannot fall behind the command line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from argparse_manpage.manpage import Manpage

from faxprint import __version__
from faxprint.cli import build_parser

PAGE = Path(__file__).resolve().parent.parent / "docs" / "faxprint.1"
DATE = "2026-11-26"  # of the page's text; bump it when the extra sections change

EXTRA = r"""
.SH EXIT STATUS
.TP
.B 0
done (\fBsend\fR: accepted by the service)
.TP
.B 1
\fBdoctor\fR: a check failed; \fBshow\fR, \fBretry\fR, \fBcancel\fR: no such job,
or it cannot be settled so
.TP
.B 64
usage error
.TP
.B 65
the job is invalid: a recipient, send time, cover or document must be fixed
.TP
.B 75
not sent: the service was unreachable or failing; try again later
.TP
.B 76
refused by the service as bad data
.TP
.B 77
the account cannot send: wrong credentials or faxing prohibited
.TP
.B 78
configuration error
.TP
.B 79
uncertain: the upload ended but the answer was lost; check the account's sent faxes
.SH FILES
.TP
.I /etc/faxprint/faxprint.toml
the configuration: accounts, journal, retry policy, limits, hot folder
.TP
.I /var/spool/faxprint/journal.sqlite
the journal of every job (\fBstatus\fR, \fBhistory\fR, \fBshow\fR read it)
.TP
.I /usr/lib/cups/backend/faxprint
the CUPS backend that \fBinstall\fR writes
.SH ENVIRONMENT
.TP
.B FAXPRINT_CONFIG
the configuration file, instead of /etc/faxprint/faxprint.toml
.TP
.B FAXPRINT_LOG_LEVEL
debug, info, warning or error (as \fB\-\-log\-level\fR)
.TP
.B CUPS_SERVER
the cupsd that \fBinstall\fR, \fBretry\fR, \fBcancel\fR and \fBdoctor\fR talk to
.SH SEE ALSO
.BR lp (1),
.BR lpstat (1),
.BR cupsd (8),
.BR backend (7)
"""


def render() -> str:
    # argparse wraps help to the terminal's width ($COLUMNS): the page must not depend on it.
    os.environ["COLUMNS"] = "80"
    data = {
        "project_name": "faxprint",
        "description": "fax documents through a FaxOut account, from CUPS or a hot folder",
        "version": __version__,
        "date": DATE,
        "manual_title": "faxprint manual",
    }
    return str(Manpage(build_parser(), _data=data)).rstrip("\n") + "\n" + EXTRA.lstrip("\n")


def main() -> int:
    text = render()
    if sys.argv[1:] == ["--check"]:
        if not PAGE.exists() or PAGE.read_text() != text:
            print(f"{PAGE} is out of date: run python scripts/manpage.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text)
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
