"""Licence tiers, their names, and the per-user rule (domain.md section 3)."""

from __future__ import annotations

import pytest

from cucm_spark.inventory.model import Device, DeviceKind
from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.licensing.tiers import (
    Naming,
    Tier,
    UserLicence,
    counted_devices,
    tier_name,
    tier_names,
    tier_rank,
    user_licence,
)

CATEGORIES = CategoryMap.load(None)
_MODELS = {
    "essential": ("Analog Phone", DeviceKind.DESK_PHONE),
    "ata": ("Cisco ATA 191", DeviceKind.DESK_PHONE),
    "3905": ("Cisco 3905", DeviceKind.DESK_PHONE),
    "6901": ("Cisco 6901", DeviceKind.DESK_PHONE),
    "basic": ("Cisco 6921", DeviceKind.DESK_PHONE),
    "6911": ("Cisco 6911", DeviceKind.DESK_PHONE),
    "enhanced": ("Cisco 8841", DeviceKind.DESK_PHONE),
    "jabber": ("Cisco Unified Client Services Framework", DeviceKind.JABBER),
    "cti": ("CTI Remote Device", DeviceKind.CTI_RD),
    "spark": ("Cisco Spark Remote Device", DeviceKind.SPARK_RD),
}


def devices(*kinds: str) -> list[Device]:
    """Devices of one owner, by the short names above."""
    result = []
    for number, short in enumerate(kinds):
        model, kind = _MODELS[short]
        result.append(Device(f"SEP{number:012d}", model, kind, owner="ann"))
    return result


def tier_of(*kinds: str) -> Tier | None:
    return user_licence(devices(*kinds), CATEGORIES).tier


def test_tiers_are_ordered() -> None:
    assert (
        Tier.ESSENTIAL < Tier.BASIC < Tier.ENHANCED < Tier.ENHANCED_PLUS < Tier.CUWL_STANDARD
    )
    assert max(Tier.ENHANCED_PLUS, Tier.BASIC) is Tier.ENHANCED_PLUS
    assert Tier.CUWL_STANDARD >= Tier.ENHANCED


def test_ucl_and_hcs_names() -> None:
    assert tier_names(Naming.UCL) == (
        "essential", "basic", "enhanced", "enhanced_plus", "cuwl_standard"
    )
    assert tier_names(Naming.HCS) == ("hcs_foundation", "hcs_standard")
    assert [tier_name(tier, Naming.HCS) for tier in Tier] == [
        "hcs_foundation", "hcs_foundation", "hcs_foundation", "hcs_standard", "hcs_standard"
    ]
    assert tier_name(Tier.ENHANCED_PLUS) == "enhanced_plus"
    assert tier_rank(Tier.ENHANCED_PLUS, Naming.HCS) == tier_rank(Tier.CUWL_STANDARD, Naming.HCS)
    assert tier_rank(None) == -1


def test_no_device_no_licence() -> None:
    assert user_licence([], CATEGORIES) == UserLicence(None, 0, 0)


@pytest.mark.parametrize(
    ("kind", "tier"),
    [
        ("essential", Tier.ESSENTIAL),
        ("ata", Tier.ESSENTIAL),
        ("3905", Tier.ESSENTIAL),
        ("6901", Tier.ESSENTIAL),
        ("basic", Tier.BASIC),
        ("6911", Tier.BASIC),
        ("enhanced", Tier.ENHANCED),
        ("jabber", Tier.ENHANCED),
        ("cti", Tier.ENHANCED),
        ("spark", Tier.ENHANCED),
    ],
)
def test_one_device_gives_its_category(kind: str, tier: Tier) -> None:
    assert user_licence(devices(kind), CATEGORIES) == UserLicence(tier, 1, 0)


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (2, UserLicence(Tier.ENHANCED_PLUS, 2, 0)),
        (3, UserLicence(Tier.CUWL_STANDARD, 3, 0)),
        (10, UserLicence(Tier.CUWL_STANDARD, 10, 0)),
        (11, UserLicence(Tier.CUWL_STANDARD, 11, 1)),
        (12, UserLicence(Tier.CUWL_STANDARD, 12, 2)),
    ],
)
def test_device_count_table(count: int, expected: UserLicence) -> None:
    assert user_licence(devices(*["enhanced"] * count), CATEGORIES) == expected


def test_two_essential_devices_still_need_enhanced_plus() -> None:
    assert tier_of("essential", "3905") is Tier.ENHANCED_PLUS


@pytest.mark.parametrize(
    ("kinds", "tier", "hcs"),
    [
        (("spark",), Tier.ENHANCED, "hcs_foundation"),
        (("spark", "enhanced"), Tier.ENHANCED, "hcs_foundation"),
        (("spark", "enhanced", "enhanced"), Tier.ENHANCED_PLUS, "hcs_standard"),
        (("spark", "jabber"), Tier.ENHANCED, "hcs_foundation"),
        (("spark", "cti"), Tier.ENHANCED, "hcs_foundation"),
    ],
)
def test_spark_rd_rule(kinds: tuple[str, ...], tier: Tier, hcs: str) -> None:
    assert tier_of(*kinds) is tier
    assert tier_name(tier, Naming.HCS) == hcs


def test_spark_rd_counts_beside_a_device_that_is_not_enhanced() -> None:
    assert tier_of("spark", "basic") is Tier.ENHANCED_PLUS
    assert tier_of("spark", "essential") is Tier.ENHANCED_PLUS


def test_several_spark_rds_alone_count_as_one() -> None:
    assert user_licence(devices("spark", "spark"), CATEGORIES) == UserLicence(Tier.ENHANCED, 1)
    assert tier_of("spark", "spark", "basic") is Tier.ENHANCED_PLUS
    assert tier_of("spark", "spark", "enhanced") is Tier.ENHANCED


def test_cti_rd_always_counts() -> None:
    assert tier_of("cti", "enhanced") is Tier.ENHANCED_PLUS
    assert tier_of("cti", "enhanced", "enhanced") is Tier.CUWL_STANDARD
    assert tier_of("cti", "cti") is Tier.ENHANCED_PLUS
    assert tier_of("cti", "basic") is Tier.ENHANCED_PLUS


def test_counted_devices_drops_only_the_spark_rd() -> None:
    owned = devices("spark", "enhanced", "cti")
    assert counted_devices(owned, CATEGORIES) == (owned[1], owned[2])
