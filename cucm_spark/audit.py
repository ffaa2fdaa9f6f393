"""The audit as data: release support, device counts, licensing, per-user rows (pure)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from cucm_spark.inventory.model import Device, DeviceKind, Inventory
from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.licensing.policy import LicensingReport, licensing_report
from cucm_spark.licensing.tiers import Naming, tier_name
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

    @property
    def counts(self) -> dict[str, int]:
        kinds = Counter(device.kind for device in self.inventory.devices)
        return {
            "users": len(self.inventory.users),
            "devices": len(self.inventory.devices),
            "cti_rd": kinds[DeviceKind.CTI_RD],
            "cti_rd_hybrid": sum(1 for d in self.inventory.devices if d.kind is DeviceKind.CTI_RD and d.hybrid),
            "cti_rd_unowned": sum(1 for d in self.inventory.devices if d.kind is DeviceKind.CTI_RD and not d.owner),
            "spark_rd": kinds[DeviceKind.SPARK_RD],
            "phones": kinds[DeviceKind.DESK_PHONE] + kinds[DeviceKind.JABBER] + kinds[DeviceKind.OTHER],
            "desk_phones": kinds[DeviceKind.DESK_PHONE],
            "jabber": kinds[DeviceKind.JABBER],
            "unowned_devices": sum(1 for d in self.inventory.devices if not d.owner),
        }


def run_audit(inventory: Inventory, rules: AuditRules, cluster: str, source: str) -> Audit:
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


def _device_entry(device: Device) -> dict[str, object]:
    entry: dict[str, object] = {"name": device.name, "model": device.model, "kind": device.kind.value}
    if device.kind is DeviceKind.CTI_RD:
        entry["hybrid"] = device.hybrid
    return entry


def audit_document(audit: Audit) -> dict[str, object]:
    """The versioned JSON document (schema cucm-spark.audit/1, described in the README)."""
    lic = audit.licensing
    naming = lic.naming
    owned: dict[str, list[Device]] = defaultdict(list)
    for device in audit.inventory.devices:
        if device.owner:
            owned[device.owner.lower()].append(device)
    rows = {row.userid.lower(): row for row in lic.users}
    users = []
    for user in audit.inventory.users:
        row = rows.get(user.userid.lower())
        users.append({
            "userid": user.userid,
            "devices": [_device_entry(d) for d in owned.get(user.userid.lower(), [])],
            "tier_now": tier_name(row.tier_now, naming) if row and row.tier_now else None,
            "tier_after": tier_name(row.tier_after, naming) if row and row.tier_after else None,
            "extra_device_licences_now": row.extra_now if row else 0,
            "extra_device_licences_after": row.extra_after if row else 0,
            "temporary_license": row.temporary_licence.value if row and row.temporary_licence else None,
        })
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
        "counts": audit.counts,
        "licensing": naming.value,
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
        "users": users,
    }
