"""Inventories for planner tests, built from lab datasets without a server (assemble is pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cucm_spark.classify import CloudDomains
from cucm_spark.inventory.collect import Facts, assemble
from cucm_spark.inventory.model import Inventory
from cucm_spark.migrate.facts import DeviceSettings

CLUSTERS = Path(__file__).resolve().parents[2] / "fixtures" / "clusters"


def dataset_inventory(name: str) -> tuple[Inventory, dict[str, DeviceSettings]]:
    """The inventory a lab loaded with this dataset would report, and every device's settings."""
    data = json.loads((CLUSTERS / name).read_text())
    devices = data.get("devices", [])
    facts = Facts(
        version=data["release"],
        users=[{"userid": u["userid"], "firstname": u.get("firstName"), "lastname": u.get("lastName")}
               for u in data["users"]],
        devices=[{"name": d["name"], "description": d.get("description"), "model": d["model"],
                  "owner": d.get("owner")} for d in devices],
        lines=[{"device": d["name"], "index": line["index"], "pattern": line["pattern"],
                "partition": line.get("partition"), "label": line.get("label"), "display": line.get("display"),
                "display_ascii": line.get("displayAscii"), "e164_mask": line.get("e164Mask")}
               for d in devices for line in d.get("lines", [])],
        remote_destinations=[dict(r) for r in data.get("remoteDestinations", [])],
        associations=[(user, d["name"]) for d in devices
                      for user in d.get("controlledBy", [d["owner"]] if d.get("owner") else [])],
    )
    settings = {
        d["name"].lower(): DeviceSettings(
            device_pool=d.get("devicePool") or "Default",
            calling_search_space=d.get("callingSearchSpace"),
            reroute_calling_search_space=d.get("rerouteCallingSearchSpace"),
            location=d.get("location") or "Hub_None",
            common_phone_config=d.get("commonPhoneConfig") or "Standard Common Phone Profile",
        )
        for d in devices
    }
    return assemble(facts, CloudDomains.load()), settings


@pytest.fixture(scope="session")
def edge_cases() -> tuple[Inventory, dict[str, DeviceSettings]]:
    return dataset_inventory("edge-cases.json")
