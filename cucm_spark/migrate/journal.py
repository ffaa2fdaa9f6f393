"""The journal of migration runs: SQLite in the state directory (mode 0600), the truth of every run.

Each run keeps its plan; each user their state and before-image (the CTI-RDs as read,
their remote destinations and associations, just before the first write); each step is
recorded *started* before its write is sent and *done* after the cluster answered (or
a read-back proved it happened). Every record is committed at once, so a process killed
at any point leaves a journal that says exactly which write may be in doubt: the one
started and not done. Resume reads that write back; rollback walks the record backwards.
Nothing secret goes in: plans and images hold names, numbers and settings, never a password.

A run's workers share one Journal: one connection, every statement under one lock, so
records from several threads never interleave half-done (sqlite3 connections refuse other
threads unless told, and a shared cursor is not safe to use from two at once). Each
record is one autocommitted statement, so the lock is held only for that statement.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from cucm_spark.errors import JournalError
from cucm_spark.migrate.plan import Plan
from cucm_spark.paths import create_private, private_dir, state_dir

JOURNAL_FILE = "migrations.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    finished TEXT,
    cluster TEXT NOT NULL,
    state TEXT NOT NULL,
    plan TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    run_id TEXT NOT NULL REFERENCES runs(id),
    userid TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    before_image TEXT,
    updated TEXT NOT NULL,
    PRIMARY KEY (run_id, userid)
);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL REFERENCES runs(id),
    userid TEXT NOT NULL,
    idx INTEGER NOT NULL,
    kind TEXT NOT NULL,
    operation TEXT NOT NULL,
    description TEXT NOT NULL,
    state TEXT NOT NULL,
    result TEXT,
    started TEXT NOT NULL,
    finished TEXT,
    PRIMARY KEY (run_id, userid, idx)
);
"""


class RunState(str, Enum):
    """A run: going (or killed while going), finished, finished with failed users, rolled back."""

    RUNNING = "running"
    DONE = "done"
    PARTIAL = "partial"
    ROLLED_BACK = "rolled_back"


class UserState(str, Enum):
    RUNNING = "running"
    MIGRATED = "migrated"
    SKIPPED = "skipped"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"


class StepState(str, Enum):
    STARTED = "started"
    DONE = "done"
    FAILED = "failed"
    UNDOING = "undoing"
    UNDONE = "undone"


@dataclass(frozen=True)
class RunSummary:
    """One line of `cucm-spark runs`."""

    id: str
    created: str
    finished: str | None
    cluster: str
    state: RunState
    users: dict[str, int]
    interrupted: bool = False  # recorded as running, but its process is gone: resume it


@dataclass(frozen=True)
class UserRecord:
    userid: str
    state: UserState
    reason: str | None
    before_image: dict[str, Any] | None


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_run_id() -> str:
    """Sortable by time, unique by a random tail: 20240101-120000-3f9a."""
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


class Journal:
    """The journal file; one connection shared by the run's threads under a lock, autocommit."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or state_dir() / JOURNAL_FILE
        try:
            private_dir(self.path.parent)
            create_private(self.path)
            self._lock = threading.RLock()
            self._db = sqlite3.connect(str(self.path), isolation_level=None, timeout=10, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"cannot open the journal {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise JournalError(f"journal {self.path}: {exc}") from exc

    def _rows(self, query: str, args: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        """A read, fetched whole under the lock."""
        with self._locked() as db:
            return db.execute(query, args).fetchall()

    # -- runs -------------------------------------------------------------------------
    def start_run(self, plan: Plan, cluster: str) -> str:
        run_id = new_run_id()
        with self._locked() as db:
            db.execute("INSERT INTO runs (id, created, cluster, state, plan) VALUES (?, ?, ?, ?, ?)",
                       (run_id, now(), cluster, RunState.RUNNING.value, plan.to_json()))
        return run_id

    def finish_run(self, run_id: str, state: RunState) -> None:
        with self._locked() as db:
            db.execute("UPDATE runs SET state = ?, finished = ? WHERE id = ?", (state.value, now(), run_id))

    def reopen_run(self, run_id: str) -> None:
        with self._locked() as db:
            db.execute("UPDATE runs SET state = ?, finished = NULL WHERE id = ?", (RunState.RUNNING.value, run_id))

    def run(self, run_id: str) -> RunSummary:
        found = [summary for summary in self.runs() if summary.id == run_id]
        if not found:
            raise JournalError(f"no run {run_id!r} in the journal {self.path} (see `cucm-spark runs`)")
        return found[0]

    def plan(self, run_id: str) -> Plan:
        rows = self._rows("SELECT plan FROM runs WHERE id = ?", (run_id,))
        row = rows[0] if rows else None
        if row is None:
            raise JournalError(f"no run {run_id!r} in the journal {self.path} (see `cucm-spark runs`)")
        return Plan.from_json(row["plan"], f"the plan of run {run_id}")

    def runs(self) -> list[RunSummary]:
        counts: dict[str, dict[str, int]] = {}
        for row in self._rows("SELECT run_id, state, COUNT(*) AS n FROM users GROUP BY run_id, state"):
            counts.setdefault(row["run_id"], {})[row["state"]] = row["n"]
        return [
            RunSummary(row["id"], row["created"], row["finished"], row["cluster"], RunState(row["state"]),
                       counts.get(row["id"], {}))
            for row in self._rows("SELECT * FROM runs ORDER BY created, id")
        ]

    # -- users ------------------------------------------------------------------------
    def set_user(self, run_id: str, userid: str, state: UserState, reason: str | None = None,
                 before_image: dict[str, Any] | None = None) -> None:
        image = json.dumps(before_image, sort_keys=True) if before_image is not None else None
        with self._locked() as db:
            db.execute(
                "INSERT INTO users (run_id, userid, state, reason, before_image, updated) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (run_id, userid) DO UPDATE SET state = excluded.state, reason = excluded.reason,"
                " before_image = COALESCE(excluded.before_image, users.before_image), updated = excluded.updated",
                (run_id, userid, state.value, reason, image, now()))

    def user(self, run_id: str, userid: str) -> UserRecord | None:
        rows = self._rows("SELECT * FROM users WHERE run_id = ? AND userid = ?", (run_id, userid))
        if not rows:
            return None
        row = rows[0]
        image = json.loads(row["before_image"]) if row["before_image"] else None
        return UserRecord(row["userid"], UserState(row["state"]), row["reason"], image)

    # -- steps ------------------------------------------------------------------------
    def step_states(self, run_id: str, userid: str) -> dict[int, StepState]:
        rows = self._rows("SELECT idx, state FROM steps WHERE run_id = ? AND userid = ?", (run_id, userid))
        return {row["idx"]: StepState(row["state"]) for row in rows}

    def step_started(self, run_id: str, userid: str, idx: int, kind: str, operation: str, description: str) -> None:
        with self._locked() as db:
            db.execute(
                "INSERT INTO steps (run_id, userid, idx, kind, operation, description, state, started)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, userid, idx) DO UPDATE SET"
                " state = excluded.state, started = excluded.started, result = NULL, finished = NULL",
                (run_id, userid, idx, kind, operation, description, StepState.STARTED.value, now()))

    def step_finished(self, run_id: str, userid: str, idx: int, state: StepState, result: str) -> None:
        with self._locked() as db:
            db.execute("UPDATE steps SET state = ?, result = ?, finished = ? WHERE run_id = ? AND userid = ?"
                       " AND idx = ?", (state.value, result, now(), run_id, userid, idx))
