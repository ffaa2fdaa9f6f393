"""listLine, getLine and addLine over numplan."""

from __future__ import annotations

import sqlite3

from lxml import etree

from cucm_spark.lab.context import LabContext, list_answer, returned_tags
from cucm_spark.lab.phones import lookup
from cucm_spark.lab.soap import (
    DuplicateFault,
    NotFoundFault,
    SoapFault,
    braced,
    child,
    fk_tag,
    required,
    tag,
    unbrace,
    value,
)
from cucm_spark.lab.store import new_pkid

LINE_SELECT = """
SELECT n.pkid, n.dnorpattern, n.description, n.alertingname, rp.name AS rp, rp.pkid AS rp_pkid
FROM numplan n LEFT JOIN routepartition rp ON rp.pkid = n.fkroutepartition
"""
LINE_TAGS = {
    "pattern": lambda r: tag("pattern", r["dnorpattern"]),
    "description": lambda r: tag("description", r["description"] or ""),
    "usage": lambda r: tag("usage", "Device"),
    "routePartitionName": lambda r: fk_tag("routePartitionName", r["rp"], r["rp_pkid"]),
    "alertingName": lambda r: tag("alertingName", r["alertingname"] or ""),
}
SEARCH_COLUMNS = {
    "pattern": "n.dnorpattern",
    "description": "IFNULL(n.description, '')",
    "routePartitionName": "IFNULL(rp.name, '')",
    "usage": "'Device'",  # every directory number the lab holds is a device line
}


def render_line(row: sqlite3.Row, tags: list[str]) -> str:
    body = "".join(LINE_TAGS[name](row) for name in tags)
    return f'<line uuid="{braced(row["pkid"])}">{body}</line>'


def list_line(ctx: LabContext, request: etree._Element) -> str:
    return list_answer(
        ctx, request, select=LINE_SELECT, search_columns=SEARCH_COLUMNS, order_by="n.dnorpattern, rp.name",
        known_tags=list(LINE_TAGS), render=render_line,
    )


def get_line(ctx: LabContext, request: etree._Element) -> str:
    tags = returned_tags(request, list(LINE_TAGS))
    uuid = value(request, "uuid")
    with ctx.store.reading() as db:
        if uuid:
            row = db.execute(LINE_SELECT + " WHERE n.pkid = ?", (unbrace(uuid),)).fetchone()
        else:
            row = db.execute(
                LINE_SELECT + " WHERE n.dnorpattern = ? AND IFNULL(rp.name, '') = ?",
                (required(request, "pattern"), value(request, "routePartitionName") or ""),
            ).fetchone()
    if row is None:
        raise NotFoundFault("Directory Number")
    return f"<return>{render_line(row, tags)}</return>"


def add_line(ctx: LabContext, request: etree._Element) -> str:
    line = child(request, "line")
    if line is None:
        raise SoapFault("addLine: element line is required")
    pattern = required(line, "pattern")
    required(line, "usage")
    pkid = new_pkid()
    with ctx.store.transaction() as db:
        partition = lookup(db, "routepartition", value(line, "routePartitionName"), "Route Partition")
        try:
            db.execute(
                "INSERT INTO numplan (pkid, dnorpattern, fkroutepartition, description, alertingname)"
                " VALUES (?, ?, ?, ?, ?)",
                (pkid, pattern, partition, value(line, "description"), value(line, "alertingName")),
            )
        except sqlite3.IntegrityError as exc:
            raise DuplicateFault() from exc
    return tag("return", braced(pkid))
