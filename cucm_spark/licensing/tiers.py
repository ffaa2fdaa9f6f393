"""User licence tiers and the rule that gives each user theirs from the devices they own.

The rule (domain.md section 3): count the devices a user owns; one device gives the
tier of its category, two give Enhanced Plus, three to ten CUWL Standard, and each
device over ten needs an extra device licence. A CTI-RD always counts. A Spark-RD
does not count when its owner owns another device that needs Enhanced.

A user with several Spark-RDs and no other Enhanced device: the Spark-RDs together
count as one Enhanced device. A Spark-RD only carries the user's one cloud identity
(Hybrid Call Service makes one per user), so a second one adds no licensable use,
and the seed rule "a standalone Spark-RD needs one Enhanced licence" reads per user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import total_ordering

from cucm_spark.inventory.model import Device, DeviceKind
from cucm_spark.licensing.categories import Category, CategoryMap

MAX_DEVICES_IN_TIER = 10


@total_ordering
class Tier(Enum):
    """A user licence tier, ordered from the least to the most a user can need."""

    ESSENTIAL = "essential"
    BASIC = "basic"
    ENHANCED = "enhanced"
    ENHANCED_PLUS = "enhanced_plus"
    CUWL_STANDARD = "cuwl_standard"

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Tier):
            return NotImplemented
        return _RANK[self] < _RANK[other]

    @classmethod
    def for_category(cls, category: Category) -> Tier:
        """The tier a user needs whose only counted device is of this category."""
        return cls(category.value)


_RANK = {tier: rank for rank, tier in enumerate(Tier)}
_TIER_FOR = {category: Tier.for_category(category) for category in Category}


class Naming(str, Enum):
    """How tiers are named in totals: Cisco UCL/CUWL, or Hosted Collaboration Solution."""

    UCL = "ucl"
    HCS = "hcs"


# HCS sells two user licences: Foundation covers what UCL splits into Essential,
# Basic and Enhanced; Standard covers Enhanced Plus and CUWL Standard.
_HCS_NAMES = {
    Tier.ESSENTIAL: "hcs_foundation",
    Tier.BASIC: "hcs_foundation",
    Tier.ENHANCED: "hcs_foundation",
    Tier.ENHANCED_PLUS: "hcs_standard",
    Tier.CUWL_STANDARD: "hcs_standard",
}


def tier_name(tier: Tier, naming: Naming = Naming.UCL) -> str:
    """The JSON key of a tier under a naming: "enhanced_plus", or "hcs_standard"."""
    return _HCS_NAMES[tier] if naming is Naming.HCS else tier.value


_NAMES = {
    naming: tuple(dict.fromkeys(tier_name(tier, naming) for tier in Tier)) for naming in Naming
}
_RANK_IN = {
    naming: {tier: _NAMES[naming].index(tier_name(tier, naming)) for tier in Tier}
    for naming in Naming
}


def tier_names(naming: Naming = Naming.UCL) -> tuple[str, ...]:
    """Every tier key of a naming, lowest first (for totals that show zeros too)."""
    return _NAMES[naming]


def tier_rank(tier: Tier | None, naming: Naming = Naming.UCL) -> int:
    """Position of a tier among its naming's keys; -1 for a user who needs none.

    Under HCS, Enhanced Plus and CUWL Standard rank the same: both are Standard.
    """
    return -1 if tier is None else _RANK_IN[naming][tier]


@dataclass(frozen=True)
class UserLicence:
    """What one user needs: a tier (None when they own nothing) and extra device licences."""

    tier: Tier | None
    counted_devices: int
    extra_device_licences: int = 0


def counted_devices(devices: Sequence[Device], categories: CategoryMap) -> tuple[Device, ...]:
    """The devices of one owner that count for licensing, after the Spark-RD rule."""
    spark_rds = [device for device in devices if device.kind is DeviceKind.SPARK_RD]
    others = [device for device in devices if device.kind is not DeviceKind.SPARK_RD]
    if not spark_rds or any(
        categories.category(device.model) is Category.ENHANCED for device in others
    ):
        return tuple(others)
    return (*others, spark_rds[0])


def user_licence(devices: Sequence[Device], categories: CategoryMap) -> UserLicence:
    """The licence one user needs for the devices they own.

    ``counted_devices`` in one pass without building the tuple: this runs once or
    more per owner, 40,000 times on a large cluster.
    """
    spark_rd: Device | None = None  # the first Spark-RD, the one that may count
    others = []
    for device in devices:
        if device.kind is not DeviceKind.SPARK_RD:
            others.append(device)
        elif spark_rd is None:
            spark_rd = device
    count = len(others)
    if spark_rd is not None and not any(categories.category(d.model) is Category.ENHANCED for d in others):
        count += 1
    if count == 0:
        return UserLicence(None, 0)
    if count == 1:
        only = others[0] if others else spark_rd
        tier = _TIER_FOR[categories.category(only.model)]  # type: ignore[union-attr]
    elif count == 2:
        tier = Tier.ENHANCED_PLUS
    else:
        tier = Tier.CUWL_STANDARD
    return UserLicence(tier, count, max(0, count - MAX_DEVICES_IN_TIER))
