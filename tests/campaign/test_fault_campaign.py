"""The fault campaign (issue 7): seeded scenarios of faults, kills and recoveries, every invariant after each.

The CI-sized run plays two dozen scenarios in about a minute; the long run behind the
``slow`` marker plays ten times as many, from another base seed. CUCM_SPARK_CAMPAIGN_SEED
and CUCM_SPARK_CAMPAIGN_SCENARIOS choose the seeds (a failure prints the command that
replays it), CUCM_SPARK_CAMPAIGN_JOBS how many scenarios play at once.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from campaign.play import Verdict, run_campaign
from campaign.scenarios import CI_SCENARIOS, LONG_BASE_SEED, LONG_SCENARIOS, campaign_seeds

JOBS = int(os.environ.get("CUCM_SPARK_CAMPAIGN_JOBS", "3"))


def _tally_and_check(verdicts: list[Verdict], tally: dict[str, int]) -> None:
    tally["ran"] += len(verdicts)
    tally["held"] += sum(verdict.held for verdict in verdicts)
    broken = [verdict.report() for verdict in verdicts if not verdict.held]
    assert not broken, f"{len(broken)} of {len(verdicts)} scenarios broke an invariant:\n" + "\n".join(broken)


def test_fault_campaign(tmp_path: Path, campaign_tally: dict[str, int]) -> None:
    _tally_and_check(run_campaign(campaign_seeds(CI_SCENARIOS), tmp_path, JOBS), campaign_tally)


@pytest.mark.slow
def test_long_fault_campaign(tmp_path: Path, campaign_tally: dict[str, int]) -> None:
    _tally_and_check(run_campaign(campaign_seeds(LONG_SCENARIOS, LONG_BASE_SEED), tmp_path, JOBS), campaign_tally)
