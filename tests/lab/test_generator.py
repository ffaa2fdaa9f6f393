"""Tests for the megacluster generator: exact mix, determinism, valid names and parse_spec."""

from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any

import pytest

from cucm_spark.lab.generator import DEFAULT_RELEASE, generate, mix_counts, parse_spec

NAME = re.compile(r"^[A-Za-z0-9._-]{1,15}$")
CLOUD = re.compile(r"@[^@]+\.(call\.ciscospark\.com|ciscospark\.com|calls\.webex\.com)$")
JABBER = {
    "Cisco Unified Client Services Framework",
    "Cisco Dual Mode for iPhone",
    "Cisco Dual Mode for Android",
    "Cisco Jabber for Tablet",
}
DESK = {
    "Cisco 8841", "Cisco 8845", "Cisco 8851", "Cisco 8861",
    "Cisco 7841", "Cisco 7821", "Cisco 6921", "Cisco 6911",
}


def tally(data: dict[str, Any]) -> dict[str, int]:
    """Count what the brief counts: desk phones, Jabber, CTI-RDs by kind, Spark-RDs, RDs."""
    models = Counter(device["model"] for device in data["devices"])
    rd_device = {rd["device"]: rd["destination"] for rd in data["remoteDestinations"]}
    ctis = [d["name"] for d in data["devices"] if d["model"] == "CTI Remote Device"]
    hybrid = sum(1 for name in ctis if CLOUD.search(rd_device.get(name, "")))
    return {
        "users": len(data["users"]),
        "desk": sum(n for model, n in models.items() if model in DESK),
        "jabber": sum(n for model, n in models.items() if model in JABBER),
        "cti": models["CTI Remote Device"],
        "hybrid": hybrid,
        "extend": len(ctis) - hybrid,
        "spark": models["Cisco Spark Remote Device"],
        "rds": len(data["remoteDestinations"]),
        "devices": len(data["devices"]),
    }


@pytest.fixture(scope="module")
def mega() -> dict[str, Any]:
    return generate(40_000)


def test_megacluster_counts_are_exact(mega: dict[str, Any]) -> None:
    assert tally(mega) == {
        "users": 40_000, "desk": 40_000, "jabber": 15_000, "cti": 20_000, "hybrid": 15_000,
        "extend": 5_000, "spark": 5_000, "rds": 25_000, "devices": 80_000,
    }


def test_counts_scale_proportionally() -> None:
    assert tally(generate(2_000, seed=7)) == {
        "users": 2_000, "desk": 2_000, "jabber": 750, "cti": 1_000, "hybrid": 750,
        "extend": 250, "spark": 250, "rds": 1_250, "devices": 4_000,
    }


@pytest.mark.parametrize("users", [1, 2, 3, 5, 17, 333])
def test_small_sizes_match_mix_counts(users: int) -> None:
    counts = mix_counts(users)
    got = tally(generate(users, seed=users))
    assert got["desk"] == users
    assert (got["jabber"], got["hybrid"], got["extend"], got["spark"]) == (
        counts["jabber"], counts["hybrid"], counts["extend"], counts["spark"]
    )


def test_mix_counts_round_half_up() -> None:
    assert mix_counts(4) == {"desk": 4, "jabber": 2, "hybrid": 2, "extend": 1, "spark": 1}
    assert mix_counts(1) == {"desk": 1, "jabber": 0, "hybrid": 0, "extend": 0, "spark": 0}


def test_same_seed_same_dataset_other_seed_differs() -> None:
    assert generate(500, seed=3) == generate(500, seed=3)
    assert generate(500, seed=3) != generate(500, seed=4)


def test_release_default_and_override() -> None:
    assert generate(3)["release"] == DEFAULT_RELEASE == "12.5.1.10000-22"
    assert generate(3, release="11.5.1.13900-52")["release"] == "11.5.1.13900-52"
    assert generate(3)["schema"] == "cucm-spark.lab-dataset/1"


def test_device_names_unique_and_valid(mega: dict[str, Any]) -> None:
    names = [device["name"] for device in mega["devices"]]
    assert len({name.upper() for name in names}) == len(names)
    assert all(NAME.match(name) for name in names)
    assert all(re.fullmatch(r"SEP[0-9A-F]{12}", d["name"]) for d in mega["devices"]
               if d["model"] in DESK)


def test_every_reference_resolves(mega: dict[str, Any]) -> None:
    users = {user["userid"] for user in mega["users"]}
    partitions = set(mega["partitions"])
    css = set(mega["callingSearchSpaces"])
    assert len(users) == len(mega["users"])
    for device in mega["devices"]:
        assert device["owner"] in users and set(device["controlledBy"]) <= users
        assert device["devicePool"] in set(mega["devicePools"]) | {"Default"}
        assert device["location"] in set(mega["locations"]) | {"Hub_None"}
        assert device["callingSearchSpace"] in css
        assert device["rerouteCallingSearchSpace"] in css | {None}
        assert {line["partition"] for line in device["lines"]} <= partitions
    devices = {device["name"] for device in mega["devices"]}
    for rd in mega["remoteDestinations"]:
        assert rd["owner"] in users and rd["device"] in devices


def test_virtual_devices_share_the_desk_line(mega: dict[str, Any]) -> None:
    desk_line = {}
    for device in mega["devices"]:
        if device["model"] in DESK:
            line = device["lines"][0]
            desk_line[device["owner"]] = (line["pattern"], line["partition"])
    assert len(set(desk_line.values())) == len(desk_line) == 40_000
    virtual = ("CTI Remote Device", "Cisco Spark Remote Device")
    for device in mega["devices"]:
        if device["model"] in virtual:
            line = device["lines"][0]
            assert (line["pattern"], line["partition"]) == desk_line[device["owner"]]


def test_one_virtual_device_per_user_and_cloud_on_spark(mega: dict[str, Any]) -> None:
    virtual = ("CTI Remote Device", "Cisco Spark Remote Device")
    owners = Counter(d["owner"] for d in mega["devices"] if d["model"] in virtual)
    assert max(owners.values()) == 1
    spark = {d["name"] for d in mega["devices"] if d["model"] == "Cisco Spark Remote Device"}
    spark_rds = [rd for rd in mega["remoteDestinations"] if rd["device"] in spark]
    assert len(spark_rds) == 5_000 and all(CLOUD.search(rd["destination"]) for rd in spark_rds)
    destinations = [rd["destination"] for rd in mega["remoteDestinations"]]
    assert len(set(destinations)) == len(destinations)


def test_forty_thousand_users_is_fast() -> None:
    started = time.perf_counter()
    generate(40_000, seed=2)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("users=10", {"users": 10, "seed": 1, "release": "12.5.1.10000-22"}),
        ("users=40000,seed=9", {"users": 40_000, "seed": 9, "release": "12.5.1.10000-22"}),
        (" users = 5 , release = 11.5.1.13900-52 , seed=-3 ",
         {"users": 5, "seed": -3, "release": "11.5.1.13900-52"}),
        ("release=11.5.1.13900(52),users=2",
         {"users": 2, "seed": 1, "release": "11.5.1.13900(52)"}),
    ],
)
def test_parse_spec_good(spec: str, expected: dict[str, Any]) -> None:
    assert parse_spec(spec) == expected


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("", "empty"),
        ("users=0", "users=0"),
        ("users=-4", "users=-4"),
        ("users=ten", "users=ten"),
        ("users=1.5", "users=1.5"),
        ("users=1_000", "users=1_000"),
        ("users=5000000", "users=5000000"),
        ("seed=3", "users=N is required"),
        ("users=5,seed=x", "seed=x"),
        ("users=5,release=12.5", "release=12.5"),
        ("users=5,colour=blue", "colour=blue"),
        ("users=5,users=6", "users=6"),
        ("users=5,", "''"),
        ("users", "'users'"),
        ("users=", "'users='"),
    ],
)
def test_parse_spec_bad(spec: str, named: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_spec(spec)
    message = str(caught.value)
    assert named in message and "\n" not in message


@pytest.mark.parametrize("users", [0, -1, True, 2.0, "5", 1_000_000])
def test_generate_rejects_bad_user_counts(users: Any) -> None:
    with pytest.raises(ValueError, match="users must be"):
        generate(users)
