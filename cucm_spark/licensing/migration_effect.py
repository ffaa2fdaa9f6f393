"""The inventory as it would be after migrating Hybrid CTI-RDs: what licensing compares against.

Every Hybrid CTI-RD with an owner becomes a Spark-RD (same owner, lines and remote
destinations), unless its owner already has a Spark-RD, in which case the CTI-RD
goes away and its remote destinations move to that Spark-RD (consolidation). A
second Hybrid CTI-RD of the same owner consolidates into the Spark-RD the first one
became. Unowned CTI-RDs cannot be migrated (a Spark-RD needs an owner), and
non-hybrid ones (Extend and Connect) are not ours to touch: both stay as they are.

This models the effect that licensing cares about (which devices each user owns),
not the AXL steps: lines of a consolidated CTI-RD are not merged here; the planner
decides that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from cucm_spark.inventory.model import Device, DeviceKind, Inventory, RemoteDestination, User

SPARK_RD_MODEL = "Cisco Spark Remote Device"


def is_migratable(device: Device) -> bool:
    """A Hybrid Call CTI-RD with an owner: the only kind of device a migration touches."""
    return device.kind is DeviceKind.CTI_RD and device.hybrid and device.owner is not None


def migrate_inventory(
    inventory: Inventory, spark_rd_name: Callable[[Device], str] | None = None
) -> Inventory:
    """The inventory after migration. ``spark_rd_name`` names a new Spark-RD after the
    CTI-RD it replaces; by default it keeps the CTI-RD's name."""
    devices, renamed = _migrate(inventory.devices, spark_rd_name)
    users = tuple(_reassociate(user, renamed) for user in inventory.users)
    return replace(inventory, users=users, devices=devices)


def migrated_devices(devices: tuple[Device, ...]) -> tuple[Device, ...]:
    """The devices of ``migrate_inventory`` (default naming) alone: all that licensing counts."""
    return _migrate(devices, None)[0]


def _migrate(
    devices: tuple[Device, ...], spark_rd_name: Callable[[Device], str] | None
) -> tuple[tuple[Device, ...], dict[str, str]]:
    """The devices after migration, and each migrated CTI-RD's name -> the Spark-RD that took it."""
    spark_rd_of: dict[str, str] = {}  # owner -> the Spark-RD that takes their CTI-RDs
    for device in devices:
        if device.kind is DeviceKind.SPARK_RD and device.owner is not None:
            spark_rd_of.setdefault(device.owner, device.name)
    renamed: dict[str, str] = {}
    moved: dict[str, list[RemoteDestination]] = {}
    kept: list[Device] = []
    for device in devices:
        owner = device.owner
        if owner is None or not is_migratable(device):
            kept.append(device)
            continue
        target = spark_rd_of.get(owner)
        if target is None:
            target = spark_rd_name(device) if spark_rd_name is not None else device.name
            spark_rd_of[owner] = target
            kept.append(_as_spark_rd(device, target))
        else:
            moved.setdefault(target, []).extend(_repoint(device.remote_destinations, target))
        renamed[device.name] = target
    if moved:
        kept = [
            replace(d, remote_destinations=d.remote_destinations + tuple(moved[d.name])) if d.name in moved else d
            for d in kept
        ]
    return tuple(kept), renamed


def _as_spark_rd(device: Device, name: str) -> Device:
    return replace(
        device,
        name=name,
        model=SPARK_RD_MODEL,
        kind=DeviceKind.SPARK_RD,
        remote_destinations=_repoint(device.remote_destinations, name),
        hybrid=False,  # the flag describes CTI-RDs only
    )


def _repoint(
    destinations: tuple[RemoteDestination, ...], device_name: str
) -> tuple[RemoteDestination, ...]:
    return tuple(replace(destination, device=device_name) for destination in destinations)


def _reassociate(user: User, renamed: Mapping[str, str]) -> User:
    if not any(name in renamed for name in user.associated_devices):
        return user
    names = dict.fromkeys(renamed.get(name, name) for name in user.associated_devices)
    return replace(user, associated_devices=tuple(names))
