"""executeSQLQuery answers read as they arrive: one row at a time, never a whole object tree.

An answer can hold 8 MB of rows. zeep would build an lxml tree of all of it and then
an object per row and per column; here an lxml pull parser is fed the answer in chunks
as the socket delivers them, and after each chunk the rows it completed become tuples
(or dicts) and are deleted from the tree, which so never holds more than a chunk's rows.

Everything that can go wrong still becomes our typed error: an answer that is not SOAP
(``check_status``), a fault (``fault_from_detail``: AnswerTooLarge, SqlRefused…), a
connection dropped in the middle (TransportError), XML that does not parse, declares a
DTD, holds no ``return`` or runs past the answer cap (MalformedAnswer).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from lxml import etree

from cucm_spark.axl.faults import fault_from_detail
from cucm_spark.axl.transport import (
    ANSWER_CAP_BYTES,
    SAFE_PARSING,
    answer_chunks,
    check_status,
    read_answer,
    refuse_dtd,
)
from cucm_spark.errors import MalformedAnswer

OPERATION = "executeSQLQuery"
CHUNK_BYTES = 256 * 1024
_HEAD_BYTES = 512


@dataclass(frozen=True)
class SqlAnswer:
    """The rows of one answer and its size on the wire (what the next page is sized by)."""

    rows: list[Any]
    size: int


def read_sql_answer(
    response: requests.Response, address: str, timeout: float, columns: Sequence[str] | None = None,
    limit: int = ANSWER_CAP_BYTES,
) -> SqlAnswer:
    """The rows of a streamed executeSQLQuery answer of at most ``limit`` bytes; closes the response.

    With ``columns``, each row is a tuple of the column texts in that order (None for an
    empty or missing column); without, a dict of column name to text.
    """
    try:
        if response.status_code != 200:
            _raise_refusal(response, address, timeout, limit)
        chunks = answer_chunks(response, address, timeout, limit, CHUNK_BYTES)
        return _read_rows(response, address, chunks, tuple(columns) if columns is not None else None)
    finally:
        response.close()


def _raise_refusal(response: requests.Response, address: str, timeout: float, limit: int) -> None:
    """Any answer but 200 should be small: read it whole (within the cap) and raise what it says."""
    response._content = read_answer(response, address, timeout, limit)
    response._content_consumed = True
    check_status(response, address)  # 401, 403, 599, 503, or not SOAP
    try:
        root = etree.fromstring(response.content, etree.XMLParser(**SAFE_PARSING))
    except etree.XMLSyntaxError as exc:
        raise MalformedAnswer(f"{OPERATION}: the answer is not readable SOAP ({exc})") from exc
    refuse_dtd(root, OPERATION)
    fault = next(root.iter("{*}Fault"), None)
    if fault is None:
        raise MalformedAnswer(f"{OPERATION}: HTTP {response.status_code} without a SOAP fault")
    message = fault.findtext("faultstring") or fault.findtext("{*}faultstring") or ""
    detail = fault.find("detail")
    raise fault_from_detail(message, detail if detail is not None else fault.find("{*}detail"), OPERATION)


def _read_rows(
    response: requests.Response, address: str, chunks: Iterator[bytes], columns: tuple[str, ...] | None
) -> SqlAnswer:
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= _HEAD_BYTES:
            break
    check_status(response, address, head)
    # Events only for <return>; its rows are taken from the tree as they complete.
    parser = etree.XMLPullParser(events=("start", "end"), tag="{*}return", remove_comments=True, remove_pis=True,
                                 **SAFE_PARSING)
    reader = _RowReader(columns)
    size = len(head)
    try:
        parser.feed(head)
        reader.take(parser.read_events())
        for chunk in chunks:
            size += len(chunk)
            parser.feed(chunk)
            reader.take(parser.read_events())
        root = parser.close()
    except etree.XMLSyntaxError as exc:
        raise MalformedAnswer(f"{OPERATION}: the answer is not readable SOAP ({exc})") from exc
    refuse_dtd(root, OPERATION)  # an answer without <return> never showed the reader its DTD
    reader.take(parser.read_events())
    if not reader.returned:
        raise MalformedAnswer(f"{OPERATION}: the answer has no return element")
    return SqlAnswer(reader.rows, size)


class _RowReader:
    """Takes the rows under <return> as the parser completes them, and frees them.

    Every row but the last one under ``return`` is complete (the parser has moved past
    it); the last is complete once ``return`` ends. Taken rows are deleted from the tree,
    so it never holds more than a chunk's worth of them.

    Informix writes every row with the same columns in the same order, so the column
    names are compared on an answer's first row only; after that a row with all its
    columns is read by position (reading each tag back costs as much as the parse).
    A row that differs in length, or an answer whose names differ, is read by name.
    """

    def __init__(self, columns: tuple[str, ...] | None) -> None:
        self.columns = columns
        self.rows: list[Any] = []
        self.returned = False
        self._open: etree._Element | None = None  # the <return> being parsed
        self._positional: bool | None = None  # decided on the first row

    def take(self, events: Iterator[tuple[str, etree._Element]]) -> None:
        for event, element in events:
            if event == "start":
                # Before any row is read: entities left unexpanded would silently blank their columns.
                refuse_dtd(element, OPERATION)
                self._open = element
            else:
                self._take(element, len(element))
                self._open = None
                self.returned = True
        if self._open is not None:
            self._take(self._open, len(self._open) - 1)

    def _take(self, parent: etree._Element, count: int) -> None:
        if count <= 0:
            return
        rows = parent[:count]
        append, columns = self.rows.append, self.columns
        if columns is None:
            for row in rows:
                append({_local(c.tag): c.text for c in row})
        else:
            width = len(columns)
            for row in rows:
                if len(row) == width and (self._positional or self._first_row_matches(row)):
                    append(tuple([c.text for c in row]))
                else:  # a short, namespaced or otherwise unexpected row
                    found = {_local(c.tag): c.text for c in row}
                    append(tuple([found.get(name) for name in columns]))
        del parent[:count]

    def _first_row_matches(self, row: etree._Element) -> bool:
        if self._positional is None:
            self._positional = tuple(c.tag for c in row) == self.columns
        return self._positional


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]
