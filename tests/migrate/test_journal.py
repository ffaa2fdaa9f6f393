"""The journal (SQLite, 0600) and the executor's use of it: started before, done after, resume by read-back."""

from __future__ import annotations

import stat

import pytest

from cucm_spark.errors import ExecutionError, JournalError
from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.migrate.executor import DrySink, Executor, Observation, UserStatus
from cucm_spark.migrate.journal import Journal, RunState, StepState, UserState
from cucm_spark.migrate.naming import NameTemplate
from cucm_spark.migrate.plan import Plan, Step, UserPlan
from cucm_spark.migrate.planner import plan_migration
from cucm_spark.releases import ReleaseTable, parse_release


@pytest.fixture
def plan(edge_cases) -> Plan:
    inventory, settings = edge_cases
    return plan_migration(inventory, parse_release(inventory.version), ReleaseTable.load(), NameTemplate(),
                          users={"jsmith", "kmiller"}, settings=settings, categories=CategoryMap.load())


class FakeSink:
    """Records what it is asked; fails on chosen operations; says which writes have 'landed'."""

    def __init__(self, fail_on: str | None = None, changed: set[str] | None = None) -> None:
        self.applied: list[str] = []
        self.fail_on = fail_on
        self.changed = changed or set()
        self.landed_ops: set[str] = set()

    def observe(self, user: UserPlan) -> Observation:
        if user.userid in self.changed:
            return Observation(False, "changed since the plan")
        return Observation(True, None, {"cti_rds": {name: {"name": name} for name in user.cti_rds}})

    def apply(self, step: Step) -> str:
        if step.operation == self.fail_on:
            raise ExecutionError("no answer")
        self.applied.append(step.operation)
        return "sent"

    def landed(self, step: Step) -> bool:
        return step.operation in self.landed_ops


def test_journal_file_is_private(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CUCM_SPARK_STATE_DIR", str(tmp_path / "state"))
    with Journal() as journal:
        assert journal.path.parent == tmp_path / "state"
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600


def test_a_run_records_every_step(plan: Plan, tmp_path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        run_id = journal.start_run(plan, "lab")
        result = Executor(FakeSink(), journal, run_id).run(plan)
        journal.finish_run(run_id, RunState.DONE)
        assert [o.status for o in result.outcomes] == [UserStatus.MIGRATED, UserStatus.MIGRATED]
        for user in plan.users:
            states = journal.step_states(run_id, user.userid)
            assert states == {idx: StepState.DONE for idx in range(len(user.steps))}
            record = journal.user(run_id, user.userid)
            assert record.state is UserState.MIGRATED
            assert record.before_image == {"cti_rds": {user.cti_rds[0]: {"name": user.cti_rds[0]}}}
        (summary,) = journal.runs()
        assert summary.state is RunState.DONE and summary.users == {"migrated": 2}
        assert journal.plan(run_id) == plan


def test_a_changed_user_is_skipped_not_the_run(plan: Plan, tmp_path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        run_id = journal.start_run(plan, "lab")
        sink = FakeSink(changed={"jsmith"})
        result = Executor(sink, journal, run_id).run(plan)
        assert {o.userid: o.status for o in result.outcomes} == {"jsmith": UserStatus.SKIPPED,
                                                               "kmiller": UserStatus.MIGRATED}
        assert journal.step_states(run_id, "jsmith") == {}


def test_failure_then_resume_reads_back_before_resending(plan: Plan, tmp_path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        run_id = journal.start_run(plan, "lab")
        result = Executor(FakeSink(fail_on="updateUser"), journal, run_id).run(plan)
        assert result.failed and all(o.status is UserStatus.FAILED for o in result.outcomes)
        states = journal.step_states(run_id, "jsmith")
        assert states[0] is StepState.DONE and states[3] is StepState.FAILED and 4 not in states
        # The failed updateUser did land after all: resume must see that and not send it again.
        healthy = FakeSink()
        healthy.landed_ops = {"updateUser"}
        again = Executor(healthy, journal, run_id).run(plan)
        assert all(o.status is UserStatus.MIGRATED for o in again.outcomes)
        assert "addPhone" not in healthy.applied and "updateUser" not in healthy.applied
        assert healthy.applied.count("removePhone") == 2
        # A third pass finds every user done and does nothing.
        idle = FakeSink()
        Executor(idle, journal, run_id).run(plan)
        assert idle.applied == []


def test_unknown_run(tmp_path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal, pytest.raises(JournalError, match="no run"):
        journal.plan("nope")


def test_dry_sink_prints_every_step_and_journals_nothing(plan: Plan) -> None:
    lines: list[str] = []
    result = Executor(DrySink(lines.append)).run(plan)
    assert all(o.status is UserStatus.PLANNED for o in result.outcomes)
    assert sum(1 for line in lines if line.startswith("  write")) == sum(
        1 for user in plan.users for step in user.steps if step.is_write)
    assert "password" not in "\n".join(lines).lower()
