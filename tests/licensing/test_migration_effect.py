"""The inventory after migration: conversion, consolidation, and what stays."""

from __future__ import annotations

from cucm_spark.inventory.model import Device, DeviceKind, Inventory, Line, RemoteDestination, User
from cucm_spark.licensing.migration_effect import SPARK_RD_MODEL, migrate_inventory


def cti_rd(name: str, owner: str | None, hybrid: bool = True, uri: str | None = None) -> Device:
    uri = uri or f"{owner}@acme.calls.webex.com"
    destination = RemoteDestination(uri, owner=owner, device=name)
    return Device(
        name,
        "CTI Remote Device",
        DeviceKind.CTI_RD,
        owner=owner,
        lines=(Line(1, "1000", "Internal"),),
        remote_destinations=(destination,),
        hybrid=hybrid,
    )


def spark_rd(name: str, owner: str) -> Device:
    destination = RemoteDestination(f"{owner}@acme.call.ciscospark.com", owner=owner, device=name)
    return Device(
        name, SPARK_RD_MODEL, DeviceKind.SPARK_RD, owner=owner, remote_destinations=(destination,)
    )


def phone(name: str, owner: str | None) -> Device:
    return Device(name, "Cisco 8841", DeviceKind.DESK_PHONE, owner=owner)


def by_name(inventory: Inventory) -> dict[str, Device]:
    return {device.name: device for device in inventory.devices}


def test_hybrid_cti_rd_becomes_a_spark_rd() -> None:
    before = Inventory("12.5.1.10000-22", devices=(phone("SEPA", "ann"), cti_rd("CTIRDANN", "ann")))
    after = by_name(migrate_inventory(before))
    converted = after["CTIRDANN"]
    assert (converted.model, converted.kind, converted.owner) == (
        SPARK_RD_MODEL, DeviceKind.SPARK_RD, "ann"
    )
    assert converted.lines == before.devices[1].lines
    assert [rd.device for rd in converted.remote_destinations] == ["CTIRDANN"]
    assert after["SEPA"] == before.devices[0]


def test_naming_rule_renames_and_repoints() -> None:
    before = Inventory(
        "12.5",
        users=(User("ann", associated_devices=("SEPA", "CTIRDANN")),),
        devices=(phone("SEPA", "ann"), cti_rd("CTIRDANN", "ann")),
    )
    after = migrate_inventory(before, spark_rd_name=lambda device: f"SPARK{device.owner}")
    assert [device.name for device in after.devices] == ["SEPA", "SPARKann"]
    assert after.devices[1].remote_destinations[0].device == "SPARKann"
    assert after.users[0].associated_devices == ("SEPA", "SPARKann")


def test_cti_rd_consolidates_into_an_existing_spark_rd() -> None:
    before = Inventory(
        "12.5",
        users=(User("ann", associated_devices=("CTIRDANN", "SPARKANN")),),
        devices=(
            cti_rd("CTIRDANN", "ann", uri="ann@acme.calls.webex.com"),
            spark_rd("SPARKANN", "ann"),
        ),
    )
    after = migrate_inventory(before)
    assert [device.name for device in after.devices] == ["SPARKANN"]
    destinations = after.devices[0].remote_destinations
    assert [rd.destination for rd in destinations] == [
        "ann@acme.call.ciscospark.com", "ann@acme.calls.webex.com"
    ]
    assert {rd.device for rd in destinations} == {"SPARKANN"}
    assert after.users[0].associated_devices == ("SPARKANN",)


def test_second_hybrid_cti_rd_consolidates_into_the_first_converted() -> None:
    before = Inventory(
        "12.5",
        devices=(cti_rd("CTIRD1", "ann"), cti_rd("CTIRD2", "ann", uri="ann@x.rooms.webex.com")),
    )
    after = migrate_inventory(before)
    assert [(device.name, device.kind) for device in after.devices] == [
        ("CTIRD1", DeviceKind.SPARK_RD)
    ]
    assert len(after.devices[0].remote_destinations) == 2


def test_non_hybrid_and_unowned_cti_rds_are_untouched() -> None:
    extend_and_connect = cti_rd("CTIRDBOB", "bob", hybrid=False, uri="+14085551234")
    unowned = cti_rd("CTIRDNOBODY", None)
    before = Inventory("11.5", devices=(extend_and_connect, unowned, spark_rd("SPARKBOB", "bob")))
    assert migrate_inventory(before) == before
