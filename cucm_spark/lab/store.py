"""The lab's database: SQLite tables shaped like CUCM's, seeded with factory defaults."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from cucm_spark.lab import catalog

# Tables a test may dump and compare, in an order that respects foreign keys.
DUMPED_TABLES = (
    "routepartition",
    "callingsearchspace",
    "devicepool",
    "location",
    "commonphoneconfig",
    "presencegroup",
    "enduser",
    "numplan",
    "device",
    "devicenumplanmap",
    "enduserdevicemap",
    "remotedestination",
)


def new_pkid() -> str:
    """A CUCM-style primary key: a lower-case GUID."""
    return str(uuid.uuid4())


class Store:
    """One SQLite database behind one lock; every request runs in one transaction."""

    def __init__(self, path: Path | None = None) -> None:
        target = str(path) if path else ":memory:"
        existing = bool(path and path.exists() and path.stat().st_size)
        self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA foreign_keys = ON")
        if path:
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
        self._lock = threading.RLock()
        self.is_new = not existing
        if self.is_new:
            self._create()

    def _create(self) -> None:
        schema = resources.files("cucm_spark.lab").joinpath("schema.sql").read_text()
        with self._lock:
            self._conn.executescript(schema)
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO typedeviceprotocol (enum, name) VALUES (?, ?)",
                catalog.PROTOCOLS.items(),
            )
            db.execute("INSERT INTO typeclass (enum, name) VALUES (?, 'Phone')", (catalog.PHONE_CLASS,))
            db.executemany(
                "INSERT INTO typemodel (enum, name, moniker, tkdeviceprotocol) VALUES (?, ?, ?, ?)",
                catalog.MODELS,
            )
            for table, names in catalog.FACTORY_DEFAULTS.items():
                self.insert_names(db, table, names)

    @staticmethod
    def insert_names(db: sqlite3.Connection, table: str, names: Iterator[str] | tuple[str, ...]) -> None:
        """Create named rows (partitions, device pools, …) that do not exist yet."""
        db.executemany(
            f"INSERT OR IGNORE INTO {table} (pkid, name) VALUES (?, ?)",
            ((new_pkid(), name) for name in names),
        )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection, locked, inside BEGIN … COMMIT (ROLLBACK on any exception)."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, locked, for reads that need no transaction of their own."""
        with self._lock:
            yield self._conn

    def dump(self) -> dict[str, list[dict[str, object]]]:
        """Every user-visible table as sorted rows, for tests that compare states."""
        with self.reading() as db:
            return {
                table: [dict(row) for row in db.execute(f"SELECT * FROM {table} ORDER BY pkid")]
                for table in DUMPED_TABLES
            }

    def close(self) -> None:
        with self._lock:
            self._conn.close()
