"""collect_inventory against the edge-case lab: both paths, the SQL fallback, hybrid marking, paging."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.lab import CLUSTERS, lab_config, lab_stats, running_lab

from cucm_spark.axl.client import AxlClient, ClientOptions
from cucm_spark.axl.endpoint import Endpoint
from cucm_spark.classify import CloudDomains
from cucm_spark.inventory.collect import collect_inventory
from cucm_spark.inventory.model import Device, DeviceKind, Inventory, Line
from cucm_spark.lab.server import DEFAULT_PASSWORD, DEFAULT_USERNAME, LabServer

DOMAINS = CloudDomains.load()


@pytest.fixture(scope="module")
def edge_lab() -> Iterator[LabServer]:
    with running_lab(dataset=CLUSTERS / "edge-cases.json") as server:
        yield server


@pytest.fixture(scope="module")
def by_sql(edge_lab: LabServer) -> Inventory:
    inventory, source = collect_inventory(client_for(edge_lab), DOMAINS)
    assert source == "sql"
    return inventory


def client_for(server: LabServer) -> AxlClient:
    return AxlClient(Endpoint.parse(server.url), DEFAULT_USERNAME, DEFAULT_PASSWORD, ClientOptions(max_backoff=0.01))


def device(inventory: Inventory, name: str) -> Device:
    return next(d for d in inventory.devices if d.name == name)


def test_sql_and_list_paths_read_the_same_inventory(edge_lab: LabServer, by_sql: Inventory) -> None:
    by_list, source = collect_inventory(client_for(edge_lab), DOMAINS, use_sql=False)

    assert source == "list"
    assert by_list == by_sql


def test_the_inventory_holds_every_user_and_device_of_the_dataset(by_sql: Inventory) -> None:
    assert by_sql.version == "12.5.1.10000(22)"
    assert len(by_sql.users) == 22
    assert len(by_sql.devices) == 52
    kinds = [d.kind for d in by_sql.devices]
    assert kinds.count(DeviceKind.CTI_RD) == 13
    assert kinds.count(DeviceKind.SPARK_RD) == 4


def test_refused_sql_falls_back_to_list_calls_with_the_same_inventory(by_sql: Inventory) -> None:
    with running_lab(dataset=CLUSTERS / "edge-cases.json") as server:
        lab_config(server, deny_sql=True)
        steps: list[str] = []

        inventory, source = collect_inventory(client_for(server), DOMAINS, progress=steps.append)

        operations = lab_stats(server)["operations"]
    assert source == "list"
    assert inventory == by_sql
    assert operations["executeSQLQuery"] == 1  # asked once, refused, never again
    assert operations["listPhone"] >= 1
    assert "SQL refused; reading with list/get calls" in steps


@pytest.mark.parametrize(("name", "hybrid"), [
    ("CTIRDJSMITH", True),      # *.call.ciscospark.com
    ("CTIRDBCHEN", True),       # *.calls.webex.com
    ("CTIRDSWRIGHT", True),     # *.ciscospark.com
    ("CTIRDAJOHNSON", True),    # no owner, still Hybrid
    ("SPARKDCLARK", True),      # a CTI-RD whatever its name says
    ("CTIRDHMULLER", False),    # Extend and Connect to a phone number
    ("CTIRDFSATO", False),      # Extend and Connect to a SIP URI outside the cloud domains
    ("CTIRDOKIM", False),       # E&C beside a Spark-RD
    ("CTIRDLWONG", False),      # no remote destination at all
])
def test_cti_rds_are_marked_hybrid_by_their_destination_domain(by_sql: Inventory, name: str, hybrid: bool) -> None:
    found = device(by_sql, name)
    assert found.kind is DeviceKind.CTI_RD
    assert found.hybrid is hybrid


def test_spark_rds_and_phones_are_never_marked_hybrid(by_sql: Inventory) -> None:
    assert device(by_sql, "SPARKNADAMS").kind is DeviceKind.SPARK_RD
    assert not any(d.hybrid for d in by_sql.devices if d.kind is not DeviceKind.CTI_RD)
    assert sum(1 for d in by_sql.devices if d.hybrid) == 9


def test_cloud_domains_are_configurable(edge_lab: LabServer) -> None:
    domains = CloudDomains.from_patterns(["vcs.acme.com"])

    inventory, _ = collect_inventory(client_for(edge_lab), domains)

    assert [d.name for d in inventory.devices if d.hybrid] == ["CTIRDFSATO"]


def test_a_device_only_cti_rd_keeps_its_controlling_user_and_destination(by_sql: Inventory) -> None:
    cti = device(by_sql, "CTIRDAJOHNSON")
    assert cti.owner is None
    assert [(rd.destination, rd.owner) for rd in cti.remote_destinations] == [
        ("ajohnson@acme.call.ciscospark.com", "ajohnson")]
    ajohnson = next(u for u in by_sql.users if u.userid == "ajohnson")
    assert "CTIRDAJOHNSON" in ajohnson.associated_devices


def test_remote_device_lines_are_read_with_partition_and_index(by_sql: Inventory) -> None:
    lines = device(by_sql, "CTIRDKMILLER").lines
    assert [(line.index, line.pattern, line.partition) for line in lines] == [
        (1, "2114", "SJC_Internal_PT"), (2, "2900", "Exec_PT")]
    assert all(isinstance(line, Line) for line in lines)


def test_a_user_without_devices_is_still_in_the_inventory(by_sql: Inventory) -> None:
    kpatel = next(u for u in by_sql.users if u.userid == "kpatel")
    assert kpatel.associated_devices == ()
    assert not [d for d in by_sql.devices if d.owner == "kpatel"]


@pytest.mark.parametrize("use_sql", [True, False])
def test_a_small_answer_limit_still_yields_the_whole_inventory_by_paging(by_sql: Inventory, use_sql: bool) -> None:
    with running_lab(dataset=CLUSTERS / "edge-cases.json") as server:
        lab_config(server, answer_limit=5000)

        inventory, source = collect_inventory(client_for(server), DOMAINS, use_sql=use_sql)

        statuses = lab_stats(server)["http_status"]
    assert source == ("sql" if use_sql else "list")
    assert statuses.get("500", 0) >= 1, "the limit should have refused at least one answer as too large"
    assert inventory == by_sql
