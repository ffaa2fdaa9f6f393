"""The audit as data: release support, device counts, licensing, per-user rows (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from cucm_spark.inventory.bulk import paused_gc
from cucm_spark.inventory.model import Device, DeviceKind, Inventory
from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.licensing.policy import LicensingReport, licensing_report
from cucm_spark.licensing.tiers import Naming, Tier, tier_name
from cucm_spark.releases import Release, ReleaseTable, parse_release

SCHEMA = "cucm-spark.audit/1"


@dataclass(frozen=True)
class AuditRules:
    """The data an audit judges by; each part can be replaced by a user's file."""

    releases: ReleaseTable
    categories: CategoryMap
    naming: Naming = Naming.UCL
    spark_seats: int | None = None


@dataclass(frozen=True)
class Audit:
    """One cluster's audit: everything every output format renders."""

    cluster: str
    release: Release
    release_name: str
    spark_rd_supported: bool
    spark_rd_minimum: Release | None
    upgrade_target: Release | None
    inventory: Inventory
    licensing: LicensingReport
    source: str

    @cached_property
    def user_entries(self) -> tuple[UserEntry, ...]:
        """The document's users with their devices and licence row (computed once, shared by the formats)."""
        with paused_gc(keep=True):
            return tuple(_user_entries(self))

    @cached_property
    def counts(self) -> dict[str, int]:
        """Users and devices by kind (computed once: an audit does not change)."""
        devices = self.inventory.devices
        kinds = Counter(device.kind for device in devices)
        ctis = [d for d in devices if d.kind is DeviceKind.CTI_RD]
        return {
            "users": len(self.inventory.users),
            "devices": len(devices),
            "cti_rd": kinds[DeviceKind.CTI_RD],
            "cti_rd_hybrid": sum(1 for d in ctis if d.hybrid),
            "cti_rd_unowned": sum(1 for d in ctis if not d.owner),
            "spark_rd": kinds[DeviceKind.SPARK_RD],
            "phones": kinds[DeviceKind.DESK_PHONE] + kinds[DeviceKind.JABBER] + kinds[DeviceKind.OTHER],
            "desk_phones": kinds[DeviceKind.DESK_PHONE],
            "jabber": kinds[DeviceKind.JABBER],
            "unowned_devices": sum(1 for d in devices if not d.owner),
        }


def run_audit(inventory: Inventory, rules: AuditRules, cluster: str, source: str) -> Audit:
    with paused_gc(keep=True):
        return _run_audit(inventory, rules, cluster, source)


def _run_audit(inventory: Inventory, rules: AuditRules, cluster: str, source: str) -> Audit:
    release = parse_release(inventory.version)
    return Audit(
        cluster=cluster,
        release=release,
        release_name=rules.releases.describe(release),
        spark_rd_supported=rules.releases.supports_spark_rd(release),
        spark_rd_minimum=rules.releases.spark_rd_minimum(release),
        upgrade_target=rules.releases.upgrade_target(release),
        inventory=inventory,
        licensing=licensing_report(inventory, rules.categories, rules.naming, rules.spark_seats),
        source=source,
    )


class UserEntry(NamedTuple):
    """One user of the document's ``users`` list, before it is a dict or JSON text."""

    userid: str
    devices: list[Device]
    tier_now: str | None
    tier_after: str | None
    extra_now: int
    extra_after: int
    temporary_license: str | None


def user_entries(audit: Audit) -> tuple[UserEntry, ...]:
    """Every user in inventory order, with the devices they own and their licence row."""
    return audit.user_entries


def _user_entries(audit: Audit) -> Iterator[UserEntry]:
    lic = audit.licensing
    names = {tier: tier_name(tier, lic.naming) for tier in Tier}
    owned: dict[str, list[Device]] = {}
    for device in audit.inventory.devices:
        if device.owner:
            owned.setdefault(device.owner.lower(), []).append(device)
    rows = {row.userid.lower(): row for row in lic.users}
    for user in audit.inventory.users:
        key = user.userid.lower()
        row = rows.get(key)
        devices = owned.get(key, [])
        if row is None:
            yield UserEntry(user.userid, devices, None, None, 0, 0, None)
            continue
        yield UserEntry(
            user.userid, devices,
            names[row.tier_now] if row.tier_now else None,
            names[row.tier_after] if row.tier_after else None,
            row.extra_now, row.extra_after,
            row.temporary_licence.value if row.temporary_licence else None,
        )


def device_entry(device: Device) -> dict[str, object]:
    kind = device.kind
    if kind is DeviceKind.CTI_RD:
        return {"name": device.name, "model": device.model, "kind": kind._value_, "hybrid": device.hybrid}
    return {"name": device.name, "model": device.model, "kind": kind._value_}


def audit_document(audit: Audit) -> dict[str, object]:
    """The versioned JSON document (schema cucm-spark.audit/1, described in the README)."""
    document = audit_summary(audit)
    entries = audit.user_entries
    with paused_gc(keep=True):
        document["users"] = [
            {
                "userid": entry.userid,
                "devices": [device_entry(d) for d in entry.devices],
                "tier_now": entry.tier_now,
                "tier_after": entry.tier_after,
                "extra_device_licences_now": entry.extra_now,
                "extra_device_licences_after": entry.extra_after,
                "temporary_license": entry.temporary_license,
            }
            for entry in entries
        ]
    return document


def audit_summary(audit: Audit) -> dict[str, object]:
    """The document without its ``users`` list (the last key, and nearly all of its size)."""
    lic = audit.licensing
    temporary = lic.temporary_request
    return {
        "schema": SCHEMA,
        "cluster": {
            "url": audit.cluster,
            "version": str(audit.release),
            "version_name": audit.release_name,
            "spark_rd_supported": audit.spark_rd_supported,
            "spark_rd_minimum": str(audit.spark_rd_minimum) if audit.spark_rd_minimum else None,
            "upgrade_to": str(audit.upgrade_target) if audit.upgrade_target else None,
            "inventory_source": audit.source,
        },
        "counts": dict(audit.counts),
        "licensing": lic.naming.value,
        "licenses": {
            "now": dict(lic.now),
            "after_migration": dict(lic.after_migration),
            "extra_device_licenses": {"now": lic.extra_device_licences_now,
                                      "after_migration": lic.extra_device_licences_after},
            "device_only": {"now": dict(lic.device_only_now), "after_migration": dict(lic.device_only_after)},
            "users_over_10_devices": list(lic.users_over_ten_now),
        },
        "deficiency": {
            "users": lic.deficiency.users,
            "transitions": dict(lic.deficiency.transitions),
            "by_tier": dict(lic.deficiency.by_tier),
            "extra_device_licenses": lic.deficiency.extra_device_licences,
        },
        "temporary_license_request": {
            "enhanced_plus": temporary.enhanced_plus,
            "cuwl_standard": temporary.cuwl_standard,
            "users_eligible": temporary.users_eligible,
            "users_covered": temporary.users_covered,
            "users_uncovered": temporary.users_uncovered,
            "covered_userids": list(temporary.covered_userids),
            "uncovered_userids": list(temporary.uncovered_userids),
            "spark_seats": temporary.spark_seats,
            "resolution_window_days": temporary.resolution_window_days,
        },
    }
