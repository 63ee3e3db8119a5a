"""Print the campaign's ledger at the end of the run (and save it when asked)."""

from __future__ import annotations

import os

import pytest

from tests.campaign.ledger import LEDGER, save, table


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not LEDGER:
        return
    terminalreporter.section("fault campaign: jobs, accepted, duplicates, lost")
    for line in table(LEDGER):
        terminalreporter.write_line(line)
    where = os.environ.get("FAXPRINT_CAMPAIGN_REPORT")
    if where:
        terminalreporter.write_line(f"saved to {save(LEDGER, where)}")
