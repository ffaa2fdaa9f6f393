"""Load a lab dataset (fixtures/README.md) into the store, checking every reference first."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cucm_spark.lab import catalog
from cucm_spark.lab.store import Store, new_pkid

SCHEMA = "cucm-spark.lab-dataset/1"
NAMED_LISTS = {
    "partitions": "routepartition",
    "callingSearchSpaces": "callingsearchspace",
    "devicePools": "devicepool",
    "locations": "location",
}


class DatasetError(ValueError):
    """A dataset that cannot be loaded; the message names the file and the item."""


def read_dataset(path: Path) -> dict[str, Any]:
    """Parse a dataset file, turning every way it can be unreadable into one DatasetError."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DatasetError(f"cannot read dataset {path}: {exc.strerror}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"dataset {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise DatasetError(f"dataset {path}: 'schema' must be {SCHEMA!r}")
    return data


def load_dataset(store: Store, data: dict[str, Any], source: str = "dataset") -> None:
    """Insert the dataset's users, devices, lines and remote destinations in one transaction."""
    try:
        with store.transaction() as db:
            _Loader(db, source).load(data)
    except (KeyError, TypeError, AttributeError) as exc:
        raise DatasetError(f"{source}: malformed entry ({exc.__class__.__name__}: {exc})") from exc


class _Loader:
    def __init__(self, db: sqlite3.Connection, source: str) -> None:
        self.db = db
        self.source = source
        self.names: dict[str, dict[str, str]] = {}
        self.users: dict[str, str] = {}
        self.models = {name: (enum, proto) for enum, name, _, proto in catalog.MODELS}

    def fail(self, message: str) -> DatasetError:
        return DatasetError(f"{self.source}: {message}")

    def load(self, data: dict[str, Any]) -> None:
        for key, table in NAMED_LISTS.items():
            Store.insert_names(self.db, table, tuple(_list(data, key)))
        for table in {*NAMED_LISTS.values(), "commonphoneconfig", "presencegroup"}:
            self.names[table] = {
                row["name"].lower(): row["pkid"] for row in self.db.execute(f"SELECT * FROM {table}")
            }
        self._users(_list(data, "users"))
        devices = self._devices(_list(data, "devices"))
        self._remote_destinations(_list(data, "remoteDestinations"), devices)

    def ref(self, table: str, name: str | None, what: str, default: str | None = None) -> str | None:
        name = name if name is not None else default
        if name is None:
            return None
        pkid = self.names[table].get(str(name).lower())
        if pkid is None:
            raise self.fail(f"{what} {name!r} is not declared")
        return pkid

    def _users(self, users: Iterable[dict[str, Any]]) -> None:
        group = self.names["presencegroup"][catalog.DEFAULT_PRESENCE_GROUP.lower()]
        rows = []
        for user in users:
            userid = user["userid"]
            if not isinstance(userid, str) or not userid or userid.lower() in self.users:
                raise self.fail(f"user {userid!r} is empty or duplicated")
            self.users[userid.lower()] = pkid = new_pkid()
            rows.append((pkid, userid, user.get("firstName"), user.get("lastName") or userid,
                         user.get("mailid"), user.get("department"), group))
        self.db.executemany(
            "INSERT INTO enduser (pkid, userid, firstname, lastname, mailid, department,"
            " fkpresencegroup) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def user(self, userid: str | None, what: str) -> str | None:
        if userid is None:
            return None
        pkid = self.users.get(str(userid).lower())
        if pkid is None:
            raise self.fail(f"{what} names unknown user {userid!r}")
        return pkid

    def _devices(self, devices: Iterable[dict[str, Any]]) -> dict[str, str]:
        pkids: dict[str, str] = {}
        device_rows, map_rows, line_rows = [], [], []
        numplans: dict[tuple[str, str | None], str] = {}
        for device in devices:
            name = device["name"]
            if not isinstance(name, str) or not name or name.lower() in pkids:
                raise self.fail(f"device {name!r} is empty or duplicated")
            if device["model"] not in self.models:
                raise self.fail(f"device {name!r} has unknown model {device['model']!r}")
            model, protocol = self.models[device["model"]]
            pkid = pkids[name.lower()] = new_pkid()
            owner = self.user(device.get("owner"), f"device {name!r}")
            what = f"device {name!r}"
            device_rows.append((
                pkid, name, device.get("description"), model, protocol, owner,
                self.ref("devicepool", device.get("devicePool"), what, catalog.DEFAULT_DEVICE_POOL),
                self.ref("callingsearchspace", device.get("callingSearchSpace"), what),
                self.ref("callingsearchspace", device.get("rerouteCallingSearchSpace"), what),
                self.ref("location", device.get("location"), what, catalog.DEFAULT_LOCATION),
                self.ref("commonphoneconfig", device.get("commonPhoneConfig"), what,
                         catalog.DEFAULT_COMMON_PHONE_CONFIG),
            ))
            controllers = device.get("controlledBy", [device["owner"]] if device.get("owner") else [])
            map_rows.extend((new_pkid(), self.user(u, what), pkid) for u in controllers)
            line_rows.extend(self._lines(device, pkid, numplans))
        self.db.executemany(
            "INSERT INTO device (pkid, name, description, tkmodel, tkdeviceprotocol, fkenduser,"
            " fkdevicepool, fkcallingsearchspace, fkcallingsearchspace_reroute, fklocation,"
            " fkcommonphoneconfig) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            device_rows,
        )
        self.db.executemany(
            "INSERT INTO numplan (pkid, dnorpattern, fkroutepartition) VALUES (?, ?, ?)",
            ((pkid, pattern, partition) for (pattern, partition), pkid in numplans.items()),
        )
        self.db.executemany(
            "INSERT INTO devicenumplanmap (pkid, fkdevice, fknumplan, numplanindex, label, display,"
            " displayascii, e164mask) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            line_rows,
        )
        self.db.executemany(
            "INSERT OR IGNORE INTO enduserdevicemap (pkid, fkenduser, fkdevice) VALUES (?, ?, ?)",
            map_rows,
        )
        return pkids

    def _lines(self, device: dict[str, Any], pkid: str, numplans: dict) -> list[tuple]:
        rows, seen = [], set()
        for line in device.get("lines", []):
            index = line["index"]
            if not isinstance(index, int) or index < 1 or index in seen:
                raise self.fail(f"device {device['name']!r} line index {index!r} is invalid or repeated")
            seen.add(index)
            partition = self.ref("routepartition", line.get("partition"), f"line {line['pattern']!r}")
            key = (str(line["pattern"]), partition)
            numplan = numplans.setdefault(key, new_pkid())
            rows.append((new_pkid(), pkid, numplan, index, line.get("label"), line.get("display"),
                         line.get("displayAscii"), line.get("e164Mask")))
        return rows

    def _remote_destinations(self, items: Iterable[dict[str, Any]], devices: dict[str, str]) -> None:
        rows, seen = [], set()
        for item in items:
            destination = item["destination"]
            if not isinstance(destination, str) or not destination or destination in seen:
                raise self.fail(f"remote destination {destination!r} is empty or duplicated")
            seen.add(destination)
            device = item.get("device")
            if device is not None and str(device).lower() not in devices:
                raise self.fail(f"remote destination {destination!r} names unknown device {device!r}")
            rows.append((
                new_pkid(), destination, item.get("name") or destination,
                self.user(item.get("owner"), f"remote destination {destination!r}"),
                devices[str(device).lower()] if device is not None else None,
            ))
        self.db.executemany(
            "INSERT INTO remotedestination (pkid, destination, name, fkenduser, fkdevice)"
            " VALUES (?, ?, ?, ?, ?)",
            rows,
        )


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise DatasetError(f"dataset key {key!r} must be a list")
    return value
