"""Assemble a lab from command-line choices: store, dataset or generator, release, TLS."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cucm_spark.lab import generator
from cucm_spark.lab.dataset import DatasetError, load_dataset, read_dataset
from cucm_spark.lab.release import LabRelease, UnknownRelease
from cucm_spark.lab.server import LabServer, LabSettings
from cucm_spark.lab.store import Store
from cucm_spark.lab.tls import write_self_signed

DEFAULT_RELEASE = "14.0.1.10000-20"
BUNDLED_DATASET = "edge-cases.json"


class LabSetupError(ValueError):
    """A lab that cannot be built from what was asked: a one-line reason."""


@dataclass(frozen=True)
class LabSpec:
    """Everything `cucm-spark lab serve` (or `--lab`) can choose."""

    cucm_version: str | None = None
    dataset: Path | None = None
    generate: str | None = None
    state: Path | None = None
    host: str = "127.0.0.1"
    port: int = 0
    tls: bool = False
    cert_dir: Path | None = None


def bundled_dataset_path() -> Path:
    return Path(str(resources.files("cucm_spark.fixtures").joinpath("clusters", BUNDLED_DATASET)))


def build_lab(spec: LabSpec, settings: LabSettings | None = None) -> LabServer:
    """A lab server, not yet serving; LabSetupError or LabStartError when it cannot be built."""
    if spec.dataset and spec.generate:
        raise LabSetupError("choose --dataset or --generate, not both")
    store = Store(spec.state)
    try:
        release_text = _fill(store, spec)
        release = LabRelease.parse(spec.cucm_version or release_text or DEFAULT_RELEASE)
    except (DatasetError, UnknownRelease, ValueError) as exc:
        store.close()
        raise LabSetupError(str(exc)) from exc
    with store.transaction() as db:
        db.execute("INSERT OR REPLACE INTO labmeta (key, value) VALUES ('release', ?)", (str(release),))
    certificate = None
    if spec.tls:
        directory = spec.cert_dir or Path(tempfile.mkdtemp(prefix="cucm-spark-lab-"))
        certificate = write_self_signed(directory, spec.host)
    return LabServer(store, release, settings, spec.host, spec.port, certificate)


def _fill(store: Store, spec: LabSpec) -> str | None:
    """Load the data a new store needs; return the release the data asks for."""
    if not store.is_new:
        if spec.dataset or spec.generate:
            raise LabSetupError(f"state file {spec.state} already holds a cluster; drop --dataset/--generate")
        with store.reading() as db:
            row = db.execute("SELECT value FROM labmeta WHERE key = 'release'").fetchone()
        return row["value"] if row else None
    if spec.generate:
        data = generator.generate(**generator.parse_spec(spec.generate))
        source = f"--generate {spec.generate}"
    else:
        path = spec.dataset or bundled_dataset_path()
        data, source = read_dataset(path), str(path)
    load_dataset(store, data, source)
    return data.get("release")
