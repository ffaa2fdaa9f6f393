"""Read a cluster's inventory: in a few executeSQLQuery calls, or through list*/get* calls.

The SQL path is the fast one: three queries, their answers streamed row by row into
plain records. The list/get path is for AXL accounts that may not run SQL (``--no-sql``,
or automatically when the cluster refuses SQL); it asks for the same facts and must
build the same inventory, which a test checks. Both end in ``_build``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from cucm_spark.axl.client import AxlClient
from cucm_spark.classify import CloudDomains, device_kind, is_hybrid
from cucm_spark.errors import MalformedAnswer, SqlRefused
from cucm_spark.inventory.bulk import paused_gc
from cucm_spark.inventory.model import Device, DeviceKind, Inventory, Line, RemoteDestination, User

Progress = Callable[[str], None]
VIRTUAL_KINDS = (DeviceKind.CTI_RD, DeviceKind.SPARK_RD)

# Three queries read everything, each joining onto a row what belongs to it, so one pass
# over the answers builds the records. Columns have one-letter names: a name is written
# twice per row in the answer, which on 80,000 devices is megabytes.
#
# Each query is paged to fill the 8 MB answer limit (a query ends in a part-filled page,
# so fewer queries mean fewer requests). The first page is sized from ``*_ROW_BYTES``,
# about a row's size on the generated megacluster (users 69, devices 95, extras 208); each
# next page from the bytes per row the previous answer carried. A cluster whose rows are
# larger may see its first page refused once; the client then pages as the cluster says.

# Users, each with the devices they control: one row per association, one for a user with none.
USERS_COLUMNS = ("u", "f", "l", "d")
USERS_SQL = (
    "SELECT eu.userid AS u, eu.firstname AS f, eu.lastname AS l, dv.name AS d FROM enduser eu"
    " LEFT JOIN enduserdevicemap eudm ON eudm.fkenduser = eu.pkid AND eudm.tkuserassociation = 1"
    " LEFT JOIN device dv ON dv.pkid = eudm.fkdevice"
)
USERS_ORDER = "eu.userid, dv.name"
USERS_ROW_BYTES = 80

# Phone-class devices.
DEVICES_COLUMNS = ("n", "s", "m", "o")
DEVICES_SQL = (
    "SELECT dv.name AS n, dv.description AS s, tm.name AS m, ow.userid AS o FROM device dv"
    " JOIN typemodel tm ON tm.enum = dv.tkmodel LEFT JOIN enduser ow ON ow.pkid = dv.fkenduser"
    " WHERE dv.tkclass = 1"
)
DEVICES_ORDER = "dv.name"
DEVICES_ROW_BYTES = 90

# What some devices have besides: remote destinations (any phone-class device) and, on
# remote devices only, lines (what a migration copies). A device with L lines and R
# destinations has L x R rows; one with neither has none.
EXTRAS_COLUMNS = ("n", "i", "p", "t", "b", "y", "a", "e", "r", "q", "w")
EXTRAS_SQL = (
    "SELECT dv.name AS n, dnm.numplanindex AS i, np.dnorpattern AS p, rp.name AS t, dnm.label AS b,"
    " dnm.display AS y, dnm.displayascii AS a, dnm.e164mask AS e, rd.destination AS r, rd.name AS q,"
    " rdu.userid AS w FROM device dv JOIN typemodel tm ON tm.enum = dv.tkmodel"
    " LEFT JOIN devicenumplanmap dnm ON dnm.fkdevice = dv.pkid"
    " AND tm.name IN ('CTI Remote Device', 'Cisco Spark Remote Device', 'Cisco Webex Remote Device')"
    " LEFT JOIN numplan np ON np.pkid = dnm.fknumplan"
    " LEFT JOIN routepartition rp ON rp.pkid = np.fkroutepartition"
    " LEFT JOIN remotedestination rd ON rd.fkdevice = dv.pkid"
    " LEFT JOIN enduser rdu ON rdu.pkid = rd.fkenduser"
    " WHERE dv.tkclass = 1 AND (dnm.pkid IS NOT NULL OR rd.pkid IS NOT NULL)"
)
EXTRAS_ORDER = "dv.name, dnm.numplanindex, rd.destination"
EXTRAS_ROW_BYTES = 250


@dataclass(frozen=True)
class Facts:
    """What the list/get path reads (and tests build from datasets), before it is assembled."""

    version: str
    users: list[dict]
    devices: list[dict]
    lines: list[dict]
    remote_destinations: list[dict]
    associations: list[tuple[str, str]]


class _UserRecord(NamedTuple):
    userid: str
    first_name: str | None
    last_name: str | None
    devices: list[str]


def collect_inventory(
    client: AxlClient, domains: CloudDomains, use_sql: bool = True, progress: Progress | None = None
) -> tuple[Inventory, str]:
    """The cluster's inventory, and which path read it ("sql" or "list")."""
    step = progress or (lambda _message: None)
    step("release")
    version = client.ccm_version()
    if use_sql:
        try:
            with paused_gc(keep=True):
                return _inventory_by_sql(client, version, step, domains), "sql"
        except SqlRefused:
            step("SQL refused; reading with list/get calls")
    facts = _facts_by_list(client, version, step)
    with paused_gc(keep=True):
        return assemble(facts, domains), "list"


def _inventory_by_sql(client: AxlClient, version: str, step: Progress, domains: CloudDomains) -> Inventory:
    # One string object per distinct value where values repeat (owners, names, partitions, the
    # device names users control): 80,000 devices keep megabytes of copies otherwise.
    strings: dict[str | None, str | None] = {}
    shared = strings.setdefault  # shared(text, text): the first equal string seen

    step("lines and remote destinations")
    lines: dict[str, list[Line]] = {}
    destinations: dict[str, list[RemoteDestination]] = {}
    for row in client.sql_rows(EXTRAS_SQL, EXTRAS_ORDER, EXTRAS_COLUMNS, EXTRAS_ROW_BYTES):
        if row[2] is not None:
            _add_line(lines.setdefault(row[0], []), row[1:8], shared)
        if row[8] is not None:
            _add_destination(destinations.setdefault(row[0], []), row[0], row[8:], shared)
    step("devices")
    make = _DeviceMaker(domains)
    devices = [
        make(shared(name, name), description or None, model, shared(owner or None, owner or None),
             lines.get(name, ()), destinations.get(name, ()))
        for name, description, model, owner in client.sql_rows(
            DEVICES_SQL, DEVICES_ORDER, DEVICES_COLUMNS, DEVICES_ROW_BYTES)
    ]
    step("users")
    users: dict[str, _UserRecord] = {}
    for userid, first, last, device in client.sql_rows(USERS_SQL, USERS_ORDER, USERS_COLUMNS, USERS_ROW_BYTES):
        user = users.get(userid)
        if user is None:
            first, last = first or None, last or None
            user = users[userid] = _UserRecord(shared(userid, userid), shared(first, first), shared(last, last), [])
        if device is not None:
            user.devices.append(shared(device, device))
    _require_names("device", (device.name for device in devices))
    _require_names("user", users)
    return _build(version, users.values(), devices)


def _add_line(lines: list[Line], row: tuple, shared: Callable) -> None:
    """The line on a joined row, unless an earlier row of the device (another destination) had it."""
    index, pattern, partition, label, display, display_ascii, e164_mask = row
    number = int(index or 0)
    if any(line.index == number for line in lines):
        return
    partition, display_ascii, e164_mask = partition or None, display_ascii or None, e164_mask or None
    lines.append(Line(number, pattern, shared(partition, partition), label or None, display or None,
                      shared(display_ascii, display_ascii), shared(e164_mask, e164_mask)))


def _add_destination(destinations: list[RemoteDestination], device: str, row: tuple, shared: Callable) -> None:
    """The remote destination on a joined row, unless an earlier row of the device (another line) had it."""
    destination, name, owner = row
    if not any(d.destination == destination for d in destinations):
        owner = owner or None
        destinations.append(RemoteDestination(destination, name or None, shared(owner, owner), device))


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
    """Plain records from the list path's facts; the same facts give the same inventory."""
    _require_names("device", (r["name"] for r in facts.devices))
    _require_names("user", (r["userid"] for r in facts.users))
    lines_of: dict[str, list[Line]] = defaultdict(list)
    for r in facts.lines:
        lines_of[r["device"].lower()].append(Line(
            index=r["index"], pattern=r["pattern"], partition=_blank_to_none(r["partition"]),
            label=_blank_to_none(r["label"]), display=_blank_to_none(r["display"]),
            display_ascii=_blank_to_none(r["display_ascii"]), e164_mask=_blank_to_none(r["e164_mask"]),
        ))
    destinations_of: dict[str, list[RemoteDestination]] = defaultdict(list)
    for r in facts.remote_destinations:
        destination = RemoteDestination(r["destination"], _blank_to_none(r["name"]),
                                        _blank_to_none(r["owner"]), _blank_to_none(r["device"]))
        destinations_of[(destination.device or "").lower()].append(destination)
    make = _DeviceMaker(domains)
    devices = [
        make(r["name"], _blank_to_none(r["description"]), r["model"], _blank_to_none(r["owner"]),
             lines_of.get(r["name"].lower(), ()), destinations_of.get(r["name"].lower(), ()))
        for r in facts.devices
    ]
    controlled: dict[str, list[str]] = defaultdict(list)
    for userid, device in facts.associations:
        controlled[userid.lower()].append(device)
    users = [
        _UserRecord(r["userid"], _blank_to_none(r["firstname"]), _blank_to_none(r["lastname"]),
                    controlled.get(r["userid"].lower(), []))
        for r in facts.users
    ]
    return _build(facts.version, users, devices)


class _DeviceMaker:
    """A Device from what either path read: its kind from the model, lines and destinations in order."""

    def __init__(self, domains: CloudDomains) -> None:
        self.domains = domains
        self.kinds: dict[str | None, tuple[str | None, DeviceKind]] = {}  # one model string and kind per model

    def __call__(self, name: str, description: str | None, model: str | None, owner: str | None,
                 lines: Sequence[Line], destinations: Sequence[RemoteDestination]) -> Device:
        known = self.kinds.get(model)
        if known is None:
            known = self.kinds[model] = (model, device_kind(model or ""))
        model, kind = known
        if len(destinations) > 1:
            destinations = sorted(destinations, key=_destination)
        return Device(
            name, model, kind, owner, description,  # type: ignore[arg-type]
            tuple(sorted(lines, key=_line_index)) if len(lines) > 1 else tuple(lines),
            tuple(destinations),
            kind is DeviceKind.CTI_RD and is_hybrid(kind, (d.destination for d in destinations), self.domains),
        )


def _require_names(kind: str, names: Iterable[str | None]) -> None:
    """Every device and user on CUCM has a name; an answer that says otherwise is not to be built on."""
    if not all(names):
        raise MalformedAnswer(f"the cluster's answer holds a {kind} without a name, which CUCM never has")


def _build(version: str, users: Iterable[_UserRecord], devices: list[Device]) -> Inventory:
    """The Inventory both paths end in: users and devices sorted by name."""
    devices.sort(key=_lower_name)
    people = tuple(
        User(record.userid, record.first_name, record.last_name,
             tuple(sorted(record.devices, key=str.lower)) if len(record.devices) > 1 else tuple(record.devices))
        for record in sorted(users, key=_lower_userid)
    )
    return Inventory(version, people, tuple(devices))


def _lower_name(device: Device) -> str:
    return device.name.lower()


def _lower_userid(record: _UserRecord) -> str:
    return record.userid.lower()


def _line_index(line: Line) -> int:
    return line.index


def _destination(destination: RemoteDestination) -> str:
    return destination.destination
