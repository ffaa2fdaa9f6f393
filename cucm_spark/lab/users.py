"""listUser, getUser, addUser and updateUser over enduser and enduserdevicemap."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from lxml import etree

from cucm_spark.lab.catalog import DEFAULT_PRESENCE_GROUP
from cucm_spark.lab.context import LabContext, find_row, list_answer, returned_tags
from cucm_spark.lab.phones import lookup
from cucm_spark.lab.soap import (
    DuplicateFault,
    NotFoundFault,
    SoapFault,
    braced,
    child,
    children,
    fk_tag,
    required,
    tag,
    text,
    value,
)
from cucm_spark.lab.store import new_pkid

USER_SELECT = """
SELECT u.pkid, u.userid, u.firstname, u.lastname, u.mailid, u.department, u.telephonenumber,
       u.enablecti, pg.name AS pg, pg.pkid AS pg_pkid
FROM enduser u LEFT JOIN presencegroup pg ON pg.pkid = u.fkpresencegroup
"""
Row = sqlite3.Row

# Cisco's RUser order; LUser has the same minus the association and presence fields.
USER_TAGS: dict[str, Callable[[Row], str]] = {
    "firstName": lambda r: tag("firstName", r["firstname"] or ""),
    "lastName": lambda r: tag("lastName", r["lastname"]),
    "userid": lambda r: tag("userid", r["userid"]),
    "mailid": lambda r: tag("mailid", r["mailid"] or ""),
    "department": lambda r: tag("department", r["department"] or ""),
    "associatedDevices": lambda r: "",
    "enableCti": lambda r: tag("enableCti", "true" if r["enablecti"] else "false"),
    "presenceGroupName": lambda r: fk_tag("presenceGroupName", r["pg"], r["pg_pkid"]),
    "telephoneNumber": lambda r: tag("telephoneNumber", r["telephonenumber"] or ""),
}
LIST_TAGS = ["firstName", "lastName", "userid", "mailid", "department"]
SEARCH_COLUMNS = {
    "firstName": "IFNULL(u.firstname, '')",
    "lastName": "u.lastname",
    "userid": "u.userid",
    "department": "IFNULL(u.department, '')",
    "customerName": "''",  # in Cisco's searchCriteria, not modelled: only '%' matches
}


def render_user(row: Row, tags: list[str], devices: str = "") -> str:
    body = "".join(devices if name == "associatedDevices" else USER_TAGS[name](row) for name in tags)
    return f'<user uuid="{braced(row["pkid"])}">{body}</user>'


def list_user(ctx: LabContext, request: etree._Element) -> str:
    return list_answer(
        ctx, request, select=USER_SELECT, search_columns=SEARCH_COLUMNS, order_by="u.userid",
        known_tags=LIST_TAGS, render=render_user,
    )


def find_user(db: sqlite3.Connection, request: etree._Element) -> Row:
    return find_row(db, request, select=USER_SELECT, alias="u", key="userid", column="u.userid", what="User")


def get_user(ctx: LabContext, request: etree._Element) -> str:
    tags = returned_tags(request, list(USER_TAGS))
    with ctx.store.reading() as db:
        row = find_user(db, request)
        names = db.execute(
            "SELECT d.name FROM enduserdevicemap m JOIN device d ON d.pkid = m.fkdevice"
            " WHERE m.fkenduser = ? AND m.tkuserassociation = 1 ORDER BY d.name",
            (row["pkid"],),
        ).fetchall()
    devices = "<associatedDevices>" + "".join(tag("device", n["name"]) for n in names) + "</associatedDevices>"
    return f"<return>{render_user(row, tags, devices)}</return>"


def write_associations(db: sqlite3.Connection, user: str, devices: etree._Element) -> None:
    """Replace the user's controlled devices with those listed."""
    db.execute("DELETE FROM enduserdevicemap WHERE fkenduser = ? AND tkuserassociation = 1", (user,))
    for item in children(devices, "device"):
        name = text(item)
        row = db.execute("SELECT pkid FROM device WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFoundFault("Device")
        db.execute(
            "INSERT OR IGNORE INTO enduserdevicemap (pkid, fkenduser, fkdevice) VALUES (?, ?, ?)",
            (new_pkid(), user, row["pkid"]),
        )


def add_user(ctx: LabContext, request: etree._Element) -> str:
    user = child(request, "user")
    if user is None:
        raise SoapFault("addUser: element user is required")
    userid = required(user, "userid")
    lastname = required(user, "lastName")
    pkid = new_pkid()
    with ctx.store.transaction() as db:
        if db.execute("SELECT 1 FROM enduser WHERE userid = ?", (userid,)).fetchone():
            raise DuplicateFault()
        group = lookup(db, "presencegroup", value(user, "presenceGroupName") or DEFAULT_PRESENCE_GROUP,
                       "Presence Group")
        db.execute(
            "INSERT INTO enduser (pkid, userid, firstname, lastname, mailid, department, fkpresencegroup)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (pkid, userid, value(user, "firstName"), lastname, value(user, "mailid"),
             value(user, "department"), group),
        )
        devices = child(user, "associatedDevices")
        if devices is not None:
            write_associations(db, pkid, devices)
    return tag("return", braced(pkid))


def update_user(ctx: LabContext, request: etree._Element) -> str:
    with ctx.store.transaction() as db:
        pkid = find_user(db, request)["pkid"]
        columns = {"firstName": "firstname", "lastName": "lastname", "mailid": "mailid",
                   "department": "department"}
        for element, column in columns.items():
            item = child(request, element)
            if item is not None:
                if element == "lastName" and not text(item):
                    raise SoapFault("updateUser: lastName cannot be empty")  # CUCM requires a last name
                db.execute(f"UPDATE enduser SET {column} = ? WHERE pkid = ?", (text(item), pkid))
        devices = child(request, "associatedDevices")
        if devices is not None:
            write_associations(db, pkid, devices)
    return tag("return", braced(pkid))
