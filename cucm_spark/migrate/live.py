"""The live sink: reads a user's devices back from AXL, sends the plan's writes, and never resends one blindly.

A write that ends in a timeout or a dropped connection may or may not have happened;
the client raises TransportError and does not retry it. Here the write is read back
(getPhone, getRemoteDestination, getUser): if it landed, the step is done; if the read
proves it did not, it is sent again, a few times at most.

A 503 is different: CUCM sends it before doing anything, so the write is simply sent
again. With a pacer (the run's shared rate limiter) each write waits for its slot, each
503 is reported to the pacer and the write waits for a later slot, as long as it takes
(up to ``patience`` seconds of nothing but 503s); it is never a failure. Without one,
the client's own backoff retries it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from cucm_spark.axl.client import AxlClient
from cucm_spark.errors import AxlError, ExecutionError, NotFound, Throttled, TransportError
from cucm_spark.migrate.executor import Observation
from cucm_spark.migrate.facts import (
    DeviceSettings,
    facts_from_phone,
    fingerprint,
    line_payload,
    lines_from_phone,
    user_facts,
)
from cucm_spark.migrate.pacing import Pacer
from cucm_spark.migrate.plan import Action, Step, UserPlan

RESENDS = 3
PATIENCE = 900.0  # seconds of nothing but 503s for one write before its user is given up (resumable)
LINE_TAGS = {"line": {"index": "", "label": "", "display": "", "dirn": {"pattern": "", "routePartitionName": ""},
                      "displayAscii": "", "e164Mask": ""}}
# Everything addPhone needs to re-create the device exactly, and what the fingerprint covers.
PHONE_TAGS: dict[str, Any] = {
    name: "" for name in (
        "name", "description", "product", "model", "class", "protocol", "protocolSide", "callingSearchSpaceName",
        "devicePoolName", "commonPhoneConfigName", "locationName", "useTrustedRelayPoint", "builtInBridgeStatus",
        "ownerUserName", "packetCaptureMode", "rerouteCallingSearchSpaceName", "certificateOperation",
        "deviceMobilityMode")
} | {"lines": LINE_TAGS}
DESTINATION_TAGS = {"name": "", "destination": "", "ctiRemoteDeviceName": ""}


def read_phone(client: AxlClient, name: str) -> dict[str, Any] | None:
    """The device as getPhone shows it, or None when it does not exist."""
    try:
        return client.get("getPhone", name=name, returnedTags=PHONE_TAGS)
    except NotFound:
        return None


def read_destinations(client: AxlClient, device: str) -> list[dict[str, Any]]:
    """The remote destinations that ring through a device (matched exactly, not as a pattern)."""
    found = client.list_all("listRemoteDestination", "remoteDestination", {"ctiRemoteDeviceName": device},
                            list(DESTINATION_TAGS))
    return sorted((item for item in found if (item.get("ctiRemoteDeviceName") or "").lower() == device.lower()),
                  key=lambda item: item["destination"].lower())


def read_associations(client: AxlClient, userid: str) -> list[str]:
    """The devices a user controls (getUser associatedDevices)."""
    found = client.get("getUser", userid=userid, returnedTags={"userid": "", "associatedDevices": {"device": ""}})
    return list(((found.get("associatedDevices") or {}).get("device")) or [])


def read_settings(client: AxlClient, names: Iterable[str]) -> dict[str, DeviceSettings]:
    """Settings of the named CTI-RDs, keyed by lower-cased name, for the planner."""
    found: dict[str, DeviceSettings] = {}
    for name in names:
        phone = read_phone(client, name)
        if phone is not None:
            found[name.lower()] = DeviceSettings.from_phone(phone)
    return found


class LiveSink:
    """Steps sent to a cluster over AXL."""

    def __init__(self, client: AxlClient, pacer: Pacer | None = None, patience: float = PATIENCE) -> None:
        self.client = client
        self.pacer = pacer
        self.patience = patience

    # -- before the first write ----------------------------------------------------------
    def observe(self, user: UserPlan) -> Observation:
        """Read the user's devices again; unchanged only if the fingerprint matches the plan's."""
        phones: dict[str, Any] = {}
        destinations: dict[str, list[dict[str, Any]]] = {}
        facts = []
        for name in user.cti_rds:
            phone = read_phone(self.client, name)
            if phone is None:
                return Observation(False, f"changed since the plan: {name} no longer exists")
            phones[name] = phone
            destinations[name] = read_destinations(self.client, name)
            facts.append(facts_from_phone(phone, (d["destination"] for d in destinations[name]), with_settings=True))
        spark = read_phone(self.client, user.spark_rd)
        if user.action is Action.MIGRATE and spark is not None:
            return Observation(False, f"changed since the plan: the name {user.spark_rd} is now taken")
        if user.action is Action.CONSOLIDATE:
            if spark is None:
                return Observation(False, f"changed since the plan: {user.spark_rd} no longer exists")
            spark_destinations = read_destinations(self.client, user.spark_rd)
            facts.append(facts_from_phone(spark, (d["destination"] for d in spark_destinations), with_settings=False))
        associations = {userid: read_associations(self.client, userid) for userid in user.controllers}
        now = fingerprint(user_facts(user.userid, facts, associations))
        image = {"cti_rds": phones, "destinations": destinations, "associations": associations,
                 "spark_rd": spark}
        if now != user.fingerprint:
            return Observation(False, "changed since the plan (devices, lines, destinations or associations)", image)
        return Observation(True, None, image)

    # -- steps -------------------------------------------------------------------------
    def apply(self, step: Step) -> str:
        if not step.is_write:
            return self.verify(step)
        if step.expect:
            self.require_as_expected(step)
        return self.send(step.operation, step.payload)

    def require_as_expected(self, step: Step) -> None:
        """Before a guarded removal (a rollback removing the Spark-RD the run made): the device must be as made.

        A line or a remote destination added to it since the run would go with it; the
        removal is refused instead, and the user's rollback fails with what was found.
        """
        name = step.payload["name"]
        phone = read_phone(self.client, name)
        if phone is None:
            return  # already gone: the removal's own answer says so
        found = [line_payload(line) for line in lines_from_phone(phone)]
        changes = []
        if found != list(step.expect["lines"]):
            changes.append(f"its lines are {[line['dirn']['pattern'] for line in found]}, the run gave it "
                           f"{[line['dirn']['pattern'] for line in step.expect['lines']]}")
        destinations = read_destinations(self.client, name) if step.expect.get("no_destinations") else []
        if destinations:
            changes.append("remote destinations ring through it: " + ", ".join(d["destination"] for d in destinations))
        if changes:
            raise ExecutionError(f"{name} changed after the run ({'; '.join(changes)}); left in place so nothing is "
                                 "lost: move or remove that by hand, then run the rollback again")

    def send(self, operation: str, payload: Mapping[str, Any]) -> str:
        """One write; after a lost answer, read back and resend only if it did not happen."""
        last: TransportError | None = None
        for attempt in range(RESENDS + 1):
            try:
                self._write(operation, payload)
                return "sent" if attempt == 0 else f"sent again after a read-back (attempt {attempt + 1})"
            except TransportError as lost:
                if self.has_landed(operation, payload):
                    return f"answer lost ({lost}); the read-back shows it happened"
                last = lost
        raise ExecutionError(f"{operation}: no answer after {RESENDS + 1} tries, and it has not happened ({last})")

    def _write(self, operation: str, payload: Mapping[str, Any]) -> None:
        """Send a write at the pacer's pace; a 503 goes back to the pacer and waits for a later slot."""
        pacer = self.pacer
        if pacer is None:
            self.client.write(operation, **payload)
            return
        deadline = time.monotonic() + self.patience
        while True:
            sent = pacer.acquire()
            try:
                self.client.write_once(operation, **payload)
            except Throttled as busy:
                pacer.refused(sent)
                if time.monotonic() > deadline:
                    raise ExecutionError(f"{operation}: the cluster answered HTTP 503 to it for "
                                         f"{self.patience:g} s; nothing was done") from busy
                continue
            except TransportError:
                raise  # no answer: says nothing about the pace (and the caller reads it back)
            except AxlError:
                pacer.passed(sent)  # let through, then refused on its merits (a SOAP fault)
                raise
            pacer.passed(sent)
            return

    def landed(self, step: Step) -> bool:
        return self.has_landed(step.operation, step.payload)

    def has_landed(self, operation: str, payload: Mapping[str, Any]) -> bool:
        """Whether the cluster already shows this write's effect."""
        if operation == "addPhone":
            phone = read_phone(self.client, payload["phone"]["name"])
            return phone is not None and _same(phone.get("ownerUserName"), payload["phone"].get("ownerUserName"))
        if operation == "removePhone":
            return read_phone(self.client, payload["name"]) is None
        if operation == "updateRemoteDestination":
            found = self._destination(payload["destination"])
            return found is not None and _same(found.get("ctiRemoteDeviceName"), payload["ctiRemoteDeviceName"])
        if operation == "updateUser":
            wanted = {name.lower() for name in payload["associatedDevices"]["device"]}
            return {name.lower() for name in read_associations(self.client, payload["userid"])} == wanted
        raise ExecutionError(f"no read-back known for {operation}")

    def _destination(self, destination: str) -> dict[str, Any] | None:
        try:
            return self.client.get("getRemoteDestination", destination=destination, returnedTags=DESTINATION_TAGS)
        except NotFound:
            return None

    def verify(self, step: Step) -> str:
        """A verifying read: the cluster must show what the step expects."""
        expect = step.expect
        try:
            found = self.client.get(step.operation, **step.payload)
        except NotFound:
            if expect.get("absent"):
                return "verified: gone"
            raise ExecutionError(f"{step.description}: not found") from None
        if expect.get("absent"):
            raise ExecutionError(f"{step.description}: it still exists")
        problems = []
        for key in ("ownerUserName", "ctiRemoteDeviceName"):
            if key in expect and not _same(found.get(key), expect[key]):
                problems.append(f"{key} is {found.get(key)!r}, expected {expect[key]!r}")
        if "lines" in expect:
            lines = [line_payload(line) for line in lines_from_phone(found)]
            if lines != list(expect["lines"]):
                problems.append(f"lines are {[li['dirn']['pattern'] for li in lines]}, expected "
                                f"{[li['dirn']['pattern'] for li in expect['lines']]}")
        if problems:
            raise ExecutionError(f"{step.description}: " + "; ".join(problems))
        return "verified"


def _same(left: object, right: object) -> bool:
    return str(left or "").lower() == str(right or "").lower()

