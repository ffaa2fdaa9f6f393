"""CUCM release numbers, and which releases can host a Cisco Spark Remote Device.

AXL reports a version as ``11.5.1.13900(52)``; the CLI and Cisco's documents write
``11.5.1.13900-52``. Both parse to the same :class:`Release`, which compares field by
field as numbers (so SU builds ``1N900`` order correctly). The table of minimum
releases per train is data (``data/releases.json``) that a user may replace with a
file of the same shape, because some of its rows are only [likely] or [unconfirmed].
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from cucm_spark.data import load_json
from cucm_spark.errors import ConfigError

_BUNDLED = "releases.json"

# Major.minor is required; the rest may be left off ("12.5", "12.5.1"). The build
# number is "-N" (CLI form) or "(N)" (AXL form), never a mix of the two. Each field is
# ASCII digits, at most nine of them: int() takes any Unicode digit and refuses 4,300 of them.
_FIELD = r"([0-9]{1,9})"
_RELEASE_TEXT = re.compile(rf"{_FIELD}\.{_FIELD}(?:\.{_FIELD}(?:\.{_FIELD}(?:-{_FIELD}|\({_FIELD}\))?)?)?")
_TRAIN_TEXT = re.compile(rf"{_FIELD}\.{_FIELD}")
_SHOWN = 60


class Confidence(str, Enum):
    """How sure we are of a fact, as marked in domain.md."""

    CONFIRMED = "confirmed"
    LIKELY = "likely"
    UNCONFIRMED = "unconfirmed"


@dataclass(frozen=True, order=True)
class Release:
    """A CUCM release such as 11.5.1.13900-52; ordered numerically, field by field."""

    major: int
    minor: int = 0
    maintenance: int = 0
    build: int = 0
    patch: int = 0

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.maintenance}.{self.build}-{self.patch}"

    @property
    def axl_form(self) -> str:
        """The form AXL's getCCMVersion reports: ``11.5.1.13900(52)``."""
        return f"{self.major}.{self.minor}.{self.maintenance}.{self.build}({self.patch})"

    @property
    def train(self) -> str:
        """The major train, ``major.minor``: "10.5", "11.0", "12.5"."""
        return f"{self.major}.{self.minor}"

    @property
    def train_key(self) -> tuple[int, int]:
        """The train as numbers, for ordering trains ("9.1" before "10.0")."""
        return (self.major, self.minor)


def parse_release(text: str) -> Release:
    """Read ``11.5.1.13900(52)``, ``11.5.1.13900-52``, ``12.5.1`` or ``12.5``.

    Raises ConfigError for anything else, naming the bad string.
    """
    match = _RELEASE_TEXT.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ConfigError(
            f"not a CUCM release: {_shown(text)} (expected e.g. 11.5.1.13900-52 or 11.5.1.13900(52))"
        )
    major, minor, maintenance, build, dash_patch, paren_patch = match.groups()
    patch = dash_patch if dash_patch is not None else paren_patch
    return Release(
        int(major),
        int(minor),
        int(maintenance or 0),
        int(build or 0),
        int(patch or 0),
    )


@dataclass(frozen=True)
class TrainMinimum:
    """The first release of a train that supports Spark-RDs, with its name and certainty."""

    train: str
    minimum: Release
    name: str
    confidence: Confidence

    @property
    def train_key(self) -> tuple[int, int]:
        return self.minimum.train_key


@dataclass(frozen=True)
class ReleaseTable:
    """Spark-RD minimum per train (oldest train first) and known build names.

    The newest train listed also covers every later train (the "12.0 and later" row);
    a train older than the oldest listed has no Spark-RD at all; a train missing from
    between two listed trains is treated as not supporting Spark-RDs, because we know
    nothing about it.
    """

    minimums: tuple[TrainMinimum, ...]
    named_builds: Mapping[Release, str]

    @classmethod
    def load(cls, path: Path | None = None) -> ReleaseTable:
        """The bundled table, or a user's JSON file of the same shape."""
        source = str(path) if path is not None else f"bundled {_BUNDLED}"
        return cls.from_document(_load(path), source)

    @classmethod
    def from_document(cls, document: object, source: str = "release table") -> ReleaseTable:
        """Build a table from parsed JSON; raise ConfigError naming what is wrong."""
        if not isinstance(document, dict) or not isinstance(document.get("spark_rd_minimum"), list):
            raise ConfigError(f"{source}: expected an object with a 'spark_rd_minimum' list")
        minimums = tuple(
            sorted(
                (_train_minimum(entry, source) for entry in document["spark_rd_minimum"]),
                key=lambda row: row.train_key,
            )
        )
        if not minimums:
            raise ConfigError(f"{source}: 'spark_rd_minimum' is empty")
        trains = [row.train for row in minimums]
        if len(set(trains)) != len(trains):
            raise ConfigError(f"{source}: a train is listed twice in 'spark_rd_minimum'")
        names = {row.minimum: row.name for row in minimums}
        builds = document.get("named_builds", [])
        if not isinstance(builds, list):
            raise ConfigError(f"{source}: 'named_builds' must be a list")
        for entry in builds:
            build, name = _named_build(entry, source)
            names[build] = name
        return cls(minimums, names)

    def rule_for(self, release: Release) -> TrainMinimum | None:
        """The row that decides Spark-RD support for this release's train, if any."""
        for row in self.minimums:
            if row.train_key == release.train_key:
                return row
        newest = self.minimums[-1]
        return newest if release.train_key > newest.train_key else None

    def spark_rd_minimum(self, release: Release) -> Release | None:
        """The lowest release of this train that supports Spark-RDs; None if none does."""
        rule = self.rule_for(release)
        return rule.minimum if rule is not None else None

    def supports_spark_rd(self, release: Release) -> bool:
        minimum = self.spark_rd_minimum(release)
        return minimum is not None and release >= minimum

    def upgrade_target(self, release: Release) -> Release | None:
        """The release to upgrade to for Spark-RDs; None when this one already supports them.

        Within a train that has a minimum, that minimum (the smallest step); otherwise
        the minimum of the nearest newer train (10.0 -> 10.5(2)SU5).
        """
        if self.supports_spark_rd(release):
            return None
        rule = self.rule_for(release)
        if rule is not None:
            return rule.minimum
        newer = [row for row in self.minimums if row.train_key > release.train_key]
        return newer[0].minimum if newer else None

    def describe(self, release: Release) -> str:
        """Cisco's name for a known build ("12.5(1)SU1"), else the dash form."""
        return self.named_builds.get(release, str(release))


def _train_minimum(entry: object, source: str) -> TrainMinimum:
    if not isinstance(entry, dict):
        raise ConfigError(f"{source}: each 'spark_rd_minimum' entry must be an object")
    missing = [key for key in ("train", "minimum", "name", "confidence") if key not in entry]
    if missing:
        raise ConfigError(f"{source}: entry {_shown(entry)} lacks {', '.join(missing)}")
    minimum = parse_release(entry["minimum"])
    if not isinstance(entry["train"], str) or not _TRAIN_TEXT.fullmatch(entry["train"]):
        raise ConfigError(f"{source}: train {_shown(entry['train'])} is not major.minor like 11.5")
    if entry["train"] != minimum.train:
        raise ConfigError(f"{source}: minimum {entry['minimum']} is not in train {entry['train']}")
    try:
        confidence = Confidence(entry["confidence"])
    except ValueError as exc:
        raise ConfigError(
            f"{source}: confidence {_shown(entry['confidence'])} is not one of "
            + ", ".join(level.value for level in Confidence)
        ) from exc
    return TrainMinimum(entry["train"], minimum, str(entry["name"]), confidence)


def _named_build(entry: object, source: str) -> tuple[Release, str]:
    if not isinstance(entry, dict) or "build" not in entry or "name" not in entry:
        raise ConfigError(f"{source}: each 'named_builds' entry needs 'build' and 'name'")
    return parse_release(entry["build"]), str(entry["name"])


def _shown(text: object) -> str:
    """The bad value as the error names it: its repr, cut short when long."""
    shown = repr(text)
    return shown if len(shown) <= _SHOWN else f"{shown[:_SHOWN]}… ({len(shown)} characters)"


def _load(path: Path | None) -> object:
    return load_json(_BUNDLED, path, "release table")
