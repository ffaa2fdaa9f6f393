"""Device kinds from model names, and cloud call URIs from remote destinations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cucm_spark.classify import CloudDomains, destination_host, device_kind, is_hybrid
from cucm_spark.errors import ConfigError
from cucm_spark.inventory.model import DeviceKind


@pytest.mark.parametrize(
    ("model", "kind"),
    [
        ("CTI Remote Device", DeviceKind.CTI_RD),
        ("Cisco Spark Remote Device", DeviceKind.SPARK_RD),
        ("Cisco Webex Remote Device", DeviceKind.SPARK_RD),
        ("cisco  spark remote device", DeviceKind.SPARK_RD),
        ("Cisco Unified Client Services Framework", DeviceKind.JABBER),
        ("Cisco Dual Mode for iPhone", DeviceKind.JABBER),
        ("Cisco Dual Mode for Android", DeviceKind.JABBER),
        ("Cisco Jabber for Tablet", DeviceKind.JABBER),
        ("Cisco 8841", DeviceKind.DESK_PHONE),
        ("Cisco 8865NR", DeviceKind.DESK_PHONE),
        ("Cisco 7841", DeviceKind.DESK_PHONE),
        ("Cisco 6901", DeviceKind.DESK_PHONE),
        ("Cisco 3905", DeviceKind.DESK_PHONE),
        ("Analog Phone", DeviceKind.DESK_PHONE),
        ("Cisco ATA 191", DeviceKind.DESK_PHONE),
        ("Cisco IP Communicator", DeviceKind.OTHER),
        ("Cisco TelePresence SX20", DeviceKind.OTHER),
        ("Third-party SIP Device (Basic)", DeviceKind.OTHER),
        ("", DeviceKind.OTHER),
    ],
)
def test_device_kind(model: str, kind: DeviceKind) -> None:
    assert device_kind(model) is kind


@pytest.fixture(scope="module")
def domains() -> CloudDomains:
    return CloudDomains.load(None)


def test_bundled_patterns(domains: CloudDomains) -> None:
    assert set(domains.patterns) == {
        "*.call.ciscospark.com",
        "*.ciscospark.com",
        "*.calls.webex.com",
        "*.rooms.webex.com",
    }


@pytest.mark.parametrize(
    ("destination", "host"),
    [
        ("sip:ann@Acme.call.ciscospark.com;transport=tls", "acme.call.ciscospark.com"),
        ("<SIPS:ann@acme.calls.webex.com>", "acme.calls.webex.com"),
        ("ann@acme.calls.webex.com:5061", "acme.calls.webex.com"),
        ("ann@acme.calls.webex.com.", "acme.calls.webex.com"),
        ("+14085551234", "+14085551234"),
    ],
)
def test_destination_host(destination: str, host: str) -> None:
    assert destination_host(destination) == host


@pytest.mark.parametrize(
    "destination",
    [
        "ann@acme.call.ciscospark.com",
        "sip:ann@acme.call.ciscospark.com",
        "SIP:Ann@ACME.Calls.Webex.COM;transport=tls",
        "room1@acme.rooms.webex.com",
        "ann@a.b.ciscospark.com",
        "<sip:ann@acme.calls.webex.com>",
        "acme.calls.webex.com",
    ],
)
def test_cloud_destinations(domains: CloudDomains, destination: str) -> None:
    assert domains.is_cloud(destination)


@pytest.mark.parametrize(
    "destination",
    [
        "+14085551234",
        "4085551234@cucm.example.com",
        "ann@ciscospark.com",  # the domain itself is not a call URI
        "ann@calls.webex.com",
        "ann@acme.webex.com",
        "ann@evilciscospark.com",
        "ann@acme.call.ciscospark.com.evil.example",
        "acme.calls.webex.com@evil.example",
        "",
    ],
)
def test_other_destinations(domains: CloudDomains, destination: str) -> None:
    assert not domains.is_cloud(destination)


def test_a_pattern_without_star_matches_one_host() -> None:
    domains = CloudDomains.from_patterns(["Webex.Example.com"])
    assert domains.is_cloud("sip:a@webex.example.com")
    assert not domains.is_cloud("sip:a@x.webex.example.com")


@pytest.mark.parametrize(
    "patterns", [[], ["*"], ["*ciscospark.com"], ["a@b.com"], ["x.*.com"], [3]]
)
def test_bad_patterns_are_config_errors(patterns: list[object]) -> None:
    with pytest.raises(ConfigError):
        CloudDomains.from_patterns(patterns)  # type: ignore[arg-type]


def test_user_file(tmp_path: Path) -> None:
    path = tmp_path / "domains.json"
    path.write_text(json.dumps({"patterns": ["*.wxc.example.net"]}), encoding="utf-8")
    domains = CloudDomains.load(path)
    assert domains.is_cloud("ann@eu.wxc.example.net")
    assert not domains.is_cloud("ann@acme.calls.webex.com")
    path.write_text(json.dumps(["*.wxc.example.net"]), encoding="utf-8")
    with pytest.raises(ConfigError, match="patterns"):
        CloudDomains.load(path)
    with pytest.raises(ConfigError, match="cannot read"):
        CloudDomains.load(tmp_path / "missing.json")


def test_is_hybrid(domains: CloudDomains) -> None:
    cloud, number = "ann@acme.calls.webex.com", "+14085551234"
    assert is_hybrid(DeviceKind.CTI_RD, [number, cloud], domains)
    assert not is_hybrid(DeviceKind.CTI_RD, [number], domains)
    assert not is_hybrid(DeviceKind.CTI_RD, [], domains)
    assert not is_hybrid(DeviceKind.SPARK_RD, [cloud], domains)
