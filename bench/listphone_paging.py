"""Benchmark: page through every device of a generated megacluster with listPhone.

    python bench/listphone_paging.py [--users 40000]

Starts `cucm-spark lab serve --generate users=N` as a separate process, then lists all
devices (returnedTags name, model, ownerUserName) through the AXL client, following the
8 MB limit's "Suggestive Row Fetch" paging. Prints the figures the README records.
"""

from __future__ import annotations

import argparse
import time

import requests
from lab_process import AUTH, lab_process

from cucm_spark.axl.client import AxlClient
from cucm_spark.axl.endpoint import Endpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=40000)
    args = parser.parse_args()
    with lab_process("--generate", f"users={args.users}") as (url, ready):
        client = AxlClient(Endpoint.parse(url), *AUTH)
        started = time.perf_counter()
        devices = sum(
            1 for _ in client.list_all("listPhone", "phone", {"name": "%"}, ["name", "model", "ownerUserName"])
        )
        elapsed = time.perf_counter() - started
        stats = requests.get(url.replace("/axl/", "/lab/stats"), auth=AUTH, timeout=30).json()
    print(f"users                 {args.users}")
    print(f"lab ready in          {ready:.1f} s (generate, load, listen)")
    print(f"devices listed        {devices}")
    print(f"listPhone requests    {stats['operations'].get('listPhone', 0)} "
          f"({stats['http_status'].get('500', 0)} answered 'too large')")
    print(f"bytes received        {stats['bytes_sent'] / 1e6:.1f} MB")
    print(f"listPhone paging      {elapsed:.1f} s")


if __name__ == "__main__":
    main()
