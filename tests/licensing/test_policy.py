"""The licensing report: totals now and after migration, deficiency, temporary licences."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cucm_spark.errors import ConfigError
from cucm_spark.inventory.model import Device, DeviceKind, Inventory, RemoteDestination
from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.licensing.policy import LicensingReport, licensing_report
from cucm_spark.licensing.tiers import Naming, Tier

CATEGORIES = CategoryMap.load(None)


def phone(owner: str | None, number: int = 0, model: str = "Cisco 8841") -> Device:
    return Device(f"SEP{owner}{number:03d}", model, DeviceKind.DESK_PHONE, owner=owner)


def cti_rd(owner: str | None, number: int = 0, hybrid: bool = True) -> Device:
    name = f"CTIRD{owner}{number}"
    uri = f"{owner}@acme.calls.webex.com" if hybrid else "+14085551234"
    return Device(
        name,
        "CTI Remote Device",
        DeviceKind.CTI_RD,
        owner=owner,
        remote_destinations=(RemoteDestination(uri, owner=owner, device=name),),
        hybrid=hybrid,
    )


def worked_example() -> Inventory:
    """domain.md section 1: 100 Enhanced + 20 Enhanced Plus users at their device maximum,
    Hybrid CTI-RDs added for 60 of the Enhanced and all 20 Enhanced Plus users."""
    devices: list[Device] = []
    for index in range(100):
        userid = f"e{index:03d}"
        devices.append(phone(userid))
        if index < 60:
            devices.append(cti_rd(userid))
    for index in range(20):
        userid = f"p{index:03d}"
        devices += [phone(userid, 0), phone(userid, 1), cti_rd(userid)]
    return Inventory("10.5.2.14900-16", devices=tuple(devices))


def report(inventory: Inventory, **options: object) -> LicensingReport:
    return licensing_report(inventory, CATEGORIES, **options)  # type: ignore[arg-type]


def test_worked_example_totals_and_deficiency() -> None:
    result = report(worked_example(), spark_seats=100)
    assert result.now == {
        "essential": 0, "basic": 0, "enhanced": 40, "enhanced_plus": 60, "cuwl_standard": 20
    }
    assert result.after_migration == {
        "essential": 0, "basic": 0, "enhanced": 100, "enhanced_plus": 20, "cuwl_standard": 0
    }
    assert result.deficiency.users == 80
    assert result.deficiency.transitions == {
        "enhanced->enhanced_plus": 60, "enhanced_plus->cuwl_standard": 20
    }
    assert result.deficiency.by_tier == {
        "essential": 0, "basic": 0, "enhanced": -60, "enhanced_plus": 40, "cuwl_standard": 20
    }


def test_worked_example_temporary_request_with_enough_seats() -> None:
    request = report(worked_example(), spark_seats=100).temporary_request
    assert (request.enhanced_plus, request.cuwl_standard) == (60, 20)
    assert (request.users_eligible, request.users_covered, request.users_uncovered) == (80, 80, 0)
    assert request.resolution_window_days == 60
    assert request.spark_seats == 100


def test_worked_example_with_50_seats_covers_cuwl_users_first() -> None:
    request = report(worked_example(), spark_seats=50).temporary_request
    assert (request.cuwl_standard, request.enhanced_plus) == (20, 30)
    assert (request.users_covered, request.users_uncovered) == (50, 30)
    expected = [f"p{i:03d}" for i in range(20)] + [f"e{i:03d}" for i in range(30)]
    assert list(request.covered_userids) == expected
    assert list(request.uncovered_userids) == [f"e{i:03d}" for i in range(30, 60)]


def test_no_cap_and_zero_seats() -> None:
    assert report(worked_example()).temporary_request.users_covered == 80
    request = report(worked_example(), spark_seats=0).temporary_request
    assert (request.users_covered, request.users_uncovered) == (0, 80)


def test_negative_seats_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        report(worked_example(), spark_seats=-1)


def test_hcs_naming_of_totals_keeps_the_request_in_ucl_terms() -> None:
    result = report(worked_example(), naming=Naming.HCS, spark_seats=100)
    assert result.now == {"hcs_foundation": 40, "hcs_standard": 80}
    assert result.after_migration == {"hcs_foundation": 100, "hcs_standard": 20}
    # Enhanced Plus and CUWL Standard are both HCS Standard: no deficiency between them.
    assert result.deficiency.transitions == {"hcs_foundation->hcs_standard": 60}
    assert result.deficiency.by_tier == {"hcs_foundation": -60, "hcs_standard": 60}
    request = result.temporary_request
    assert (request.enhanced_plus, request.cuwl_standard) == (60, 20)


def test_user_rows() -> None:
    rows = {row.userid: row for row in report(worked_example()).users}
    assert len(rows) == 120
    row = rows["p000"]
    assert (row.devices, row.counted_now, row.counted_after) == (3, 3, 2)
    assert (row.tier_now, row.tier_after) == (Tier.CUWL_STANDARD, Tier.ENHANCED_PLUS)
    assert (row.cti_rds, row.hybrid_cti_rds) == (1, 1)
    assert row.temporary_licence is Tier.CUWL_STANDARD
    assert rows["e099"].temporary_licence is None
    assert rows["e099"].tier_now is Tier.ENHANCED


def test_only_an_exact_one_step_rise_is_eligible() -> None:
    devices = (
        phone("two"), cti_rd("two", 0), cti_rd("two", 1),  # enhanced -> cuwl: two steps
        phone("basic", model="Cisco 6921"), cti_rd("basic"),  # basic -> enhanced_plus
        phone("ec"), cti_rd("ec", hybrid=False),  # Extend and Connect is not Hybrid
    )
    result = report(Inventory("10.5", devices=devices))
    assert result.temporary_request.users_eligible == 0
    rows = {row.userid: row for row in result.users}
    assert (rows["two"].tier_now, rows["two"].tier_after) == (Tier.CUWL_STANDARD, Tier.ENHANCED)
    assert rows["basic"].tier_after is Tier.ENHANCED_PLUS  # the Spark-RD counts beside a 6921
    assert rows["ec"].tier_after is Tier.ENHANCED_PLUS  # non-hybrid CTI-RD stays
    assert result.deficiency.transitions == {"enhanced->cuwl_standard": 1}


def test_device_only_licences() -> None:
    devices = (
        phone(None, 0, "Cisco 3905"),
        phone(None, 1, "Cisco 6921"),
        phone(None, 2),
        cti_rd(None),  # unowned: cannot migrate, stays an Enhanced device-only licence
        phone("ann"),
    )
    result = report(Inventory("11.5", devices=devices))
    assert result.device_only_now == {"essential": 1, "basic": 1, "enhanced": 2}
    assert result.device_only_after == result.device_only_now
    assert [row.userid for row in result.users] == ["ann"]


def test_users_over_ten_devices() -> None:
    devices = tuple(phone("big", n) for n in range(11)) + (cti_rd("big"),)
    result = report(Inventory("11.5", devices=devices))
    assert result.users_over_ten_now == ("big",)
    assert result.users_over_ten_after == ("big",)
    assert (result.extra_device_licences_now, result.extra_device_licences_after) == (2, 1)
    assert result.deficiency.extra_device_licences == 1
    assert result.deficiency.users == 0  # CUWL Standard both before and after


def test_category_override_changes_the_result(tmp_path: Path) -> None:
    override = tmp_path / "categories.json"
    override.write_text(json.dumps({"Cisco 8841": "basic"}), encoding="utf-8")
    result = licensing_report(worked_example(), CategoryMap.load(override))
    assert result.now == {
        "essential": 0, "basic": 40, "enhanced": 0, "enhanced_plus": 60, "cuwl_standard": 20
    }
    # A Spark-RD counts beside Basic phones, so migration lowers no one.
    assert result.after_migration == result.now
    assert result.deficiency.users == 0
    request = result.temporary_request
    assert (request.enhanced_plus, request.cuwl_standard) == (0, 20)


def test_as_dict_is_json_ready() -> None:
    result = report(worked_example(), naming=Naming.HCS, spark_seats=10)
    document = json.loads(json.dumps(result.as_dict()))
    assert document["naming"] == "hcs"
    assert document["temporary_request"]["cuwl_standard"] == 10
    row = next(row for row in document["users"] if row["userid"] == "p000")
    assert (row["tier_now"], row["tier_after"]) == ("hcs_standard", "hcs_standard")
    assert row["temporary_licence"] == "cuwl_standard"


def test_eighty_thousand_devices() -> None:
    devices: list[Device] = []
    for index in range(40_000):
        userid = f"user{index:05d}"
        devices.append(phone(userid))
        devices.append(cti_rd(userid) if index % 2 else phone(userid, 1, "Cisco 7841"))
    result = report(Inventory("11.5.1.12900-21", devices=tuple(devices)), spark_seats=5_000)
    assert len(devices) == 80_000
    assert result.now["enhanced_plus"] == 40_000
    assert result.after_migration == {
        "essential": 0, "basic": 0, "enhanced": 20_000, "enhanced_plus": 20_000,
        "cuwl_standard": 0,
    }
    assert result.temporary_request.users_eligible == 20_000
    assert result.temporary_request.users_covered == 5_000
