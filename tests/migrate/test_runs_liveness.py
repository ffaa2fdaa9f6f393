"""`cucm-spark runs` tells a run that is still going from one whose process was killed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cucm_spark.cli_migrate import _cluster_lock_path, _with_liveness
from cucm_spark.migrate.journal import RunState, RunSummary


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CUCM_SPARK_STATE_DIR", str(tmp_path))
    return tmp_path


def summary(state: RunState) -> RunSummary:
    return RunSummary("run-1", "2026-12-04T10:00:00Z", None, "https://cucm-a:8443/axl/", state, {"done": 3})


def test_a_running_run_without_a_live_lock_holder_reads_as_interrupted() -> None:
    assert _with_liveness(summary(RunState.RUNNING)).interrupted


def test_a_running_run_whose_process_holds_the_lock_stays_running() -> None:
    path = _cluster_lock_path("https://cucm-a:8443/axl/")
    path.parent.mkdir(parents=True)
    path.write_text(str(os.getpid()))
    assert not _with_liveness(summary(RunState.RUNNING)).interrupted


def test_a_dead_holder_pid_left_in_the_lock_file_reads_as_interrupted() -> None:
    path = _cluster_lock_path("https://cucm-a:8443/axl/")
    path.parent.mkdir(parents=True)
    path.write_text("999999999")
    assert _with_liveness(summary(RunState.RUNNING)).interrupted


def test_finished_runs_are_shown_as_recorded() -> None:
    assert not _with_liveness(summary(RunState.DONE)).interrupted
