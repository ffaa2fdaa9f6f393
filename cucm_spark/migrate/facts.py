"""What a migration relies on about one user's devices, and the fingerprint that proves it unchanged.

The planner builds these facts from the inventory (plus the settings read with getPhone);
the executor builds them again from fresh AXL reads just before it touches the user.
Both go through the same normalisation (blank text is None, lists sorted), so the same
cluster state always gives the same fingerprint, whichever path read it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from cucm_spark.inventory.model import Line

SPARK_RD_PRODUCT = "Cisco Spark Remote Device"
CTI_RD_PRODUCT = "CTI Remote Device"


def blank(value: Any) -> str | None:
    """Text as the facts keep it: None for missing or empty."""
    if value is None or value == "":
        return None
    return str(value)


@dataclass(frozen=True)
class DeviceSettings:
    """The settings a Spark-RD copies from the CTI-RD it replaces (read with getPhone)."""

    device_pool: str | None = None
    calling_search_space: str | None = None
    reroute_calling_search_space: str | None = None
    location: str | None = None
    common_phone_config: str | None = None

    @classmethod
    def from_phone(cls, phone: Mapping[str, Any]) -> DeviceSettings:
        """From a getPhone answer as plain data (foreign keys are plain names)."""
        return cls(
            device_pool=blank(phone.get("devicePoolName")),
            calling_search_space=blank(phone.get("callingSearchSpaceName")),
            reroute_calling_search_space=blank(phone.get("rerouteCallingSearchSpaceName")),
            location=blank(phone.get("locationName")),
            common_phone_config=blank(phone.get("commonPhoneConfigName")),
        )


@dataclass(frozen=True)
class DeviceFacts:
    """One device as the migration sees it."""

    name: str
    model: str
    owner: str | None
    description: str | None
    lines: tuple[Line, ...]
    destinations: tuple[str, ...]
    settings: DeviceSettings | None = None


@dataclass(frozen=True)
class UserFacts:
    """One planned user: the CTI-RDs to move, the Spark-RD they go to, and who controls them."""

    userid: str
    devices: tuple[DeviceFacts, ...]
    associations: tuple[tuple[str, tuple[str, ...]], ...]  # (userid, controlled device names)


def normal_lines(lines: Iterable[Line]) -> tuple[Line, ...]:
    """Lines with blanks as None, in index order."""
    return tuple(sorted(
        (Line(int(line.index), line.pattern, blank(line.partition), blank(line.label), blank(line.display),
              blank(line.display_ascii), blank(line.e164_mask)) for line in lines),
        key=lambda line: line.index,
    ))


def lines_from_phone(phone: Mapping[str, Any]) -> tuple[Line, ...]:
    """The lines of a getPhone answer as plain data."""
    items = ((phone.get("lines") or {}).get("line")) or []
    return normal_lines(
        Line(int(item["index"]), item["dirn"]["pattern"], item["dirn"].get("routePartitionName"),
             item.get("label"), item.get("display"), item.get("displayAscii"), item.get("e164Mask"))
        for item in items
    )


def device_facts(
    name: str, model: str, owner: str | None, description: str | None, lines: Iterable[Line],
    destinations: Iterable[str], settings: DeviceSettings | None = None,
) -> DeviceFacts:
    return DeviceFacts(name, model, blank(owner), blank(description), normal_lines(lines),
                       tuple(sorted(destinations, key=str.lower)), settings)


def facts_from_phone(phone: Mapping[str, Any], destinations: Iterable[str], with_settings: bool) -> DeviceFacts:
    """Device facts from a getPhone answer and the destinations that ring through it."""
    return device_facts(
        phone["name"], phone.get("model") or phone.get("product") or "", phone.get("ownerUserName"),
        phone.get("description"), lines_from_phone(phone), destinations,
        DeviceSettings.from_phone(phone) if with_settings else None,
    )


def user_facts(
    userid: str, devices: Iterable[DeviceFacts], associations: Mapping[str, Iterable[str]]
) -> UserFacts:
    return UserFacts(
        userid,
        tuple(sorted(devices, key=lambda d: d.name.lower())),
        tuple(sorted((user, tuple(sorted(names, key=str.lower))) for user, names in associations.items())),
    )


def fingerprint(facts: UserFacts) -> str:
    """sha256 over the canonical JSON of the facts."""
    text = json.dumps(asdict(facts), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def plan_fingerprint(user_fingerprints: Iterable[str]) -> str:
    """One fingerprint for a whole plan: sha256 over the sorted per-user fingerprints."""
    return hashlib.sha256("\n".join(sorted(user_fingerprints)).encode()).hexdigest()


def line_payload(line: Line) -> dict[str, Any]:
    """An AXL ``lines/line`` item; unset optional elements are left out, never sent as nil."""
    dirn: dict[str, Any] = {"pattern": line.pattern}
    if line.partition is not None:
        dirn["routePartitionName"] = line.partition
    item: dict[str, Any] = {"index": line.index}
    for key, value in (("label", line.label), ("display", line.display)):
        if value is not None:
            item[key] = value
    item["dirn"] = dirn
    for key, value in (("displayAscii", line.display_ascii), ("e164Mask", line.e164_mask)):
        if value is not None:
            item[key] = value
    return item


def phone_payload(
    name: str, product: str, owner: str | None, description: str | None, settings: DeviceSettings,
    lines: Iterable[Line], fixed: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``phone`` of an addPhone for a remote device; None-valued fields are left out."""
    fields: dict[str, Any] = {
        "name": name,
        "description": description,
        "product": product,
        "class": "Phone",
        "protocol": "CTI Remote Device",
        "protocolSide": "User",
        "callingSearchSpaceName": settings.calling_search_space,
        "devicePoolName": settings.device_pool or "Default",
        "commonPhoneConfigName": settings.common_phone_config or "Standard Common Phone Profile",
        "locationName": settings.location or "Hub_None",
        "useTrustedRelayPoint": "Default",
        "builtInBridgeStatus": "Default",
        "ownerUserName": owner,
        "packetCaptureMode": "None",
        "rerouteCallingSearchSpaceName": settings.reroute_calling_search_space,
        "certificateOperation": "No Pending Operation",
        "deviceMobilityMode": "Default",
    }
    fields.update({key: value for key, value in (fixed or {}).items() if key in fields and value not in (None, "")})
    payload = {key: value for key, value in fields.items() if value is not None}
    payload["lines"] = {"line": [line_payload(line) for line in normal_lines(lines)]}
    return payload


RECREATED_AS_READ = ("class", "protocol", "protocolSide", "useTrustedRelayPoint", "builtInBridgeStatus",
                     "packetCaptureMode", "certificateOperation", "deviceMobilityMode")


def recreate_payload(phone: Mapping[str, Any]) -> dict[str, Any]:
    """The addPhone keyword arguments that re-create a device exactly as a getPhone before-image shows it."""
    return {"phone": phone_payload(
        phone["name"], phone.get("product") or phone.get("model") or CTI_RD_PRODUCT, blank(phone.get("ownerUserName")),
        blank(phone.get("description")), DeviceSettings.from_phone(phone), lines_from_phone(phone),
        {key: phone.get(key) for key in RECREATED_AS_READ},
    )}
