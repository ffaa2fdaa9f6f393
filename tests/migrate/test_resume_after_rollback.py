"""`--resume` of a rolled-back run checks each user against the cluster again before writing anything.

A rolled-back user's writes are all undone, so for them resuming is starting over: the
cluster may have changed since (a line added to the restored CTI-RD, say) and the plan's
payloads would then overwrite it, losing the line. Found while building the fault
campaign (tests/campaign): resume skipped the fingerprint check for any user with steps
in the journal, undone or not.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.migrate.executor import Executor, Observation, UserStatus
from cucm_spark.migrate.journal import Journal, UserState
from cucm_spark.migrate.naming import NameTemplate
from cucm_spark.migrate.plan import Plan, Step, UserPlan
from cucm_spark.migrate.planner import plan_migration
from cucm_spark.releases import ReleaseTable, parse_release

CHANGED = "jsmith"


class ClusterSink:
    """Applies every step; observes every user unchanged, except CHANGED once ``changed`` is set."""

    def __init__(self) -> None:
        self.changed = False
        self.writes: list[str] = []

    def observe(self, user: UserPlan) -> Observation:
        image = {"cti_rds": {name: {"name": name} for name in user.cti_rds}}
        if self.changed and user.userid == CHANGED:
            return Observation(False, "changed since the plan (devices, lines, destinations or associations)", image)
        return Observation(True, None, image)

    def apply(self, step: Step) -> str:
        if step.is_write:
            self.writes.append(step.description)
        return "sent"

    def landed(self, step: Step) -> bool:
        return False


@pytest.fixture
def plan(edge_cases) -> Plan:
    inventory, settings = edge_cases
    whole = plan_migration(inventory, parse_release(inventory.version), ReleaseTable.load(), NameTemplate(),
                           settings=settings, categories=CategoryMap.load())
    return replace(whole, users=tuple(user for user in whole.users if user.userid in (CHANGED, "bchen")))


def test_a_rolled_back_user_changed_since_is_skipped_on_resume(plan, tmp_path: Path) -> None:
    sink = ClusterSink()
    with Journal(tmp_path / "journal.sqlite") as journal:
        run_id = journal.start_run(plan, "lab")
        assert not Executor(sink, journal, run_id).run(plan).failed
        assert {o.status for o in Executor(sink, journal, run_id).rollback(plan).outcomes} == {UserStatus.ROLLED_BACK}

        sink.changed, sink.writes = True, []
        resumed = Executor(sink, journal, run_id).run(plan)

        assert [(o.userid, o.status) for o in resumed.outcomes] == [("bchen", UserStatus.MIGRATED),
                                                                    (CHANGED, UserStatus.SKIPPED)]
        assert journal.user(run_id, CHANGED).state is UserState.SKIPPED
        assert sink.writes and not [write for write in sink.writes if CHANGED.upper() in write.upper()]
