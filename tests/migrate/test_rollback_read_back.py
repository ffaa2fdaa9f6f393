"""A rollback whose read-back of one user's write fails fails that user alone, as a migration does.

Found by the fault campaign (tests/campaign): the read-back a rollback makes of a write
left in doubt (or of an undo left in doubt) ran outside the per-user error handling, so
one user's unreadable answer stopped every other user's rollback and ended the command
with the bare AXL error (exit 3) instead of "some users were not rolled back" (exit 4).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cucm_spark.errors import ExecutionError, TransportError
from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.migrate.executor import Executor, Observation, UserStatus
from cucm_spark.migrate.journal import Journal, StepState, UserState
from cucm_spark.migrate.naming import NameTemplate
from cucm_spark.migrate.plan import Plan, Step, UserPlan
from cucm_spark.migrate.planner import plan_migration
from cucm_spark.releases import ReleaseTable, parse_release

TROUBLED = "jsmith"


class TroubledSink:
    """Applies every step, except that the troubled user's writes fail while ``refuse_writes`` and read-backs fail."""

    def __init__(self) -> None:
        self.refuse_writes = True
        self.current: str | None = None
        self.undone: list[str] = []

    def observe(self, user: UserPlan) -> Observation:
        return Observation(True, None, {"cti_rds": {name: {"name": name} for name in user.cti_rds}})

    def apply(self, step: Step) -> str:
        if step.is_write and self.refuse_writes and TROUBLED.upper() in str(step.payload).upper():
            raise ExecutionError(f"{step.operation}: no answer, and it has not happened")
        if step.description.startswith("undo: "):
            self.undone.append(step.description)
        return "sent"

    def landed(self, step: Step) -> bool:
        raise TransportError("connection to the cluster dropped in the middle of the answer")


@pytest.fixture
def plan(edge_cases) -> Plan:
    inventory, settings = edge_cases
    return plan_migration(inventory, parse_release(inventory.version), ReleaseTable.load(), NameTemplate(),
                          settings=settings, categories=CategoryMap.load())


@pytest.mark.parametrize("workers", [1, 4])
def test_an_unreadable_read_back_fails_that_user_and_the_others_roll_back(plan, tmp_path: Path,
                                                                          workers: int) -> None:
    sink = TroubledSink()
    with Journal(tmp_path / "journal.sqlite") as journal:
        run_id = journal.start_run(plan, "lab")
        migrated = Executor(sink, journal, run_id, workers=workers).run(plan)
        assert [o.userid for o in migrated.users(UserStatus.FAILED)] == [TROUBLED]
        assert StepState.FAILED in journal.step_states(run_id, TROUBLED).values()  # a write in doubt

        sink.refuse_writes = False
        undone = Executor(sink, journal, run_id, workers=workers).rollback(plan)

        (failed,) = undone.users(UserStatus.FAILED)
        assert failed.userid == TROUBLED and "dropped in the middle of the answer" in (failed.reason or "")
        others = {user.userid for user in plan.users} - {TROUBLED}
        assert {o.userid for o in undone.users(UserStatus.ROLLED_BACK)} == others
        assert journal.user(run_id, TROUBLED).state is UserState.FAILED
        assert all(journal.user(run_id, userid).state is UserState.ROLLED_BACK for userid in others)
        assert len(sink.undone) == sum(sum(step.is_write for step in user.steps) for user in plan.users
                                       if user.userid in others)
