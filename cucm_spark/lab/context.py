"""What every lab operation handler works with: the store, the release, the answer limit."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree

from cucm_spark.lab.release import LabRelease
from cucm_spark.lab.soap import NotFoundFault, SoapFault, TooLargeFault, child, integer, required, text, unbrace, value
from cucm_spark.lab.store import Store

ANSWER_LIMIT_BYTES = 8 * 1024 * 1024


@dataclass
class LabContext:
    store: Store
    release: LabRelease
    answer_limit: int = ANSWER_LIMIT_BYTES


Handler = Callable[[LabContext, etree._Element], str]


def returned_tags(request: etree._Element, known: Sequence[str]) -> list[str]:
    """The tags the client asked for, in the schema's order; all of them when it named none."""
    tags = child(request, "returnedTags")
    if tags is None:
        return list(known)
    asked = {etree.QName(item).localname for item in tags if isinstance(item.tag, str)}
    return [name for name in known if name in asked] if asked else list(known)


def search_criteria(request: etree._Element, allowed: Sequence[str]) -> dict[str, str]:
    """The searchCriteria fields the lab filters on; AXL demands at least one.

    ``allowed`` holds every criterion of Cisco's schema for the list, modelled or not
    (unmodelled ones map to a constant column): an element outside it is ignored.
    """
    criteria = child(request, "searchCriteria")
    found = {
        etree.QName(item).localname: text(item) or ""
        for item in (criteria if criteria is not None else ())
        if isinstance(item.tag, str)
    }
    if not found:
        raise SoapFault(f"{etree.QName(request).localname}: searchCriteria needs at least one field")
    return {name: found[name] for name in allowed if name in found}


def paging(request: etree._Element) -> tuple[int, int | None]:
    """skip and first, validated as unsigned integers."""
    return integer(request, "skip") or 0, integer(request, "first")


def render_list(
    ctx: LabContext,
    rows: Sequence[object],
    render: Callable[[object], str],
) -> str:
    """<return> of list items, refused the way CUCM refuses an answer over the size limit.

    The suggested row count comes from the largest row, not the average: a client that
    pages with fewer rows than suggested must never meet the fault again, however the
    row sizes vary across the answer.
    """
    parts: list[str] = []
    size = 0
    for row in rows:
        part = render(row)
        size += len(part)
        parts.append(part)
        if size > ctx.answer_limit:
            largest = max(max(map(len, parts)), max((len(render(rest)) for rest in rows[len(parts):]), default=0))
            raise TooLargeFault(len(rows), max(1, ctx.answer_limit // largest))
    return "<return>" + "".join(parts) + "</return>"


def like_clauses(criteria: dict[str, str], columns: dict[str, str]) -> tuple[str, list[str]]:
    """A WHERE clause matching each criterion with AXL's % wildcard (and nothing else wild)."""
    clauses, params = [], []
    for name, pattern in criteria.items():
        clauses.append(f"{columns[name]} LIKE ? ESCAPE '\\'")
        params.append(pattern.replace("\\", "\\\\").replace("_", "\\_"))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def list_answer(
    ctx: LabContext,
    request: etree._Element,
    *,
    select: str,
    search_columns: dict[str, str],
    order_by: str,
    known_tags: Sequence[str],
    render: Callable[[Any, list[str]], str],
) -> str:
    """A whole list* operation: criteria, returned tags, skip/first, the size limit."""
    criteria = search_criteria(request, list(search_columns))
    tags = returned_tags(request, known_tags)
    skip, first = paging(request)
    where, params = like_clauses(criteria, search_columns)
    limit = first if first is not None else -1
    sql = f"{select}{where} ORDER BY {order_by} LIMIT {limit} OFFSET {skip}"
    with ctx.store.reading() as db:
        rows = db.execute(sql, params).fetchall()
    return render_list(ctx, rows, lambda row: render(row, tags))


def find_row(db: sqlite3.Connection, request: etree._Element, *, select: str, alias: str, key: str, column: str,
             what: str) -> sqlite3.Row:
    """The row a get/update/remove request names by <uuid> or by its key element, or a 5007 fault."""
    uuid = value(request, "uuid")
    if uuid:
        row = db.execute(f"{select} WHERE {alias}.pkid = ?", (unbrace(uuid),)).fetchone()
    else:
        row = db.execute(f"{select} WHERE {column} = ?", (required(request, key),)).fetchone()
    if row is None:
        raise NotFoundFault(what)
    return row
