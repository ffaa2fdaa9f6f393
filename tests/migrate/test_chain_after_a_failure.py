"""Users who write a common object wait for one another: after a failure in their chain, the rest are not started.

Found by the fault campaign (tests/campaign): bosses X and Y share a delegate who controls
both their CTI-RDs. X failed before updating the delegate's controlled devices, so Y still
matched the plan and migrated; resuming X then sent the plan's list for the delegate,
made before Y's migration: it named Y's removed CTI-RD (AXL 5007, X failed on every
resume) and would have dropped Y's Spark-RD. Run one at a time, as the chain promises,
Y starts only once X is through.
"""

from __future__ import annotations

from pathlib import Path

from cucm_spark.errors import ExecutionError
from cucm_spark.migrate.executor import Executor, Observation, UserStatus
from cucm_spark.migrate.journal import Journal, UserState
from cucm_spark.migrate.plan import Action, Plan, Step, StepKind, Undo, UserPlan

DELEGATE = "deleg"


def _boss(userid: str) -> UserPlan:
    """A user whose migration adds a Spark-RD and rewrites the delegate's controlled devices."""
    spark, cti = f"SPARK{userid.upper()}", f"CTIRD{userid.upper()}"
    before = ["CTIRDBOSSX", "CTIRDBOSSY"]
    after = [name for name in before if name != cti] + [spark]
    steps = (
        Step(StepKind.ADD_SPARK_RD, "addPhone", {"phone": {"name": spark}}, f"create {spark}",
             Undo("removePhone", {"name": spark})),
        Step(StepKind.UPDATE_ASSOCIATION, "updateUser", {"userid": DELEGATE, "associatedDevices": {"device": after}},
             f"controlled devices of {DELEGATE}: add {spark}",
             Undo("updateUser", {"userid": DELEGATE, "associatedDevices": {"device": before}})),
    )
    return UserPlan(userid, Action.MIGRATE, (cti,), spark, steps, f"fingerprint of {userid}", (userid, DELEGATE))


def _loner() -> UserPlan:
    step = Step(StepKind.ADD_SPARK_RD, "addPhone", {"phone": {"name": "SPARKLONER"}}, "create SPARKLONER",
                Undo("removePhone", {"name": "SPARKLONER"}))
    return UserPlan("loner", Action.MIGRATE, ("CTIRDLONER",), "SPARKLONER", (step,), "fingerprint of loner")


class Sink:
    """Applies every step, but fails bossx's first write while ``failing``."""

    def __init__(self) -> None:
        self.failing = True
        self.applied: list[str] = []

    def observe(self, user: UserPlan) -> Observation:
        return Observation(True, None, {"cti_rds": {name: {"name": name} for name in user.cti_rds}})

    def apply(self, step: Step) -> str:
        if self.failing and step.description == "create SPARKBOSSX":
            raise ExecutionError("addPhone: no answer after 4 tries, and it has not happened")
        self.applied.append(step.description)
        return "sent"

    def landed(self, step: Step) -> bool:
        return False


def test_a_failed_user_holds_back_the_rest_of_their_chain_until_resumed(tmp_path: Path) -> None:
    plan = Plan("lab", "14.0.1.10000-20", True, None, "SPARK{userid}", "plan", (_boss("bossx"), _boss("bossy"),
                                                                             _loner()))
    sink = Sink()
    with Journal(tmp_path / "journal.sqlite") as journal:
        run_id = journal.start_run(plan, "lab")
        first = Executor(sink, journal, run_id, workers=2).run(plan)

        assert [(o.userid, o.status) for o in first.outcomes] == [
            ("bossx", UserStatus.FAILED), ("bossy", UserStatus.FAILED), ("loner", UserStatus.MIGRATED)]
        assert "bossx" in (first.outcomes[1].reason or "")
        assert not [step for step in sink.applied if "BOSSY" in step]
        assert journal.user(run_id, "bossy") is None  # never begun: resuming starts them with a fresh check

        sink.failing = False
        resumed = Executor(sink, journal, run_id, workers=2).run(plan)

        assert {o.status for o in resumed.outcomes} == {UserStatus.MIGRATED}
        assert [step for step in sink.applied if "BOSS" in step] == [
            "create SPARKBOSSX", f"controlled devices of {DELEGATE}: add SPARKBOSSX",
            "create SPARKBOSSY", f"controlled devices of {DELEGATE}: add SPARKBOSSY"]
        assert journal.user(run_id, "bossy").state is UserState.MIGRATED
