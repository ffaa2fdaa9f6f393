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

Users go through a small pool of worker threads (``workers``): a user's own steps run in
order on one thread, different users overlap, so the reads and verifications of some
fill the time others wait for a write slot. Users are independent (each touches only
their own devices, destinations and association), the sink's pacer keeps the writes of
all workers to one pace, and the journal serialises its records. On Ctrl-C no new user
or step is started: the workers finish the step in flight, so no write is left in doubt
that need not be, and the run can be resumed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from typing import Any, Protocol

from cucm_spark.errors import AxlError, ExecutionError
from cucm_spark.migrate.facts import line_payload, lines_from_phone, recreate_payload
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


class Watcher(Protocol):
    """Who follows a run user by user and step by step (the progress display); called from worker threads."""

    def user_started(self, user: UserPlan) -> None: ...

    def step_started(self, user: UserPlan, idx: int, step: Step) -> None: ...

    def user_finished(self, user: UserPlan, outcome: UserOutcome) -> None: ...


class Interrupted(Exception):
    """The run was asked to stop (Ctrl-C): a worker leaves its user between two steps."""


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
                 report: Report | None = None, workers: int = 1, watcher: Watcher | None = None) -> None:
        if (journal is None) != (run_id is None):
            raise ValueError("a journal and a run id go together")
        if workers < 1:
            raise ValueError(f"workers: at least 1, not {workers}")
        self.sink = sink
        self.journal = journal
        self.run_id = run_id
        self.report = report or (lambda _message: None)
        self.workers = workers
        self.watcher = watcher
        self._stop = threading.Event()
        self._reporting = threading.Lock()

    def run(self, plan: Plan) -> RunResult:
        return RunResult(self.run_id, self._each(plan.users, self._user))

    def _each(self, users: Sequence[UserPlan], work: Callable[[UserPlan], UserOutcome]) -> tuple[UserOutcome, ...]:
        """``work`` for each user on the worker pool; the outcomes in plan order, each reported as it comes.

        Users whose writes touch a common object (an association list two users control, say)
        form one chain that a single worker takes in plan order, so they see each other's
        changes exactly as a one-at-a-time run would; after a failure the rest of the chain
        waits (see _chain). On Ctrl-C (or any error escaping a worker) the others stop before
        their next step; the interruption is raised once they have.
        """
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="cucm-spark-user") as pool:
            futures = [pool.submit(self._chain, work, chain) for chain in chains(users)]
            try:
                wait(futures, return_when=FIRST_EXCEPTION)
                for future in futures:
                    error = future.exception() if future.done() else None
                    if error is not None:
                        raise error  # a bug, or the journal failing: stop the others, then say so
                done = {outcome.userid: outcome for future in futures for outcome in future.result()}
            except BaseException:
                self._stop.set()
                for future in futures:
                    future.cancel()
                wait(futures)
                raise
        if self._stop.is_set():
            raise Interrupted("stopped before every user was done")
        return tuple(done[user.userid] for user in users)

    def _chain(self, work: Callable[[UserPlan], UserOutcome], chain: list[UserPlan]) -> list[UserOutcome]:
        """The chain's users in order; once one fails, the rest wait for a resume and are not started.

        A failed user may stop between two writes to the object the chain shares (say,
        before updating a delegate's controlled devices). The next user would still match
        the plan and write it, and the failed user's resumed write, planned before that,
        would then undo theirs. So each user starts only once the one before is through.
        """
        outcomes: list[UserOutcome] = []
        for user in chain:
            failed = outcomes[-1] if outcomes and outcomes[-1].status is UserStatus.FAILED else None
            outcome = self._one(work if failed is None else partial(_waits_for, failed=failed), user)
            if outcome is None:
                break
            outcomes.append(outcome)
        return outcomes

    def _one(self, work: Callable[[UserPlan], UserOutcome], user: UserPlan) -> UserOutcome | None:
        if self._stop.is_set():
            return None
        if self.watcher is not None:
            self.watcher.user_started(user)
        try:
            outcome = work(user)
        except Interrupted:
            return None
        detail = f" ({outcome.reason})" if outcome.reason else ""
        with self._reporting:
            self.report(f"{outcome.userid}: {outcome.status.value}{detail}")
        if self.watcher is not None:
            self.watcher.user_finished(user, outcome)
        return outcome

    def stop(self) -> None:
        """Start no new user or step; the steps in flight finish (safe from any thread)."""
        self._stop.set()

    def _next_step(self, user: UserPlan, idx: int, step: Step) -> None:
        """Between two steps: stop here if asked, else tell the watcher what comes."""
        if self._stop.is_set():
            raise Interrupted(user.userid)
        if self.watcher is not None:
            self.watcher.step_started(user, idx, step)

    def _user(self, user: UserPlan) -> UserOutcome:
        journal, run_id = self.journal, self.run_id
        recorded: dict[int, StepState] = {}
        if journal is not None and run_id is not None:
            prior = journal.user(run_id, user.userid)
            if prior is not None and prior.state in (UserState.MIGRATED, UserState.SKIPPED):
                return UserOutcome(user.userid, UserStatus(prior.state.value), prior.reason)
            # A rolled-back user has no write left in effect: resuming starts them over, so the
            # cluster is checked against the plan again as for a user never begun.
            if prior is None or prior.state is not UserState.ROLLED_BACK:
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
            self._next_step(user, idx, step)
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
        journal, run_id = self.journal, self.run_id
        if journal is None or run_id is None:
            raise ValueError("rollback reads the journal: give the executor one")
        return RunResult(run_id, self._each(plan.users, lambda user: self._undo_user(journal, run_id, user)))

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
            try:
                self._undo(journal, run_id, user, idx, step, state, image)
            except (ExecutionError, AxlError) as exc:
                reason = f"undo of step {idx + 1} ({step.description}): {exc}"
                journal.set_user(run_id, user.userid, UserState.FAILED, reason)
                return UserOutcome(user.userid, UserStatus.FAILED, reason)
        journal.set_user(run_id, user.userid, UserState.ROLLED_BACK)
        return UserOutcome(user.userid, UserStatus.ROLLED_BACK)

    def _undo(self, journal: Journal, run_id: str, user: UserPlan, idx: int, step: Step, state: StepState,
              image: dict[str, Any]) -> None:
        """Undo one journalled write; ExecutionError/AxlError when it cannot be done or known.

        A write, or an undo, that the journal cannot vouch for is read back first. Those
        reads may fail as any call may, so they sit inside the user's error handling with
        the undo itself: a failure fails this user, never the others' rollback.
        """
        undo = undo_step(step, image)
        self._next_step(user, idx, undo)
        if state in (StepState.STARTED, StepState.FAILED) and not self.sink.landed(step):
            journal.step_finished(run_id, user.userid, idx, StepState.UNDONE, "never happened (read-back)")
            return
        if state is StepState.UNDOING and self.sink.landed(undo):
            journal.step_finished(run_id, user.userid, idx, StepState.UNDONE, "undone (read-back)")
            return
        journal.step_finished(run_id, user.userid, idx, StepState.UNDOING, "undo started")
        try:
            result = self.sink.apply(undo)
        except (ExecutionError, AxlError) as exc:
            journal.step_finished(run_id, user.userid, idx, StepState.UNDOING, f"undo failed: {exc}")
            raise
        journal.step_finished(run_id, user.userid, idx, StepState.UNDONE, result)


def _waits_for(user: UserPlan, failed: UserOutcome) -> UserOutcome:
    """The outcome of a user held back because one before them in their chain failed; not journalled."""
    return UserOutcome(user.userid, UserStatus.FAILED, f"not started: {failed.userid}, who changes the same "
                                                       f"objects, failed first (run it again for both)")


def chains(users: Sequence[UserPlan]) -> list[list[UserPlan]]:
    """The users grouped so that no two groups write the same object; each group in plan order.

    What a step writes is named by its payload: a device (addPhone, removePhone), a remote
    destination, a user's association list (updateUser). Undos write the same objects.
    """
    owner: dict[str, int] = {}  # object -> index of the first user writing it
    parent = list(range(len(users)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, user in enumerate(users):
        for key in {key for step in user.steps if step.is_write for key in _writes(step)}:
            if key in owner:
                parent[root(i)] = root(owner[key])
            else:
                owner[key] = i
    grouped: dict[int, list[UserPlan]] = {}
    for i, user in enumerate(users):
        grouped.setdefault(root(i), []).append(user)
    return list(grouped.values())  # in the order of each chain's first user


def _writes(step: Step) -> set[str]:
    payload = step.payload
    phone = payload.get("phone")
    found = {
        f"device:{phone['name']}" if isinstance(phone, dict) and "name" in phone else "",
        f"device:{payload['name']}" if "name" in payload else "",
        f"destination:{payload['destination']}" if "destination" in payload else "",
        f"user:{payload['userid']}" if "userid" in payload else "",
    }
    return {key.lower() for key in found if key}


def undo_step(step: Step, before_image: dict[str, Any]) -> Step:
    """The step that reverses a write; a removed CTI-RD comes back exactly as its before-image shows it.

    Removing the Spark-RD the run made is guarded: its ``expect`` says what the device must
    still be (the lines the run gave it, no remote destination of its own), so a Spark-RD
    someone gave a line or a destination after the run is left in place, not deleted with them.
    """
    assert step.undo is not None
    payload, expect = step.undo.payload, {}
    if step.kind is StepKind.REMOVE_CTI_RD:
        phone = (before_image.get("cti_rds") or {}).get(step.payload["name"])
        if phone:
            payload = recreate_payload(phone)
    if step.kind is StepKind.ADD_SPARK_RD:
        lines = [line_payload(line) for line in lines_from_phone(step.payload["phone"])]
        expect = {"lines": lines, "no_destinations": True}
    return Step(step.kind, step.undo.operation, payload, f"undo: {step.description}", expect=expect)
