"""The run lock: a second run waits or fails with a clear message; a dead holder never leaves it stuck."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import cucm_spark
from cucm_spark.errors import ConfigError
from cucm_spark.lock import RunLocked, config_lock_path, holder_pid, run_lock

HOLDER = """
import sys
from pathlib import Path
from cucm_spark.lock import run_lock
with run_lock(Path(sys.argv[1]), wait=0):
    print("held", flush=True)
    sys.stdin.readline()
"""


@contextmanager
def held_by_another_process(path: Path) -> Iterator[subprocess.Popen[str]]:
    """A child process holding the lock until its stdin gets a line (or it is killed)."""
    env = {**os.environ, "PYTHONPATH": str(Path(cucm_spark.__file__).resolve().parents[1])}
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None and child.stdout.readline() == "held\n"
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)


def test_a_second_run_fails_at_once_naming_the_file_and_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "config.lock"
    with held_by_another_process(path) as child:
        assert holder_pid(path) == child.pid
        started = time.monotonic()
        with pytest.raises(RunLocked) as caught, run_lock(path, wait=0):
            pass
        assert time.monotonic() - started < 1
    assert str(caught.value) == f"another cucm-spark run holds {path} (pid {child.pid}); try again later"
    assert isinstance(caught.value, ConfigError)  # exit 2, like any configuration problem


def test_a_second_run_waits_for_the_first_to_finish(tmp_path: Path) -> None:
    path = tmp_path / "config.lock"
    with held_by_another_process(path) as child:
        release = threading.Timer(0.4, lambda: (child.stdin.write("done\n"), child.stdin.flush()))  # type: ignore
        release.start()
        started = time.monotonic()
        with run_lock(path, wait=10):
            waited = time.monotonic() - started
            assert holder_pid(path) == os.getpid()
        release.join()
    assert 0.3 < waited < 5
    assert holder_pid(path) is None  # emptied on release


def test_waiting_gives_up_after_the_wait(tmp_path: Path) -> None:
    path = tmp_path / "config.lock"
    with held_by_another_process(path):
        started = time.monotonic()
        with pytest.raises(RunLocked), run_lock(path, wait=0.3):
            pass
        assert 0.25 < time.monotonic() - started < 2


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    path = tmp_path / "config.lock"
    with held_by_another_process(path) as child:
        child.kill()
        child.wait(10)
        with run_lock(path, wait=0):
            assert holder_pid(path) == os.getpid()


def test_the_lock_is_exclusive_within_one_process_too(tmp_path: Path) -> None:
    path = tmp_path / "config.lock"
    with run_lock(path), pytest.raises(RunLocked, match=f"pid {os.getpid()}"), run_lock(path):
        pass
    with run_lock(path):  # and free again afterwards
        pass


def test_each_config_file_has_its_own_lock_in_the_state_directory(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUCM_SPARK_STATE_DIR", str(tmp_path / "state"))
    a, b = config_lock_path(tmp_path / "a" / "config.toml"), config_lock_path(tmp_path / "b" / "config.toml")
    assert a != b and a.parent == b.parent == tmp_path / "state" / "locks"
    assert a.name.startswith("config-") and a.suffix == ".lock"
    assert config_lock_path(tmp_path / "a" / ".." / "a" / "config.toml") == a
    with run_lock(a), run_lock(b):
        assert (os.stat(a).st_mode & 0o777) == 0o600
