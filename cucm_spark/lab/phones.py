"""listPhone, getPhone, addPhone, updatePhone and removePhone over the device tables."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable

from lxml import etree

from cucm_spark.lab.catalog import CTI_REMOTE_DEVICE, PROTOCOLS, SPARK_RD_MODEL
from cucm_spark.lab.context import LabContext, find_row, list_answer, returned_tags
from cucm_spark.lab.soap import (
    DuplicateFault,
    NotFoundFault,
    SoapFault,
    braced,
    child,
    children,
    fk_tag,
    integer,
    required,
    tag,
    text,
    value,
)
from cucm_spark.lab.store import new_pkid

PHONE_SELECT = """
SELECT d.pkid, d.name, d.description, m.name AS model, p.name AS protocol,
       d.tkdeviceprotocolside AS protocolside,
       css.name AS css, css.pkid AS css_pkid, dp.name AS dp, dp.pkid AS dp_pkid,
       cpc.name AS cpc, cpc.pkid AS cpc_pkid, loc.name AS loc, loc.pkid AS loc_pkid,
       d.usetrustedrelaypoint, d.builtinbridgestatus, u.userid AS owner, u.pkid AS owner_pkid,
       d.packetcapturemode, rcss.name AS rcss, rcss.pkid AS rcss_pkid,
       d.certificateoperation, d.devicemobilitymode
FROM device d
JOIN typemodel m ON m.enum = d.tkmodel
JOIN typedeviceprotocol p ON p.enum = d.tkdeviceprotocol
JOIN devicepool dp ON dp.pkid = d.fkdevicepool
JOIN commonphoneconfig cpc ON cpc.pkid = d.fkcommonphoneconfig
JOIN location loc ON loc.pkid = d.fklocation
LEFT JOIN callingsearchspace css ON css.pkid = d.fkcallingsearchspace
LEFT JOIN callingsearchspace rcss ON rcss.pkid = d.fkcallingsearchspace_reroute
LEFT JOIN enduser u ON u.pkid = d.fkenduser
"""

Row = sqlite3.Row

# The phone's tags in the order of Cisco's RPhone/LPhone sequence.
PHONE_TAGS: dict[str, Callable[[Row], str]] = {
    "name": lambda r: tag("name", r["name"]),
    "description": lambda r: tag("description", r["description"] or ""),
    "product": lambda r: tag("product", r["model"]),
    "model": lambda r: tag("model", r["model"]),
    "class": lambda r: tag("class", "Phone"),
    "protocol": lambda r: tag("protocol", r["protocol"]),
    "protocolSide": lambda r: tag("protocolSide", r["protocolside"]),
    "callingSearchSpaceName": lambda r: fk_tag("callingSearchSpaceName", r["css"], r["css_pkid"]),
    "devicePoolName": lambda r: fk_tag("devicePoolName", r["dp"], r["dp_pkid"]),
    "commonPhoneConfigName": lambda r: fk_tag("commonPhoneConfigName", r["cpc"], r["cpc_pkid"]),
    "locationName": lambda r: fk_tag("locationName", r["loc"], r["loc_pkid"]),
    "useTrustedRelayPoint": lambda r: tag("useTrustedRelayPoint", r["usetrustedrelaypoint"]),
    "lines": lambda r: "",  # filled in by getPhone only, as LPhone has no lines
    "builtInBridgeStatus": lambda r: tag("builtInBridgeStatus", r["builtinbridgestatus"]),
    "ownerUserName": lambda r: fk_tag("ownerUserName", r["owner"], r["owner_pkid"]),
    "packetCaptureMode": lambda r: tag("packetCaptureMode", r["packetcapturemode"]),
    "rerouteCallingSearchSpaceName": lambda r: fk_tag(
        "rerouteCallingSearchSpaceName", r["rcss"], r["rcss_pkid"]
    ),
    "certificateOperation": lambda r: tag("certificateOperation", r["certificateoperation"]),
    "deviceMobilityMode": lambda r: tag("deviceMobilityMode", r["devicemobilitymode"]),
}
LIST_TAGS = [name for name in PHONE_TAGS if name != "lines"]
SEARCH_COLUMNS = {
    "name": "d.name",
    "description": "IFNULL(d.description, '')",
    "protocol": "p.name",
    "callingSearchSpaceName": "IFNULL(css.name, '')",
    "devicePoolName": "dp.name",
    # In Cisco's searchCriteria but not modelled: the lab holds no value, so only '%' matches.
    # Dropping the criterion instead would widen the search to every phone.
    "securityProfileName": "''",
}
# CUCM's rule for CTI and Spark remote device names.
REMOTE_DEVICE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,15}$")
REMOTE_DEVICE_NAME_RULE = "Device Name must be up to 15 characters: letters, digits, dot, dash, underscore"


def render_phone(row: Row, tags: list[str], lines: str = "") -> str:
    body = "".join(lines if name == "lines" else PHONE_TAGS[name](row) for name in tags)
    return f'<phone uuid="{braced(row["pkid"])}">{body}</phone>'


def list_phone(ctx: LabContext, request: etree._Element) -> str:
    return list_answer(
        ctx, request, select=PHONE_SELECT, search_columns=SEARCH_COLUMNS, order_by="d.name",
        known_tags=LIST_TAGS, render=render_phone,
    )


def find_device(db: sqlite3.Connection, request: etree._Element) -> Row:
    return find_row(db, request, select=PHONE_SELECT, alias="d", key="name", column="d.name", what="Device")


def render_lines(db: sqlite3.Connection, device_pkid: str) -> str:
    rows = db.execute(
        "SELECT m.pkid, m.numplanindex, m.label, m.display, m.displayascii, m.e164mask,"
        " n.pkid AS np_pkid, n.dnorpattern, rp.name AS partition, rp.pkid AS rp_pkid"
        " FROM devicenumplanmap m JOIN numplan n ON n.pkid = m.fknumplan"
        " LEFT JOIN routepartition rp ON rp.pkid = n.fkroutepartition"
        " WHERE m.fkdevice = ? ORDER BY m.numplanindex",
        (device_pkid,),
    ).fetchall()
    lines = "".join(
        f'<line uuid="{braced(r["pkid"])}">'
        + tag("index", r["numplanindex"])
        + tag("label", r["label"] or "")
        + tag("display", r["display"] or "")
        + f'<dirn uuid="{braced(r["np_pkid"])}">'
        + tag("pattern", r["dnorpattern"])
        + fk_tag("routePartitionName", r["partition"], r["rp_pkid"])
        + "</dirn>"
        + tag("displayAscii", r["displayascii"] or "")
        + tag("e164Mask", r["e164mask"])
        + "</line>"
        for r in rows
    )
    return f"<lines>{lines}</lines>"


def get_phone(ctx: LabContext, request: etree._Element) -> str:
    tags = returned_tags(request, list(PHONE_TAGS))
    with ctx.store.reading() as db:
        row = find_device(db, request)
        lines = render_lines(db, row["pkid"]) if "lines" in tags else ""
    return f"<return>{render_phone(row, tags, lines)}</return>"


def lookup(db: sqlite3.Connection, table: str, name: str | None, what: str) -> str | None:
    """The pkid of a named row (device pool, CSS, …), None for none, 5007 when unknown."""
    if name is None or name == "":
        return None
    row = db.execute(f"SELECT pkid FROM {table} WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise NotFoundFault(what)
    return row["pkid"]


def user_pkid(db: sqlite3.Connection, userid: str | None) -> str | None:
    if not userid:
        return None
    row = db.execute("SELECT pkid FROM enduser WHERE userid = ?", (userid,)).fetchone()
    if row is None:
        raise NotFoundFault("User")
    return row["pkid"]


def numplan_pkid(db: sqlite3.Connection, pattern: str, partition: str | None, create: bool) -> str:
    """The directory number pattern/partition, created on demand as addPhone does."""
    partition_pkid = lookup(db, "routepartition", partition, "Route Partition")
    row = db.execute(
        "SELECT pkid FROM numplan WHERE dnorpattern = ? AND IFNULL(fkroutepartition, '') = ?",
        (pattern, partition_pkid or ""),
    ).fetchone()
    if row is not None:
        return row["pkid"]
    if not create:
        raise NotFoundFault("Directory Number")
    pkid = new_pkid()
    db.execute(
        "INSERT INTO numplan (pkid, dnorpattern, fkroutepartition) VALUES (?, ?, ?)",
        (pkid, pattern, partition_pkid),
    )
    return pkid


def write_lines(db: sqlite3.Connection, device_pkid: str, lines: etree._Element) -> None:
    """Replace a device's lines with those of a <lines> element."""
    db.execute("DELETE FROM devicenumplanmap WHERE fkdevice = ?", (device_pkid,))
    seen: set[int] = set()
    for line in children(lines, "line"):
        index = integer(line, "index", minimum=1)
        dirn = child(line, "dirn")
        if index is None or dirn is None or index in seen:
            raise SoapFault("line: a unique index and a dirn are required")
        seen.add(index)
        pattern = required(dirn, "pattern")
        numplan = numplan_pkid(db, pattern, value(dirn, "routePartitionName"), create=True)
        db.execute(
            "INSERT INTO devicenumplanmap (pkid, fkdevice, fknumplan, numplanindex, label, display,"
            " displayascii, e164mask) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (new_pkid(), device_pkid, numplan, index, value(line, "label"), value(line, "display"),
             value(line, "displayAscii"), value(line, "e164Mask")),
        )


def add_phone(ctx: LabContext, request: etree._Element) -> str:
    phone = child(request, "phone")
    if phone is None:
        raise SoapFault("addPhone: element phone is required")
    name = required(phone, "name")
    product = required(phone, "product")
    for field in ("class", "protocol", "protocolSide", "useTrustedRelayPoint", "builtInBridgeStatus",
                  "packetCaptureMode", "certificateOperation", "deviceMobilityMode"):
        required(phone, field)
    pkid = new_pkid()
    with ctx.store.transaction() as db:
        model = db.execute(
            "SELECT enum, tkdeviceprotocol FROM typemodel WHERE name = ?", (product,)
        ).fetchone()
        # A release before the Spark-RD minimum has no such product to add (its datasets may
        # still hold Spark-RDs, as a generated cluster does: typemodel keeps every model).
        if model is None or (product == SPARK_RD_MODEL and not ctx.release.supports_spark_rd):
            raise SoapFault(f"Product {product!r} is not supported on this release", code=5003)
        if model["tkdeviceprotocol"] == CTI_REMOTE_DEVICE and not REMOTE_DEVICE_NAME.match(name):
            raise SoapFault(REMOTE_DEVICE_NAME_RULE, code=5003)
        if db.execute("SELECT 1 FROM device WHERE name = ?", (name,)).fetchone():
            raise DuplicateFault()
        db.execute(
            "INSERT INTO device (pkid, name, description, tkmodel, tkdeviceprotocol,"
            " tkdeviceprotocolside, fkenduser, fkdevicepool, fkcallingsearchspace,"
            " fkcallingsearchspace_reroute, fklocation, fkcommonphoneconfig, usetrustedrelaypoint,"
            " builtinbridgestatus, packetcapturemode, certificateoperation, devicemobilitymode)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                pkid, name, value(phone, "description"), model["enum"], model["tkdeviceprotocol"],
                value(phone, "protocolSide"), user_pkid(db, value(phone, "ownerUserName")),
                lookup(db, "devicepool", required(phone, "devicePoolName"), "Device Pool"),
                lookup(db, "callingsearchspace", value(phone, "callingSearchSpaceName"),
                       "Calling Search Space"),
                lookup(db, "callingsearchspace", value(phone, "rerouteCallingSearchSpaceName"),
                       "Calling Search Space"),
                lookup(db, "location", required(phone, "locationName"), "Location"),
                lookup(db, "commonphoneconfig", required(phone, "commonPhoneConfigName"),
                       "Common Phone Profile"),
                value(phone, "useTrustedRelayPoint"), value(phone, "builtInBridgeStatus"),
                value(phone, "packetCaptureMode"), value(phone, "certificateOperation"),
                value(phone, "deviceMobilityMode"),
            ),
        )
        lines = child(phone, "lines")
        if lines is not None:
            write_lines(db, pkid, lines)
    return tag("return", braced(pkid))


# updatePhone fields: (element, column, table of the referenced name or None, what it names)
UPDATABLE = (
    ("description", "description", None, None),
    ("callingSearchSpaceName", "fkcallingsearchspace", "callingsearchspace", "Calling Search Space"),
    ("devicePoolName", "fkdevicepool", "devicepool", "Device Pool"),
    ("commonPhoneConfigName", "fkcommonphoneconfig", "commonphoneconfig", "Common Phone Profile"),
    ("locationName", "fklocation", "location", "Location"),
    ("rerouteCallingSearchSpaceName", "fkcallingsearchspace_reroute", "callingsearchspace",
     "Calling Search Space"),
)


def update_phone(ctx: LabContext, request: etree._Element) -> str:
    with ctx.store.transaction() as db:
        device = find_device(db, request)
        pkid = device["pkid"]
        changes: dict[str, object] = {}
        new_name = value(request, "newName")
        if new_name:
            if device["protocol"] == PROTOCOLS[CTI_REMOTE_DEVICE] and not REMOTE_DEVICE_NAME.match(new_name):
                raise SoapFault(REMOTE_DEVICE_NAME_RULE, code=5003)
            changes["name"] = new_name
        for element, column, table, what in UPDATABLE:
            item = child(request, element)
            if item is not None:
                raw = text(item)
                changes[column] = lookup(db, table, raw, what) if table else raw
        owner = child(request, "ownerUserName")
        if owner is not None:
            changes["fkenduser"] = user_pkid(db, text(owner))
        if changes:
            assignments = ", ".join(f"{column} = ?" for column in changes)
            try:
                db.execute(f"UPDATE device SET {assignments} WHERE pkid = ?", [*changes.values(), pkid])
            except sqlite3.IntegrityError as exc:
                raise DuplicateFault() if "UNIQUE" in str(exc) else SoapFault(str(exc)) from exc
        lines = child(request, "lines")
        if lines is not None:
            write_lines(db, pkid, lines)
    return tag("return", braced(pkid))


def remove_phone(ctx: LabContext, request: etree._Element) -> str:
    with ctx.store.transaction() as db:
        pkid = find_device(db, request)["pkid"]
        db.execute("DELETE FROM device WHERE pkid = ?", (pkid,))
    return tag("return", braced(pkid))
