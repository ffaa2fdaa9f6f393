"""Run `cucm-spark lab serve` as its own process for a benchmark, and read its URL."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

COMMAND = Path(sys.executable).parent / "cucm-spark"
AUTH = ("administrator", "ciscopsdt")


@contextmanager
def lab_process(*args: str) -> Iterator[tuple[str, float]]:
    """Start the lab with ``args``; yield its AXL URL and how long it took to be ready."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(COMMAND), "lab", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        url = process.stdout.readline().strip() if process.stdout else ""
        if not url:
            raise SystemExit(f"the lab did not start: {process.stderr.read() if process.stderr else ''}")
        yield url, time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=30)
