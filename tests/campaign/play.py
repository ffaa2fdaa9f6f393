"""Playing a scenario: the installed `cucm-spark` against an in-process lab, killed, faulted, recovered, checked.

Each scenario gets its own lab and state directory. The first run migrates under the
scenario's faults and may be killed; then the recovery (``--resume`` or ``rollback``, or
both in turn) runs once under its own trouble and once more with the faults cleared,
which must end cleanly. The invariants that hold at every moment are checked after
every run of the command, the rest once the last one has ended.

A write the lab still holds back (a latency fault) when the client gives up on it lands
later, whatever the client does meanwhile; no client can fence it off, and a real operator
lets a cluster settle before rolling back. So after a run under latency faults the play
waits for the longest delay to pass before it checks or recovers.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from campaign.datasets import tangled_cluster
from campaign.invariants import Violation, always, at_the_end, dump, natural_view, read_journal, run_ids
from campaign.scenarios import Kill, Scenario, Trouble, scenario
from support.lab import lab_config, lab_stats, running_lab

from cucm_spark.lab.server import LabServer, LabSettings

EXE = Path(sys.executable).parent / "cucm-spark"
POLL_SECONDS = 0.02
SETTLE_SECONDS = 0.5  # after the longest latency: the held write has been applied by then
COMMAND_TIMEOUT = 180
PHASES = {"resume": ("resume",), "rollback": ("rollback",), "resume, then rollback": ("resume", "rollback")}
FINAL_STATE = {"resume": "done", "rollback": "rolled_back"}
HELD_GRACE_SECONDS = 0.15  # from "started" in the journal to the write reaching the lab, well within its hold
# The forward step (as the journal names it) whose undo sends this operation.
UNDO_OF = {"removePhone": "addPhone", "addPhone": "removePhone", "updateRemoteDestination": "updateRemoteDestination",
           "updateUser": "updateUser"}


@dataclass
class Verdict:
    """How a scenario came out: held, or the first invariant it broke; and what was run."""

    scenario: Scenario
    problem: str | None = None
    transcript: list[str] = field(default_factory=list)

    @property
    def held(self) -> bool:
        return self.problem is None

    def report(self) -> str:
        replay = (f"replay: CUCM_SPARK_CAMPAIGN_SEED={self.scenario.seed} CUCM_SPARK_CAMPAIGN_SCENARIOS=1 "
                  "pytest tests/campaign/test_fault_campaign.py::test_fault_campaign")
        lines = [f"scenario {self.scenario.describe()}", f"  broke: {self.problem}", f"  {replay}"]
        return "\n".join(lines + [f"  | {line}" for line in self.transcript])


@dataclass(frozen=True)
class Ended:
    """One run of the command: its exit status, the signal that stopped it from outside (if any), its stderr."""

    returncode: int
    stopped: str | None  # "SIGKILL", "SIGINT" or None
    stderr: str


def run_campaign(seeds: list[int], workdir: Path, jobs: int) -> list[Verdict]:
    """Every seed's scenario, ``jobs`` at a time; the verdicts in seed order."""
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="campaign") as pool:
        return list(pool.map(lambda seed: play(scenario(seed), workdir / f"seed-{seed}"), seeds))


def play(chosen: Scenario, workdir: Path) -> Verdict:
    """Play one scenario to its end; the verdict names the first violation, if any."""
    workdir.mkdir(parents=True)
    verdict = Verdict(chosen)
    try:
        with running_lab(LabSettings(seed=chosen.seed), **_lab_spec(chosen, workdir)) as lab:
            _Play(chosen, lab, workdir, verdict.transcript).through()
    except Violation as broken:
        verdict.problem = str(broken)
    except Exception:  # the harness itself: still name the scenario that got it there
        verdict.problem = "the campaign failed: " + traceback.format_exc()
    return verdict


def _lab_spec(chosen: Scenario, workdir: Path) -> dict[str, object]:
    dataset = chosen.dataset
    if dataset.kind == "generated":
        return {"generate": f"users={dataset.users},seed={dataset.seed}"}
    if dataset.kind == "tangled":
        path = workdir / "tangled.json"
        path.write_text(json.dumps(tangled_cluster(dataset.seed)))
        return {"dataset": path}
    return {}


class _Play:
    """One scenario against one lab: the commands in turn, each followed by the invariants."""

    def __init__(self, chosen: Scenario, lab: LabServer, workdir: Path, transcript: list[str]) -> None:
        self.scenario = chosen
        self.lab = lab
        self.workdir = workdir
        self.state = workdir / "state"
        self.journal = self.state / "migrations.sqlite"
        self.transcript = transcript
        self.before = natural_view(dump(lab))
        self.attempts = 0

    def through(self) -> None:
        first, recovering = self.scenario.workers, self.scenario.recovery_workers
        self._command(["migrate", "--yes"], first, self.scenario.first)
        if not run_ids(self.journal):  # stopped or refused before any run began: start it untroubled
            self._command(["migrate", "--yes"], first, Trouble(), must_finish=True)
        run_id = run_ids(self.journal)[-1]
        phases = PHASES[self.scenario.recovery]
        for number, phase in enumerate(phases):
            command = ["migrate", "--resume", run_id, "--yes"] if phase == "resume" else ["rollback", run_id, "--yes"]
            if number == 0:
                self._command(command, recovering, self.scenario.recovering)
            self._command(command, recovering, Trouble(), must_finish=True)
        journal = read_journal(self.journal, run_id)
        at_the_end(dump(self.lab), self.before, journal, FINAL_STATE[phases[-1]])

    def _command(self, args: list[str], workers: int, trouble: Trouble, must_finish: bool = False) -> Ended:
        """One run of the command under this trouble, then the invariants that always hold."""
        self.attempts += 1
        started, writes_before = time.monotonic(), lab_stats(self.lab)["writes"]
        lab_config(self.lab, faults=list(trouble.faults))
        try:
            ended = self._spawn([*args, "--host", self.lab.url, "--workers", str(workers),
                                 "--timeout", str(self.scenario.timeout)], trouble.kill)
        finally:
            lab_config(self.lab, faults=[])
        if trouble.latency_ms:
            time.sleep(trouble.latency_ms / 1000 + SETTLE_SECONDS)
        last = (ended.stderr.strip().splitlines() or [""])[-1]
        self.transcript.append(f"{' '.join(args)} under [{trouble.describe()}] -> exit {ended.returncode}"
                               f"{f' ({ended.stopped} sent)' if ended.stopped else ''} in "
                               f"{time.monotonic() - started:.1f} s: {last}")
        check_exit(ended, trouble, must_finish, wrote=lab_stats(self.lab)["writes"] > writes_before)
        runs = run_ids(self.journal)
        always(dump(self.lab), self.before, read_journal(self.journal, runs[-1]) if runs else None)
        return ended

    def _spawn(self, args: list[str], kill: Kill | None) -> Ended:
        env = {**os.environ, "CUCM_SPARK_USERNAME": "administrator", "CUCM_SPARK_PASSWORD": "ciscopsdt",
               "CUCM_SPARK_STATE_DIR": str(self.state)}
        out, err = (self.workdir / f"{self.attempts}.{name}" for name in ("out", "err"))
        with out.open("w") as stdout, err.open("w") as stderr:
            process = subprocess.Popen([str(EXE), *args], env=env, stdin=subprocess.DEVNULL, stdout=stdout,
                                       stderr=stderr)
            stopped = self._watch(process, kill, rollback=args[0] == "rollback")
            try:
                process.wait(timeout=COMMAND_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise Violation(f"cucm-spark {' '.join(args)} still ran after {COMMAND_TIMEOUT} s") from None
        return Ended(process.returncode, stopped, err.read_text())

    def _watch(self, process: subprocess.Popen, kill: Kill | None, rollback: bool) -> str | None:
        """Send the kill's signal when its moment comes, unless the process ends first; the signal sent."""
        if kill is None:
            return None
        moment = _Moment(kill, self.lab, self.journal, rollback)
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline:
            if moment.come():
                process.send_signal(getattr(signal, kill.signal))
                return kill.signal
            time.sleep(POLL_SECONDS)
        return None


class _Moment:
    """Whether a kill's moment has come, asked poll by poll during one run of the command.

    A held write's moment is shortly after the journal shows it started (its undo, in a
    rollback), while the lab still holds it back. The others count from the first write
    the lab answers: before it the command only reads and plans, and a Ctrl-C there would
    land in Python's start-up, not in cucm-spark.
    """

    def __init__(self, kill: Kill, lab: LabServer, journal: Path, rollback: bool) -> None:
        self.kill, self.lab, self.journal = kill, lab, journal
        self.held_state = "undoing" if rollback else "started"
        self.held_operation = UNDO_OF.get(kill.operation, "") if rollback else kill.operation
        self.already_held = self._held_steps() if kill.after == "held" else set()
        self.writes_before = lab_stats(lab)["writes"]
        self.since: float | None = None  # the first write answered, or the held write journalled

    def come(self) -> bool:
        if self.kill.after == "held":
            if self.since is None and self._held_steps() - self.already_held:
                self.since = time.monotonic()
            return self.since is not None and time.monotonic() - self.since >= HELD_GRACE_SECONDS
        writes = lab_stats(self.lab)["writes"] - self.writes_before
        if writes and self.since is None:
            self.since = time.monotonic()
        if self.since is None:
            return False
        if self.kill.after == "seconds":
            return time.monotonic() - self.since >= self.kill.amount
        if self.kill.after == "writes":
            return writes >= self.kill.amount
        return len(self._journal_rows("SELECT userid, idx FROM steps", ())) >= self.kill.amount

    def _held_steps(self) -> set[tuple[str, int]]:
        return self._journal_rows("SELECT userid, idx FROM steps WHERE operation = ? AND state = ?",
                                  (self.held_operation, self.held_state))

    def _journal_rows(self, query: str, args: tuple[str, ...]) -> set[tuple[str, int]]:
        if not self.journal.exists():
            return set()
        try:
            with closing(sqlite3.connect(self.journal, timeout=1)) as db:
                return set(db.execute(query, args).fetchall())
        except sqlite3.OperationalError:  # not created yet, or busy this instant
            return set()


def check_exit(ended: Ended, trouble: Trouble, must_finish: bool, wrote: bool) -> None:
    """No traceback ever; a clean run finishes; otherwise done, partial (4), killed, or refused before any write.

    A cluster error (exit 3) is one line and fine under faults while the command is still
    reading and planning; once it writes, a user's failure must stay that user's (exit 4).
    """
    if "Traceback (most recent call last)" in ended.stderr:
        raise Violation(f"a traceback:\n{ended.stderr[-3000:]}")
    if must_finish:
        if ended.returncode != 0:
            raise Violation(f"a run with no fault and no kill exited {ended.returncode}: {ended.stderr[-1500:]}")
        return
    allowed = {0, 4}
    if ended.stopped == "SIGKILL":
        allowed.add(-signal.SIGKILL)
    if trouble.faults and not wrote:
        allowed.add(3)
    if ended.returncode not in allowed:
        raise Violation(f"exit {ended.returncode} (expected one of {sorted(allowed)}"
                        f"{' after writes' if wrote else ''}): {ended.stderr[-1500:]}")
