"""Read a cluster's inventory: in a few executeSQLQuery calls, or through list*/get* calls.

The SQL path is the fast one. The list/get path is for AXL accounts that may not run SQL
(``--no-sql``, or automatically when the cluster refuses SQL); it asks for the same facts
and must build the same inventory, which a test checks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from cucm_spark.axl.client import AxlClient
from cucm_spark.classify import CloudDomains, device_kind, is_hybrid
from cucm_spark.errors import SqlRefused
from cucm_spark.inventory.model import Device, DeviceKind, Inventory, Line, RemoteDestination, User

Progress = Callable[[str], None]
VIRTUAL_KINDS = (DeviceKind.CTI_RD, DeviceKind.SPARK_RD)

USERS_SQL = "SELECT u.userid, u.firstname, u.lastname FROM enduser u"
DEVICES_SQL = (
    "SELECT d.name, d.description, m.name AS model, u.userid AS owner FROM device d"
    " JOIN typemodel m ON m.enum = d.tkmodel LEFT JOIN enduser u ON u.pkid = d.fkenduser"
    " WHERE d.tkclass = 1"
)
# Lines are read for remote devices only: they are what a migration copies.
LINES_SQL = (
    "SELECT d.name AS device, dm.numplanindex, n.dnorpattern, rp.name AS partition, dm.label,"
    " dm.display, dm.displayascii, dm.e164mask FROM devicenumplanmap dm"
    " JOIN device d ON d.pkid = dm.fkdevice JOIN typemodel m ON m.enum = d.tkmodel"
    " JOIN numplan n ON n.pkid = dm.fknumplan"
    " LEFT JOIN routepartition rp ON rp.pkid = n.fkroutepartition"
    " WHERE m.name IN ('CTI Remote Device', 'Cisco Spark Remote Device', 'Cisco Webex Remote Device')"
)
REMOTE_DESTINATIONS_SQL = (
    "SELECT r.destination, r.name, u.userid AS owner, d.name AS device FROM remotedestination r"
    " LEFT JOIN enduser u ON u.pkid = r.fkenduser LEFT JOIN device d ON d.pkid = r.fkdevice"
)
ASSOCIATIONS_SQL = (
    "SELECT u.userid, d.name AS device FROM enduserdevicemap m"
    " JOIN enduser u ON u.pkid = m.fkenduser JOIN device d ON d.pkid = m.fkdevice"
    " WHERE m.tkuserassociation = 1"
)


@dataclass(frozen=True)
class Facts:
    """What either path reads, before it is assembled into an Inventory."""

    version: str
    users: list[dict]
    devices: list[dict]
    lines: list[dict]
    remote_destinations: list[dict]
    associations: list[tuple[str, str]]


def collect_inventory(
    client: AxlClient, domains: CloudDomains, use_sql: bool = True, progress: Progress | None = None
) -> tuple[Inventory, str]:
    """The cluster's inventory, and which path read it ("sql" or "list")."""
    step = progress or (lambda _message: None)
    step("release")
    version = client.ccm_version()
    if use_sql:
        try:
            return assemble(_facts_by_sql(client, version, step), domains), "sql"
        except SqlRefused:
            step("SQL refused; reading with list/get calls")
    return assemble(_facts_by_list(client, version, step), domains), "list"


def _facts_by_sql(client: AxlClient, version: str, step: Progress) -> Facts:
    step("users")
    users = list(client.sql_paged(USERS_SQL, "u.userid"))
    step("devices")
    devices = list(client.sql_paged(DEVICES_SQL, "d.name"))
    step("lines")
    lines = list(client.sql_paged(LINES_SQL, "d.name, dm.numplanindex"))
    step("remote destinations")
    destinations = list(client.sql_paged(REMOTE_DESTINATIONS_SQL, "r.destination"))
    step("associations")
    associations = [(r["userid"], r["device"]) for r in client.sql_paged(ASSOCIATIONS_SQL, "u.userid, d.name")]
    return Facts(
        version,
        users,
        devices,
        [
            {"device": r["device"], "index": int(r["numplanindex"] or 0), "pattern": r["dnorpattern"],
             "partition": r["partition"], "label": r["label"], "display": r["display"],
             "display_ascii": r["displayascii"], "e164_mask": r["e164mask"]}
            for r in lines
        ],
        destinations,
        associations,
    )


def _facts_by_list(client: AxlClient, version: str, step: Progress) -> Facts:
    step("users")
    users = [
        {"userid": u["userid"], "firstname": u.get("firstName"), "lastname": u.get("lastName")}
        for u in client.list_all("listUser", "user", {"userid": "%"}, ["firstName", "lastName", "userid"])
    ]
    step("devices")
    devices = [
        {"name": p["name"], "description": p.get("description"), "model": p.get("model"),
         "owner": p.get("ownerUserName") or None}
        for p in client.list_all("listPhone", "phone", {"name": "%"},
                                 ["name", "description", "model", "ownerUserName"])
    ]
    step("lines")
    lines = [
        line
        for d in devices
        if device_kind(d["model"] or "") in VIRTUAL_KINDS
        for line in _phone_lines(client, d["name"])
    ]
    step("remote destinations")
    destinations = []
    for item in client.list_all("listRemoteDestination", "remoteDestination", {"name": "%"}, ["destination"]):
        found = client.get("getRemoteDestination", destination=item["destination"],
                           returnedTags={"name": "", "destination": "", "ownerUserId": "",
                                         "ctiRemoteDeviceName": ""})
        destinations.append({"destination": found["destination"], "name": found.get("name"),
                             "owner": found.get("ownerUserId") or None,
                             "device": found.get("ctiRemoteDeviceName") or None})
    step("associations")
    associations = []
    for user in users:
        found = client.get("getUser", userid=user["userid"],
                           returnedTags={"userid": "", "associatedDevices": {"device": ""}})
        devices_of = ((found.get("associatedDevices") or {}).get("device")) or []
        associations.extend((user["userid"], name) for name in devices_of)
    return Facts(version, users, devices, lines, destinations, associations)


def _phone_lines(client: AxlClient, name: str) -> list[dict]:
    phone = client.get("getPhone", name=name, returnedTags={"name": "", "lines": {"line": {
        "index": "", "label": "", "display": "", "dirn": {"pattern": "", "routePartitionName": ""},
        "displayAscii": "", "e164Mask": ""}}})
    lines = ((phone.get("lines") or {}).get("line")) or []
    return [
        {"device": name, "index": int(line["index"]), "pattern": line["dirn"]["pattern"],
         "partition": line["dirn"].get("routePartitionName") or None, "label": line.get("label"),
         "display": line.get("display"), "display_ascii": line.get("displayAscii"),
         "e164_mask": line.get("e164Mask")}
        for line in lines
    ]


def _blank_to_none(value: str | None) -> str | None:
    return value if value else None


def assemble(facts: Facts, domains: CloudDomains) -> Inventory:
    """Plain records from either path's facts; the same facts give the same inventory."""
    lines_of: dict[str, list[Line]] = defaultdict(list)
    for r in facts.lines:
        lines_of[r["device"].lower()].append(Line(
            index=r["index"], pattern=r["pattern"], partition=_blank_to_none(r["partition"]),
            label=_blank_to_none(r["label"]), display=_blank_to_none(r["display"]),
            display_ascii=_blank_to_none(r["display_ascii"]), e164_mask=_blank_to_none(r["e164_mask"]),
        ))
    destinations_of: dict[str, list[RemoteDestination]] = defaultdict(list)
    for r in sorted(facts.remote_destinations, key=lambda r: r["destination"]):
        destination = RemoteDestination(r["destination"], _blank_to_none(r["name"]),
                                        _blank_to_none(r["owner"]), _blank_to_none(r["device"]))
        destinations_of[(destination.device or "").lower()].append(destination)
    devices = tuple(_device(r, lines_of, destinations_of, domains) for r in sorted(facts.devices, key=_name))
    controlled: dict[str, list[str]] = defaultdict(list)
    for userid, device in facts.associations:
        controlled[userid.lower()].append(device)
    users = tuple(
        User(r["userid"], _blank_to_none(r["firstname"]), _blank_to_none(r["lastname"]),
             tuple(sorted(controlled[r["userid"].lower()], key=str.lower)))
        for r in sorted(facts.users, key=lambda r: r["userid"].lower())
    )
    return Inventory(facts.version, users, devices)


def _name(row: dict) -> str:
    return row["name"].lower()


def _device(row: dict, lines_of: dict, destinations_of: dict, domains: CloudDomains) -> Device:
    kind = device_kind(row["model"] or "")
    key = row["name"].lower()
    destinations = tuple(destinations_of.get(key, ()))
    return Device(
        name=row["name"], model=row["model"], kind=kind, owner=_blank_to_none(row["owner"]),
        description=_blank_to_none(row["description"]),
        lines=tuple(sorted(lines_of.get(key, ()), key=lambda line: line.index)),
        remote_destinations=destinations,
        hybrid=is_hybrid(kind, (d.destination for d in destinations), domains),
    )

