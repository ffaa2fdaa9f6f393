"""The audit's licensing result: tiers now and after migration, the deficiency, the GLO request.

Everything here is one pass over the devices grouped by owner (O(n) plus sorting the
user ids), so 80,000 devices take under a second.

The temporary licence request follows Cisco GLO's rules (domain.md section 1): a user
is eligible when their Hybrid CTI-RDs raise their tier from exactly Enhanced to
Enhanced Plus, or from exactly Enhanced Plus to CUWL Standard, where the tier without
CTI-RDs is computed with the user's Hybrid CTI-RDs removed. At most ``spark_seats``
users are covered (Spark Message/Meet seats on the Web Order). When seats run short,
CUWL Standard users are covered first: theirs is the costlier licence to buy, so the
seats save the customer the most; then Enhanced Plus; ties by user id, so two audits
of the same cluster name the same users. Temporary counts are always in UCL terms,
even under HCS naming, because GLO grants UCM (UCL) licences, never HCS ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields

from cucm_spark.errors import ConfigError
from cucm_spark.inventory.model import Device, DeviceKind, Inventory
from cucm_spark.licensing.categories import Category, CategoryMap
from cucm_spark.licensing.migration_effect import migrated_devices
from cucm_spark.licensing.tiers import Naming, Tier, tier_name, tier_names, tier_rank, user_licence

RESOLUTION_WINDOW_DAYS = 60

# What a Hybrid CTI-RD raised the user from -> the temporary licence GLO grants.
_TEMPORARY_FOR = {Tier.ENHANCED: Tier.ENHANCED_PLUS, Tier.ENHANCED_PLUS: Tier.CUWL_STANDARD}


@dataclass(frozen=True)
class UserRow:
    """One device owner: tiers now and after migration (``Tier``; render with tier_name)."""

    userid: str
    devices: int
    counted_now: int
    counted_after: int
    tier_now: Tier | None
    tier_after: Tier | None
    extra_now: int
    extra_after: int
    cti_rds: int
    hybrid_cti_rds: int
    temporary_licence: Tier | None  # what GLO may grant this user, before the seat cap


@dataclass(frozen=True)
class Deficiency:
    """Users whose tier now is higher than after migration, under the report's naming.

    ``transitions`` keys read "tier after migration -> tier now" (the rise the CTI-RDs
    cause), e.g. "enhanced->enhanced_plus". ``by_tier`` and ``extra_device_licences``
    are now minus after.
    """

    users: int
    transitions: Mapping[str, int]
    by_tier: Mapping[str, int]
    extra_device_licences: int


@dataclass(frozen=True)
class TemporaryLicenceRequest:
    """What to ask GLO for, in UCL terms, after the Spark seat cap."""

    enhanced_plus: int
    cuwl_standard: int
    users_eligible: int
    users_covered: int
    users_uncovered: int
    covered_userids: tuple[str, ...]
    uncovered_userids: tuple[str, ...]
    spark_seats: int | None
    resolution_window_days: int = RESOLUTION_WINDOW_DAYS


@dataclass(frozen=True)
class LicensingReport:
    """The licensing part of an audit; tier totals are keyed by the naming's tier names."""

    naming: Naming
    users: tuple[UserRow, ...]
    now: Mapping[str, int]
    after_migration: Mapping[str, int]
    extra_device_licences_now: int
    extra_device_licences_after: int
    device_only_now: Mapping[str, int]  # unowned devices by category (same in both namings)
    device_only_after: Mapping[str, int]
    users_over_ten_now: tuple[str, ...]
    users_over_ten_after: tuple[str, ...]
    deficiency: Deficiency
    temporary_request: TemporaryLicenceRequest

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: row tiers under the naming, temporary licences in UCL terms."""
        result: dict[str, object] = {item.name: getattr(self, item.name) for item in fields(self)}
        result["naming"] = self.naming.value
        result["users"] = [_row_dict(row, self.naming) for row in self.users]
        for key in ("now", "after_migration", "device_only_now", "device_only_after"):
            result[key] = dict(getattr(self, key))
        for key in ("users_over_ten_now", "users_over_ten_after"):
            result[key] = list(getattr(self, key))
        result["deficiency"] = asdict(self.deficiency)
        result["temporary_request"] = asdict(self.temporary_request)
        return result


def licensing_report(
    inventory: Inventory,
    categories: CategoryMap,
    naming: Naming = Naming.UCL,
    spark_seats: int | None = None,
) -> LicensingReport:
    """Licences the cluster needs now and after migrating its Hybrid CTI-RDs."""
    if spark_seats is not None and spark_seats < 0:
        raise ConfigError(f"Spark seats must be zero or more, not {spark_seats}")
    owned_now, unowned_now = _group_by_owner(inventory.devices)
    owned_after, unowned_after = _group_by_owner(migrated_devices(inventory.devices))
    rows = tuple(
        _user_row(userid, owned_now.get(userid, []), owned_after.get(userid, []), categories)
        for userid in sorted(owned_now.keys() | owned_after.keys())
    )
    now = _tier_totals((row.tier_now for row in rows), naming)
    after = _tier_totals((row.tier_after for row in rows), naming)
    extra_now = sum(row.extra_now for row in rows)
    extra_after = sum(row.extra_after for row in rows)
    return LicensingReport(
        naming=naming,
        users=rows,
        now=now,
        after_migration=after,
        extra_device_licences_now=extra_now,
        extra_device_licences_after=extra_after,
        device_only_now=_by_category(unowned_now, categories),
        device_only_after=_by_category(unowned_after, categories),
        users_over_ten_now=tuple(row.userid for row in rows if row.extra_now),
        users_over_ten_after=tuple(row.userid for row in rows if row.extra_after),
        deficiency=_deficiency(rows, naming, now, after, extra_now - extra_after),
        temporary_request=_temporary_request(rows, spark_seats),
    )


def _group_by_owner(
    devices: Iterable[Device],
) -> tuple[dict[str, list[Device]], list[Device]]:
    owned: dict[str, list[Device]] = {}
    unowned: list[Device] = []
    for device in devices:
        if device.owner is None:
            unowned.append(device)
        else:
            owned.setdefault(device.owner, []).append(device)
    return owned, unowned


def _user_row(
    userid: str, now: Sequence[Device], after: Sequence[Device], categories: CategoryMap
) -> UserRow:
    cti_rds = hybrid = 0
    for device in now:
        if device.kind is DeviceKind.CTI_RD:
            cti_rds += 1
            hybrid += device.hybrid
    licence_now = user_licence(now, categories)
    # Migration touches only owners of Hybrid CTI-RDs; skip the second count for the rest.
    licence_after = user_licence(after, categories) if hybrid else licence_now
    temporary: Tier | None = None
    if hybrid:
        kept = [d for d in now if not (d.kind is DeviceKind.CTI_RD and d.hybrid)]
        without = user_licence(kept, categories).tier
        raised_to = _TEMPORARY_FOR.get(without) if without is not None else None
        if raised_to is not None and licence_now.tier is raised_to:
            temporary = raised_to
    return UserRow(
        userid=userid,
        devices=len(now),
        counted_now=licence_now.counted_devices,
        counted_after=licence_after.counted_devices,
        tier_now=licence_now.tier,
        tier_after=licence_after.tier,
        extra_now=licence_now.extra_device_licences,
        extra_after=licence_after.extra_device_licences,
        cti_rds=cti_rds,
        hybrid_cti_rds=hybrid,
        temporary_licence=temporary,
    )


def _tier_totals(tiers: Iterable[Tier | None], naming: Naming) -> dict[str, int]:
    totals = dict.fromkeys(tier_names(naming), 0)
    for tier, count in Counter(tiers).items():
        if tier is not None:
            totals[tier_name(tier, naming)] += count
    return totals


def _by_category(devices: Iterable[Device], categories: CategoryMap) -> dict[str, int]:
    totals = {category.value: 0 for category in Category}
    for device in devices:
        totals[categories.category(device.model).value] += 1
    return totals


def _deficiency(
    rows: Iterable[UserRow],
    naming: Naming,
    now: Mapping[str, int],
    after: Mapping[str, int],
    extra: int,
) -> Deficiency:
    transitions: dict[str, int] = {}
    for row in rows:
        # Most owners keep their tier; only a changed one can rank higher.
        if row.tier_now is not row.tier_after and tier_rank(row.tier_now, naming) > tier_rank(row.tier_after, naming):
            key = f"{_name_or_none(row.tier_after, naming)}->{_name_or_none(row.tier_now, naming)}"
            transitions[key] = transitions.get(key, 0) + 1
    return Deficiency(
        users=sum(transitions.values()),
        transitions=dict(sorted(transitions.items())),
        by_tier={name: now[name] - after[name] for name in now},
        extra_device_licences=extra,
    )


def _temporary_request(rows: Iterable[UserRow], spark_seats: int | None) -> TemporaryLicenceRequest:
    eligible = sorted(
        (row for row in rows if row.temporary_licence is not None),
        key=lambda row: (row.temporary_licence is not Tier.CUWL_STANDARD, row.userid),
    )
    cap = len(eligible) if spark_seats is None else spark_seats
    covered, uncovered = eligible[:cap], eligible[cap:]
    cuwl = sum(1 for row in covered if row.temporary_licence is Tier.CUWL_STANDARD)
    return TemporaryLicenceRequest(
        enhanced_plus=len(covered) - cuwl,
        cuwl_standard=cuwl,
        users_eligible=len(eligible),
        users_covered=len(covered),
        users_uncovered=len(uncovered),
        covered_userids=tuple(row.userid for row in covered),
        uncovered_userids=tuple(row.userid for row in uncovered),
        spark_seats=spark_seats,
    )


def _name_or_none(tier: Tier | None, naming: Naming) -> str:
    return "none" if tier is None else tier_name(tier, naming)


def _row_dict(row: UserRow, naming: Naming) -> dict[str, object]:
    result: dict[str, object] = {item.name: getattr(row, item.name) for item in fields(row)}
    for key in ("tier_now", "tier_after"):
        tier = getattr(row, key)
        result[key] = None if tier is None else tier_name(tier, naming)
    result["temporary_licence"] = row.temporary_licence.value if row.temporary_licence else None
    return result
