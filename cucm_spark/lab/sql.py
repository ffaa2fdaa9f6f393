"""executeSQLQuery: read-only SQL over the lab's tables, with Informix's SKIP/FIRST paging."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable

from lxml import etree

from cucm_spark.lab.context import LabContext, render_list
from cucm_spark.lab.soap import SoapFault, required, tag

_SKIP_FIRST = re.compile(
    r"^\s*select\s+(?:skip\s+(?P<skip>\d+)\s+)?(?:(?:first|limit)\s+(?P<first>\d+)\s+)?",
    re.IGNORECASE,
)
_READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION}


class SqlDenied(SoapFault):
    """The account may not run executeSQLQuery (a lab switch, as on a locked-down cluster)."""

    def __init__(self) -> None:
        super().__init__("Access to executeSQLQuery is not permitted for this user", code=5004)


def informix_to_sqlite(sql: str) -> str:
    """Rewrite Informix's ``SELECT SKIP n FIRST m`` into SQLite's LIMIT/OFFSET."""
    match = _SKIP_FIRST.match(sql)
    if not match or not (match.group("skip") or match.group("first")):
        return sql
    rest = sql[match.end():].rstrip().rstrip(";")
    first = match.group("first") or "-1"
    return f"SELECT {rest} LIMIT {first} OFFSET {match.group('skip') or 0}"


def _read_only(action: int, *_: object) -> int:
    return sqlite3.SQLITE_OK if action in _READ_ACTIONS else sqlite3.SQLITE_DENY


_XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_LEADING_WORD = re.compile(r"^\(?\s*([A-Za-z_][A-Za-z0-9_]*)")


def column_elements(names: list[str]) -> list[str]:
    """An XML element name for each result column.

    A column SQLite names after its expression (``COUNT(*)``, ``1``) is not a valid
    element name: it becomes its leading word in lower case, as Informix labels
    ``count(*)`` ``count``, or ``expression`` when it has none.
    """
    elements = []
    for name in names:
        if not _XML_NAME.match(name):
            word = _LEADING_WORD.match(name)
            name = word.group(1).lower() if word else "expression"
        elements.append(name)
    return elements


def _row_renderer(elements: list[str]) -> Callable[[sqlite3.Row], str]:
    # By position, not by name: two columns called "name" (d.name, m.name) keep their own values.
    def render(row: sqlite3.Row) -> str:
        return "<row>" + "".join(tag(name, item) for name, item in zip(elements, row, strict=True)) + "</row>"

    return render


def execute_sql_query(ctx: LabContext, request: etree._Element) -> str:
    sql = required(request, "sql")
    if not re.match(r"^\s*select\b", sql, re.IGNORECASE):
        raise SoapFault("executeSQLQuery accepts SELECT statements only", code=-201)
    with ctx.store.reading() as db:
        db.set_authorizer(_read_only)
        try:
            cursor = db.execute(informix_to_sqlite(sql))
            rows = cursor.fetchall()
        except sqlite3.Error as exc:
            raise SoapFault(f"A syntax error has occurred. ({exc})", code=-201) from exc
        finally:
            db.set_authorizer(None)
    elements = column_elements([column[0] for column in cursor.description or ()])
    return render_list(ctx, rows, _row_renderer(elements))
