"""The campaign's invariants, checked over the lab's tables (GET /lab/dump) and the journal's SQLite file.

The tables are read by natural key, never by pkid (a CTI-RD re-created by a rollback gets
a new one): devices by name, lines by (device, index), associations by (user, device,
kind), remote destinations by destination, and every foreign key as the name of what it
points to. What a user looks like when fully migrated is worked out here from the tables
before the run and the plan's choice of Spark-RD name, independently of the product's
own steps: the new Spark-RD copies the first CTI-RD (settings, lines), or the Spark-RD
the user had stays as it was; the CTI-RDs are gone, their destinations ring through the
Spark-RD, and the owner and every user who controlled a CTI-RD control the Spark-RD.

Some invariants hold at every moment, even just after a SIGKILL (``always``); the rest
only once a run has ended cleanly (``at_the_end``). Each violation is a Violation with
a message that says what is wrong, on which object.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from support.lab import AUTH

SPARK_RD_MODEL = 36235  # typemodel enum of Cisco Spark Remote Device (cucm_spark/lab/catalog.py)
CONTROLLED = 1  # enduserdevicemap.tkuserassociation of a controlled device
# What a new remote device gets whatever the CTI-RD it replaces had (the product's addPhone payload).
NEW_REMOTE_DEVICE = {"tkdeviceprotocolside": "User", "usetrustedrelaypoint": "Default",
                     "builtinbridgestatus": "Default", "packetcapturemode": "None",
                     "certificateoperation": "No Pending Operation", "devicemobilitymode": "Default"}
FOREIGN_KEYS = {
    "fkroutepartition": "routepartition", "fkcallingsearchspace": "callingsearchspace",
    "fkcallingsearchspace_reroute": "callingsearchspace", "fkdevicepool": "devicepool", "fklocation": "location",
    "fkcommonphoneconfig": "commonphoneconfig", "fkpresencegroup": "presencegroup", "fkenduser": "enduser",
    "fknumplan": "numplan", "fkdevice": "device",
}
MISSING = "<missing>"  # a foreign key whose row does not exist
# The dumped tables, each after those its foreign keys point to.
TABLES = ("routepartition", "callingsearchspace", "devicepool", "location", "commonphoneconfig", "presencegroup",
          "enduser", "numplan", "device", "devicenumplanmap", "enduserdevicemap", "remotedestination")
WRITE_PREFIXES = ("add", "update", "remove")

Tables = dict[str, dict[Any, dict[str, Any]]]


class Violation(AssertionError):
    """An invariant that does not hold."""


@dataclass(frozen=True)
class PlannedUser:
    """One user of a run's plan, as the journal keeps it."""

    userid: str
    action: str
    cti_rds: tuple[str, ...]
    spark_rd: str
    writes: tuple[int, ...]  # the indices of the plan's write steps

    @property
    def devices(self) -> tuple[str, ...]:
        return (*self.cti_rds, self.spark_rd)


# -- reading the lab -----------------------------------------------------------------
def dump(lab: Any) -> dict[str, list[dict[str, Any]]]:
    answer = requests.get(lab.url.replace("/axl/", "/lab/dump"), auth=AUTH, timeout=30)
    answer.raise_for_status()
    return answer.json()


def natural_view(raw: Mapping[str, list[dict[str, Any]]]) -> Tables:
    """Every table keyed by natural key, pkids dropped, foreign keys replaced by what they name."""
    keys: dict[str, dict[str, Any]] = {}
    tables: Tables = {}
    for table in TABLES:
        rows = {}
        for row in raw.get(table, []):
            plain = {column: _resolved(column, value, keys) for column, value in row.items() if column != "pkid"}
            key = _natural_key(table, plain)
            rows[key] = plain
            keys.setdefault(table, {})[row["pkid"]] = key
        tables[table] = rows
    return tables


def _resolved(column: str, value: Any, keys: Mapping[str, Mapping[str, Any]]) -> Any:
    table = FOREIGN_KEYS.get(column)
    if table is None or value is None:
        return value
    return keys.get(table, {}).get(value, MISSING)


def _natural_key(table: str, row: Mapping[str, Any]) -> Any:
    if table == "enduser":
        return row["userid"]
    if table == "numplan":
        return row["dnorpattern"], row["fkroutepartition"]
    if table == "devicenumplanmap":
        return row["fkdevice"], row["numplanindex"]
    if table == "enduserdevicemap":
        return row["fkenduser"], row["fkdevice"], row["tkuserassociation"]
    if table == "remotedestination":
        return row["destination"]
    return row["name"]


# -- reading the journal -------------------------------------------------------------
@dataclass(frozen=True)
class JournalView:
    """One run as the journal file holds it: plan, run state, user records and step states."""

    run_state: str
    planned: tuple[PlannedUser, ...]
    users: dict[str, tuple[str, dict[str, Any] | None]]  # userid -> (state, before-image)
    steps: dict[str, dict[int, tuple[str, str]]]  # userid -> idx -> (state, operation)

    def user_state(self, userid: str) -> str | None:
        record = self.users.get(userid)
        return record[0] if record else None

    def undo_started(self, userid: str) -> bool:
        return any(state in ("undoing", "undone") for state, _ in self.steps.get(userid, {}).values())


def read_journal(path: Path, run_id: str) -> JournalView:
    """The run from the journal file.

    Not opened read-only: a process killed in the middle of a commit leaves a hot rollback
    journal, which only a connection that may write can roll back.
    """
    with closing(sqlite3.connect(path, timeout=10)) as db:
        check = db.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise Violation(f"journal {path} is damaged: {check}")
        state, plan = db.execute("SELECT state, plan FROM runs WHERE id = ?", (run_id,)).fetchone()
        users = {userid: (user_state, json.loads(image) if image else None) for userid, user_state, image in
                 db.execute("SELECT userid, state, before_image FROM users WHERE run_id = ?", (run_id,))}
        steps: dict[str, dict[int, tuple[str, str]]] = {}
        for userid, idx, step_state, operation in db.execute(
                "SELECT userid, idx, state, operation FROM steps WHERE run_id = ?", (run_id,)):
            steps.setdefault(userid, {})[idx] = (step_state, operation)
    planned = tuple(PlannedUser(u["userid"], u["action"], tuple(u["cti_rds"]), u["spark_rd"],
                                tuple(idx for idx, step in enumerate(u["steps"])
                                      if step["operation"].startswith(WRITE_PREFIXES)))
                    for u in json.loads(plan)["users"])
    return JournalView(state, planned, users, steps)


def run_ids(path: Path) -> list[str]:
    """The runs in the journal file, oldest first (none when there is no file yet)."""
    if not path.exists():
        return []
    with closing(sqlite3.connect(path, timeout=10)) as db:
        try:
            return [row[0] for row in db.execute("SELECT id FROM runs ORDER BY created, id")]
        except sqlite3.OperationalError:  # the file exists, its tables not yet
            return []


# -- what a user looks like ----------------------------------------------------------
def migrated(before: Tables, users: Iterable[PlannedUser]) -> Tables:
    """The tables as they must be once these users (and no one else) are fully migrated."""
    after = copy.deepcopy(before)
    for user in users:
        _migrate_user(before, after, user)
    return after


def _migrate_user(before: Tables, after: Tables, user: PlannedUser) -> None:
    gone, spark = set(user.cti_rds), user.spark_rd
    if user.action == "migrate":
        source = before["device"][user.cti_rds[0]]
        after["device"][spark] = {**source, "name": spark, "tkmodel": SPARK_RD_MODEL, "fkenduser": user.userid,
                                  **NEW_REMOTE_DEVICE}
        for (device, index), line in before["devicenumplanmap"].items():
            if device == user.cti_rds[0]:
                after["devicenumplanmap"][(spark, index)] = {**line, "fkdevice": spark}
    controllers = {user.userid} | {who for who, device, kind in before["enduserdevicemap"]
                                   if device in gone and kind == CONTROLLED}
    for table in ("device", "devicenumplanmap", "enduserdevicemap"):
        after[table] = {key: row for key, row in after[table].items() if _device_of(table, key) not in gone}
    for row in after["remotedestination"].values():
        if row["fkdevice"] in gone:
            row["fkdevice"] = spark
    for who in sorted(controllers):
        after["enduserdevicemap"].setdefault((who, spark, CONTROLLED), {
            "defaultprofile": 0, "fkdevice": spark, "fkenduser": who, "tkuserassociation": CONTROLLED})


def _device_of(table: str, key: Any) -> str:
    """The device a row of the device, devicenumplanmap or enduserdevicemap table belongs to."""
    if table == "device":
        return key
    return key[0] if table == "devicenumplanmap" else key[1]


def user_slice(tables: Tables, before: Tables, user: PlannedUser) -> dict[str, Any]:
    """Everything of the tables that this user's migration may change, and nothing else."""
    devices = set(user.devices)
    destinations = {name for name, row in before["remotedestination"].items() if row["fkdevice"] in devices}
    return {
        "device": {name: tables["device"].get(name) for name in sorted(devices)},
        "devicenumplanmap": {key: row for key, row in tables["devicenumplanmap"].items() if key[0] in devices},
        "enduserdevicemap": {key: row for key, row in tables["enduserdevicemap"].items() if key[1] in devices},
        "remotedestination": {name: tables["remotedestination"].get(name) for name in sorted(destinations)},
    }


def user_condition(now: Tables, before: Tables, user: PlannedUser) -> str:
    """'original', 'migrated', or 'between' (neither: half migrated or damaged)."""
    current = user_slice(now, before, user)
    if current == user_slice(before, before, user):
        return "original"
    if current == user_slice(migrated(before, [user]), before, user):
        return "migrated"
    return "between"


def _difference(now: Tables, expected: Tables, before: Tables, user: PlannedUser) -> str:
    current, wanted = user_slice(now, before, user), user_slice(expected, before, user)
    parts = []
    for table, rows in wanted.items():
        for key in sorted(set(rows) | set(current[table]), key=repr):
            if rows.get(key) != current[table].get(key):
                parts.append(f"{table}[{key!r}]: {current[table].get(key)!r}, fully migrated: {rows.get(key)!r}")
    return "; ".join(parts[:4])


# -- invariants that hold at every moment -------------------------------------------------
def always(raw: Mapping[str, list[dict[str, Any]]], before: Tables, journal: JournalView | None) -> None:
    """The invariants no kill, fault or half-done recovery may ever break."""
    now = natural_view(raw)
    planned = journal.planned if journal else ()
    no_duplicate_device(raw)
    no_dangling_reference(now)
    no_destination_lost(now, before, planned)
    no_stray_device(now, before, planned)
    no_line_lost(now, before, planned)
    nothing_else_touched(now, before, planned)
    if journal is not None:
        journal_claims_hold(now, before, journal)


def no_duplicate_device(raw: Mapping[str, list[dict[str, Any]]]) -> None:
    seen: dict[str, str] = {}
    for row in raw["device"]:
        folded = row["name"].casefold()
        if folded in seen:
            raise Violation(f"duplicate device: {seen[folded]} and {row['name']}")
        seen[folded] = row["name"]


def no_dangling_reference(now: Tables) -> None:
    for table, rows in now.items():
        for key, row in rows.items():
            dangling = [column for column, value in row.items() if value == MISSING]
            if dangling:
                raise Violation(f"{table}[{key!r}] points at rows that do not exist: {', '.join(dangling)}")


def no_destination_lost(now: Tables, before: Tables, planned: Iterable[PlannedUser]) -> None:
    """Each remote destination still exists, as it was, ringing through its device or the user's Spark-RD."""
    spark_for = {cti: user.spark_rd for user in planned for cti in user.cti_rds}
    for name, old in before["remotedestination"].items():
        row = now["remotedestination"].get(name)
        if row is None:
            raise Violation(f"remote destination {name} is lost (it rang through {old['fkdevice']})")
        allowed = {old["fkdevice"], spark_for.get(old["fkdevice"], old["fkdevice"])}
        if row["fkdevice"] not in allowed or (row["fkdevice"] is not None and row["fkdevice"] not in now["device"]):
            raise Violation(f"remote destination {name} rings through {row['fkdevice']!r}, "
                            f"not one of {sorted(map(str, allowed))} that exists")
        if {**row, "fkdevice": None} != {**old, "fkdevice": None}:
            raise Violation(f"remote destination {name} changed: {old} -> {row}")
    extra = set(now["remotedestination"]) - set(before["remotedestination"])
    if extra:
        raise Violation(f"remote destinations appeared from nowhere: {sorted(extra)}")


def no_stray_device(now: Tables, before: Tables, planned: Iterable[PlannedUser]) -> None:
    """No device but those of before and the planned Spark-RDs."""
    stray = set(now["device"]) - set(before["device"]) - {user.spark_rd for user in planned}
    if stray:
        raise Violation(f"devices no plan made: {sorted(stray)}")


def no_line_lost(now: Tables, before: Tables, planned: Iterable[PlannedUser]) -> None:
    """Every (DN, partition) of a device before is still on it, or on the Spark-RD its owner's plan names.

    Not merely on any device of the owner: a CTI-RD shares its line with the desk phone, so
    that weaker check would pass even if the CTI-RD went before the Spark-RD carried the line.
    """
    spark_for = {cti: user.spark_rd for user in planned for cti in user.cti_rds}
    carried: dict[str, set[Any]] = {}
    for (device, _index), line in now["devicenumplanmap"].items():
        carried.setdefault(device, set()).add(line["fknumplan"])
    for (device, _index), line in before["devicenumplanmap"].items():
        holders = {device, spark_for.get(device, device)}
        if not any(line["fknumplan"] in carried.get(holder, set()) for holder in holders):
            raise Violation(f"line {line['fknumplan']} of {device} is on none of {sorted(holders)} any more")


def nothing_else_touched(now: Tables, before: Tables, planned: Iterable[PlannedUser]) -> None:
    """Rows outside every planned user's slice are exactly as they were."""
    slices = [user_slice(tables, before, user) for user in planned for tables in (before, now)]
    for table in before:
        inside = {key for piece in slices for key in piece.get(table, {})}
        outside_now = {key: row for key, row in now[table].items() if key not in inside}
        outside_before = {key: row for key, row in before[table].items() if key not in inside}
        if outside_now != outside_before:
            raise Violation(f"{table} rows no planned user owns changed: {_changed_keys(outside_now, outside_before)}")


def _changed_keys(rows: Mapping[Any, Any], others: Mapping[Any, Any]) -> list[Any]:
    """The first few keys whose rows differ (or exist on one side only)."""
    return sorted((key for key in rows.keys() | others.keys() if rows.get(key) != others.get(key)), key=repr)[:5]


def journal_claims_hold(now: Tables, before: Tables, journal: JournalView) -> None:
    """What the journal says of a user is true of the tables.

    Migrated (and no rollback begun on them): fully migrated. Rolled back, skipped, or no
    record at all: exactly as before. Running or failed users make no claim.
    """
    for user in journal.planned:
        state = journal.user_state(user.userid)
        if state == "migrated" and not journal.undo_started(user.userid):
            expected, claim = migrated(before, [user]), "migrated"
        elif state in (None, "skipped", "rolled_back"):
            expected, claim = before, state or "never started"
        else:
            continue
        if user_slice(now, before, user) != user_slice(expected, before, user):
            raise Violation(f"the journal says {user.userid} is {claim}, the tables disagree: "
                            f"{_difference(now, expected, before, user)}")
        if state is None and journal.steps.get(user.userid):
            raise Violation(f"the journal has steps of {user.userid} but no record of the user")


# -- invariants once a run has ended cleanly -----------------------------------------------
def at_the_end(raw: Mapping[str, list[dict[str, Any]]], before: Tables, journal: JournalView,
               final_state: str) -> None:
    """Every user fully migrated or fully original, as the journal says; the run in ``final_state``."""
    now = natural_view(raw)
    always(raw, before, journal)
    if journal.run_state != final_state:
        raise Violation(f"the run ended {journal.run_state!r}, not {final_state!r}")
    for user in journal.planned:
        condition = user_condition(now, before, user)
        if condition == "between":
            raise Violation(f"{user.userid} is neither fully migrated nor fully original: "
                            f"{_difference(now, migrated(before, [user]), before, user)}")
        _journal_agrees(journal, user, condition, final_state, before)
    done = [user for user in journal.planned if journal.user_state(user.userid) == "migrated"]
    expected = migrated(before, done)
    for table, rows in expected.items():
        if now[table] != rows:
            raise Violation(f"{table} is not the journal's migrated users applied to the tables before: "
                            f"{_changed_keys(now[table], rows)} differ")


def _journal_agrees(journal: JournalView, user: PlannedUser, condition: str, final_state: str,
                    before: Tables) -> None:
    state = journal.user_state(user.userid)
    allowed = {"done": {"migrated", "skipped"}, "rolled_back": {"rolled_back", "skipped", None}}[final_state]
    if state not in allowed:
        raise Violation(f"the run ended {final_state} with {user.userid} journalled {state!r}")
    if (state == "migrated") != (condition == "migrated"):
        raise Violation(f"the journal says {user.userid} is {state!r}; the tables show them {condition}")
    steps = journal.steps.get(user.userid, {})
    writes = {idx: (steps.get(idx) or ("never started", ""))[0] for idx in user.writes}
    wanted = {"done"} if state == "migrated" else {"undone", "never started"}
    if any(step_state not in wanted for step_state in writes.values()):
        raise Violation(f"{user.userid} is journalled {state or 'nowhere'} but their write steps are {writes}")
    image = (journal.users.get(user.userid) or ("", None))[1]
    if image is not None:
        _before_image_agrees(image, before, user)


def _before_image_agrees(image: Mapping[str, Any], before: Tables, user: PlannedUser) -> None:
    """The journal's before-image of each CTI-RD shows the lines and destinations the tables held before."""
    for cti in user.cti_rds:
        phone = (image.get("cti_rds") or {}).get(cti)
        if phone is None:
            raise Violation(f"the before-image of {user.userid} lacks {cti}")
        lines = sorted((line["dirn"]["pattern"], line["dirn"].get("routePartitionName") or None)
                       for line in ((phone.get("lines") or {}).get("line") or []))
        destinations = sorted(item["destination"] for item in (image.get("destinations") or {}).get(cti, []))
        held = (sorted(row["fknumplan"] for (device, _), row in before["devicenumplanmap"].items() if device == cti),
                sorted(name for name, row in before["remotedestination"].items() if row["fkdevice"] == cti))
        if (lines, destinations) != held:
            raise Violation(f"the before-image of {cti} shows lines {lines} and destinations {destinations}; "
                            f"the tables held {held[0]} and {held[1]}")
