"""Assemble a lab from command-line choices: store, dataset or generator, release, TLS."""

from __future__ import annotations

import contextlib
import sqlite3
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
    """The bundled edge-case cluster, installed or (from a source checkout) in ../fixtures."""
    try:
        return Path(str(resources.files("cucm_spark.fixtures").joinpath("clusters", BUNDLED_DATASET)))
    except ModuleNotFoundError:
        # Run from the repository (python -m pytest puts it first on sys.path), the
        # package-dir mapping that installs fixtures/ as cucm_spark.fixtures does not apply.
        return Path(__file__).resolve().parents[2] / "fixtures" / "clusters" / BUNDLED_DATASET


def build_lab(spec: LabSpec, settings: LabSettings | None = None) -> LabServer:
    """A lab server, not yet serving; LabSetupError or LabStartError when it cannot be built.

    When building fails after a new state file was created, the file is removed again:
    a half-made state would otherwise be taken for a cluster on the next start (and
    refuse the very --dataset that failed to load, or serve an empty cluster).
    """
    if spec.dataset is not None and spec.generate is not None:
        raise LabSetupError("choose --dataset or --generate, not both")
    store = _open_store(spec.state)
    try:
        release = _prepare(store, spec)
        certificate = None
        if spec.tls:
            directory = spec.cert_dir or Path(tempfile.mkdtemp(prefix="cucm-spark-lab-"))
            try:
                certificate = write_self_signed(directory, spec.host)
            except OSError as exc:
                raise LabSetupError(f"cannot write the lab certificate in {directory}: {exc.strerror or exc}") from exc
        return LabServer(store, release, settings, spec.host, spec.port, certificate)
    except BaseException:
        store.close()
        if store.is_new and spec.state is not None:
            _remove_state(spec.state)
        raise


def _open_store(state: Path | None) -> Store:
    try:
        return Store(state)
    except sqlite3.Error as exc:
        raise LabSetupError(f"cannot use state file {state}: {exc}") from exc


def _prepare(store: Store, spec: LabSpec) -> LabRelease:
    """Fill the store (or read what it holds) and settle the release; LabSetupError on any bad input."""
    try:
        release_text = _fill(store, spec)
        # `is not None`, not `or`: an empty --cucm-version is a mistake to report, not a default.
        chosen = spec.cucm_version if spec.cucm_version is not None else release_text
        release = LabRelease.parse(chosen if chosen is not None else DEFAULT_RELEASE)
        with store.transaction() as db:
            db.execute("INSERT OR REPLACE INTO labmeta (key, value) VALUES ('release', ?)", (str(release),))
    except (DatasetError, UnknownRelease, ValueError) as exc:
        raise LabSetupError(str(exc)) from exc
    except sqlite3.Error as exc:  # a state file that is SQLite but not a lab's
        raise LabSetupError(f"state file {spec.state} is not a cucm-spark lab database ({exc})") from exc
    return release


def _remove_state(state: Path) -> None:
    for path in (state, state.with_name(state.name + "-wal"), state.with_name(state.name + "-shm")):
        with contextlib.suppress(OSError):
            path.unlink()


def _fill(store: Store, spec: LabSpec) -> str | None:
    """Load the data a new store needs; return the release the data asks for."""
    if not store.is_new:
        if spec.dataset is not None or spec.generate is not None:
            raise LabSetupError(f"state file {spec.state} already holds a cluster; drop --dataset/--generate")
        with store.reading() as db:
            row = db.execute("SELECT value FROM labmeta WHERE key = 'release'").fetchone()
        return row["value"] if row else None
    if spec.generate is not None:  # an empty --generate is a bad spec, not "use the bundled cluster"
        data = generator.generate(**generator.parse_spec(spec.generate))
        source = f"--generate {spec.generate}"
    else:
        path = spec.dataset or bundled_dataset_path()
        data, source = read_dataset(path), str(path)
    load_dataset(store, data, source)
    return data.get("release")
