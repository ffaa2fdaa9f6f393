"""Ctrl-C: while reading it is one line and exit 130; once every user is through, it loses nothing.

Found by the fault campaign (tests/campaign): a SIGINT just after the last step left a
finished run recorded as running and unreported (exit 130), or, during the interpreter's
shutdown, printed a traceback or ended the process by the signal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.lab import lab_config, running_lab

EXE = Path(sys.executable).parent / "cucm-spark"


def _env(state: Path) -> dict[str, str]:
    return {**os.environ, "CUCM_SPARK_USERNAME": "administrator", "CUCM_SPARK_PASSWORD": "ciscopsdt",
            "CUCM_SPARK_STATE_DIR": str(state)}


def _interrupted_at_the_end(state: Path, *args: str) -> tuple[int, str, str]:
    """Run the command and send SIGINT the moment it prints its pacing line (every user is through by then)."""
    process = subprocess.Popen([str(EXE), *args], env=_env(state), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if line.startswith("Writes:"):
            process.send_signal(signal.SIGINT)
            break
    out, rest = process.communicate(timeout=60)
    return process.returncode, out, "".join(seen) + rest


def _runs(state: Path) -> list[dict]:
    listed = subprocess.run([str(EXE), "runs", "--format", "json"], env=_env(state), capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=60)
    return json.loads(listed.stdout)


def test_ctrl_c_after_the_last_step_keeps_the_runs_end(tmp_path: Path) -> None:
    with running_lab() as lab:
        code, out, errors = _interrupted_at_the_end(tmp_path, "migrate", "--host", lab.url, "--yes")
        assert (code, "Traceback" in errors) == (0, False), errors
        assert "migrated 8, skipped 0, failed 0" in out
        (run,) = _runs(tmp_path)
        assert run["state"] == "done"
        code, out, errors = _interrupted_at_the_end(tmp_path, "rollback", run["run"], "--host", lab.url, "--yes")
        assert (code, "Traceback" in errors) == (0, False), errors
        assert "rolled back 8" in out
        assert _runs(tmp_path)[0]["state"] == "rolled_back"


@pytest.mark.parametrize("command", [["audit"], ["migrate", "--dry-run"]])
def test_ctrl_c_while_reading_says_interrupted_in_one_line_and_exits_130(tmp_path: Path, command: list[str]) -> None:
    with running_lab() as lab:
        lab_config(lab, faults=[{"kind": "latency", "ms": 3000}])
        process = subprocess.Popen([str(EXE), *command, "--host", lab.url], env=_env(tmp_path),
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)  # the first request is held by the lab
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=30)
    assert process.returncode == 130
    assert errors == "cucm-spark: interrupted\n"
