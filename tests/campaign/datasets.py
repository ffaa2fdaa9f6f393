"""The tangled cluster: small, seeded, and full of the cases a plain generated cluster never holds.

The generated megacluster mix gives each user at most one remote device, and the bundled
edge-case cluster migrates every user the same way. Here the planner's other branches
come up too: a user folded into the Spark-RD they already have, a user with two CTI-RDs,
a CTI-RD with two cloud destinations, an executive's two-line CTI-RD that an assistant
also controls, two CTI-RDs with lines the Spark-RD would lack (planned as a skip), and a
delegate who controls the CTI-RDs of two users (one chain of users in the executor; the
second is skipped as changed since the plan, since the first one's migration changes the
delegate's controlled devices, which the second one's fingerprint covers).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

RELEASE = "14.0.1.10000-20"
PARTITION, EXEC_PARTITION = "Tangle_PT", "Tangle_Exec_PT"
CSS, REROUTE_CSS = "Tangle_CSS", "Tangle_Reroute_CSS"
HYBRID_DOMAIN, SPARK_DOMAIN = "tangle.call.ciscospark.com", "tangle.calls.webex.com"


class _Cluster:
    """Collects users, devices and destinations; hands out directory numbers and MAC addresses."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.users: list[dict[str, Any]] = []
        self.devices: list[dict[str, Any]] = []
        self.destinations: list[dict[str, Any]] = []
        self._next_dn = 3000
        self._next_mac = 0x00562BC00000

    def user(self, userid: str) -> str:
        self.users.append({"userid": userid, "firstName": userid.title(), "lastName": "Tangle",
                           "mailid": f"{userid}@tangle.example.com"})
        return userid

    def line(self, owner: str, index: int = 1, partition: str = PARTITION) -> dict[str, Any]:
        self._next_dn += 1
        return {"index": index, "pattern": str(self._next_dn), "partition": partition, "label": f"{owner} line",
                "display": owner.title(), "e164Mask": f"+1408555{self._next_dn}"}

    def desk_phone(self, owner: str, lines: list[dict[str, Any]]) -> None:
        self._next_mac += 1
        model = self.rng.choice(["Cisco 8841", "Cisco 7841"])
        self.devices.append({"name": f"SEP{self._next_mac:012X}", "model": model, "owner": owner,
                             "description": f"{owner} desk phone", "devicePool": "Default",
                             "callingSearchSpace": CSS, "location": "Hub_None", "lines": lines})

    def remote_device(self, name: str, model: str, owner: str, lines: list[dict[str, Any]],
                      controlled_by: list[str] | None = None) -> None:
        device = {"name": name, "model": model, "owner": owner, "description": f"{model} of {owner}",
                  "devicePool": self.rng.choice(["Default", "Tangle_DP"]), "callingSearchSpace": CSS,
                  "rerouteCallingSearchSpace": REROUTE_CSS, "location": self.rng.choice(["Hub_None", "Tangle_Loc"]),
                  "lines": [dict(line) for line in lines]}
        if controlled_by is not None:
            device["controlledBy"] = controlled_by
        self.devices.append(device)

    def destination(self, owner: str, device: str, domain: str = HYBRID_DOMAIN, tag: str = "") -> None:
        self.destinations.append({"destination": f"{owner}{tag}@{domain}", "name": f"{owner}{tag}-cloud",
                                  "owner": owner, "device": device})

    def dataset(self, seed: int) -> dict[str, Any]:
        return {"schema": "cucm-spark.lab-dataset/1", "description": f"tangled campaign cluster, seed {seed}",
                "release": RELEASE, "partitions": [PARTITION, EXEC_PARTITION],
                "callingSearchSpaces": [CSS, REROUTE_CSS], "devicePools": ["Tangle_DP"],
                "locations": ["Tangle_Loc"], "users": self.users, "devices": self.devices,
                "remoteDestinations": self.destinations}


def _plain(cluster: _Cluster, n: int) -> None:
    owner = cluster.user(f"plain{n}")
    line = cluster.line(owner)
    cluster.desk_phone(owner, [line])
    cluster.remote_device(f"CTIRDPLAIN{n}", "CTI Remote Device", owner, [line])
    cluster.destination(owner, f"CTIRDPLAIN{n}")


def _two_destinations(cluster: _Cluster, n: int) -> None:
    owner = cluster.user(f"twodest{n}")
    line = cluster.line(owner)
    cluster.desk_phone(owner, [line])
    cluster.remote_device(f"CTIRDTWODEST{n}", "CTI Remote Device", owner, [line])
    cluster.destination(owner, f"CTIRDTWODEST{n}")
    cluster.destination(owner, f"CTIRDTWODEST{n}", SPARK_DOMAIN, tag=".alt")


def _consolidate(cluster: _Cluster, n: int) -> None:
    owner = cluster.user(f"fold{n}")
    line = cluster.line(owner)
    cluster.desk_phone(owner, [line])
    cluster.remote_device(f"SPARKFOLD{n}", "Cisco Spark Remote Device", owner, [line])
    cluster.destination(owner, f"SPARKFOLD{n}", SPARK_DOMAIN)
    cluster.remote_device(f"CTIRDFOLD{n}", "CTI Remote Device", owner, [line])
    cluster.destination(owner, f"CTIRDFOLD{n}")


def _two_cti_rds(cluster: _Cluster, n: int) -> None:
    owner = cluster.user(f"twin{n}")
    line = cluster.line(owner)
    cluster.desk_phone(owner, [line])
    for letter in "AB":
        cluster.remote_device(f"CTIRDTWIN{n}{letter}", "CTI Remote Device", owner, [line])
        cluster.destination(owner, f"CTIRDTWIN{n}{letter}", tag=f".{letter.lower()}")


def _executive(cluster: _Cluster, n: int) -> None:
    owner, assistant = cluster.user(f"exec{n}"), cluster.user(f"assist{n}")
    lines = [cluster.line(owner), cluster.line(owner, index=2, partition=EXEC_PARTITION)]
    cluster.desk_phone(owner, lines)
    cluster.desk_phone(assistant, [cluster.line(assistant), {**lines[0], "index": 2}])
    cluster.remote_device(f"CTIRDEXEC{n}", "CTI Remote Device", owner, lines, controlled_by=[owner, assistant])
    cluster.destination(owner, f"CTIRDEXEC{n}")


def _lacking_lines(cluster: _Cluster, n: int) -> None:
    owner = cluster.user(f"lack{n}")
    first, second = cluster.line(owner), cluster.line(owner)
    cluster.desk_phone(owner, [first, {**second, "index": 2}])
    cluster.remote_device(f"CTIRDLACK{n}A", "CTI Remote Device", owner, [first])
    cluster.remote_device(f"CTIRDLACK{n}B", "CTI Remote Device", owner, [second])
    cluster.destination(owner, f"CTIRDLACK{n}A", tag=".a")
    cluster.destination(owner, f"CTIRDLACK{n}B", tag=".b")


def _shared_delegate(cluster: _Cluster, n: int) -> None:
    delegate = cluster.user(f"deleg{n}")
    cluster.desk_phone(delegate, [cluster.line(delegate)])
    for letter in "XY":
        owner = cluster.user(f"boss{n}{letter.lower()}")
        line = cluster.line(owner)
        cluster.desk_phone(owner, [line])
        cluster.remote_device(f"CTIRDBOSS{n}{letter}", "CTI Remote Device", owner, [line],
                              controlled_by=[owner, delegate])
        cluster.destination(owner, f"CTIRDBOSS{n}{letter}")


PATTERNS: tuple[Callable[[_Cluster, int], None], ...] = (
    _plain, _two_destinations, _consolidate, _two_cti_rds, _executive, _lacking_lines, _shared_delegate,
)


def tangled_cluster(seed: int) -> dict[str, Any]:
    """A lab dataset with each pattern once or twice (by seed), in a seeded order."""
    rng = random.Random(seed)
    cluster = _Cluster(rng)
    instances = [(pattern, n) for pattern in PATTERNS for n in range(1, rng.randint(1, 2) + 1)]
    rng.shuffle(instances)
    for pattern, n in instances:
        pattern(cluster, n)
    return cluster.dataset(seed)
