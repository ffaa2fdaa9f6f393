"""Synthetic lab clusters of any size, with the device mix of a 40,000-user megacluster.

Per 40,000 users the megacluster holds 40,000 desk phones (one per user), 15,000 Jabber
clients, 20,000 CTI Remote Devices (15,000 Hybrid Call with a cloud remote destination,
5,000 Extend and Connect with a PSTN one) and 5,000 Cisco Spark Remote Devices with a
cloud remote destination: 80,000 devices and 25,000 remote destinations. Other sizes
scale every count proportionally, rounded half up, and a seeded shuffle picks which users
get what, so the counts are exact. A user has at most one CTI-RD or Spark-RD, and it
shares the user's desk phone line.

The result is a plain dict in the lab dataset format (fixtures/README.md).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

SCHEMA = "cucm-spark.lab-dataset/1"
DEFAULT_RELEASE = "12.5.1.10000-22"
DEFAULT_SEED = 1
MAX_USERS = 999_999  # userids u000001 … u999999 keep every device name within 15 characters

MIX_BASE = 40_000
MIX = {"jabber": 15_000, "hybrid": 15_000, "extend": 5_000, "spark": 5_000}

# (site code, E.164 mask for the 7-digit DNs); each site has its own partition, CSS,
# device pool and location.
SITES: tuple[tuple[str, str], ...] = (
    ("SJC", "+1408XXXXXXX"),
    ("RTP", "+1919XXXXXXX"),
    ("NYC", "+1212XXXXXXX"),
    ("DFW", "+1972XXXXXXX"),
)
REROUTE_CSS = "Hybrid_Reroute_CSS"
_SITE_NAMES = {
    code: {
        "partition": f"{code}_Internal_PT",
        "callingSearchSpace": f"{code}_Internal_CSS",
        "devicePool": f"DP_{code}",
        "location": f"Loc_{code}",
    }
    for code, _ in SITES
}

DESK_MODELS: tuple[tuple[str, int], ...] = (
    ("Cisco 8841", 30),
    ("Cisco 8845", 10),
    ("Cisco 8851", 15),
    ("Cisco 8861", 5),
    ("Cisco 7841", 22),
    ("Cisco 7821", 13),
    ("Cisco 6921", 3),
    ("Cisco 6911", 2),
)
# (model, device name prefix, weight): CUCM's conventions are TCT for Jabber on iPhone and
# BOT for Jabber on Android.
JABBER_MODELS: tuple[tuple[str, str, int], ...] = (
    ("Cisco Unified Client Services Framework", "CSF", 70),
    ("Cisco Dual Mode for iPhone", "TCT", 12),
    ("Cisco Dual Mode for Android", "BOT", 12),
    ("Cisco Jabber for Tablet", "TAB", 6),
)
CTI_RD_MODEL = "CTI Remote Device"
SPARK_RD_MODEL = "Cisco Spark Remote Device"

MAC_BASE = 0x00562B000000
DN_BASE = 2_000_000
MOBILE_BASE = "+1650"
MAIL_DOMAIN = "acme.example.com"
HYBRID_DOMAIN = "acme.call.ciscospark.com"
SPARK_DOMAIN = "acme.calls.webex.com"

FIRST_NAMES = (
    "Aaron", "Amina", "Ben", "Carla", "Chen", "Daniel", "Elena", "Farid", "Grace", "Hiro",
    "Isabel", "James", "Kavya", "Liam", "Maria", "Noah", "Olga", "Priya", "Rafael", "Sara",
    "Tom", "Uma", "Victor", "Wei", "Yara", "Zoe",
)
LAST_NAMES = (
    "Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jones",
    "Khan", "Lopez", "Miller", "Nguyen", "Okafor", "Patel", "Quinn", "Rossi", "Smith",
    "Tanaka", "Usman", "Varga", "Wong", "Young",
)

NONE, HYBRID, EXTEND, SPARK = 0, 1, 2, 3
_SPEC_FORM = "users=N[,seed=S][,release=R]"
_RELEASE = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9]+|\([0-9]+\))$")


def mix_counts(users: int) -> dict[str, int]:
    """How many of each device the megacluster mix gives ``users`` users, rounded half up."""
    counts = {kind: (users * part * 2 + MIX_BASE) // (2 * MIX_BASE) for kind, part in MIX.items()}
    counts["desk"] = users
    return counts


def generate(
    users: int, seed: int = DEFAULT_SEED, *, release: str = DEFAULT_RELEASE
) -> dict[str, Any]:
    """A dataset of ``users`` users in the megacluster mix, the same for the same seed."""
    _check_users(users)
    rng = random.Random(seed)
    counts = mix_counts(users)
    roles = _virtual_roles(rng, users, counts)
    jabber = _jabber_models(rng, users, counts["jabber"])
    desks = rng.choices([m for m, _ in DESK_MODELS], [w for _, w in DESK_MODELS], k=users)
    firsts = rng.choices(FIRST_NAMES, k=users)
    lasts = rng.choices(LAST_NAMES, k=users)
    dataset = _skeleton(users, seed, release)
    for i in range(users):
        _add_person(dataset, _Person(i, firsts[i], lasts[i]), desks[i], jabber[i], roles[i])
    return dataset


def parse_spec(spec: str) -> dict[str, Any]:
    """Read ``users=N[,seed=S][,release=R]`` into keyword arguments for ``generate``."""
    if not spec.strip():
        raise ValueError(f"generator spec is empty: expected {_SPEC_FORM}")
    fields: dict[str, Any] = {}
    for part in spec.split(","):
        key, value = _spec_part(part)
        if key in fields:
            raise ValueError(f"generator spec part {part.strip()!r}: {key} is given twice")
        fields[key] = _SPEC_VALUES[key](value, part.strip())
    if "users" not in fields:
        raise ValueError(f"generator spec {spec.strip()!r}: users=N is required ({_SPEC_FORM})")
    return {
        "users": fields["users"],
        "seed": fields.get("seed", DEFAULT_SEED),
        "release": fields.get("release", DEFAULT_RELEASE),
    }


class _Person:
    """One generated user: the names, DN and site every device of theirs repeats."""

    __slots__ = ("index", "userid", "first", "last", "display", "label", "dn", "site", "e164")

    def __init__(self, index: int, first: str, last: str) -> None:
        self.index = index
        self.userid = f"u{index + 1:06d}"
        self.first = first
        self.last = last
        self.display = f"{first} {last}"
        self.dn = str(DN_BASE + index)
        self.label = f"{self.display} - {self.dn[-4:]}"
        self.site, self.e164 = SITES[index % len(SITES)]

    def user(self) -> dict[str, Any]:
        return {
            "userid": self.userid,
            "firstName": self.first,
            "lastName": self.last,
            "mailid": f"{self.userid}@{MAIL_DOMAIN}",
        }

    def line(self) -> list[dict[str, Any]]:
        return [{
            "index": 1,
            "pattern": self.dn,
            "partition": _SITE_NAMES[self.site]["partition"],
            "label": self.label,
            "display": self.display,
            "e164Mask": self.e164,
        }]

    def device(self, name: str, model: str, what: str, reroute: str | None) -> dict[str, Any]:
        names = _SITE_NAMES[self.site]
        return {
            "name": name,
            "model": model,
            "owner": self.userid,
            "description": f"{self.display} {what}",
            "devicePool": names["devicePool"],
            "callingSearchSpace": names["callingSearchSpace"],
            "rerouteCallingSearchSpace": reroute,
            "location": names["location"],
            "commonPhoneConfig": "Standard Common Phone Profile",
            "lines": self.line(),
            "controlledBy": [self.userid],
        }


def _add_person(
    dataset: dict[str, Any],
    person: _Person,
    desk_model: str,
    jabber: tuple[str, str] | None,
    role: int,
) -> None:
    """Append one user, their desk phone and, if picked, their Jabber and virtual device."""
    dataset["users"].append(person.user())
    devices = dataset["devices"]
    devices.append(_desk_phone(person, desk_model))
    if jabber is not None:
        devices.append(_jabber_client(person, jabber))
    if role != NONE:
        device, destination = _virtual_device(person, role)
        devices.append(device)
        dataset["remoteDestinations"].append(destination)


def _desk_phone(person: _Person, model: str) -> dict[str, Any]:
    name = f"SEP{MAC_BASE + person.index:012X}"
    return person.device(name, model, model.removeprefix("Cisco "), None)


def _jabber_client(person: _Person, choice: tuple[str, str]) -> dict[str, Any]:
    model, prefix = choice
    return person.device(f"{prefix}{person.userid.upper()}", model, "Jabber", None)


def _virtual_device(person: _Person, role: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The CTI-RD or Spark-RD of a user and the remote destination it rings."""
    userid = person.userid
    if role == SPARK:
        device = person.device(f"SPARK{userid.upper()}", SPARK_RD_MODEL, "Webex", REROUTE_CSS)
        return device, _destination(f"{userid}@{SPARK_DOMAIN}", f"{userid}-webex", device)
    device = person.device(f"CTIRD{userid.upper()}", CTI_RD_MODEL, "Hybrid Call", REROUTE_CSS)
    if role == HYBRID:
        return device, _destination(f"{userid}@{HYBRID_DOMAIN}", f"{userid}-hybrid", device)
    device["description"] = f"{person.display} Extend and Connect"
    mobile = f"{MOBILE_BASE}{5_000_000 + person.index:07d}"
    return device, _destination(mobile, f"{userid}-mobile", device)


def _destination(destination: str, name: str, device: dict[str, Any]) -> dict[str, Any]:
    return {
        "destination": destination,
        "name": name,
        "owner": device["owner"],
        "device": device["name"],
    }


def _virtual_roles(rng: random.Random, users: int, counts: dict[str, int]) -> bytearray:
    """Per user: no virtual device, a Hybrid CTI-RD, an E&C CTI-RD or a Spark-RD."""
    order = list(range(users))
    rng.shuffle(order)
    roles = bytearray(users)
    start = 0
    for role, kind in ((HYBRID, "hybrid"), (EXTEND, "extend"), (SPARK, "spark")):
        for i in order[start : start + counts[kind]]:
            roles[i] = role
        start += counts[kind]
    return roles


def _jabber_models(rng: random.Random, users: int, count: int) -> list[tuple[str, str] | None]:
    """Per user: the Jabber client's (model, name prefix), or None for no Jabber."""
    picked: list[tuple[str, str] | None] = [None] * users
    kinds = rng.choices(
        [(m, p) for m, p, _ in JABBER_MODELS], [w for _, _, w in JABBER_MODELS], k=count
    )
    for i, kind in zip(rng.sample(range(users), count), kinds, strict=True):
        picked[i] = kind
    return picked


def _skeleton(users: int, seed: int, release: str) -> dict[str, Any]:
    counts = mix_counts(users)
    names = list(_SITE_NAMES.values())
    return {
        "schema": SCHEMA,
        "description": (
            f"Generated megacluster mix: {users} users (seed {seed}), {counts['jabber']} Jabber,"
            f" {counts['hybrid']} Hybrid Call CTI-RDs, {counts['extend']} Extend and Connect"
            f" CTI-RDs, {counts['spark']} Spark-RDs"
        ),
        "release": release,
        "partitions": [site["partition"] for site in names],
        "callingSearchSpaces": [site["callingSearchSpace"] for site in names] + [REROUTE_CSS],
        "devicePools": [site["devicePool"] for site in names],
        "locations": [site["location"] for site in names],
        "users": [],
        "devices": [],
        "remoteDestinations": [],
    }


def _check_users(users: int) -> None:
    if isinstance(users, bool) or not isinstance(users, int) or not 1 <= users <= MAX_USERS:
        raise ValueError(f"users must be an integer from 1 to {MAX_USERS}, not {users!r}")


def _spec_part(part: str) -> tuple[str, str]:
    key, sep, value = (text.strip() for text in part.partition("="))
    if not sep or not key or not value:
        raise ValueError(f"generator spec part {part.strip()!r}: expected key=value ({_SPEC_FORM})")
    if key not in _SPEC_VALUES:
        raise ValueError(
            f"generator spec part {part.strip()!r}: unknown key {key!r} (users, seed or release)"
        )
    return key, value


def _users_value(value: str, part: str) -> int:
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_USERS:
        raise ValueError(
            f"generator spec part {part!r}: users must be an integer from 1 to {MAX_USERS}"
        )
    return int(value)


def _seed_value(value: str, part: str) -> int:
    if not re.fullmatch(r"-?[0-9]+", value):
        raise ValueError(f"generator spec part {part!r}: seed must be an integer")
    return int(value)


def _release_value(value: str, part: str) -> str:
    if not _RELEASE.match(value):
        raise ValueError(
            f"generator spec part {part!r}: release must be a build such as 11.5.1.13900-52"
        )
    return value


_SPEC_VALUES: dict[str, Callable[[str, str], Any]] = {
    "users": _users_value,
    "seed": _seed_value,
    "release": _release_value,
}

__all__ = ["DEFAULT_RELEASE", "generate", "mix_counts", "parse_spec"]
