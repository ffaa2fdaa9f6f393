"""The one executor of a plan, with two sinks: live (AXL, journalled) and dry (prints, sends nothing).

Like alembic's runtime over a printing or a real connection, the executor walks the
same steps in the same order either way; only the sink differs. Per user it asks the
sink to observe the user (live: read the devices again and compare the fingerprint;
a changed user is skipped, not the run), journals the before-image, then for each step
records *started*, applies it through the sink, and records *done*. On resume, a step
recorded done is passed over, and a write recorded started but not done is read back
first: it runs again only if the read proves it did not happen.

Rollback walks a user's journalled steps backwards and sends each done write's undo
through the same sink; the removed CTI-RD is re-created from its before-image. Each
undo is journalled *undoing* then *undone*, so a rollback can itself be run again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from cucm_spark.errors import AxlError, ExecutionError
from cucm_spark.migrate.facts import recreate_payload
from cucm_spark.migrate.journal import Journal, StepState, UserState
from cucm_spark.migrate.plan import Plan, Step, StepKind, UserPlan

Report = Callable[[str], None]


@dataclass(frozen=True)
class Observation:
    """What a sink saw of a user just before migrating them."""

    unchanged: bool
    reason: str | None = None
    before_image: dict[str, Any] = field(default_factory=dict)


class Sink(Protocol):
    """Where steps go: a cluster, or a printout."""

    def observe(self, user: UserPlan) -> Observation: ...

    def apply(self, step: Step) -> str:
        """Carry out one step; a short result, or ExecutionError/AxlError."""
        ...

    def landed(self, step: Step) -> bool:
        """Whether a write the journal cannot vouch for has happened (a read-back)."""
        ...


class UserStatus(str, Enum):
    MIGRATED = "migrated"
    SKIPPED = "skipped"
    FAILED = "failed"
    PLANNED = "planned"  # a dry run
    ROLLED_BACK = "rolled_back"


@dataclass(frozen=True)
class UserOutcome:
    userid: str
    status: UserStatus
    reason: str | None = None


@dataclass(frozen=True)
class RunResult:
    """How each user came out of a run."""

    run_id: str | None
    outcomes: tuple[UserOutcome, ...]

    def users(self, status: UserStatus) -> tuple[UserOutcome, ...]:
        return tuple(outcome for outcome in self.outcomes if outcome.status is status)

    @property
    def failed(self) -> bool:
        return bool(self.users(UserStatus.FAILED))


class DrySink:
    """Prints each step as the call it would make; observes nothing and sends nothing."""

    def __init__(self, emit: Report) -> None:
        self._emit = emit

    def observe(self, user: UserPlan) -> Observation:
        self._emit(f"\n{user.userid}: {user.action.value} {', '.join(user.cti_rds)} -> {user.spark_rd}"
                   f"  (tier {user.tier_before or '-'} -> {user.tier_after or '-'})")
        return Observation(True)

    def apply(self, step: Step) -> str:
        verb = "write" if step.is_write else "check"
        self._emit(f"  {verb:5} {step.operation}: {step.description}")
        self._emit(f"        {json.dumps(_shown(step.payload), sort_keys=False)}")
        return "planned"

    def landed(self, step: Step) -> bool:
        return False


def _shown(payload: Any) -> Any:
    """A payload for display: returnedTags are noise to a reader."""
    if isinstance(payload, dict):
        return {key: value for key, value in payload.items() if key != "returnedTags"}
    return payload


class Executor:
    """Runs a plan's users through a sink; with a journal, records every step before and after."""

    def __init__(self, sink: Sink, journal: Journal | None = None, run_id: str | None = None,
                 report: Report | None = None) -> None:
        if (journal is None) != (run_id is None):
            raise ValueError("a journal and a run id go together")
        self.sink = sink
        self.journal = journal
        self.run_id = run_id
        self.report = report or (lambda _message: None)

    def run(self, plan: Plan) -> RunResult:
        outcomes = []
        for user in plan.users:
            outcome = self._user(user)
            detail = f" ({outcome.reason})" if outcome.reason else ""
            self.report(f"{outcome.userid}: {outcome.status.value}{detail}")
            outcomes.append(outcome)
        return RunResult(self.run_id, tuple(outcomes))

    def _user(self, user: UserPlan) -> UserOutcome:
        journal, run_id = self.journal, self.run_id
        recorded: dict[int, StepState] = {}
        if journal is not None and run_id is not None:
            prior = journal.user(run_id, user.userid)
            if prior is not None and prior.state in (UserState.MIGRATED, UserState.SKIPPED):
                return UserOutcome(user.userid, UserStatus(prior.state.value), prior.reason)
            recorded = journal.step_states(run_id, user.userid)
        if not recorded:
            # Nothing written for this user yet: the cluster must still be what the plan saw.
            try:
                observed = self.sink.observe(user)
            except AxlError as exc:
                return self._fail(user, f"cannot read the user's devices: {exc}")
            if not observed.unchanged:
                if journal is not None and run_id is not None:
                    journal.set_user(run_id, user.userid, UserState.SKIPPED, observed.reason)
                return UserOutcome(user.userid, UserStatus.SKIPPED, observed.reason)
            if journal is not None and run_id is not None:
                journal.set_user(run_id, user.userid, UserState.RUNNING, before_image=observed.before_image)
        elif journal is not None and run_id is not None:
            journal.set_user(run_id, user.userid, UserState.RUNNING)
        for idx, step in enumerate(user.steps):
            try:
                self._step(user, idx, step, recorded.get(idx))
            except (ExecutionError, AxlError) as exc:
                return self._fail(user, f"step {idx + 1} ({step.description}): {exc}")
        if journal is None:
            return UserOutcome(user.userid, UserStatus.PLANNED)
        assert run_id is not None
        journal.set_user(run_id, user.userid, UserState.MIGRATED)
        return UserOutcome(user.userid, UserStatus.MIGRATED)

    def _step(self, user: UserPlan, idx: int, step: Step, before: StepState | None) -> None:
        journal, run_id = self.journal, self.run_id
        if before is StepState.DONE:
            return
        if journal is None or run_id is None:
            self.sink.apply(step)
            return
        if before is not None and step.is_write and self.sink.landed(step):
            journal.step_finished(run_id, user.userid, idx, StepState.DONE, "confirmed by read-back on resume")
            return
        journal.step_started(run_id, user.userid, idx, step.kind.value, step.operation, step.description)
        try:
            result = self.sink.apply(step)
        except (ExecutionError, AxlError) as exc:
            journal.step_finished(run_id, user.userid, idx, StepState.FAILED, str(exc))
            raise
        journal.step_finished(run_id, user.userid, idx, StepState.DONE, result)

    def _fail(self, user: UserPlan, reason: str) -> UserOutcome:
        if self.journal is not None and self.run_id is not None:
            self.journal.set_user(self.run_id, user.userid, UserState.FAILED, reason)
        return UserOutcome(user.userid, UserStatus.FAILED, reason)

    # -- rollback ---------------------------------------------------------------------
    def rollback(self, plan: Plan) -> RunResult:
        """Undo, newest first, every write the journal shows done for the plan's users."""
        if self.journal is None or self.run_id is None:
            raise ValueError("rollback reads the journal: give the executor one")
        outcomes = []
        for user in plan.users:
            outcome = self._undo_user(self.journal, self.run_id, user)
            detail = f" ({outcome.reason})" if outcome.reason else ""
            self.report(f"{outcome.userid}: {outcome.status.value}{detail}")
            outcomes.append(outcome)
        return RunResult(self.run_id, tuple(outcomes))

    def _undo_user(self, journal: Journal, run_id: str, user: UserPlan) -> UserOutcome:
        record = journal.user(run_id, user.userid)
        if record is None or record.state is UserState.SKIPPED:
            return UserOutcome(user.userid, UserStatus.SKIPPED, "nothing was changed")
        if record.state is UserState.ROLLED_BACK:
            return UserOutcome(user.userid, UserStatus.ROLLED_BACK)
        states = journal.step_states(run_id, user.userid)
        image = record.before_image or {}
        for idx in reversed(range(len(user.steps))):
            step, state = user.steps[idx], states.get(idx)
            if step.undo is None or state in (None, StepState.UNDONE):
                continue
            undo = undo_step(step, image)
            if state in (StepState.STARTED, StepState.FAILED) and not self.sink.landed(step):
                journal.step_finished(run_id, user.userid, idx, StepState.UNDONE, "never happened (read-back)")
                continue
            if state is StepState.UNDOING and self.sink.landed(undo):
                journal.step_finished(run_id, user.userid, idx, StepState.UNDONE, "undone (read-back)")
                continue
            journal.step_finished(run_id, user.userid, idx, StepState.UNDOING, "undo started")
            try:
                result = self.sink.apply(undo)
            except (ExecutionError, AxlError) as exc:
                journal.step_finished(run_id, user.userid, idx, StepState.UNDOING, f"undo failed: {exc}")
                reason = f"undo of step {idx + 1} ({step.description}): {exc}"
                journal.set_user(run_id, user.userid, UserState.FAILED, reason)
                return UserOutcome(user.userid, UserStatus.FAILED, reason)
            journal.step_finished(run_id, user.userid, idx, StepState.UNDONE, result)
        journal.set_user(run_id, user.userid, UserState.ROLLED_BACK)
        return UserOutcome(user.userid, UserStatus.ROLLED_BACK)


def undo_step(step: Step, before_image: dict[str, Any]) -> Step:
    """The step that reverses a write; a removed CTI-RD comes back exactly as its before-image shows it."""
    assert step.undo is not None
    payload = step.undo.payload
    if step.kind is StepKind.REMOVE_CTI_RD:
        phone = (before_image.get("cti_rds") or {}).get(step.payload["name"])
        if phone:
            payload = recreate_payload(phone)
    return Step(step.kind, step.undo.operation, payload, f"undo: {step.description}")
