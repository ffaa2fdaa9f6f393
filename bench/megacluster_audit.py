"""Benchmark: audit a generated megacluster, and compare with the per-object way of common scripts.

    python bench/megacluster_audit.py [--users 40000] [--naive-users 2000]

1. Starts `cucm-spark lab serve --generate users=N` as its own process, runs
   `cucm-spark audit --format json` against it as another process, and prints AXL
   requests sent, bytes received, wall time, client CPU time and client peak RSS, and the
   lower bound on requests that the 8 MB answer limit allows (the bytes the answers
   carried, divided by 8 MB).
2. On a smaller generated cluster, does what common AXL scripts do (listPhone with wide
   returnedTags, then getPhone and getUser per object) in its own process, and prints
   the same figures beside them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import requests
from lab_process import AUTH, COMMAND, lab_process

ANSWER_LIMIT = 8 * 1024 * 1024
NAIVE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "naive_inventory.py")


def measured(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run argv; return wall seconds, CPU seconds and peak RSS (MB) of that process alone."""
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(argv, env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read(), stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[0]} failed: {errors.decode()[-500:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024,
            "output": output}


def run_case(users: int, argv_for: callable) -> dict[str, float]:
    # A fresh state directory per run: no remembered AXL version, no audit history from earlier runs.
    with lab_process("--generate", f"users={users}") as (url, _ready), tempfile.TemporaryDirectory() as state:
        env = {**os.environ, "CUCM_SPARK_USERNAME": AUTH[0], "CUCM_SPARK_PASSWORD": AUTH[1],
               "CUCM_SPARK_STATE_DIR": state}
        figures = measured(argv_for(url), env)
        stats = requests.get(url.replace("/axl/", "/lab/stats"), auth=AUTH, timeout=30).json()
    figures["requests"] = stats["requests"]
    figures["bytes"] = stats["bytes_sent"]
    figures["lower_bound"] = max(1, math.ceil(stats["bytes_sent"] / ANSWER_LIMIT))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=40000)
    parser.add_argument("--naive-users", type=int, default=2000)
    args = parser.parse_args()
    ours = run_case(args.users, lambda url: [str(COMMAND), "audit", "--host", url, "--format", "json"])
    document = json.loads(ours.pop("output"))
    naive = run_case(args.naive_users, lambda url: [sys.executable, NAIVE, url])
    naive.pop("output")
    print(f"{'':28}{'cucm-spark audit':>20}{'per-object script':>20}")
    print(f"{'users':28}{args.users:>20}{args.naive_users:>20}")
    print(f"{'devices audited':28}{document['counts']['devices']:>20}{'':>20}")
    for key, label in (
        ("requests", "AXL requests"), ("lower_bound", "lower bound (bytes / 8 MB)"),
        ("bytes", "bytes received (MB)"), ("wall", "wall time (s)"),
        ("cpu", "client CPU time (s)"), ("rss", "client peak RSS (MB)"),
    ):
        left, right = ours[key], naive[key]
        if key == "bytes":
            left, right = left / 1e6, right / 1e6
        fmt = "{:>20.0f}" if key in ("requests", "lower_bound") else "{:>20.2f}"
        print(f"{label:28}" + fmt.format(left) + fmt.format(right))


if __name__ == "__main__":
    main()
