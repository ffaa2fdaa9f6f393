"""The audit end to end below the CLI: a lab's inventory judged by the rules, and the JSON document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.lab import CLUSTERS, running_lab

from cucm_spark.audit import SCHEMA, Audit, AuditRules, audit_document, run_audit
from cucm_spark.axl.client import AxlClient, ClientOptions
from cucm_spark.axl.endpoint import Endpoint
from cucm_spark.classify import CloudDomains
from cucm_spark.inventory.collect import collect_inventory
from cucm_spark.inventory.model import Device, DeviceKind, Inventory, RemoteDestination, User
from cucm_spark.lab.server import DEFAULT_PASSWORD, DEFAULT_USERNAME
from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.licensing.tiers import Naming
from cucm_spark.releases import ReleaseTable, parse_release

UCL_TIERS = {"essential", "basic", "enhanced", "enhanced_plus", "cuwl_standard"}
RELEASE_DATASETS = sorted(CLUSTERS.glob("release-*.json"))


def rules(naming: Naming = Naming.UCL, spark_seats: int | None = None) -> AuditRules:
    return AuditRules(ReleaseTable.load(), CategoryMap.load(), naming, spark_seats)


def audit_of_lab(dataset: Path, naming: Naming = Naming.UCL, spark_seats: int | None = None) -> Audit:
    with running_lab(dataset=dataset) as server:
        client = AxlClient(Endpoint.parse(server.url), DEFAULT_USERNAME, DEFAULT_PASSWORD,
                           ClientOptions(max_backoff=0.01))
        inventory, source = collect_inventory(client, CloudDomains.load())
        return run_audit(inventory, rules(naming, spark_seats), server.url, source)


@pytest.fixture(scope="module")
def worked_example() -> Audit:
    return audit_of_lab(CLUSTERS / "worked-example.json", spark_seats=100)


@pytest.fixture(scope="module")
def edge_cases() -> Audit:
    return audit_of_lab(CLUSTERS / "edge-cases.json")


# -- the worked example (domain.md section 1) ------------------------------------------------------

def test_worked_example_requests_60_enhanced_plus_and_20_cuwl_standard(worked_example: Audit) -> None:
    request = worked_example.licensing.temporary_request
    assert (request.enhanced_plus, request.cuwl_standard) == (60, 20)
    assert (request.users_covered, request.users_uncovered) == (80, 0)


def test_worked_example_totals_now_and_after_migration(worked_example: Audit) -> None:
    assert dict(worked_example.licensing.now) == {
        "essential": 0, "basic": 0, "enhanced": 40, "enhanced_plus": 60, "cuwl_standard": 20}
    assert dict(worked_example.licensing.after_migration) == {
        "essential": 0, "basic": 0, "enhanced": 100, "enhanced_plus": 20, "cuwl_standard": 0}
    assert worked_example.counts["cti_rd_hybrid"] == 80


def test_worked_example_release_has_no_spark_rd_and_names_the_upgrade(worked_example: Audit) -> None:
    assert str(worked_example.release) == "11.5.1.12900-21"
    assert worked_example.spark_rd_supported is False
    assert str(worked_example.spark_rd_minimum) == "11.5.1.13900-52"
    assert str(worked_example.upgrade_target) == "11.5.1.13900-52"


def test_fewer_spark_seats_than_eligible_users_leaves_the_rest_uncovered() -> None:
    inventory = Inventory("11.5.1.12900(21)", users=(), devices=_worked_example_devices())
    audit = run_audit(inventory, rules(spark_seats=50), "hand-built", "sql")
    request = audit.licensing.temporary_request
    assert (request.users_covered, request.users_uncovered) == (50, 30)
    assert (request.enhanced_plus, request.cuwl_standard) == (30, 20)  # CUWL Standard users first


def _worked_example_devices() -> tuple[Device, ...]:
    devices: list[Device] = []
    for index in range(120):
        userid = f"u{index:03d}"
        devices.append(Device(f"SEP{index:012d}", "Cisco 8841", DeviceKind.DESK_PHONE, owner=userid))
        if index >= 100:
            devices.append(Device(f"CSF{userid}", "Cisco Unified Client Services Framework", DeviceKind.JABBER,
                                  owner=userid))
        if index < 60 or index >= 100:
            destination = RemoteDestination(f"{userid}@acme.call.ciscospark.com", owner=userid,
                                            device=f"CTIRD{userid}")
            devices.append(Device(f"CTIRD{userid}", "CTI Remote Device", DeviceKind.CTI_RD, owner=userid,
                                  remote_destinations=(destination,), hybrid=True))
    return tuple(devices)


# -- release support --------------------------------------------------------------------------------

@pytest.mark.parametrize("dataset", RELEASE_DATASETS, ids=[p.stem for p in RELEASE_DATASETS])
def test_each_release_dataset_supports_spark_rds_as_its_name_says(dataset: Path) -> None:
    expected = not (dataset.stem.endswith("-before") or dataset.stem == "release-9.1")
    release_in_file = json.loads(dataset.read_text())["release"]

    audit = audit_of_lab(dataset)

    assert audit.release == parse_release(release_in_file)
    assert audit.spark_rd_supported is expected
    assert (audit.upgrade_target is None) is expected


def test_release_trains_cover_supported_and_unsupported_both() -> None:
    stems = {p.stem for p in RELEASE_DATASETS}
    assert {"release-9.1", "release-11.5-before", "release-11.5-su3", "release-14"} <= stems


# -- the edge-case cluster ------------------------------------------------------------------------

def test_edge_cases_licences_match_the_fixture_readme_user_by_user(edge_cases: Audit) -> None:
    lic = edge_cases.licensing
    assert dict(lic.now) == {"essential": 1, "basic": 1, "enhanced": 6, "enhanced_plus": 10, "cuwl_standard": 3}
    assert dict(lic.after_migration) == {
        "essential": 1, "basic": 1, "enhanced": 12, "enhanced_plus": 5, "cuwl_standard": 2}
    assert (lic.extra_device_licences_now, lic.extra_device_licences_after) == (1, 0)
    assert dict(lic.device_only_now) == {"essential": 2, "basic": 0, "enhanced": 2}
    assert lic.deficiency.users == 7
    assert (lic.temporary_request.enhanced_plus, lic.temporary_request.cuwl_standard) == (6, 1)


def test_edge_cases_counts(edge_cases: Audit) -> None:
    counts = edge_cases.counts
    assert {key: counts[key] for key in ("users", "cti_rd", "cti_rd_hybrid", "cti_rd_unowned", "spark_rd")} == {
        "users": 22, "cti_rd": 13, "cti_rd_hybrid": 9, "cti_rd_unowned": 1, "spark_rd": 4}
    assert counts["phones"] == counts["desk_phones"] + counts["jabber"]


def test_edge_cases_tiers_of_telling_users(edge_cases: Audit) -> None:
    users = {u["userid"]: u for u in audit_document(edge_cases)["users"]}  # type: ignore[union-attr]
    tiers = {userid: (users[userid]["tier_now"], users[userid]["tier_after"]) for userid in (
        "kpatel", "nadams", "gwhite", "jsmith", "bchen", "hmuller", "okim", "ttaylor")}
    assert tiers == {
        "kpatel": (None, None),                          # owns nothing
        "nadams": ("enhanced", "enhanced"),              # a Spark-RD alone is Enhanced
        "gwhite": ("enhanced", "enhanced"),              # a Spark-RD beside a phone does not count
        "jsmith": ("enhanced_plus", "enhanced"),         # the CTI-RD pushed him up
        "bchen": ("cuwl_standard", "enhanced_plus"),     # *.calls.webex.com is Hybrid too
        "hmuller": ("cuwl_standard", "cuwl_standard"),   # Extend and Connect stays
        "okim": ("enhanced_plus", "enhanced_plus"),
        "ttaylor": ("cuwl_standard", "cuwl_standard"),   # 11 devices: one extra device licence now
    }
    assert users["ttaylor"]["extra_device_licences_now"] == 1
    assert users["ttaylor"]["extra_device_licences_after"] == 0


# -- naming --------------------------------------------------------------------------------------

def test_hcs_naming_keys_totals_and_rows_as_foundation_and_standard() -> None:
    audit = audit_of_lab(CLUSTERS / "worked-example.json", naming=Naming.HCS, spark_seats=100)
    document = audit_document(audit)

    assert document["licensing"] == "hcs"
    assert document["licenses"]["now"] == {"hcs_foundation": 40, "hcs_standard": 80}  # type: ignore[index]
    assert document["licenses"]["after_migration"] == {  # type: ignore[index]
        "hcs_foundation": 100, "hcs_standard": 20}
    rows = document["users"]
    assert {(u["tier_now"], u["tier_after"]) for u in rows} <= {  # type: ignore[union-attr]
        ("hcs_foundation", "hcs_foundation"), ("hcs_standard", "hcs_foundation"),
        ("hcs_standard", "hcs_standard")}
    request = document["temporary_license_request"]
    assert (request["enhanced_plus"], request["cuwl_standard"]) == (60, 20)  # type: ignore[index]


# -- the JSON document (schema cucm-spark.audit/1) --------------------------------------------------

def test_the_document_holds_every_key_the_issue_lists(worked_example: Audit) -> None:
    document = json.loads(json.dumps(audit_document(worked_example)))

    assert document["schema"] == SCHEMA == "cucm-spark.audit/1"
    assert document["cluster"]["version"] == "11.5.1.12900-21"
    assert document["cluster"]["spark_rd_supported"] is False
    assert document["cluster"]["spark_rd_minimum"] == "11.5.1.13900-52"
    assert document["counts"].keys() >= {"users", "cti_rd", "cti_rd_hybrid", "spark_rd", "phones"}
    assert (document["counts"]["users"], document["counts"]["cti_rd"], document["counts"]["spark_rd"]) == (
        120, 80, 0)
    assert document["counts"]["phones"] == 140
    assert set(document["licenses"]["now"]) == UCL_TIERS
    assert set(document["licenses"]["after_migration"]) == UCL_TIERS
    assert "deficiency" in document
    assert document["deficiency"]["users"] == 80
    request = document["temporary_license_request"]
    assert {k: request[k] for k in ("enhanced_plus", "cuwl_standard", "users_covered", "users_uncovered")} == {
        "enhanced_plus": 60, "cuwl_standard": 20, "users_covered": 80, "users_uncovered": 0}
    assert len(document["users"]) == 120
    for user in document["users"]:
        assert user.keys() >= {"userid", "devices", "tier_now", "tier_after"}
        assert all(device.keys() >= {"name", "model", "kind"} for device in user["devices"])


def test_a_user_row_lists_the_devices_the_user_owns_with_hybrid_on_cti_rds() -> None:
    hybrid = RemoteDestination("ann@acme.calls.webex.com", owner="ann", device="CTIRDANN")
    inventory = Inventory("14.0.1.10000(20)", users=(User("ann"), User("bob")), devices=(
        Device("SEPANN", "Cisco 8841", DeviceKind.DESK_PHONE, owner="ann"),
        Device("CTIRDANN", "CTI Remote Device", DeviceKind.CTI_RD, owner="ann", remote_destinations=(hybrid,),
               hybrid=True),
        Device("SEPLOBBY", "Cisco 6901", DeviceKind.DESK_PHONE),
    ))
    document = audit_document(run_audit(inventory, rules(), "hand-built", "list"))

    ann, bob = document["users"]  # type: ignore[misc]
    assert ann["devices"] == [
        {"name": "SEPANN", "model": "Cisco 8841", "kind": "desk_phone"},
        {"name": "CTIRDANN", "model": "CTI Remote Device", "kind": "cti_rd", "hybrid": True}]
    assert (ann["tier_now"], ann["tier_after"]) == ("enhanced_plus", "enhanced")
    assert (bob["devices"], bob["tier_now"], bob["tier_after"]) == ([], None, None)
    assert document["cluster"]["spark_rd_supported"] is True  # type: ignore[index]
    assert document["cluster"]["inventory_source"] == "list"  # type: ignore[index]
    assert document["counts"]["unowned_devices"] == 1  # type: ignore[index]


def test_sql_and_list_paths_give_the_same_document_apart_from_the_source() -> None:
    with running_lab(dataset=CLUSTERS / "edge-cases.json") as server:
        client = AxlClient(Endpoint.parse(server.url), DEFAULT_USERNAME, DEFAULT_PASSWORD)
        documents = []
        for use_sql in (True, False):
            inventory, source = collect_inventory(client, CloudDomains.load(), use_sql=use_sql)
            documents.append(audit_document(run_audit(inventory, rules(), server.url, source)))
    by_sql, by_list = documents
    assert by_sql["cluster"].pop("inventory_source") == "sql"  # type: ignore[union-attr]
    assert by_list["cluster"].pop("inventory_source") == "list"  # type: ignore[union-attr]
    assert by_sql == by_list
