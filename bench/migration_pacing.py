"""Benchmark: migrate 1,000 users' Hybrid CTI-RDs on a lab that throttles writes to 50 a second.

    python bench/migration_pacing.py [--users 2700] [--limit 1000] [--write-rate 50] [--workers 4]

Starts `cucm-spark lab serve --generate users=N --write-rate R` as its own process (the
generated cluster holds 15,000 Hybrid CTI-RDs per 40,000 users, so 2,700 users hold 1,013
of them), runs `cucm-spark migrate --yes --limit L` against it as another process, and
prints: users migrated and failed, the writes needed (the writes the lab applied), writes
per user, the HTTP 503s met, the migrate command's total time (planning included) and
client CPU, the ideal time (writes needed / R), and their ratio. The goal (issue 6):
total <= 1.25 x ideal with no user failed; the exit status is 1 when it is missed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import requests
from lab_process import AUTH, COMMAND, lab_process

GOAL = 1.25


def migrate(url: str, limit: int, workers: int) -> dict[str, object]:
    """Run the migration as a process with a fresh journal; its wall time, CPU time and output."""
    with tempfile.TemporaryDirectory(prefix="cucm-spark-bench-") as state:
        env = {**os.environ, "CUCM_SPARK_USERNAME": AUTH[0], "CUCM_SPARK_PASSWORD": AUTH[1],
               "CUCM_SPARK_STATE_DIR": state}
        argv = [str(COMMAND), "migrate", "--host", url, "--yes", "--limit", str(limit), "--workers", str(workers)]
        with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
            started = time.perf_counter()
            process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - started
            stdout.seek(0)
            stderr.seek(0)
            output, errors = stdout.read().decode(), stderr.read().decode()
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "status": os.waitstatus_to_exitcode(status),
            "stdout": output, "stderr": errors}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2700, help="users in the generated cluster")
    parser.add_argument("--limit", type=int, default=1000, help="users to migrate")
    parser.add_argument("--write-rate", type=float, default=50.0, help="the lab's write throttle (writes/s)")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    with lab_process("--generate", f"users={args.users}", "--write-rate", f"{args.write_rate:g}") as (url, _ready):
        run = migrate(url, args.limit, args.workers)
        stats = requests.get(url.replace("/axl/", "/lab/stats"), auth=AUTH, timeout=30).json()
    counts = re.search(r"migrated (\d+), skipped (\d+), failed (\d+)", str(run["stdout"]))
    if counts is None:
        print(f"the migration did not finish (exit {run['status']}):\n{str(run['stderr'])[-2000:]}", file=sys.stderr)
        return 1
    migrated, skipped, failed = (int(n) for n in counts.groups())
    phase = re.search(r"; ([\d.]+) s with", str(run["stderr"]))
    writes = int(stats["writes_applied"])
    refused = int(stats["http_status"].get("503", 0))
    ideal = writes / args.write_rate
    ratio = float(run["wall"]) / ideal if ideal else float("inf")
    rows = [
        ("users migrated / skipped / failed", f"{migrated} / {skipped} / {failed}"),
        ("writes needed", f"{writes}"),
        ("writes per user", f"{writes / max(migrated, 1):.2f}"),
        ("HTTP 503s met", f"{refused}"),
        ("AXL requests", f"{stats['requests']}"),
        ("total time (s)", f"{float(run['wall']):.1f}"),
        ("  of which writing (s)", phase.group(1) if phase else "?"),
        ("client CPU (s)", f"{float(run['cpu']):.1f}"),
        (f"ideal time (writes / {args.write_rate:g} per s)", f"{ideal:.1f}"),
        ("total / ideal", f"{ratio:.3f}  (goal <= {GOAL})"),
    ]
    for label, value in rows:
        print(f"{label:36}{value}")
    summary = re.search(r"^Writes: .*$", str(run["stderr"]), re.MULTILINE)
    if summary:
        print(f"the client's own account: {summary.group(0)}")
    met = ratio <= GOAL and failed == 0 and run["status"] == 0
    print("goal met" if met else "goal MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
