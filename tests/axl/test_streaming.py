"""executeSQLQuery answers streamed and parsed row by row: same rows as zeep, same typed errors.

Most tests speak to a lab over HTTP, as the client speaks to a cluster; a few serve
hand-written answers with `responses` to reach shapes the lab never writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
import responses
from lxml import etree
from support.lab import CLUSTERS, lab_config, lab_stats, running_lab

from cucm_spark.axl import client as client_module
from cucm_spark.axl import sqlstream
from cucm_spark.axl.client import AxlClient, ClientOptions
from cucm_spark.axl.endpoint import Endpoint
from cucm_spark.errors import (
    AnswerTooLarge,
    AuthError,
    AxlFault,
    MalformedAnswer,
    SqlRefused,
    Throttled,
    TransportError,
)
from cucm_spark.inventory.collect import DEVICES_COLUMNS, DEVICES_ORDER, DEVICES_SQL, USERS_COLUMNS, USERS_SQL
from cucm_spark.lab.faults import FaultRule
from cucm_spark.lab.server import DEFAULT_PASSWORD, DEFAULT_USERNAME, LabServer, LabSettings

DEVICE_QUERY = "SELECT d.name, d.description, d.fkenduser FROM device d ORDER BY d.name"
URL = "https://cucm-pub.example.com:8443/axl/"


@pytest.fixture(scope="module")
def edge_lab() -> Iterator[LabServer]:
    with running_lab(dataset=CLUSTERS / "edge-cases.json") as server:
        yield server


def client_for(server: LabServer, **options: object) -> AxlClient:
    settings = {"max_backoff": 0.01, **options}
    return AxlClient(Endpoint.parse(server.url), DEFAULT_USERNAME, DEFAULT_PASSWORD,
                     ClientOptions(**settings))  # type: ignore[arg-type]


def zeep_rows(client: AxlClient, query: str) -> list[dict[str, str | None]]:
    """The same query read the zeep way: a whole object tree, then each row's columns."""
    returned = client.read("executeSQLQuery", sql=query)["return"]
    rows = (returned["row"] or []) if returned is not None else []
    return [{etree.QName(col).localname: col.text for col in row if isinstance(col.tag, str)} for row in rows]


# -- the same rows as the zeep path --------------------------------------------------------------

@pytest.mark.parametrize("query", [
    DEVICE_QUERY,
    f"{USERS_SQL} ORDER BY eu.userid, dv.name",
    f"{DEVICES_SQL} ORDER BY {DEVICES_ORDER}",
    "SELECT COUNT(*) AS n FROM device",
    "SELECT name FROM device WHERE name = 'nothing'",
])
def test_streamed_rows_equal_the_zeep_path(edge_lab: LabServer, query: str) -> None:
    client = client_for(edge_lab)

    assert client.sql(query) == zeep_rows(client, query)


def test_rows_as_tuples_follow_the_named_columns(edge_lab: LabServer) -> None:
    client = client_for(edge_lab)
    as_dicts = client.sql(f"{USERS_SQL} ORDER BY eu.userid, dv.name")

    as_tuples = list(client.sql_rows(USERS_SQL, "eu.userid, dv.name", USERS_COLUMNS))

    assert as_tuples == [tuple(row[name] for name in USERS_COLUMNS) for row in as_dicts]
    assert any(row[3] is None for row in as_tuples), "a user without devices has an empty (None) column"


def test_an_answer_cut_into_tiny_chunks_parses_the_same(edge_lab: LabServer, monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_for(edge_lab)
    whole = list(client.sql_rows(DEVICES_SQL, DEVICES_ORDER, DEVICES_COLUMNS))

    monkeypatch.setattr(sqlstream, "CHUNK_BYTES", 7)  # rows end mid-chunk, tags split across chunks

    assert list(client.sql_rows(DEVICES_SQL, DEVICES_ORDER, DEVICES_COLUMNS)) == whole


# -- the request: the observer, the schema, version negotiation ------------------------------------

def test_the_observer_sees_each_streamed_request_in_the_negotiated_version() -> None:
    sent: list[tuple[str, bytes]] = []
    with running_lab(dataset=CLUSTERS / "release-11.5-su3.json") as lab11:
        client = client_for(lab11, observer=lambda operation, body: sent.append((operation, body)))

        rows = client.sql("SELECT name FROM device ORDER BY name")

    assert rows
    assert [operation for operation, _ in sent] == ["executeSQLQuery", "executeSQLQuery"]  # 599, then 11.5
    first, retry = (body for _, body in sent)
    assert b"http://www.cisco.com/AXL/API/14.0" in first
    assert b"http://www.cisco.com/AXL/API/11.5" in retry
    assert b"<sql>SELECT name FROM device ORDER BY name</sql>" in retry
    assert client.version == "11.5"


def test_streamed_requests_are_valid_under_the_official_schema() -> None:
    from support.official_schema import require_official_schema, validate_body

    require_official_schema()
    sent: list[bytes] = []
    with running_lab(dataset=CLUSTERS / "edge-cases.json", cucm_version="14.0.1.10000-20") as lab14:
        client = client_for(lab14, observer=lambda _operation, body: sent.append(body))
        lab_config(lab14, answer_limit=3000)
        list(client.sql_rows(DEVICES_SQL, DEVICES_ORDER, DEVICES_COLUMNS, row_bytes=100))
    assert any(b"SKIP " in body for body in sent)
    for body in sent:
        validate_body(body)


# -- faults and refusals -------------------------------------------------------------------------

def test_sql_the_account_may_not_run_is_sql_refused() -> None:
    with running_lab(dataset=CLUSTERS / "edge-cases.json") as lab:
        lab_config(lab, deny_sql=True)
        with pytest.raises(SqlRefused):
            client_for(lab, version="12.5").sql(DEVICE_QUERY)
        assert lab_stats(lab)["operations"]["executeSQLQuery"] == 1  # a refusal is not retried


def test_a_query_the_cluster_cannot_run_is_an_axl_fault_with_its_code(edge_lab: LabServer) -> None:
    with pytest.raises(AxlFault) as fault:
        client_for(edge_lab).sql("SELECT nothing FROM nowhere")
    assert fault.value.code == -201
    assert "executeSQLQuery" in str(fault.value)


def test_an_answer_over_the_limit_is_answer_too_large_with_the_suggested_rows(edge_lab: LabServer) -> None:
    lab_config(edge_lab, answer_limit=2000)
    try:
        with pytest.raises(AnswerTooLarge) as refused:
            client_for(edge_lab).sql(DEVICE_QUERY)
    finally:
        lab_config(edge_lab, answer_limit=8 * 1024 * 1024)
    assert refused.value.total_rows == 52
    assert 0 < refused.value.suggested_rows < 52


@pytest.mark.parametrize("row_bytes", [None, 20, 100_000])
def test_pages_refused_as_too_large_are_asked_again_smaller_and_nothing_is_lost(
    edge_lab: LabServer, row_bytes: int | None
) -> None:
    client = client_for(edge_lab)
    whole = list(client.sql_rows(DEVICES_SQL, DEVICES_ORDER, DEVICES_COLUMNS))
    before = lab_stats(edge_lab)["http_status"].get("500", 0)
    lab_config(edge_lab, answer_limit=1500)
    try:
        paged = list(client.sql_rows(DEVICES_SQL, DEVICES_ORDER, DEVICES_COLUMNS, row_bytes=row_bytes))
    finally:
        lab_config(edge_lab, answer_limit=8 * 1024 * 1024)
    assert paged == whole
    refused = lab_stats(edge_lab)["http_status"].get("500", 0) - before
    assert refused >= 1
    assert refused <= 2, "after one refusal, pages stay within the size the cluster suggested"


def test_a_connection_dropped_mid_answer_is_retried() -> None:
    once = FaultRule.from_dict({"kind": "drop", "operations": ["executeSQLQuery"], "count": 1})
    with running_lab(LabSettings(faults=[once]), dataset=CLUSTERS / "edge-cases.json") as lab:
        rows = client_for(lab, version="12.5").sql(DEVICE_QUERY)
        asked = lab_stats(lab)["operations"]["executeSQLQuery"]
    assert len(rows) == 52
    assert asked == 2


def test_a_connection_dropped_mid_answer_every_time_is_a_transport_error() -> None:
    always = FaultRule.from_dict({"kind": "drop", "operations": ["executeSQLQuery"], "rate": 1.0})
    with running_lab(LabSettings(faults=[always]), dataset=CLUSTERS / "edge-cases.json") as lab:
        with pytest.raises(TransportError, match="dropped in the middle of the answer"):
            client_for(lab, version="12.5", read_attempts=3).sql(DEVICE_QUERY)
        assert lab_stats(lab)["operations"]["executeSQLQuery"] == 3


# -- answers the lab never writes ----------------------------------------------------------------

def _sql_answer(rows: str, namespace_rows: bool = False) -> str:
    default = ' xmlns="urn:odd"' if namespace_rows else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        '<ns:executeSQLQueryResponse xmlns:ns="http://www.cisco.com/AXL/API/14.0">'
        f"<return{default}>{rows}</return></ns:executeSQLQueryResponse></soapenv:Body></soapenv:Envelope>"
    )


def make_client(**options: object) -> AxlClient:
    settings = {"max_backoff": 0.01, **options}
    return AxlClient(Endpoint(URL), "axl-audit", "s3cret", ClientOptions(**settings))  # type: ignore[arg-type]


@responses.activate
def test_rows_with_missing_reordered_or_namespaced_columns_are_read_by_name() -> None:
    rows = ("<row><a>1</a><b>x</b></row>"
            "<row><a>3</a></row>"  # a column left out
            "<row><a>4</a><b>&lt;&amp;&gt;</b></row>")
    reordered = "<row><b>y</b><a>2</a></row><row><b/><a>6</a></row>"
    responses.add(responses.POST, URL, body=_sql_answer(rows), content_type="text/xml")
    responses.add(responses.POST, URL, body=_sql_answer(reordered), content_type="text/xml")
    responses.add(responses.POST, URL, body=_sql_answer("<row><a>5</a><b>z</b></row>", namespace_rows=True),
                  content_type="text/xml")
    client = make_client()

    assert list(client.sql_rows("SELECT a, b FROM t", "a", ("a", "b"))) == [("1", "x"), ("3", None), ("4", "<&>")]
    assert list(client.sql_rows("SELECT a, b FROM t", "a", ("a", "b"))) == [("2", "y"), ("6", None)]
    assert list(client.sql_rows("SELECT a, b FROM t", "a", ("a", "b"))) == [("5", "z")]


@responses.activate
def test_an_html_page_is_a_malformed_answer() -> None:
    responses.add(responses.POST, URL, status=200, content_type="text/html",
                  body="<html><head><title>Cisco Unified CM Console</title></head><body>Login</body></html>")

    with pytest.raises(MalformedAnswer, match="not SOAP"):
        make_client().sql(DEVICE_QUERY)


@pytest.mark.parametrize("body", [
    _sql_answer("<row><a>1</a></row>")[:-60],  # cut short, with a length that says so
    '<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    "<soapenv:Body><other/></soapenv:Body></soapenv:Envelope>",  # SOAP, but no return
])
@responses.activate
def test_soap_that_is_unreadable_or_holds_no_return_is_a_malformed_answer(body: str) -> None:
    responses.add(responses.POST, URL, status=200, content_type="text/xml", body=body)

    with pytest.raises(MalformedAnswer):
        make_client().sql(DEVICE_QUERY)


@responses.activate
def test_a_500_without_a_fault_is_a_malformed_answer() -> None:
    responses.add(responses.POST, URL, status=500, content_type="text/xml", body=_sql_answer(""))

    with pytest.raises(MalformedAnswer, match="without a SOAP fault"):
        make_client().sql(DEVICE_QUERY)


@responses.activate
def test_401_is_an_auth_error_and_503_is_retried() -> None:
    responses.add(responses.POST, URL, status=503, body="busy", content_type="text/plain")
    responses.add(responses.POST, URL, body=_sql_answer("<row><a>1</a></row>"), content_type="text/xml")
    responses.add(responses.POST, URL, status=401, body="<html>401</html>", content_type="text/html")

    assert make_client().sql("SELECT a FROM t") == [{"a": "1"}]
    with pytest.raises(AuthError, match="401"):
        make_client().sql("SELECT a FROM t")


@responses.activate
def test_503_on_every_attempt_is_throttled() -> None:
    responses.add(responses.POST, URL, status=503, body="busy", content_type="text/plain")

    with pytest.raises(Throttled):
        make_client(read_attempts=2).sql("SELECT a FROM t")
    assert len(responses.calls) == 2


@responses.activate
def test_a_connection_error_while_reading_is_a_transport_error() -> None:
    responses.add(responses.POST, URL, body=requests.exceptions.ChunkedEncodingError("connection broken"))

    with pytest.raises(TransportError, match="dropped in the middle"):
        make_client(read_attempts=1).sql("SELECT a FROM t")


# -- page sizes ----------------------------------------------------------------------------------

def _paging_cluster(total: int, asked: list[tuple[int, int | None]]):
    """executeSQLQuery over ``total`` rows of ~100 bytes, honouring SKIP/FIRST."""
    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        sql = etree.fromstring(request.body).findtext(".//sql")
        found = re.match(r"SELECT (?:SKIP (\d+) FIRST (\d+) )?", sql or "")
        skip, first = int(found.group(1) or 0), int(found.group(2)) if found.group(2) else None
        asked.append((skip, first))
        end = total if first is None else min(total, skip + first)
        rows = "".join(f"<row><n>{i:08d}</n><s>{'x' * 64}</s></row>" for i in range(skip, end))
        return 200, {"Content-Type": "text/xml"}, _sql_answer(rows)
    return reply


@responses.activate
def test_the_first_page_comes_from_the_row_estimate_and_the_next_from_what_it_carried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(client_module, "PAGE_BUDGET_BYTES", 10_000)
    asked: list[tuple[int, int | None]] = []
    responses.add_callback(responses.POST, URL, callback=_paging_cluster(500, asked))

    rows = list(make_client().sql_rows("SELECT n, s FROM t", "n", ("n", "s"), row_bytes=200))

    assert [row[0] for row in rows] == [f"{i:08d}" for i in range(500)]
    assert asked[0] == (0, 50)  # 10,000 bytes / 200 per row
    learned = [first for _, first in asked[1:]]
    assert all(first is not None and 80 <= first <= 100 for first in learned)  # ~100 bytes per row carried
    assert [skip for skip, _ in asked] == [0, *(50 + sum(learned[:i]) for i in range(len(learned)))]
    assert len(asked) <= 2 + 450 // min(learned)


@responses.activate
def test_without_an_estimate_the_first_request_asks_for_everything() -> None:
    asked: list[tuple[int, int | None]] = []
    responses.add_callback(responses.POST, URL, callback=_paging_cluster(30, asked))

    assert len(list(make_client().sql_rows("SELECT n, s FROM t", "n", ("n", "s")))) == 30
    assert asked == [(0, None)]


def test_sql_paged_with_a_fixed_page_yields_every_row_as_a_dict(edge_lab: LabServer) -> None:
    client = client_for(edge_lab)

    paged = list(client.sql_paged("SELECT d.name, d.description FROM device d", "d.name", page=10))

    assert paged == client.sql("SELECT d.name, d.description FROM device d ORDER BY d.name")
    assert len(paged) == 52


def test_a_generated_cluster_reads_the_same_by_streamed_sql_pages_and_by_list_calls() -> None:
    from cucm_spark.classify import CloudDomains
    from cucm_spark.inventory.collect import collect_inventory

    with running_lab(generate="users=60,seed=5") as lab:
        by_list, listed = collect_inventory(client_for(lab), CloudDomains.load(), use_sql=False)
        lab_config(lab, answer_limit=2500)  # several pages per query, some refused
        by_sql, streamed = collect_inventory(client_for(lab), CloudDomains.load())
        statuses = lab_stats(lab)["http_status"]
    assert (listed, streamed) == ("list", "sql")
    assert statuses.get("500", 0) >= 1
    assert by_sql == by_list
    assert any(device.lines for device in by_sql.devices)
    assert any(device.remote_destinations for device in by_sql.devices)
