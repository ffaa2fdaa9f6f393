"""The fault campaign's tally, printed in pytest's terminal summary (so it shows without -s)."""

from __future__ import annotations

import pytest

TALLY = pytest.StashKey[dict[str, int]]()


@pytest.fixture
def campaign_tally(request: pytest.FixtureRequest) -> dict[str, int]:
    """Scenarios that ran and that held, summed over every campaign test of the session."""
    return request.config.stash.setdefault(TALLY, {"ran": 0, "held": 0})


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    tally = config.stash.get(TALLY, None)
    if tally is not None:
        terminalreporter.write_line(f"fault campaign: {tally['ran']} scenarios ran, {tally['held']} held")
