"""Audit history: recording documents, the trend, drift between runs, CTI-RD age, and two writers at once."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cucm_spark.audit import AuditRules, audit_document, run_audit
from cucm_spark.history import (
    DeviceChange,
    History,
    HistoryError,
    TierChange,
    default_history_path,
    diff,
    window_warnings,
)
from cucm_spark.inventory.model import Device, DeviceKind, Inventory, RemoteDestination, User
from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.releases import ReleaseTable

T0 = datetime(2024, 3, 1, 6, 0, tzinfo=timezone.utc)
RULES = AuditRules(ReleaseTable.load(), CategoryMap.load(), spark_seats=10)


def cti_rd(owner: str, name: str, hybrid: bool = True) -> Device:
    destination = f"{owner}@acme.call.ciscospark.com" if hybrid else "+14085551234"
    return Device(name, "CTI Remote Device", DeviceKind.CTI_RD, owner=owner, hybrid=hybrid,
                  remote_destinations=(RemoteDestination(destination, owner=owner, device=name),))


def spark_rd(owner: str, name: str) -> Device:
    return Device(name, "Cisco Spark Remote Device", DeviceKind.SPARK_RD, owner=owner)


def phone(owner: str) -> Device:
    return Device(f"SEP{owner.upper()}", "Cisco 8841", DeviceKind.DESK_PHONE, owner=owner)


def document(*extra: Device, users: tuple[str, ...] = ("ann", "bob", "cy")) -> dict:
    """Everyone has a desk phone; ``extra`` adds CTI-RDs and Spark-RDs."""
    devices = tuple(phone(u) for u in users) + extra
    inventory = Inventory("11.5.1.13900(52)", users=tuple(User(u) for u in users), devices=devices)
    return audit_document(run_audit(inventory, RULES, "https://cucm-a.example.com:8443/axl/", "sql"))


@pytest.fixture
def history(tmp_path: Path) -> History:
    with History(tmp_path / "state" / "history.db") as opened:
        yield opened


# -- recording and the trend -----------------------------------------------------------------------

def test_a_run_keeps_the_document_counts_tiers_and_devices(history: History) -> None:
    doc = document(cti_rd("ann", "CTIRDANN"), cti_rd("bob", "CTIRDBOB", hybrid=False))
    run_id = history.record("lab-a", doc, T0)

    assert history.document(run_id) == doc
    (row,) = history.runs("lab-a")
    assert (row.id, row.cluster, row.taken_at) == (run_id, "lab-a", T0)
    assert (row.users, row.cti_rd, row.cti_rd_hybrid, row.spark_rd) == (3, 2, 1, 0)
    assert row.deficiency_users == doc["deficiency"]["users"] == 1  # bob's CTI-RD is Extend and Connect
    assert row.tiers_now == doc["licenses"]["now"] and row.tiers_after == doc["licenses"]["after_migration"]
    assert row.licensing == "ucl"
    stored = sqlite3.connect(history.path).execute(
        "SELECT userid, device, kind, hybrid FROM devices WHERE run_id = ? ORDER BY device", (run_id,)).fetchall()
    assert stored == [("ann", "CTIRDANN", "cti_rd", 1), ("bob", "CTIRDBOB", "cti_rd", 0),
                      ("ann", "SEPANN", "desk_phone", None), ("bob", "SEPBOB", "desk_phone", None),
                      ("cy", "SEPCY", "desk_phone", None)]


def test_the_database_is_private_and_in_wal_mode(history: History) -> None:
    history.record("lab-a", document(), T0)
    assert stat.S_IMODE(os.stat(history.path).st_mode) == 0o600
    assert sqlite3.connect(history.path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_default_path_is_in_the_state_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CUCM_SPARK_STATE_DIR", str(tmp_path / "state"))
    assert default_history_path() == tmp_path / "state" / "history.db"
    with History() as opened:
        assert opened.path == tmp_path / "state" / "history.db"


def test_runs_are_the_latest_oldest_first_per_cluster(history: History) -> None:
    for day in range(5):
        extra = tuple(cti_rd(u, f"CTIRD{u.upper()}") for u in ("ann", "bob", "cy")[: 3 - day % 4])
        history.record("lab-a", document(*extra), T0 + timedelta(days=day))
        history.record("lab-b", document(), T0 + timedelta(days=day, hours=1))

    trend = history.runs("lab-a", limit=3)
    assert [row.taken_at.day for row in trend] == [3, 4, 5]
    assert [row.cti_rd for row in trend] == [1, 0, 3]
    assert {row.cluster for row in history.runs(None, limit=100)} == {"lab-a", "lab-b"}
    assert len(history.runs(None, limit=100)) == 10
    assert history.clusters() == ["lab-a", "lab-b"]
    latest = history.latest("lab-b")
    assert latest is not None and latest[0].taken_at == T0 + timedelta(days=4, hours=1)
    assert history.latest("lab-z") is None


def test_previous_is_the_run_of_the_same_cluster_just_before(history: History) -> None:
    first = history.record("lab-a", document(cti_rd("ann", "CTIRDANN")), T0)
    history.record("lab-b", document(), T0 + timedelta(hours=1))
    second = history.record("lab-a", document(), T0 + timedelta(days=1))

    assert history.previous("lab-a", second) == history.document(first)
    assert history.previous("lab-a", first) is None
    assert history.previous("lab-c", second) is None


def test_a_document_of_another_schema_is_refused(history: History) -> None:
    with pytest.raises(ValueError, match="cucm-spark.audit/1"):
        history.record("lab-a", {"schema": "something/2"}, T0)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    path.write_bytes(b"not sqlite at all " * 100)
    with pytest.raises(HistoryError, match="history.db is not usable"):
        History(path)


# -- drift -----------------------------------------------------------------------------------------

def test_diff_names_devices_added_and_removed_and_tier_changes() -> None:
    old = document(cti_rd("ann", "CTIRDANN"), cti_rd("bob", "CTIRDBOB", hybrid=False), spark_rd("cy", "SPARKCY"))
    new = document(cti_rd("bob", "CTIRDBOB", hybrid=False), spark_rd("ann", "SPARKANN"), cti_rd("cy", "CTIRDCY"),
                   users=("ann", "bob", "cy", "dee"))
    drift = diff(old, new)

    assert drift.cti_rd_added == (DeviceChange("CTIRDCY", "cy", True),)
    assert drift.cti_rd_removed == (DeviceChange("CTIRDANN", "ann", True),)
    assert drift.spark_rd_added == (DeviceChange("SPARKANN", "ann"),)
    assert drift.spark_rd_removed == (DeviceChange("SPARKCY", "cy"),)
    assert drift.tier_changes == (
        TierChange("ann", "enhanced_plus", "enhanced"),
        TierChange("cy", "enhanced", "enhanced_plus"),
        TierChange("dee", None, "enhanced"),
    )
    assert drift.counts["users"] == (3, 4)
    assert not drift.empty
    as_dict = drift.as_dict()
    assert as_dict["cti_rd"] == {"added": [{"name": "CTIRDCY", "owner": "cy", "hybrid": True}],
                                 "removed": [{"name": "CTIRDANN", "owner": "ann", "hybrid": True}]}
    assert as_dict["tier_changes"][2] == {"userid": "dee", "old": None, "new": "enhanced"}


def test_no_change_is_an_empty_drift() -> None:
    doc = document(cti_rd("ann", "CTIRDANN"))
    assert diff(doc, doc).empty and diff(doc, doc).counts == {}


# -- first sightings and the 60-day window ---------------------------------------------------------

def test_first_seen_is_the_earliest_run_of_a_cti_rd_still_present(history: History) -> None:
    history.record("lab-a", document(cti_rd("ann", "CTIRDANN"), cti_rd("bob", "CTIRDBOB")), T0)
    history.record("lab-b", document(cti_rd("cy", "CTIRDCY")), T0 - timedelta(days=30))  # another cluster
    history.record("lab-a", document(cti_rd("ann", "CTIRDANN"), cti_rd("cy", "CTIRDCY"),
                                     cti_rd("bob", "CTIRDEC", hybrid=False)), T0 + timedelta(days=7))

    assert history.cti_rd_first_seen("lab-a") == {"CTIRDANN": T0, "CTIRDCY": T0 + timedelta(days=7)}
    everything = history.cti_rd_first_seen("lab-a", hybrid_only=False)
    assert everything["CTIRDEC"] == T0 + timedelta(days=7) and "CTIRDBOB" not in everything
    assert history.cti_rd_first_seen("lab-z") == {}


def test_window_warnings_near_and_past_the_end() -> None:
    now = T0 + timedelta(days=50)
    warnings = window_warnings({"OLD": T0 - timedelta(days=20), "NEAR": T0, "FRESH": T0 + timedelta(days=40)}, now)
    assert warnings == [
        "CTI-RD OLD: first seen 2024-02-10; its 60-day window ended 2024-04-10 (10 days ago): "
        "migrate it to a Spark-RD",
        "CTI-RD NEAR: first seen 2024-03-01; its 60-day window ends 2024-04-30 (in 10 days)",
    ]
    assert window_warnings({"EDGE": T0}, T0 + timedelta(days=45, hours=23)) == []
    assert window_warnings({"EDGE": T0}, T0 + timedelta(days=46))[0].endswith("(in 14 days)")
    assert window_warnings({"EDGE": T0}, T0 + timedelta(days=46, hours=1))[0].endswith("(in 14 days)")
    assert window_warnings({"X": T0}, T0 + timedelta(days=59, hours=23))[0].endswith("(in 1 day)")
    assert window_warnings({"X": T0}, T0 + timedelta(days=2), window_days=10, warn_before_days=8) != []


# -- two writers -----------------------------------------------------------------------------------

def _write_many(path: str, cluster: str, count: int, start: multiprocessing.synchronize.Event) -> None:
    doc = document(*(cti_rd("ann", f"CTIRD{i}") for i in range(40)))
    start.wait(10)
    with History(Path(path)) as history:
        for i in range(count):
            history.record(cluster, doc, T0 + timedelta(minutes=i))


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "history.db")
    context = multiprocessing.get_context("fork")
    start = context.Event()
    writers = [context.Process(target=_write_many, args=(path, f"lab-{n}", 25, start)) for n in "ab"]
    for writer in writers:
        writer.start()
    start.set()
    for writer in writers:
        writer.join(60)
    assert [writer.exitcode for writer in writers] == [0, 0]

    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT cluster, COUNT(*) FROM runs GROUP BY cluster").fetchall() == [("lab-a", 25),
                                                                                           ("lab-b", 25)]
    assert db.execute("SELECT COUNT(*) FROM devices").fetchone()[0] == 50 * 43
