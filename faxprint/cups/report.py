"""What the user sees of a printer job and what cupsd does with it: the ``INFO:`` and
``ERROR:`` lines, and the exit status, decided in :data:`EXIT_STATUS` alone:

===========  ==========================  ================================================
outcome      exit status                 why
===========  ==========================  ================================================
accepted     0 OK                        the job is done
invalid      5 CANCEL                    the job is wrong (no recipient, bad number,
                                         damaged PDF): retrying cannot help
rejected     5 CANCEL                    the service refused the job's data
account      4 STOP                      wrong credentials or faxing prohibited fail
                                         every job of the queue alike: stopping the queue
                                         keeps them all, and its state message tells the
                                         admin, who fixes the config and runs
                                         ``cupsenable``; holding jobs one by one would
                                         hide the cause and need each job released
deferred     6 RETRY                     the service is down: cupsd retries the job later
expired      5 CANCEL                    the journal's retry budget (attempts, age) is
                                         spent: the job ends with the last error
uncertain    3 HOLD                      it may have been sent: held until a person
                                         checks and releases or cancels it
config       4 STOP                      as account: the admin fixes the config
(unaddressed 3 HOLD                      no option, code or default names a recipient:
 no outcome)                             held for ``faxprint address``; the queue goes on
cancelled    5 CANCEL                    SIGTERM (the user cancelled the job)
===========  ==========================  ================================================

A job that became several faxes (its codes: a mail merge) takes the most pressing of
their outcomes: config, account, deferred, uncertain, then accepted if any fax was.
"""

from __future__ import annotations

import logging
from typing import TextIO

from faxprint.outcome import Outcome, Status

logger = logging.getLogger("faxprint.cups.backend")

OK, FAILED, AUTH_REQUIRED, HOLD, STOP, CANCEL, RETRY = 0, 1, 2, 3, 4, 5, 6

EXIT_STATUS: dict[Status, int] = {
    Status.ACCEPTED: OK,
    Status.INVALID: CANCEL,
    Status.REJECTED: CANCEL,
    Status.ACCOUNT: STOP,
    Status.CONFIG: STOP,
    Status.DEFERRED: RETRY,
    Status.EXPIRED: CANCEL,
    Status.UNCERTAIN: HOLD,
    Status.CANCELLED: CANCEL,
}


def report(outcome: Outcome, stderr: TextIO) -> int:
    """Tell the user what happened, in the lines cupsd shows; return the exit status."""
    say(lines(outcome), stderr)
    return EXIT_STATUS[outcome.status]


def lines(outcome: Outcome) -> list[str]:
    """What cupsd is told of an outcome: page counts, then ``LEVEL: message`` lines."""
    said = []
    if outcome.ok:
        if outcome.pages is not None:
            said += [
                f"PAGE: total {outcome.pages}",
                f"ATTR: job-impressions-completed={outcome.pages}",
            ]
        said.append(f"INFO: {accepted_line(outcome)}")
    elif outcome.status is Status.DEFERRED:
        attempt = f" (attempt {outcome.attempts})" if outcome.attempts else ""
        said.append(
            f"WARNING: Fax not sent yet{attempt}: {outcome.message}; cupsd will retry the job"
        )
    elif outcome.status is Status.UNCERTAIN:
        said.append(f"ERROR: Fax held: {outcome.message}")
    else:
        said.append(f"ERROR: Fax not sent: {outcome.message}")
    if outcome.unrecorded:  # after the verdict: the verdict is what the job is
        said.append(f"WARNING: The journal could not record this: {outcome.unrecorded}")
    return said


def say(said: list[str], stderr: TextIO) -> None:
    """Write the lines: counts as they are, messages through the log (which makes them
    printable, one line each, as cupsd reads them)."""
    for line in said:
        level, _, message = line.partition(": ")
        if level in _LEVELS:
            logger.log(_LEVELS[level], "%s", message)
        else:
            stderr.write(line + "\n")
            stderr.flush()


_LEVELS = {"INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR}


def refused(outcome: Outcome) -> int:
    """Say why a job could not even be submitted (its options, the config, a disk), in
    the one line cupsd shows; return the exit status of its outcome."""
    if outcome.status is Status.CONFIG:
        logger.error("faxprint is not configured right: %s", outcome.message)
    else:
        logger.error("%s", outcome.message)
    return EXIT_STATUS[outcome.status]


def accepted_line(outcome: Outcome) -> str:
    """Say what was accepted: "Fax accepted for 2 recipients, 3 pages"."""
    already = " (earlier)" if outcome.already else ""
    return f"Fax accepted{already} for {outcome.counts}"
