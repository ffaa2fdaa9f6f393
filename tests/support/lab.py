"""Start labs for tests: in-process servers on free loopback ports, spoken to over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from cucm_spark.lab.runner import LabSpec, build_lab
from cucm_spark.lab.server import DEFAULT_PASSWORD, DEFAULT_USERNAME, LabServer, LabSettings

CLUSTERS = Path(__file__).resolve().parents[2] / "fixtures" / "clusters"
AUTH = (DEFAULT_USERNAME, DEFAULT_PASSWORD)


@contextmanager
def running_lab(settings: LabSettings | None = None, **spec: object) -> Iterator[LabServer]:
    """A lab built from LabSpec fields (dataset=…, generate=…, cucm_version=…), serving."""
    server = build_lab(LabSpec(**spec), settings)  # type: ignore[arg-type]
    server.start()
    try:
        yield server
    finally:
        server.stop()


def lab_stats(server: LabServer) -> dict:
    return requests.get(server.url.replace("/axl/", "/lab/stats"), auth=AUTH, timeout=10).json()


def lab_config(server: LabServer, **changes: object) -> dict:
    response = requests.post(server.url.replace("/axl/", "/lab/config"), auth=AUTH,
                             data=json.dumps(changes), timeout=10)
    response.raise_for_status()
    return response.json()
