"""The JSON format writes its users list by hand for speed: it must stay byte for byte json.dumps(indent=2)."""

from __future__ import annotations

import json

import pytest
from support.lab import CLUSTERS

from cucm_spark.audit import Audit, AuditRules, audit_document, run_audit
from cucm_spark.classify import CloudDomains
from cucm_spark.inventory.collect import Facts, assemble
from cucm_spark.inventory.model import Device, DeviceKind, Inventory, User
from cucm_spark.lab.generator import generate
from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.licensing.tiers import Naming
from cucm_spark.releases import ReleaseTable
from cucm_spark.report.formats import JsonFormat, _indented


def inventory_of(data: dict) -> Inventory:
    """The inventory a lab loaded with this dataset would report (assemble is pure: no server)."""
    devices = data.get("devices", [])
    facts = Facts(
        version=data["release"],
        users=[{"userid": u["userid"], "firstname": u.get("firstName"), "lastname": u.get("lastName")}
               for u in data["users"]],
        devices=[{"name": d["name"], "description": d.get("description"), "model": d["model"],
                  "owner": d.get("owner")} for d in devices],
        lines=[],
        remote_destinations=[dict(r) for r in data.get("remoteDestinations", [])],
        associations=[(user, d["name"]) for d in devices for user in d.get("controlledBy", [])],
    )
    return assemble(facts, CloudDomains.load())


def audit_of(data: dict, naming: Naming = Naming.UCL, spark_seats: int | None = None) -> Audit:
    rules = AuditRules(ReleaseTable.load(), CategoryMap.load(), naming, spark_seats)
    return run_audit(inventory_of(data), rules, "https://cucm.example.com:8443/axl/", "sql")


DATASETS = {
    "edge-cases": json.loads((CLUSTERS / "edge-cases.json").read_text()),
    "worked-example": json.loads((CLUSTERS / "worked-example.json").read_text()),
    "generated": generate(300, seed=3),
}


@pytest.mark.parametrize("name", sorted(DATASETS))
@pytest.mark.parametrize(("naming", "spark_seats"), [(Naming.UCL, None), (Naming.HCS, 10)])
def test_json_is_exactly_what_json_dumps_writes(name: str, naming: Naming, spark_seats: int | None) -> None:
    audit = audit_of(DATASETS[name], naming, spark_seats)

    assert JsonFormat().render(audit) == json.dumps(audit_document(audit), indent=2) + "\n"


def test_odd_values_are_written_as_json_writes_them() -> None:
    devices = (
        Device('SEP"quoted\\', "Cisco 8841 ü", DeviceKind.DESK_PHONE, owner="Ann"),
        Device("CTIRDANN", "CTI Remote Device", DeviceKind.CTI_RD, owner="ann", hybrid=False),
        Device("NOMODEL", None, DeviceKind.OTHER, owner="ann"),  # type: ignore[arg-type]
        Device("LOBBY", "Cisco 7821", DeviceKind.DESK_PHONE),
    )
    users = (User("ann"), User("nobody\n"), User("€uro"))
    rules = AuditRules(ReleaseTable.load(), CategoryMap.load(), Naming.UCL, None)
    audit = run_audit(Inventory("12.5.1.10000-22", users, devices), rules, "x", "list")

    assert JsonFormat().render(audit) == json.dumps(audit_document(audit), indent=2) + "\n"


def test_an_audit_without_users_keeps_the_empty_list() -> None:
    rules = AuditRules(ReleaseTable.load(), CategoryMap.load(), Naming.UCL, None)
    audit = run_audit(Inventory("12.5.1.10000-22"), rules, "x", "sql")

    assert JsonFormat().render(audit) == json.dumps(audit_document(audit), indent=2) + "\n"


@pytest.mark.parametrize("value", [
    {}, [], {"a": []}, {"a": {}}, [1.5, float("nan"), 1e100, -0.0], {"x": [{"y": None, "z": [1, [2, {}]]}]},
    {1: 2, "a": [True, False]}, "é", [("a", 1)], {"k": {"a": 1, "b": "ü\n"}}, ("x",),
    {"ids": [f"u{i}" for i in range(50)], "n": {"deep": {"deeper": [None, "x"]}}},
])
def test_the_indenting_encoder_matches_json_dumps(value: object) -> None:
    assert _indented(value) == json.dumps(value, indent=2)
