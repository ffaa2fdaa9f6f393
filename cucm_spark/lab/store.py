"""The lab's database: SQLite tables shaped like CUCM's, seeded with factory defaults."""

from __future__ import annotations

import os
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


_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def new_pkids(count: int) -> list[str]:
    """``count`` random version-4 GUIDs in ascending order, for a bulk load.

    One urandom call and string slicing instead of a uuid.UUID per row. Handing them
    out in ascending order makes each index on a pkid (the table's own, and those of
    the maps that point at it) grow at its end instead of splitting pages at random:
    the single largest cost of loading a large dataset.
    """
    raw = os.urandom(16 * count).hex()
    pkids = [
        f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"
        for h in (raw[i : i + 32] for i in range(0, 32 * count, 32))
    ]
    pkids.sort()
    return pkids


class Store:
    """One SQLite database behind one lock; every request runs in one transaction."""

    def __init__(self, path: Path | None = None) -> None:
        target = str(path) if path else ":memory:"
        existing = bool(path and path.exists() and path.stat().st_size)
        self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self.is_new = not existing
        try:
            self._conn.execute("PRAGMA foreign_keys = ON")
            if path:
                self._conn.execute("PRAGMA journal_mode = WAL")  # the first read: fails on a file that is not SQLite
                self._conn.execute("PRAGMA synchronous = NORMAL")
            if self.is_new:
                self._create()
        except BaseException:
            self._conn.close()
            raise

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
    def bulk_load(self) -> Iterator[sqlite3.Connection]:
        """A transaction for loading a whole dataset at once.

        Foreign keys are checked once at the end (PRAGMA foreign_key_check) instead of
        per row, and the secondary indexes are dropped and built once after the rows are
        in; together that is most of the time a 40,000-user load takes. Anything that
        goes wrong rolls everything back, indexes included.
        """
        with self._lock:
            self._conn.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction: set it first
            try:
                with self.transaction() as db:
                    indexes = db.execute(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                    ).fetchall()
                    for index in indexes:
                        db.execute(f"DROP INDEX {index['name']}")
                    yield db
                    for index in indexes:
                        db.execute(index["sql"])
                    broken = db.execute("PRAGMA foreign_key_check").fetchone()
                    if broken is not None:
                        raise sqlite3.IntegrityError(f"{broken[0]} row {broken[1]} points at a missing {broken[2]}")
            finally:
                self._conn.execute("PRAGMA foreign_keys = ON")

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
