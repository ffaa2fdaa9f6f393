"""Every request body the client sends is valid under Cisco's official AXL 14.0 schema.

The bodies are captured on the wire (ClientOptions.observer) while the client audits a
lab by both inventory paths, and while it sends the writes a migration sends. The lab
runs release 14 so the bodies go out in the 14.0 namespace the schema is written for.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.lab import CLUSTERS, lab_config, running_lab
from support.official_schema import require_official_schema, validate_body

from cucm_spark.axl.client import AxlClient, ClientOptions
from cucm_spark.axl.endpoint import Endpoint
from cucm_spark.classify import CloudDomains
from cucm_spark.inventory.collect import collect_inventory
from cucm_spark.lab.server import DEFAULT_PASSWORD, DEFAULT_USERNAME, LabServer
from cucm_spark.migrate.facts import CTI_RD_PRODUCT, SPARK_RD_PRODUCT, DeviceSettings, lines_from_phone, phone_payload

RELEASE_14 = "14.0.1.10000-20"
PHONE_TAGS = {
    "name": "", "description": "", "product": "", "model": "", "ownerUserName": "", "devicePoolName": "",
    "callingSearchSpaceName": "", "rerouteCallingSearchSpaceName": "", "locationName": "",
    "commonPhoneConfigName": "",
    "lines": {"line": {"index": "", "label": "", "display": "", "displayAscii": "", "e164Mask": "",
                       "dirn": {"pattern": "", "routePartitionName": ""}}},
}


class Recorder:
    """The observer: every (operation, body) the transport puts on the wire."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    def __call__(self, operation: str, body: bytes) -> None:
        self.sent.append((operation, body))

    def operations(self) -> set[str]:
        return {operation for operation, _ in self.sent}


@pytest.fixture(scope="module")
def lab14() -> Iterator[LabServer]:
    require_official_schema()
    with running_lab(dataset=CLUSTERS / "edge-cases.json", cucm_version=RELEASE_14) as server:
        yield server


def recording_client(server: LabServer) -> tuple[AxlClient, Recorder]:
    recorder = Recorder()
    client = AxlClient(Endpoint.parse(server.url), DEFAULT_USERNAME, DEFAULT_PASSWORD,
                       ClientOptions(observer=recorder, max_backoff=0.01))
    return client, recorder


def assert_all_valid(recorder: Recorder) -> None:
    assert recorder.sent, "the client sent nothing"
    for _operation, body in recorder.sent:
        validate_body(body)


@pytest.mark.parametrize(("use_sql", "operations"), [
    (True, {"getCCMVersion", "executeSQLQuery"}),
    (False, {"getCCMVersion", "listUser", "listPhone", "getPhone", "listRemoteDestination",
             "getRemoteDestination", "getUser"}),
])
def test_every_audit_request_is_valid_under_the_official_schema(
    lab14: LabServer, use_sql: bool, operations: set[str]
) -> None:
    client, recorder = recording_client(lab14)

    collect_inventory(client, CloudDomains.load(), use_sql=use_sql)

    assert recorder.operations() == operations
    assert_all_valid(recorder)


def test_paged_audit_requests_with_skip_and_first_are_valid(lab14: LabServer) -> None:
    lab_config(lab14, answer_limit=5000)
    try:
        for use_sql in (True, False):
            client, recorder = recording_client(lab14)
            collect_inventory(client, CloudDomains.load(), use_sql=use_sql)
            paged = [body for _, body in recorder.sent if b"<first>" in body or b"FIRST " in body]
            assert paged, "the small answer limit should have made the client page"
            assert_all_valid(recorder)
    finally:
        lab_config(lab14, answer_limit=8 * 1024 * 1024)


def test_migration_writes_are_valid_and_accepted_by_the_lab() -> None:
    """A Spark-RD for jsmith copying his CTI-RD, then the moves a migration makes, then new objects."""
    require_official_schema()
    with running_lab(dataset=CLUSTERS / "edge-cases.json", cucm_version=RELEASE_14) as server:
        _migrate_jsmith(server)


def _migrate_jsmith(server: LabServer) -> None:
    client, recorder = recording_client(server)
    cti = client.get("getPhone", name="CTIRDJSMITH", returnedTags=PHONE_TAGS)
    assert cti["product"] == CTI_RD_PRODUCT
    lines = lines_from_phone(cti)
    assert lines, "the CTI-RD should have a line to copy"
    recorder.sent.clear()

    spark = phone_payload("SPARKJSMITH", SPARK_RD_PRODUCT, cti["ownerUserName"], cti.get("description"),
                          DeviceSettings.from_phone(cti), lines)
    client.write("addPhone", phone=spark)
    client.write("updateUser", userid="jsmith", associatedDevices={"device": ["SEP2C3124B81A06", "SPARKJSMITH"]})
    client.write("updateRemoteDestination", destination="jsmith@acme.call.ciscospark.com",
                 ctiRemoteDeviceName="SPARKJSMITH")
    client.write("removePhone", name="CTIRDJSMITH")
    client.write("addUser", user={"userid": "mnew", "firstName": "Mia", "lastName": "New",
                                  "presenceGroupName": "Standard Presence group"})
    client.write("addLine", line={"pattern": "2999001", "routePartitionName": "SJC_Internal_PT",
                                  "usage": "Device", "description": "Mia New"})
    client.write("addRemoteDestination", remoteDestination={
        "destination": "mnew@acme.call.ciscospark.com", "name": "mnew-spark", "ownerUserId": "mnew",
        "ctiRemoteDeviceName": "SPARKJSMITH", "answerTooSoonTimer": 1500, "answerTooLateTimer": 19000,
        "delayBeforeRingingCell": 4000})

    assert [op for op, _ in recorder.sent] == [
        "addPhone", "updateUser", "updateRemoteDestination", "removePhone", "addUser", "addLine",
        "addRemoteDestination"]
    assert_all_valid(recorder)
    add_rd = recorder.sent[-1][1]
    assert b"dualModeDeviceName" not in add_rd  # CSCvq98025: never a nil for an unset optional element
    moved = client.get("getRemoteDestination", destination="jsmith@acme.call.ciscospark.com",
                       returnedTags={"ctiRemoteDeviceName": ""})
    assert moved["ctiRemoteDeviceName"] == "SPARKJSMITH"
    copied = client.get("getPhone", name="SPARKJSMITH", returnedTags=PHONE_TAGS)
    assert lines_from_phone(copied) == lines
    assert DeviceSettings.from_phone(copied) == DeviceSettings.from_phone(cti)
