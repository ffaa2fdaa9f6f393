"""Seeded scenarios for the fault campaign: what cluster, which faults, where the process dies, how it recovers.

A scenario is drawn from ``random.Random(seed)`` alone, so a seed names it completely:
the same seed gives the same dataset, fault rules, workers, kill point and recovery (the
timing of threads and processes still varies from run to run; the lab's fault injector is
seeded with the scenario's seed too). Campaign seeds are consecutive from a base seed.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import Any

BASE_SEED = 7001
CI_SCENARIOS = 24  # about a minute on two cores, three scenarios at a time
LONG_SCENARIOS, LONG_BASE_SEED = 240, 100_001  # the slow run: other seeds, ten times as many
SEED_ENV, COUNT_ENV = "CUCM_SPARK_CAMPAIGN_SEED", "CUCM_SPARK_CAMPAIGN_SCENARIOS"
WRITES = ("addPhone", "updateRemoteDestination", "updateUser", "removePhone")
READS = ("getPhone", "getRemoteDestination", "listRemoteDestination", "getUser")
FAULT_KINDS = ("http503", "drop", "drop_after_write", "latency")
RECOVERIES = ("resume", "rollback", "resume, then rollback")
HOLD_MS = 1000  # a held write: longer than any --timeout here, so the client is still waiting when killed


@dataclass(frozen=True)
class Dataset:
    """The cluster a scenario's lab serves: the bundled edge cases, a generated cluster, or a tangled one."""

    kind: str  # "edge-cases", "generated", "tangled"
    users: int = 0
    seed: int = 0

    def describe(self) -> str:
        if self.kind == "generated":
            return f"generated users={self.users},seed={self.seed}"
        if self.kind == "tangled":
            return f"tangled seed={self.seed}"
        return self.kind


@dataclass(frozen=True)
class Kill:
    """When a run is stopped from outside.

    ``held``: while the lab holds back a write of ``operation`` (a latency rule added for
    it), so the journal has that write started and the process dies before its answer.
    Otherwise after some journalled steps, writes the lab answered, or seconds, counted
    from the first write the lab answers in that run of the command.
    """

    signal: str  # "SIGKILL" or "SIGINT"
    after: str  # "held", "steps", "writes" or "seconds"
    amount: float = 0
    operation: str = ""

    def describe(self) -> str:
        if self.after == "held":
            return f"{self.signal} while the lab holds back a {self.operation}"
        unit = {"steps": "journalled steps", "writes": "writes", "seconds": "s"}[self.after]
        return f"{self.signal} after {self.amount:g} {unit}"


@dataclass(frozen=True)
class Trouble:
    """What goes wrong during one run of the command: lab fault rules, and a kill or not."""

    faults: tuple[dict[str, Any], ...] = ()
    kill: Kill | None = None

    @property
    def latency_ms(self) -> int:
        return max((rule["ms"] for rule in self.faults if rule["kind"] == "latency"), default=0)

    def describe(self) -> str:
        parts = [_describe_rule(rule) for rule in self.faults]
        if self.kill is not None:
            parts.append(self.kill.describe())
        return ", ".join(parts) or "no trouble"


@dataclass(frozen=True)
class Scenario:
    """One seeded scenario: migrate under ``first``; recover (the first recovery try under ``recovering``)."""

    seed: int
    dataset: Dataset
    workers: int
    recovery_workers: int
    timeout: float
    first: Trouble
    recovery: str
    recovering: Trouble

    def describe(self) -> str:
        return (f"seed {self.seed}: {self.dataset.describe()}, --timeout {self.timeout:g}; migrate with "
                f"{self.workers} worker(s) under [{self.first.describe()}]; {self.recovery} with "
                f"{self.recovery_workers} worker(s) under [{self.recovering.describe()}], then once more with no "
                f"fault, which must end cleanly")


def _describe_rule(rule: dict[str, Any]) -> str:
    ops = ",".join(rule["operations"])
    extra = f" {rule['ms']}ms" if rule["kind"] == "latency" else ""
    return f"{rule['kind']}{extra} rate {rule['rate']:g} x{rule['count']} on {ops}"


def campaign_seeds(default_count: int, default_base: int = BASE_SEED) -> list[int]:
    """The seeds to play: consecutive from the base seed, both overridable from the environment."""
    base = int(os.environ.get(SEED_ENV, default_base))
    count = int(os.environ.get(COUNT_ENV, default_count))
    return list(range(base, base + count))


def scenario(seed: int) -> Scenario:
    """The scenario this seed names."""
    rng = random.Random(seed)
    dataset = _dataset(rng)
    workers, recovery_workers = rng.randint(1, 4), rng.randint(1, 4)
    timeout = rng.choice((0.5, 0.75))
    first = _trouble(rng, timeout, workers, faulted=True, kill=_kill(rng, first_run=True))
    recovery = rng.choices(RECOVERIES, weights=(45, 35, 20))[0]
    recovering = _trouble(rng, timeout, recovery_workers, faulted=rng.random() < 0.6,
                          kill=_kill(rng, first_run=False) if rng.random() < 0.5 else None)
    return Scenario(seed, dataset, workers, recovery_workers, timeout, first, recovery, recovering)


def _trouble(rng: random.Random, timeout: float, workers: int, faulted: bool, kill: Kill | None) -> Trouble:
    faults = list(_faults(rng, timeout, workers)) if faulted else []
    if kill is not None and kill.after == "held":
        faults.append({"kind": "latency", "rate": 1.0, "count": 1, "operations": [kill.operation], "ms": HOLD_MS})
    return Trouble(tuple(faults), kill)


def _dataset(rng: random.Random) -> Dataset:
    kind = rng.choices(("edge-cases", "generated", "tangled"), weights=(35, 30, 35))[0]
    if kind == "generated":
        return Dataset(kind, users=rng.randint(15, 40), seed=rng.randint(1, 10**6))
    if kind == "tangled":
        return Dataset(kind, seed=rng.randint(1, 10**6))
    return Dataset(kind)


def _faults(rng: random.Random, timeout: float, workers: int) -> tuple[dict[str, Any], ...]:
    kinds = rng.sample(FAULT_KINDS, rng.randint(1, 3))
    return tuple(_rule(rng, kind, timeout, workers) for kind in sorted(kinds))


def _rule(rng: random.Random, kind: str, timeout: float, workers: int) -> dict[str, Any]:
    """One fault rule; counted, so the trouble passes and a clean attempt can follow."""
    writes_only = kind == "drop_after_write"
    # 503 bursts mostly on writes, which are paced; reads give up after a few (a one-line exit 3).
    pool = WRITES if writes_only or (kind == "http503" and rng.random() < 0.7) else WRITES + READS
    operations = sorted(rng.sample(pool, rng.randint(1, len(pool))))
    if kind == "http503":  # a burst: at rate 1 every call in a row, lower rates spread it out
        rate, count = rng.choice((1.0, round(rng.uniform(0.2, 0.6), 2))), rng.randint(3, 10)
    elif kind == "latency" and rng.random() < 0.3:
        return _storm(rng, timeout, workers)
    elif kind == "latency":  # now and then an answer later than the client waits for
        rate, count = round(rng.uniform(0.2, 0.6), 2), rng.randint(1, 3)
    else:
        rate, count = round(rng.uniform(0.1, 0.6), 2), rng.randint(1, 6)
    ms = int(timeout * 1000 * rng.uniform(1.5, 2.2)) if kind == "latency" else 0
    return {"kind": kind, "rate": rate, "count": count, "operations": operations, "ms": ms}


def _storm(rng: random.Random, timeout: float, workers: int) -> dict[str, Any]:
    """Every answer to one write late, long enough that a user's four tries all go unanswered: the user fails.

    The first try must still be held when the fourth read-back looks (else that read-back
    finds it landed), and the workers share the storm, so it lasts four tries per worker.
    """
    return {"kind": "latency", "rate": 1.0, "count": 4 * workers, "operations": [rng.choice(WRITES)],
            "ms": int(timeout * 1000 * 5.5)}


def _kill(rng: random.Random, first_run: bool) -> Kill | None:
    """Mostly a SIGKILL, sometimes a Ctrl-C, now and then nothing; a recovery has no journal steps to count anew."""
    roll = rng.random()
    if roll < 0.1:
        return None
    signal = "SIGINT" if roll < 0.3 else "SIGKILL"
    after = rng.choice(("held", "held", "steps", "writes", "seconds") if first_run else ("held", "writes", "seconds"))
    if after == "held":
        return Kill(signal, after, operation=rng.choice(WRITES))
    if after == "steps":
        return Kill(signal, after, rng.randint(1, 60))
    if after == "writes":
        return Kill(signal, after, rng.randint(1, 30))
    return Kill(signal, after, round(rng.uniform(0.05, 1.5), 2))
