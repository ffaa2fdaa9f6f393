"""Users on a pool of workers: each user's steps in order on one thread, the journal consistent, stop and resume."""

from __future__ import annotations

import contextlib
import io
import random
import sqlite3
import sys
import threading
import time
from dataclasses import replace

import pytest

from cucm_spark.errors import ExecutionError
from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.migrate.executor import Executor, Interrupted, Observation, UserStatus, chains
from cucm_spark.migrate.journal import Journal, StepState, UserState
from cucm_spark.migrate.naming import NameTemplate
from cucm_spark.migrate.plan import Plan, Step, StepKind, UserPlan
from cucm_spark.migrate.planner import plan_migration
from cucm_spark.migrate.progress import run_progress
from cucm_spark.releases import ReleaseTable, parse_release

USERS = 24


@pytest.fixture
def plan(edge_cases) -> Plan:
    """The edge-case plan's eight users, three times over under new userids (same devices: see chains)."""
    inventory, settings = edge_cases
    base = plan_migration(inventory, parse_release(inventory.version), ReleaseTable.load(), NameTemplate(),
                          settings=settings, categories=CategoryMap.load())
    users = tuple(replace(user, userid=f"u{n:02d}{user.userid}") for n in range(3) for user in base.users)
    assert len(users) == USERS
    return replace(base, users=users)


class SlowSink:
    """Takes a little while per step, remembers which user each thread is on and what it applied, in order."""

    def __init__(self, fail: set[str] | None = None, on_apply=None) -> None:
        self.fail = fail or set()
        self.on_apply = on_apply
        self.local = threading.local()
        self.lock = threading.Lock()
        self.applied: dict[str, list[str]] = {}
        self.running = self.most = self.calls = 0
        self.landed_ops: set[str] = set()
        self.random = random.Random(5)
        self.pair = threading.Barrier(2)  # the first two writes meet inside apply: proof that users overlap

    # A Watcher too: the executor says, on the worker's own thread, which user it takes up.
    def user_started(self, user: UserPlan) -> None:
        self.local.user = user.userid

    def step_started(self, user: UserPlan, idx: int, step: Step) -> None:
        assert self.local.user == user.userid  # every step of a user on the thread that took it up

    def user_finished(self, user: UserPlan, outcome: object) -> None:
        self.local.user = None

    def observe(self, user: UserPlan) -> Observation:
        return Observation(True, None, {"cti_rds": {name: {"name": name} for name in user.cti_rds}})

    def apply(self, step: Step) -> str:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.calls += 1
            calls = self.calls
            pause = self.random.uniform(0, 0.001)
        try:
            if calls <= 2:
                with contextlib.suppress(threading.BrokenBarrierError):
                    self.pair.wait(timeout=2)
            time.sleep(pause)
            userid = getattr(self.local, "user", None) or "?"
            if self.on_apply is not None:
                self.on_apply(calls)
            if step.operation == "updateUser" and userid in self.fail:
                raise ExecutionError("no answer")
            with self.lock:
                self.applied.setdefault(userid, []).append(step.description)
            return "sent"
        finally:
            with self.lock:
                self.running -= 1

    def landed(self, step: Step) -> bool:
        return step.operation in self.landed_ops


def paced(sink: SlowSink, journal: Journal, run_id: str, workers: int) -> Executor:
    return Executor(sink, journal, run_id, workers=workers, watcher=sink)


def assert_journal_consistent(journal: Journal, run_id: str, plan: Plan) -> None:
    """Every user migrated, every step done, one row per step: nothing lost or interleaved."""
    for user in plan.users:
        assert journal.user(run_id, user.userid).state is UserState.MIGRATED
        assert journal.step_states(run_id, user.userid) == {i: StepState.DONE for i in range(len(user.steps))}
    with sqlite3.connect(journal.path) as db:
        (rows,) = db.execute("SELECT COUNT(*) FROM steps WHERE run_id = ?", (run_id,)).fetchone()
    assert rows == sum(len(user.steps) for user in plan.users)


def test_workers_overlap_users_and_keep_each_user_s_steps_in_order(plan: Plan, tmp_path) -> None:
    sink = SlowSink()
    with Journal(tmp_path / "j.sqlite") as journal:
        run_id = journal.start_run(plan, "lab")
        result = paced(sink, journal, run_id, 8).run(plan)
        assert [o.userid for o in result.outcomes] == [u.userid for u in plan.users]  # plan order
        assert all(o.status is UserStatus.MIGRATED for o in result.outcomes)
        assert_journal_consistent(journal, run_id, plan)
    assert 1 < sink.most <= 8
    for user in plan.users:
        assert sink.applied[user.userid] == [step.description for step in user.steps]


def test_failed_users_under_workers_then_resume(plan: Plan, tmp_path) -> None:
    failing = {user.userid for user in plan.users[::3]}
    # Each chain (one user's three copies) holds one failing user; the copies after it wait, not started.
    waiting = {later.userid for chain in chains(plan.users) for n, user in enumerate(chain) if user.userid in failing
               for later in chain[n + 1:]}
    with Journal(tmp_path / "j.sqlite") as journal:
        run_id = journal.start_run(plan, "lab")
        result = paced(SlowSink(fail=failing), journal, run_id, 6).run(plan)
        assert {o.userid for o in result.users(UserStatus.FAILED)} == failing | waiting
        for userid in failing:
            states = journal.step_states(run_id, userid)
            assert states[3] is StepState.FAILED and 4 not in states
        assert waiting and all(journal.user(run_id, userid) is None for userid in waiting)
        healthy = SlowSink()
        healthy.landed_ops = {"updateUser"}  # the "failed" updateUser calls did land after all
        again = paced(healthy, journal, run_id, 6).run(plan)
        assert all(o.status is UserStatus.MIGRATED for o in again.outcomes)
        assert set(healthy.applied) == failing | waiting  # the others were done already
        assert_journal_consistent(journal, run_id, plan)


def test_a_stop_lets_the_steps_in_flight_finish_then_resume_completes(plan: Plan, tmp_path) -> None:
    holder: list[Executor] = []
    sink = SlowSink(on_apply=lambda calls: calls == 40 and holder[0].stop())
    with Journal(tmp_path / "j.sqlite") as journal:
        run_id = journal.start_run(plan, "lab")
        holder.append(paced(sink, journal, run_id, 4))
        with pytest.raises(Interrupted):
            holder[0].run(plan)
        with sqlite3.connect(journal.path) as db:
            left = db.execute("SELECT COUNT(*) FROM steps WHERE state = 'started'").fetchone()[0]
            users = dict(db.execute("SELECT state, COUNT(*) FROM users GROUP BY state").fetchall())
        assert left == 0  # no write left in doubt
        assert users.get("migrated", 0) < USERS and set(users) <= {"migrated", "running"}
        rest = SlowSink()
        paced(rest, journal, run_id, 4).run(plan)
        assert_journal_consistent(journal, run_id, plan)
    for userid, done in sink.applied.items():  # no step applied twice across the two runs
        assert not set(done) & set(rest.applied.get(userid, []))


def test_an_unexpected_error_in_one_worker_stops_the_others_and_is_raised(plan: Plan, tmp_path) -> None:
    class Broken(SlowSink):
        def apply(self, step: Step) -> str:
            if getattr(self.local, "user", None) == plan.users[1].userid and step.operation == "removePhone":
                raise RuntimeError("a bug")
            return super().apply(step)

    sink = Broken()
    with Journal(tmp_path / "j.sqlite") as journal:
        run_id = journal.start_run(plan, "lab")
        with pytest.raises(RuntimeError, match="a bug"):
            paced(sink, journal, run_id, 4).run(plan)
        with sqlite3.connect(journal.path) as db:
            migrated = db.execute("SELECT COUNT(*) FROM users WHERE state = 'migrated'").fetchone()[0]
    assert migrated < USERS - 3  # the others stopped: not every chain ran to its end


def test_rollback_on_workers_undoes_each_user_newest_first(plan: Plan, tmp_path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        run_id = journal.start_run(plan, "lab")
        paced(SlowSink(), journal, run_id, 8).run(plan)
        undo = SlowSink()
        result = paced(undo, journal, run_id, 8).rollback(plan)
        assert all(o.status is UserStatus.ROLLED_BACK for o in result.outcomes)
        for user in plan.users:
            assert undo.applied[user.userid] == [f"undo: {s.description}" for s in reversed(user.steps) if s.undo]
            assert set(journal.step_states(run_id, user.userid).values()) <= {StepState.UNDONE, StepState.DONE}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_bar_and_each_user_s_line(plan: Plan, monkeypatch) -> None:
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    small = replace(plan, users=plan.users[:6])
    with run_progress("Migrating 6 user(s)", 6, 2, None, plain=lambda _line: None) as (watcher, report):
        assert watcher is not None
        Executor(SlowSink(), None, None, report, workers=2, watcher=watcher).run(small)
    shown = screen.getvalue()
    assert "Migrating 6 user(s)" in shown
    for user in small.users:
        assert f"{user.userid}: planned" in shown


def test_off_a_terminal_plain_lines_only(monkeypatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    lines: list[str] = []
    with run_progress("Migrating", 3, 2, None, plain=lines.append) as (watcher, report):
        report("jsmith: migrated")
    assert watcher is None and lines == ["jsmith: migrated"]


def test_users_writing_a_common_object_share_one_chain_in_plan_order(plan: Plan) -> None:
    """Two users whose CTI-RDs one assistant controls both rewrite her association list: never at once."""
    first, second, third = plan.users[0], plan.users[1], plan.users[2]
    shared = Step(StepKind.UPDATE_ASSOCIATION, "updateUser",
                  {"userid": "Assistant", "associatedDevices": {"device": []}}, "controlled devices of assistant")
    first = replace(first, steps=(*first.steps, shared))
    second = replace(second, steps=(*second.steps, replace(shared, payload={**shared.payload, "userid": "assistant"})))
    grouped = chains([first, third, second])
    assert [[u.userid for u in chain] for chain in grouped] == [[first.userid, second.userid], [third.userid]]
    # The copies in the fixture write the same devices as their originals: each original and its
    # copies form one chain (three users, one after another), the eight chains run side by side.
    assert [len(chain) for chain in chains(plan.users)] == [3] * 8
