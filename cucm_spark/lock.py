"""The run lock: two scheduled runs of the same config never overlap (flock on a file in the state directory).

The kernel drops an flock when its holder exits, however it exits, so a crashed run never
leaves a stale lock behind. The file stays in place between runs (removing it would let a
waiting run lock a file nobody else can see); it holds the pid of the run that has it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cucm_spark.errors import ConfigError
from cucm_spark.paths import private_dir, private_opener, state_dir

_POLL_SECONDS = 0.05


class RunLocked(ConfigError):
    """Another cucm-spark run holds the lock and did not let go within the wait."""

    def __init__(self, path: Path, pid: int | None) -> None:
        holder = f"pid {pid}" if pid else "pid unknown"
        super().__init__(f"another cucm-spark run holds {path} ({holder}); try again later")
        self.path = path
        self.pid = pid


def config_lock_path(config_path: Path) -> Path:
    """The lock file of one config file: state_dir()/locks/<stem>-<hash of its absolute path>.lock."""
    absolute = str(config_path.expanduser().resolve())
    digest = hashlib.sha256(absolute.encode("utf-8")).hexdigest()[:12]
    return state_dir() / "locks" / f"{config_path.stem}-{digest}.lock"


@contextmanager
def run_lock(path: Path, wait: float = 0.0) -> Iterator[Path]:
    """Hold the lock file for the block; wait up to ``wait`` seconds for another run, else RunLocked."""
    private_dir(path.parent)
    fd = private_opener(path, os.O_RDWR | os.O_CREAT)
    try:
        _acquire(fd, path, wait)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, wait: float) -> None:
    deadline = time.monotonic() + max(wait, 0.0)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RunLocked(path, holder_pid(path)) from None
            time.sleep(min(_POLL_SECONDS, remaining))


def holder_pid(path: Path) -> int | None:
    """The pid written by the run holding the lock (None when unknown or between runs)."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None
