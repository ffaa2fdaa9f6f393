"""Load a lab dataset (fixtures/README.md) into the store, checking every reference first."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from cucm_spark.lab import catalog
from cucm_spark.lab.store import Store, new_pkids

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
    """Insert the dataset's users, devices, lines and remote destinations in one transaction.

    Every reference is checked here, in Python, with a message that names the item; the
    database then only needs to verify foreign keys once at the end (Store.bulk_load),
    which keeps a 40,000-user load to a second or two.
    """
    try:
        with store.bulk_load() as db:
            _Loader(db, source).load(data)
    except (KeyError, TypeError, AttributeError) as exc:
        raise DatasetError(f"{source}: malformed entry ({exc.__class__.__name__}: {exc})") from exc
    except sqlite3.IntegrityError as exc:  # the loader's checks missed something: still one line
        raise DatasetError(f"{source}: inconsistent data ({exc})") from exc


class _Loader:
    def __init__(self, db: sqlite3.Connection, source: str) -> None:
        self.db = db
        self.source = source
        # table -> lower-case name -> pkid; and table -> name exactly as written -> pkid,
        # a cache that spares a str().lower() per reference on large datasets.
        self.names: dict[str, dict[str, str]] = {}
        self.exact: dict[str, dict[object, str]] = {}
        self.users: dict[str, str] = {}
        self.models = {name: (enum, proto) for enum, name, _, proto in catalog.MODELS}

    def fail(self, message: str) -> DatasetError:
        return DatasetError(f"{self.source}: {message}")

    def items_of(self, data: dict[str, Any], key: str) -> list[Any]:
        value = data.get(key, [])
        if not isinstance(value, list):
            raise self.fail(f"dataset key {key!r} must be a list")
        return value

    def load(self, data: dict[str, Any]) -> None:
        for key, table in NAMED_LISTS.items():
            Store.insert_names(self.db, table, tuple(self.items_of(data, key)))
        for table in {*NAMED_LISTS.values(), "commonphoneconfig", "presencegroup"}:
            self.names[table] = {
                row["name"].lower(): row["pkid"] for row in self.db.execute(f"SELECT * FROM {table}")
            }
            self.exact[table] = {}
        self._users(self.items_of(data, "users"))
        devices = self._devices(self.items_of(data, "devices"))
        self._remote_destinations(self.items_of(data, "remoteDestinations"), devices)

    def ref(self, table: str, name: object, what: str, default: str | None = None) -> str | None:
        if name is None:
            if default is None:
                return None
            name = default
        exact = self.exact[table]
        pkid = exact.get(name)
        if pkid is None:
            pkid = self.names[table].get(str(name).lower())
            if pkid is None:
                raise self.fail(f"{what} {name!r} is not declared")
            exact[name] = pkid
        return pkid

    def _users(self, users: list[dict[str, Any]]) -> None:
        group = self.names["presencegroup"][catalog.DEFAULT_PRESENCE_GROUP.lower()]
        rows = []
        for user, pkid in zip(users, new_pkids(len(users)), strict=True):
            userid = user["userid"]
            if not isinstance(userid, str) or not userid or userid.lower() in self.users:
                raise self.fail(f"user {userid!r} is empty or duplicated")
            self.users[userid.lower()] = pkid
            rows.append((pkid, userid, user.get("firstName"), user.get("lastName") or userid,
                         user.get("mailid"), user.get("department"), group))
        self.db.executemany(
            "INSERT INTO enduser (pkid, userid, firstname, lastname, mailid, department,"
            " fkpresencegroup) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def user(self, userid: object, what: str) -> str | None:
        if userid is None:
            return None
        pkid = self.users.get(userid) if isinstance(userid, str) else None  # userids are stored lower-case
        if pkid is None:
            pkid = self.users.get(str(userid).lower())
            if pkid is None:
                raise self.fail(f"{what} names unknown user {userid!r}")
        return pkid

    def _devices(self, devices: list[dict[str, Any]]) -> dict[str, str]:
        pkids: dict[str, str] = {}
        device_rows: list[tuple] = []
        controllers: list[tuple[str, str]] = []  # (user pkid, device pkid)
        lines: list[tuple] = []  # devicenumplanmap rows with the numplan's ordinal for its pkid
        numplans: dict[tuple[str, str | None], int] = {}
        models, ref = self.models, self.ref
        for device, pkid in zip(devices, new_pkids(len(devices)), strict=True):
            name = device["name"]
            if not isinstance(name, str) or not name or name.lower() in pkids:
                raise self.fail(f"device {name!r} is empty or duplicated")
            model = models.get(device["model"])
            if model is None:
                raise self.fail(f"device {name!r} has unknown model {device['model']!r}")
            pkids[name.lower()] = pkid
            what = f"device {name!r}"
            owner = device.get("owner")
            device_rows.append((
                pkid, name, device.get("description"), model[0], model[1], self.user(owner, what),
                ref("devicepool", device.get("devicePool"), what, catalog.DEFAULT_DEVICE_POOL),
                ref("callingsearchspace", device.get("callingSearchSpace"), what),
                ref("callingsearchspace", device.get("rerouteCallingSearchSpace"), what),
                ref("location", device.get("location"), what, catalog.DEFAULT_LOCATION),
                ref("commonphoneconfig", device.get("commonPhoneConfig"), what,
                    catalog.DEFAULT_COMMON_PHONE_CONFIG),
            ))
            for userid in device.get("controlledBy", [device["owner"]] if owner else []):
                controllers.append((self.user(userid, what), pkid))
            if "lines" in device:
                self._lines(device, pkid, numplans, lines)
        numplan_pkids = new_pkids(len(numplans))
        self.db.executemany(
            "INSERT INTO device (pkid, name, description, tkmodel, tkdeviceprotocol, fkenduser,"
            " fkdevicepool, fkcallingsearchspace, fkcallingsearchspace_reroute, fklocation,"
            " fkcommonphoneconfig) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            device_rows,
        )
        self.db.executemany(
            "INSERT INTO numplan (pkid, dnorpattern, fkroutepartition) VALUES (?, ?, ?)",
            ((numplan_pkids[ordinal], pattern, partition) for (pattern, partition), ordinal in numplans.items()),
        )
        self.db.executemany(
            "INSERT INTO devicenumplanmap (pkid, fkdevice, fknumplan, numplanindex, label, display,"
            " displayascii, e164mask) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (map_pkid, device_pkid, numplan_pkids[ordinal], *rest)
                for map_pkid, (device_pkid, ordinal, *rest) in zip(new_pkids(len(lines)), lines, strict=True)
            ),
        )
        self.db.executemany(
            "INSERT OR IGNORE INTO enduserdevicemap (pkid, fkenduser, fkdevice) VALUES (?, ?, ?)",
            ((map_pkid, *pair) for map_pkid, pair in zip(new_pkids(len(controllers)), controllers, strict=True)),
        )
        return pkids

    def _lines(self, device: dict[str, Any], pkid: str, numplans: dict, rows: list[tuple]) -> None:
        seen: set[int] = set()
        for line in device["lines"]:
            index = line["index"]
            if not isinstance(index, int) or index < 1 or index in seen:
                raise self.fail(f"device {device['name']!r} line index {index!r} is invalid or repeated")
            seen.add(index)
            pattern = line["pattern"]
            partition = line.get("partition")
            if partition is not None:
                partition = self.ref("routepartition", partition, f"line {pattern!r}")
            key = (str(pattern), partition)
            ordinal = numplans.get(key)
            if ordinal is None:
                ordinal = numplans[key] = len(numplans)
            rows.append((pkid, ordinal, index, line.get("label"), line.get("display"),
                         line.get("displayAscii"), line.get("e164Mask")))

    def _remote_destinations(self, items: list[dict[str, Any]], devices: dict[str, str]) -> None:
        rows, seen = [], set()
        for item, pkid in zip(items, new_pkids(len(items)), strict=True):
            destination = item["destination"]
            if not isinstance(destination, str) or not destination or destination in seen:
                raise self.fail(f"remote destination {destination!r} is empty or duplicated")
            seen.add(destination)
            device = item.get("device")
            if device is not None and str(device).lower() not in devices:
                raise self.fail(f"remote destination {destination!r} names unknown device {device!r}")
            rows.append((
                pkid, destination, item.get("name") or destination,
                self.user(item.get("owner"), f"remote destination {destination!r}"),
                devices[str(device).lower()] if device is not None else None,
            ))
        self.db.executemany(
            "INSERT INTO remotedestination (pkid, destination, name, fkenduser, fkdevice)"
            " VALUES (?, ?, ?, ?, ?)",
            rows,
        )
