"""The report formats: JSON (the document), CSV (one row per user) and the terminal table."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from cucm_spark.audit import Audit, AuditRules, audit_document, run_audit
from cucm_spark.inventory.model import Device, DeviceKind, Inventory, RemoteDestination, User
from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.licensing.tiers import Naming
from cucm_spark.releases import ReleaseTable
from cucm_spark.report.formats import CSV_COLUMNS, CsvFormat, JsonFormat
from cucm_spark.report.table import TableFormat

ANSI = re.compile(r"\x1b\[")


def hybrid_cti(owner: str | None, name: str) -> Device:
    destination = RemoteDestination(f"{owner or 'lobby'}@acme.call.ciscospark.com", owner=owner, device=name)
    return Device(name, "CTI Remote Device", DeviceKind.CTI_RD, owner=owner, remote_destinations=(destination,),
                  hybrid=True)


def small_audit(naming: Naming = Naming.UCL) -> Audit:
    """ann: phone + Hybrid CTI-RD; bob: phone + Jabber + E&C CTI-RD; cy: nothing; one device-only phone."""
    extend = RemoteDestination("+14085551234", owner="bob", device="CTIRDBOB")
    inventory = Inventory("11.5.1.12900(21)", users=(User("ann", "Ann", "Lee"), User("bob"), User("cy")), devices=(
        Device("SEPANN", "Cisco 8841", DeviceKind.DESK_PHONE, owner="ann"),
        hybrid_cti("ann", "CTIRDANN"),
        Device("SEPBOB", "Cisco 8851", DeviceKind.DESK_PHONE, owner="bob"),
        Device("CSFBOB", "Cisco Unified Client Services Framework", DeviceKind.JABBER, owner="bob"),
        Device("CTIRDBOB", "CTI Remote Device", DeviceKind.CTI_RD, owner="bob", remote_destinations=(extend,)),
        Device("SEPLOBBY", "Cisco 6901", DeviceKind.DESK_PHONE),
    ))
    rules = AuditRules(ReleaseTable.load(), CategoryMap.load(), naming, spark_seats=10)
    return run_audit(inventory, rules, "https://cucm-pub.example.com:8443/axl/", "sql")


def test_json_format_renders_the_audit_document() -> None:
    audit = small_audit()
    text = JsonFormat().render(audit)

    assert text.endswith("\n")
    assert json.loads(text) == json.loads(json.dumps(audit_document(audit)))


def test_csv_has_a_header_and_one_row_per_user() -> None:
    text = CsvFormat().render(small_audit())
    rows = list(csv.reader(io.StringIO(text)))

    assert tuple(rows[0]) == CSV_COLUMNS
    assert [row[0] for row in rows[1:]] == ["ann", "bob", "cy"]


def test_csv_rows_carry_devices_tiers_and_the_temporary_licence() -> None:
    rows = {row["userid"]: row for row in csv.DictReader(io.StringIO(CsvFormat().render(small_audit())))}

    assert rows["ann"] == {
        "userid": "ann", "devices": "2", "cti_rd": "1", "cti_rd_hybrid": "1", "spark_rd": "0",
        "tier_now": "enhanced_plus", "tier_after": "enhanced", "extra_device_licenses_now": "0",
        "temporary_license": "enhanced_plus", "device_names": "SEPANN CTIRDANN",
    }
    assert (rows["bob"]["cti_rd"], rows["bob"]["cti_rd_hybrid"], rows["bob"]["tier_now"]) == (
        "1", "0", "cuwl_standard")
    assert (rows["cy"]["devices"], rows["cy"]["tier_now"], rows["cy"]["temporary_license"]) == ("0", "", "")


def test_csv_uses_the_hcs_tier_names_under_hcs_naming() -> None:
    rows = {row["userid"]: row for row in csv.DictReader(io.StringIO(CsvFormat().render(small_audit(Naming.HCS))))}

    assert (rows["ann"]["tier_now"], rows["ann"]["tier_after"]) == ("hcs_standard", "hcs_foundation")


def test_table_without_color_has_no_ansi_escape_codes() -> None:
    text = TableFormat(color=False).render(small_audit())

    assert not ANSI.search(text)
    for expected in ("11.5.1.12900-21", "not supported", "11.5.1.13900-52", "CTIRDANN", "Hybrid Call",
                     "Extend and Connect", "enhanced_plus"):
        assert expected in text


def test_table_with_color_does_use_ansi_escape_codes() -> None:
    assert ANSI.search(TableFormat(color=True).render(small_audit()))


@pytest.mark.parametrize("naming", list(Naming))
def test_table_shows_the_temporary_licence_request(naming: Naming) -> None:
    text = TableFormat(color=False, width=200).render(small_audit(naming))

    assert "1 Enhanced Plus, 0 CUWL Standard; 1 users covered, 0 uncovered" in text
    assert f"({naming.value.upper()} naming)" in text
