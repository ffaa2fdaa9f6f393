"""list, get, add, update and removeRemoteDestination over the remotedestination table."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from lxml import etree

from cucm_spark.lab.catalog import CTI_REMOTE_DEVICE
from cucm_spark.lab.context import LabContext, find_row, list_answer, returned_tags
from cucm_spark.lab.phones import user_pkid
from cucm_spark.lab.soap import (
    DuplicateFault,
    NotFoundFault,
    SoapFault,
    boolean,
    braced,
    child,
    fk_tag,
    integer,
    required,
    tag,
    text,
    value,
)
from cucm_spark.lab.store import new_pkid

RD_SELECT = """
SELECT r.pkid, r.name, r.destination, r.answertoosoontimer, r.answertoolatetimer,
       r.delaybeforeringingcell, u.userid AS owner, u.pkid AS owner_pkid,
       d.name AS device, d.pkid AS device_pkid, r.ismobilephone, r.enablemobileconnect
FROM remotedestination r
LEFT JOIN enduser u ON u.pkid = r.fkenduser
LEFT JOIN device d ON d.pkid = r.fkdevice
"""
Row = sqlite3.Row


def _flag(value: int) -> str:
    return "true" if value else "false"


# Cisco's RRemoteDestination order; LRemoteDestination is the same without ownerUserId.
RD_TAGS: dict[str, Callable[[Row], str]] = {
    "name": lambda r: tag("name", r["name"] or ""),
    "destination": lambda r: tag("destination", r["destination"]),
    "answerTooSoonTimer": lambda r: tag("answerTooSoonTimer", r["answertoosoontimer"]),
    "answerTooLateTimer": lambda r: tag("answerTooLateTimer", r["answertoolatetimer"]),
    "delayBeforeRingingCell": lambda r: tag("delayBeforeRingingCell", r["delaybeforeringingcell"]),
    "ownerUserId": lambda r: fk_tag("ownerUserId", r["owner"], r["owner_pkid"]),
    "ctiRemoteDeviceName": lambda r: fk_tag("ctiRemoteDeviceName", r["device"], r["device_pkid"]),
    "isMobilePhone": lambda r: tag("isMobilePhone", _flag(r["ismobilephone"])),
    "enableMobileConnect": lambda r: tag("enableMobileConnect", _flag(r["enablemobileconnect"])),
}
LIST_TAGS = [name for name in RD_TAGS if name != "ownerUserId"]
SEARCH_COLUMNS = {
    "name": "IFNULL(r.name, '')",
    # Cisco's other criteria, not modelled: the lab holds no value, so only '%' matches.
    "remoteDestinationProfileName": "''",
    "ctiRemoteDeviceName": "IFNULL(d.name, '')",
    "dualModeDeviceName": "''",
}
TIMERS = (
    ("answerTooSoonTimer", "answertoosoontimer"),
    ("answerTooLateTimer", "answertoolatetimer"),
    ("delayBeforeRingingCell", "delaybeforeringingcell"),
)


def render_rd(row: Row, tags: list[str]) -> str:
    body = "".join(RD_TAGS[name](row) for name in tags)
    return f'<remoteDestination uuid="{braced(row["pkid"])}">{body}</remoteDestination>'


def list_remote_destination(ctx: LabContext, request: etree._Element) -> str:
    return list_answer(
        ctx, request, select=RD_SELECT, search_columns=SEARCH_COLUMNS, order_by="r.destination",
        known_tags=LIST_TAGS, render=render_rd,
    )


def find_rd(db: sqlite3.Connection, request: etree._Element) -> Row:
    return find_row(db, request, select=RD_SELECT, alias="r", key="destination", column="r.destination",
                    what="Remote Destination")


def get_remote_destination(ctx: LabContext, request: etree._Element) -> str:
    tags = returned_tags(request, list(RD_TAGS))
    with ctx.store.reading() as db:
        row = find_rd(db, request)
    return f"<return>{render_rd(row, tags)}</return>"


def remote_device_pkid(db: sqlite3.Connection, name: str | None) -> str | None:
    """A CTI-RD or Spark-RD by name: remote destinations may ring through nothing else."""
    if not name:
        return None
    row = db.execute(
        "SELECT pkid FROM device WHERE name = ? AND tkdeviceprotocol = ?", (name, CTI_REMOTE_DEVICE)
    ).fetchone()
    if row is None:
        raise NotFoundFault("CTI Remote Device")
    return row["pkid"]


def add_remote_destination(ctx: LabContext, request: etree._Element) -> str:
    item = child(request, "remoteDestination")
    if item is None:
        raise SoapFault("addRemoteDestination: element remoteDestination is required")
    destination = required(item, "destination")
    timers = [integer(item, element) for element, _ in TIMERS]
    if None in timers:
        raise SoapFault("addRemoteDestination: the three timers are required")
    dual_mode = child(item, "dualModeDeviceName")
    if dual_mode is not None and text(dual_mode) is None:
        # CSCvq98025: CUCM refuses a nil dualModeDeviceName instead of ignoring it.
        raise SoapFault("Dual Mode Device Name cannot be NULL", code=5003)
    pkid = new_pkid()
    with ctx.store.transaction() as db:
        if db.execute("SELECT 1 FROM remotedestination WHERE destination = ?", (destination,)).fetchone():
            raise DuplicateFault()
        db.execute(
            "INSERT INTO remotedestination (pkid, destination, name, fkenduser, fkdevice,"
            " answertoosoontimer, answertoolatetimer, delaybeforeringingcell, ismobilephone,"
            " enablemobileconnect) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                pkid, destination, value(item, "name") or destination,
                user_pkid(db, required(item, "ownerUserId")),
                remote_device_pkid(db, value(item, "ctiRemoteDeviceName")),
                *timers,
                int(bool(boolean(item, "isMobilePhone"))),
                int(boolean(item, "enableMobileConnect") is not False),
            ),
        )
    return tag("return", braced(pkid))


def update_remote_destination(ctx: LabContext, request: etree._Element) -> str:
    with ctx.store.transaction() as db:
        pkid = find_rd(db, request)["pkid"]
        changes: dict[str, object] = {}
        if value(request, "newName"):
            changes["name"] = value(request, "newName")
        if value(request, "newDestination"):
            changes["destination"] = value(request, "newDestination")
        for element, column in TIMERS:
            number = integer(request, element)
            if number is not None:
                changes[column] = number
        device = child(request, "ctiRemoteDeviceName")
        if device is not None:
            changes["fkdevice"] = remote_device_pkid(db, text(device))
        if changes:
            assignments = ", ".join(f"{column} = ?" for column in changes)
            try:
                db.execute(
                    f"UPDATE remotedestination SET {assignments} WHERE pkid = ?",
                    [*changes.values(), pkid],
                )
            except sqlite3.IntegrityError as exc:
                raise DuplicateFault() from exc
    return tag("return", braced(pkid))


def remove_remote_destination(ctx: LabContext, request: etree._Element) -> str:
    with ctx.store.transaction() as db:
        pkid = find_rd(db, request)["pkid"]
        db.execute("DELETE FROM remotedestination WHERE pkid = ?", (pkid,))
    return tag("return", braced(pkid))
