"""Audit history: every audit of every cluster in SQLite, its trend, drift between runs, and CTI-RD age.

One database, ``state_dir()/history.db`` (mode 0600, WAL). Each run keeps the whole audit
document (``cucm-spark.audit/1``, as zlib-compressed JSON), the counts and tiers that trends
read, and one row per user-owned device, from which first sightings of CTI-RDs are found.
Writers take the database with ``BEGIN IMMEDIATE`` and a busy timeout, so two processes
recording at once wait for each other instead of failing or corrupting it.

``diff`` and ``window_warnings`` are pure functions: no database, no clock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cucm_spark.audit import SCHEMA
from cucm_spark.errors import JournalError
from cucm_spark.paths import create_private, private_dir, state_dir

POLICY_WINDOW_DAYS = 60
WARN_BEFORE_DAYS = 14
BUSY_TIMEOUT_MS = 30_000
_SCHEMA_VERSION = 1
_DDL = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cluster TEXT NOT NULL,
    taken_at TEXT NOT NULL,
    users INTEGER NOT NULL,
    cti_rd INTEGER NOT NULL,
    cti_rd_hybrid INTEGER NOT NULL,
    spark_rd INTEGER NOT NULL,
    deficiency_users INTEGER NOT NULL,
    licensing TEXT NOT NULL,
    tiers_now TEXT NOT NULL,
    tiers_after TEXT NOT NULL,
    document BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_cluster ON runs (cluster, id);
CREATE TABLE IF NOT EXISTS devices (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    userid TEXT NOT NULL,
    device TEXT NOT NULL,
    kind TEXT NOT NULL,
    hybrid INTEGER
);
CREATE INDEX IF NOT EXISTS devices_by_run ON devices (run_id);
CREATE INDEX IF NOT EXISTS devices_by_kind ON devices (kind, device);
"""


class HistoryError(JournalError):
    """The history database cannot be opened, is busy past the timeout, or is not ours."""


def default_history_path() -> Path:
    return state_dir() / "history.db"


@dataclass(frozen=True)
class HistoryRow:
    """One recorded audit, as a trend reads it."""

    id: int
    cluster: str
    taken_at: datetime
    users: int
    cti_rd: int
    cti_rd_hybrid: int
    spark_rd: int
    deficiency_users: int
    licensing: str
    tiers_now: Mapping[str, int] = field(default_factory=dict)
    tiers_after: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DeviceChange:
    """A CTI-RD or Spark-RD that appeared or went away between two audits."""

    name: str
    owner: str
    hybrid: bool | None = None


@dataclass(frozen=True)
class TierChange:
    """A user whose tier now differs between two audits (None: no tier, or not a user then)."""

    userid: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class Drift:
    """What changed between two audits of one cluster."""

    cti_rd_added: tuple[DeviceChange, ...] = ()
    cti_rd_removed: tuple[DeviceChange, ...] = ()
    spark_rd_added: tuple[DeviceChange, ...] = ()
    spark_rd_removed: tuple[DeviceChange, ...] = ()
    tier_changes: tuple[TierChange, ...] = ()
    counts: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.cti_rd_added or self.cti_rd_removed or self.spark_rd_added or self.spark_rd_removed
                    or self.tier_changes)

    def as_dict(self) -> dict[str, object]:
        def devices(changes: tuple[DeviceChange, ...]) -> list[dict[str, object]]:
            return [{"name": c.name, "owner": c.owner, **({"hybrid": c.hybrid} if c.hybrid is not None else {})}
                    for c in changes]

        return {
            "cti_rd": {"added": devices(self.cti_rd_added), "removed": devices(self.cti_rd_removed)},
            "spark_rd": {"added": devices(self.spark_rd_added), "removed": devices(self.spark_rd_removed)},
            "tier_changes": [{"userid": t.userid, "old": t.old, "new": t.new} for t in self.tier_changes],
            "counts": {key: {"old": old, "new": new} for key, (old, new) in self.counts.items()},
        }


class History:
    """The history database; safe to share between threads, and between processes through SQLite."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else default_history_path()
        self._lock = threading.Lock()
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            private_dir(self.path.parent)
            create_private(self.path)  # SQLite's -wal/-shm files copy its mode
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                 check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"cannot open the history {self.path}: {exc}") from exc
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA foreign_keys = ON")
            with self._write(db):
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version > _SCHEMA_VERSION:
                    raise HistoryError(f"{self.path} was written by a newer cucm-spark (schema {version})")
                _create(db)  # not executescript: it would commit the transaction first
                db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            db.close()
            raise HistoryError(f"the history {self.path} is not usable: {exc}") from exc
        return db

    @contextmanager
    def _write(self, db: sqlite3.Connection | None = None) -> Iterator[sqlite3.Connection]:
        """One write transaction; BEGIN IMMEDIATE takes the write lock up front, waiting up to the busy timeout."""
        db = db or self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, cluster_name: str, document: Mapping[str, Any], taken_at: datetime) -> int:
        """Store one audit document; the id of the new run."""
        if document.get("schema") != SCHEMA:
            raise ValueError(f"not an audit document of schema {SCHEMA}: {document.get('schema')!r}")
        counts, licenses = document["counts"], document["licenses"]
        blob = zlib.compress(json.dumps(document, separators=(",", ":")).encode("utf-8"), 6)
        devices = [
            (user["userid"], device["name"], device["kind"], _hybrid(device))
            for user in document["users"] for device in user["devices"]
        ]
        try:
            with self._lock, self._write() as db:
                cursor = db.execute(
                    "INSERT INTO runs (cluster, taken_at, users, cti_rd, cti_rd_hybrid, spark_rd, deficiency_users,"
                    " licensing, tiers_now, tiers_after, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (cluster_name, _stamp(taken_at), counts["users"], counts["cti_rd"], counts["cti_rd_hybrid"],
                     counts["spark_rd"], document["deficiency"]["users"], document["licensing"],
                     json.dumps(licenses["now"]), json.dumps(licenses["after_migration"]), blob),
                )
                run_id = int(cursor.lastrowid or 0)
                db.executemany("INSERT INTO devices (run_id, userid, device, kind, hybrid) VALUES (?, ?, ?, ?, ?)",
                               [(run_id, *row) for row in devices])
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot record the audit of {cluster_name} in {self.path}: {exc}") from exc
        return run_id

    def runs(self, cluster_name: str | None = None, limit: int = 100) -> list[HistoryRow]:
        """The latest ``limit`` runs (of one cluster, or all), oldest first: a trend reads left to right."""
        where, args = ("WHERE cluster = ?", [cluster_name]) if cluster_name is not None else ("", [])
        rows = self._read(
            f"SELECT id, cluster, taken_at, users, cti_rd, cti_rd_hybrid, spark_rd, deficiency_users, licensing,"
            f" tiers_now, tiers_after FROM runs {where} ORDER BY id DESC LIMIT ?", (*args, limit))
        return [_row(values) for values in reversed(rows)]

    def clusters(self) -> list[str]:
        """Every cluster name with at least one run, sorted."""
        return [name for (name,) in self._read("SELECT DISTINCT cluster FROM runs ORDER BY cluster", ())]

    def document(self, run_id: int) -> dict[str, Any] | None:
        rows = self._read("SELECT document FROM runs WHERE id = ?", (run_id,))
        return _document(rows[0][0]) if rows else None

    def latest(self, cluster_name: str) -> tuple[HistoryRow, dict[str, Any]] | None:
        """The newest run of a cluster and its document."""
        runs = self.runs(cluster_name, limit=1)
        if not runs:
            return None
        document = self.document(runs[0].id)
        return (runs[0], document) if document is not None else None

    def previous(self, cluster_name: str, before_id: int) -> dict[str, Any] | None:
        """The document of the cluster's run recorded just before run ``before_id``."""
        rows = self._read("SELECT document FROM runs WHERE cluster = ? AND id < ? ORDER BY id DESC LIMIT 1",
                          (cluster_name, before_id))
        return _document(rows[0][0]) if rows else None

    def cti_rd_first_seen(self, cluster_name: str, hybrid_only: bool = True) -> dict[str, datetime]:
        """When each CTI-RD of the cluster's latest run was first seen in its history.

        Only Hybrid Call CTI-RDs by default: the policy's window concerns them; Extend and
        Connect CTI-RDs are left alone. Only owned devices are recorded per device.
        """
        hybrid = " AND latest.hybrid = 1" if hybrid_only else ""
        rows = self._read(
            "SELECT latest.device, MIN(runs.taken_at) FROM devices AS latest"
            " JOIN devices AS seen ON seen.device = latest.device AND seen.kind = 'cti_rd'"
            " JOIN runs ON runs.id = seen.run_id AND runs.cluster = ?"
            " WHERE latest.kind = 'cti_rd' AND latest.run_id ="
            " (SELECT MAX(id) FROM runs WHERE cluster = ?)" + hybrid +
            " GROUP BY latest.device ORDER BY latest.device",
            (cluster_name, cluster_name))
        return {device: _parse(stamp) for device, stamp in rows}

    def _read(self, sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot read the history {self.path}: {exc}") from exc


def _create(db: sqlite3.Connection) -> None:
    for statement in _DDL.split(";"):
        if statement.strip():
            db.execute(statement)


def _hybrid(device: Mapping[str, Any]) -> int | None:
    return None if "hybrid" not in device else int(bool(device["hybrid"]))


def _stamp(moment: datetime) -> str:
    """ISO 8601 in UTC, so that text order is time order; a naive time is taken as UTC."""
    return _aware(moment).astimezone(timezone.utc).isoformat(timespec="seconds")


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def _document(blob: bytes) -> dict[str, Any]:
    return json.loads(zlib.decompress(blob).decode("utf-8"))


def _row(values: tuple[Any, ...]) -> HistoryRow:
    run_id, cluster, taken_at, users, cti_rd, hybrid, spark_rd, deficiency, licensing, now, after = values
    return HistoryRow(run_id, cluster, _parse(taken_at), users, cti_rd, hybrid, spark_rd, deficiency, licensing,
                      json.loads(now), json.loads(after))


# -- pure: drift and the policy window -------------------------------------------------------------

_COUNTS_COMPARED = ("users", "devices", "cti_rd", "cti_rd_hybrid", "spark_rd")


def _devices_of(document: Mapping[str, Any], kind: str) -> dict[str, DeviceChange]:
    return {
        device["name"]: DeviceChange(device["name"], user["userid"], device.get("hybrid"))
        for user in document.get("users", []) for device in user["devices"] if device["kind"] == kind
    }


def diff(old_doc: Mapping[str, Any], new_doc: Mapping[str, Any]) -> Drift:
    """CTI-RDs and Spark-RDs added and removed (by device name), users whose tier now changed."""
    changes: dict[str, tuple[tuple[DeviceChange, ...], tuple[DeviceChange, ...]]] = {}
    for kind in ("cti_rd", "spark_rd"):
        old, new = _devices_of(old_doc, kind), _devices_of(new_doc, kind)
        changes[kind] = (tuple(new[name] for name in sorted(new.keys() - old.keys())),
                         tuple(old[name] for name in sorted(old.keys() - new.keys())))
    old_tiers = {user["userid"]: user.get("tier_now") for user in old_doc.get("users", [])}
    new_tiers = {user["userid"]: user.get("tier_now") for user in new_doc.get("users", [])}
    tiers = tuple(
        TierChange(userid, old_tiers.get(userid), new_tiers.get(userid))
        for userid in sorted(old_tiers.keys() | new_tiers.keys(), key=str.lower)
        if old_tiers.get(userid) != new_tiers.get(userid)
    )
    old_counts, new_counts = old_doc.get("counts", {}), new_doc.get("counts", {})
    counts = {key: (old_counts.get(key, 0), new_counts.get(key, 0)) for key in _COUNTS_COMPARED
              if old_counts.get(key, 0) != new_counts.get(key, 0)}
    return Drift(changes["cti_rd"][0], changes["cti_rd"][1], changes["spark_rd"][0], changes["spark_rd"][1],
                 tiers, counts)


def window_warnings(
    first_seen: Mapping[str, datetime],
    now: datetime,
    window_days: int = POLICY_WINDOW_DAYS,
    warn_before_days: int = WARN_BEFORE_DAYS,
) -> list[str]:
    """A warning per CTI-RD whose policy window (from its first sighting) ends within the warning time or has ended."""
    now = _aware(now)
    warnings = []
    for device, seen in sorted(first_seen.items(), key=lambda item: (_aware(item[1]), item[0])):
        ends = _aware(seen) + timedelta(days=window_days)
        if ends - now > timedelta(days=warn_before_days):
            continue
        first, last = seen.date().isoformat(), ends.date().isoformat()
        if ends <= now:
            ago = (now - ends).days
            warnings.append(f"CTI-RD {device}: first seen {first}; its {window_days}-day window ended {last} "
                            f"({_days(ago)} ago): migrate it to a Spark-RD")
        else:
            left = ends - now
            warnings.append(f"CTI-RD {device}: first seen {first}; its {window_days}-day window ends {last} "
                            f"(in {_days(left.days + (1 if left.seconds or left.microseconds else 0))})")
    return warnings


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"
