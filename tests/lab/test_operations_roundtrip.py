"""Every AXL operation the product uses, round-tripped through the lab by zeep over real HTTP.

Each test runs twice: with the project's own WSDL and with Cisco's official AXL 14.0 WSDL
(loaded once per module; skipped, with the reason printed, where it is absent). What an
add wrote, get and list must return; updates and removes must show in the tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
from lxml import etree
from support.lab import AUTH, running_lab
from support.official_schema import official_wsdl_path, require_official_schema
from zeep.exceptions import Fault
from zeep.plugins import HistoryPlugin
from zeep.transports import Transport

PROJECT_WSDL = Path(__file__).resolve().parents[2] / "wsdl" / "AXLAPI.wsdl"
BINDING = "{http://www.cisco.com/AXLAPIService/}AXLAPIBinding"
RELEASE = "14.0.1.10000-20"  # both WSDLs speak AXL 14.0
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


@dataclass
class Wsdl:
    name: str
    client: zeep.Client
    history: HistoryPlugin


@dataclass
class Axl:
    """One lab and a zeep service bound to it."""

    server: Any
    service: Any
    wsdl: Wsdl

    def sql(self, query: str) -> list[dict[str, str | None]]:
        answer = self.service.executeSQLQuery(sql=query)["return"]
        rows = answer["row"] if answer is not None else []
        return [{column.tag: column.text for column in row} for row in rows or []]

    def fault(self, operation: str, **kwargs: Any) -> tuple[int, str]:
        with pytest.raises(Fault) as caught:
            getattr(self.service, operation)(**kwargs)
        detail = caught.value.detail
        return int(detail.findtext(".//axlcode")), detail.findtext(".//axlmessage")

    def last_sent(self) -> etree._Element:
        return self.wsdl.history.last_sent["envelope"]


@pytest.fixture(scope="module", params=["project", "official"])
def wsdl(request: pytest.FixtureRequest) -> Iterator[Wsdl]:
    if request.param == "official":
        require_official_schema()  # skips, printing why, when Cisco's schema is not here
        path = official_wsdl_path()
    else:
        path = PROJECT_WSDL
    session = requests.Session()
    session.auth = AUTH
    history = HistoryPlugin()
    settings = zeep.Settings(strict=False, xml_huge_tree=True, xsd_ignore_sequence_order=True)
    client = zeep.Client(str(path), settings=settings, transport=Transport(session=session), plugins=[history])
    yield Wsdl(request.param, client, history)
    session.close()


@pytest.fixture
def axl(wsdl: Wsdl) -> Iterator[Axl]:
    """The edge-case cluster started as CUCM 14.0."""
    with running_lab(cucm_version=RELEASE) as server:
        yield Axl(server, wsdl.client.create_service(BINDING, server.url), wsdl)


def name_of(value: Any) -> str | None:
    """An XFkType as zeep parses it (value with a uuid attribute), or a plain string."""
    if value is None:
        return None
    return value["_value_1"] if not isinstance(value, str) else value


def uuid_of(value: Any) -> str | None:
    return None if value is None or isinstance(value, str) else value["uuid"]


# -- the Spark-RD a migration adds for jsmith: his desk phone's line 2106, shared ----------
SPARK_LINE = {
    "index": 1, "label": "John Smith", "display": "John Smith",
    "dirn": {"pattern": "2106", "routePartitionName": "SJC_Internal_PT"},
    "displayAscii": "John Smith", "e164Mask": "+14085552106",
}
SPARK_RD = {
    "name": "SPARKJSMITH",
    "description": "Webex - John Smith",
    "product": "Cisco Spark Remote Device",
    "class": "Phone",
    "protocol": "CTI Remote Device",
    "protocolSide": "User",
    "callingSearchSpaceName": "SJC_Internal_CSS",
    "devicePoolName": "DP_SJC",
    "commonPhoneConfigName": "Standard Common Phone Profile",
    "locationName": "Loc_SJC",
    "useTrustedRelayPoint": "Default",
    "lines": {"line": [SPARK_LINE]},
    "builtInBridgeStatus": "Default",
    "ownerUserName": "jsmith",
    "packetCaptureMode": "None",
    "rerouteCallingSearchSpaceName": "Hybrid_Reroute_CSS",
    "certificateOperation": "No Pending Operation",
    "deviceMobilityMode": "Default",
}
MODELLED = ("name", "description", "product", "class", "protocol", "protocolSide", "callingSearchSpaceName",
            "devicePoolName", "commonPhoneConfigName", "locationName", "useTrustedRelayPoint",
            "builtInBridgeStatus", "ownerUserName", "packetCaptureMode", "rerouteCallingSearchSpaceName",
            "certificateOperation", "deviceMobilityMode")


def phone_fields(phone: Any) -> dict[str, Any]:
    return {field: name_of(phone[field]) for field in MODELLED}


def phone_lines(phone: Any) -> list[dict[str, Any]]:
    return [
        {
            "index": int(line["index"]), "label": line["label"], "display": line["display"],
            "dirn": {"pattern": line["dirn"]["pattern"],
                     "routePartitionName": name_of(line["dirn"]["routePartitionName"])},
            "displayAscii": line["displayAscii"], "e164Mask": line["e164Mask"],
        }
        for line in (phone["lines"] or {"line": []})["line"]
    ]


def devices_on_line(axl: Axl, pattern: str, partition: str) -> set[str]:
    return {row["name"] for row in axl.sql(
        "SELECT d.name FROM devicenumplanmap m JOIN device d ON d.pkid = m.fkdevice "
        "JOIN numplan n ON n.pkid = m.fknumplan JOIN routepartition rp ON rp.pkid = n.fkroutepartition "
        f"WHERE n.dnorpattern = '{pattern}' AND rp.name = '{partition}'"
    )}


def add_spark_rd(axl: Axl) -> str:
    return axl.service.addPhone(phone=SPARK_RD)["return"]


# -- getCCMVersion ------------------------------------------------------------------------------
def test_get_ccm_version(axl: Axl) -> None:
    answer = axl.service.getCCMVersion()
    assert answer["return"]["componentVersion"]["version"] == "14.0.1.10000(20)"


# -- users -----------------------------------------------------------------------------------------
def test_add_user_then_get_and_list_return_it(axl: Axl) -> None:
    added = axl.service.addUser(user={
        "firstName": "Round", "lastName": "Trip", "userid": "rtrip", "mailid": "rtrip@acme.example.com",
        "department": "QA", "associatedDevices": {"device": ["SEP00562B7A1C98"]},
        "presenceGroupName": "Standard Presence group",
    })["return"]
    user = axl.service.getUser(userid="rtrip")["return"]["user"]
    assert user["uuid"] == added
    assert (user["firstName"], user["lastName"], user["userid"], user["mailid"], user["department"]) == (
        "Round", "Trip", "rtrip", "rtrip@acme.example.com", "QA")
    assert name_of(user["presenceGroupName"]) == "Standard Presence group"
    assert user["associatedDevices"]["device"] == ["SEP00562B7A1C98"]
    assert axl.service.getUser(uuid=added)["return"]["user"]["userid"] == "rtrip"
    listed = axl.service.listUser(searchCriteria={"userid": "rtr%"},
                                  returnedTags={"userid": "", "firstName": "", "lastName": "", "mailid": ""})
    users = listed["return"]["user"]
    assert [(u["userid"], u["firstName"], u["lastName"], u["mailid"], u["uuid"]) for u in users] == [
        ("rtrip", "Round", "Trip", "rtrip@acme.example.com", added)]
    assert users[0]["department"] is None  # not asked for, not sent


def test_list_user_pages_with_skip_and_first(axl: Axl) -> None:
    everyone = [u["userid"] for u in axl.service.listUser(
        searchCriteria={"userid": "%"}, returnedTags={"userid": ""})["return"]["user"]]
    assert len(everyone) == 22 and everyone == sorted(everyone)
    page = axl.service.listUser(searchCriteria={"userid": "%"}, returnedTags={"userid": ""}, skip=5, first=4)
    assert [u["userid"] for u in page["return"]["user"]] == everyone[5:9]


def test_update_user_associated_devices(axl: Axl) -> None:
    add_spark_rd(axl)
    axl.service.updateUser(userid="jsmith", associatedDevices={"device": ["SPARKJSMITH", "SEP2C3124B81A06"]})
    user = axl.service.getUser(userid="jsmith")["return"]["user"]
    assert sorted(user["associatedDevices"]["device"]) == ["SEP2C3124B81A06", "SPARKJSMITH"]
    rows = axl.sql("SELECT d.name FROM enduserdevicemap m JOIN device d ON d.pkid = m.fkdevice "
                   "JOIN enduser u ON u.pkid = m.fkenduser WHERE u.userid = 'jsmith' AND m.tkuserassociation = 1")
    assert {row["name"] for row in rows} == {"SPARKJSMITH", "SEP2C3124B81A06"}
    axl.service.updateUser(userid="jsmith", department="Sales")
    user = axl.service.getUser(userid="jsmith")["return"]["user"]
    assert user["department"] == "Sales"
    assert sorted(user["associatedDevices"]["device"]) == ["SEP2C3124B81A06", "SPARKJSMITH"]  # left alone


def test_user_faults_arrive_as_zeep_faults_with_axl_detail(axl: Axl) -> None:
    assert axl.fault("getUser", userid="nobody.here") == (5007, "Item not valid: The specified User was not found")
    code, message = axl.fault("addUser", user={"userid": "jsmith", "lastName": "Again",
                                               "presenceGroupName": "Standard Presence group"})
    assert code == -239 and "duplicate value" in message


# -- lines --------------------------------------------------------------------------------------------
def test_add_line_then_get_and_list_return_it(axl: Axl) -> None:
    added = axl.service.addLine(line={
        "pattern": "4001", "description": "Round trip line", "usage": "Device",
        "routePartitionName": "SJC_Internal_PT", "alertingName": "Round Trip",
    })["return"]
    line = axl.service.getLine(pattern="4001", routePartitionName="SJC_Internal_PT")["return"]["line"]
    assert line["uuid"] == added
    assert (line["pattern"], line["description"], line["usage"], name_of(line["routePartitionName"]),
            line["alertingName"]) == ("4001", "Round trip line", "Device", "SJC_Internal_PT", "Round Trip")
    assert axl.service.getLine(uuid=added)["return"]["line"]["pattern"] == "4001"
    listed = axl.service.listLine(searchCriteria={"pattern": "400%"},
                                  returnedTags={"pattern": "", "description": "", "routePartitionName": ""})
    assert [(item["pattern"], item["description"], name_of(item["routePartitionName"]), item["uuid"])
            for item in listed["return"]["line"]] == [("4001", "Round trip line", "SJC_Internal_PT", added)]
    assert axl.fault("addLine", line={"pattern": "4001", "usage": "Device",
                                      "routePartitionName": "SJC_Internal_PT"})[0] == -239
    assert axl.fault("getLine", pattern="4001", routePartitionName="Exec_PT")[0] == 5007


def test_list_line_finds_shared_and_none_partition_lines(axl: Axl) -> None:
    listed = axl.service.listLine(searchCriteria={"pattern": "2%"},
                                  returnedTags={"pattern": "", "routePartitionName": ""})["return"]["line"]
    keys = [(item["pattern"], name_of(item["routePartitionName"])) for item in listed]
    assert ("2500", "SJC_Internal_PT") in keys and keys.count(("2500", "SJC_Internal_PT")) == 1
    assert ("2999", None) in keys  # the lobby phone's DN in the none partition


# -- phones ---------------------------------------------------------------------------------------------
def test_add_spark_rd_sharing_a_desk_phone_line_then_get_and_list(axl: Axl) -> None:
    assert devices_on_line(axl, "2106", "SJC_Internal_PT") == {"SEP2C3124B81A06", "CTIRDJSMITH"}
    added = add_spark_rd(axl)
    if axl.wsdl.name == "official":
        # Cisco's schema makes some elements required but nillable: zeep sends them as xsi:nil.
        assert any(element.get(XSI_NIL) == "true" for element in axl.last_sent().iter())
    phone = axl.service.getPhone(name="SPARKJSMITH")["return"]["phone"]
    assert phone["uuid"] == added
    assert phone_fields(phone) == {field: SPARK_RD[field] for field in MODELLED}
    assert phone["model"] == "Cisco Spark Remote Device"
    assert uuid_of(phone["ownerUserName"]) == axl.service.getUser(userid="jsmith")["return"]["user"]["uuid"]
    assert phone_lines(phone) == [SPARK_LINE]
    # The line is the desk phone's own directory number, now on three devices: not a copy.
    assert devices_on_line(axl, "2106", "SJC_Internal_PT") == {"SEP2C3124B81A06", "CTIRDJSMITH", "SPARKJSMITH"}
    assert axl.sql("SELECT COUNT(*) AS n FROM numplan WHERE dnorpattern = '2106'") == [{"n": "1"}]
    assert axl.sql("SELECT tkmodel FROM device WHERE name = 'SPARKJSMITH'") == [{"tkmodel": "36235"}]
    assert axl.service.getPhone(uuid=added)["return"]["phone"]["name"] == "SPARKJSMITH"
    listed = axl.service.listPhone(searchCriteria={"name": "SPARKJ%"},
                                   returnedTags={"name": "", "model": "", "ownerUserName": ""})["return"]["phone"]
    assert [(p["name"], p["model"], name_of(p["ownerUserName"]), p["uuid"]) for p in listed] == [
        ("SPARKJSMITH", "Cisco Spark Remote Device", "jsmith", added)]
    assert axl.fault("addPhone", phone=SPARK_RD)[0] == -239


def test_get_phone_of_a_dataset_device_with_two_lines(axl: Axl) -> None:
    phone = axl.service.getPhone(name="CTIRDKMILLER")["return"]["phone"]
    assert phone["product"] == "CTI Remote Device" and name_of(phone["ownerUserName"]) == "kmiller"
    assert [(line["index"], line["dirn"]["pattern"], name_of(line["dirn"]["routePartitionName"]))
            for line in phone_lines(phone)] == [(1, "2114", "SJC_Internal_PT"), (2, "2900", "Exec_PT")]


def test_get_phone_with_returned_tags_sends_only_those(axl: Axl) -> None:
    phone = axl.service.getPhone(name="CTIRDJSMITH", returnedTags={"name": "", "ownerUserName": ""})
    phone = phone["return"]["phone"]
    assert phone["name"] == "CTIRDJSMITH" and name_of(phone["ownerUserName"]) == "jsmith"
    assert phone["description"] is None and phone["lines"] is None


def test_update_phone_description_lines_and_owner(axl: Axl) -> None:
    added = add_spark_rd(axl)
    second = {"index": 2, "label": "Help Desk", "display": "Help Desk",
              "dirn": {"pattern": "2500", "routePartitionName": "SJC_Internal_PT"}}
    answer = axl.service.updatePhone(name="SPARKJSMITH", description="Webex - John Smith (updated)",
                                     lines={"line": [SPARK_LINE, second]}, ownerUserName="ewilson")
    assert answer["return"] == added
    phone = axl.service.getPhone(name="SPARKJSMITH")["return"]["phone"]
    assert phone["description"] == "Webex - John Smith (updated)"
    assert name_of(phone["ownerUserName"]) == "ewilson"
    assert name_of(phone["devicePoolName"]) == "DP_SJC"  # not named in the update, not changed
    lines = phone_lines(phone)
    assert [(line["index"], line["dirn"]["pattern"], line["label"]) for line in lines] == [
        (1, "2106", "John Smith"), (2, "2500", "Help Desk")]
    assert "SPARKJSMITH" in devices_on_line(axl, "2500", "SJC_Internal_PT")
    # Lines given replace all lines: back to one.
    axl.service.updatePhone(name="SPARKJSMITH", lines={"line": [second | {"index": 1}]})
    assert [line["dirn"]["pattern"] for line in phone_lines(axl.service.getPhone(name="SPARKJSMITH")["return"][
        "phone"])] == ["2500"]
    assert "SPARKJSMITH" not in devices_on_line(axl, "2106", "SJC_Internal_PT")


def test_update_phone_rename_and_unknown_references(axl: Axl) -> None:
    axl.service.updatePhone(name="CTIRDJSMITH", newName="CTIRDJSMITH2")
    assert axl.service.getPhone(name="CTIRDJSMITH2")["return"]["phone"]["name"] == "CTIRDJSMITH2"
    assert axl.fault("getPhone", name="CTIRDJSMITH")[0] == 5007
    assert axl.fault("updatePhone", name="CTIRDJSMITH2", devicePoolName="DP_Mars")[0] == 5007
    assert name_of(axl.service.getPhone(name="CTIRDJSMITH2")["return"]["phone"]["devicePoolName"]) == "DP_SJC"


def test_list_phone_pages_with_skip_and_first(axl: Axl) -> None:
    def names(**paging: int) -> list[str]:
        answer = axl.service.listPhone(searchCriteria={"name": "%"}, returnedTags={"name": ""}, **paging)
        return [phone["name"] for phone in answer["return"]["phone"]]

    everything = names()
    assert everything == sorted(everything) and len(everything) == len(set(everything))
    assert names(skip=10, first=7) == everything[10:17]
    assert names(skip=len(everything) - 2, first=10) == everything[-2:]


# -- remote destinations --------------------------------------------------------------------------------
NEW_RD = {
    "name": "jsmith-webex", "destination": "jsmith.rt@acme.calls.webex.com",
    "answerTooSoonTimer": 1500, "answerTooLateTimer": 19000, "delayBeforeRingingCell": 4000,
    "ownerUserId": "jsmith", "ctiRemoteDeviceName": "SPARKJSMITH",
    "isMobilePhone": "false", "enableMobileConnect": "true",
}


def cloud_destination_of(axl: Axl, device: str) -> str:
    rows = axl.sql("SELECT r.destination FROM remotedestination r JOIN device d ON d.pkid = r.fkdevice "
                   f"WHERE d.name = '{device}'")
    assert len(rows) == 1, rows
    return rows[0]["destination"]


def test_add_remote_destination_on_the_spark_rd_then_get_and_list(axl: Axl) -> None:
    add_spark_rd(axl)
    added = axl.service.addRemoteDestination(remoteDestination=NEW_RD)["return"]
    rd = axl.service.getRemoteDestination(destination=NEW_RD["destination"])["return"]["remoteDestination"]
    assert rd["uuid"] == added
    assert (rd["name"], rd["destination"], name_of(rd["ownerUserId"]), name_of(rd["ctiRemoteDeviceName"])) == (
        "jsmith-webex", NEW_RD["destination"], "jsmith", "SPARKJSMITH")
    assert (int(rd["answerTooSoonTimer"]), int(rd["answerTooLateTimer"]), int(rd["delayBeforeRingingCell"])) == (
        1500, 19000, 4000)
    assert (rd["isMobilePhone"], rd["enableMobileConnect"]) == ("false", "true")
    assert uuid_of(rd["ctiRemoteDeviceName"]) == axl.service.getPhone(name="SPARKJSMITH")["return"]["phone"]["uuid"]
    assert axl.service.getRemoteDestination(uuid=added)["return"]["remoteDestination"]["name"] == "jsmith-webex"
    listed = axl.service.listRemoteDestination(
        searchCriteria={"ctiRemoteDeviceName": "SPARKJSMITH"},
        returnedTags={"name": "", "destination": "", "ctiRemoteDeviceName": ""},
    )["return"]["remoteDestination"]
    assert [(item["name"], item["destination"], name_of(item["ctiRemoteDeviceName"])) for item in listed] == [
        ("jsmith-webex", NEW_RD["destination"], "SPARKJSMITH")]
    assert axl.fault("addRemoteDestination", remoteDestination=NEW_RD)[0] == -239


def test_a_remote_destination_rings_only_through_a_cti_or_spark_remote_device(axl: Axl) -> None:
    desk_phone = NEW_RD | {"ctiRemoteDeviceName": "SEP2C3124B81A06"}
    assert axl.fault("addRemoteDestination", remoteDestination=desk_phone)[0] == 5007
    assert axl.fault("addRemoteDestination", remoteDestination=NEW_RD | {"ownerUserId": "ghost"})[0] == 5007
    assert not axl.sql(f"SELECT pkid FROM remotedestination WHERE destination = '{NEW_RD['destination']}'")


def test_update_remote_destination_re_points_it_to_the_spark_rd(axl: Axl) -> None:
    add_spark_rd(axl)
    destination = cloud_destination_of(axl, "CTIRDJSMITH")
    before = axl.service.getRemoteDestination(destination=destination)["return"]["remoteDestination"]
    axl.service.updateRemoteDestination(destination=destination, ctiRemoteDeviceName="SPARKJSMITH")
    after = axl.service.getRemoteDestination(destination=destination)["return"]["remoteDestination"]
    assert name_of(after["ctiRemoteDeviceName"]) == "SPARKJSMITH"
    assert after["uuid"] == before["uuid"]  # the same row, re-pointed in place
    assert name_of(after["ownerUserId"]) == name_of(before["ownerUserId"]) == "jsmith"
    assert after["name"] == before["name"]
    axl.service.updateRemoteDestination(uuid=after["uuid"], answerTooLateTimer=25000)
    assert int(axl.service.getRemoteDestination(uuid=after["uuid"])["return"]["remoteDestination"][
        "answerTooLateTimer"]) == 25000


def test_remove_remote_destination(axl: Axl) -> None:
    destination = cloud_destination_of(axl, "CTIRDJSMITH")
    axl.service.removeRemoteDestination(destination=destination)
    assert axl.fault("getRemoteDestination", destination=destination)[0] == 5007
    assert axl.fault("removeRemoteDestination", destination=destination)[0] == 5007
    assert axl.service.getPhone(name="CTIRDJSMITH")["return"]["phone"]["name"] == "CTIRDJSMITH"


def test_remove_phone_of_a_cti_rd_removes_its_remote_destinations(axl: Axl) -> None:
    destination = cloud_destination_of(axl, "CTIRDJSMITH")
    removed = axl.service.removePhone(name="CTIRDJSMITH")["return"]
    assert removed.startswith("{") and removed.endswith("}")
    assert axl.fault("getPhone", name="CTIRDJSMITH")[0] == 5007
    assert axl.fault("getRemoteDestination", destination=destination)[0] == 5007
    assert not axl.sql(f"SELECT pkid FROM remotedestination WHERE destination = '{destination}'")
    # The shared line and the user's other associations survive the device.
    assert devices_on_line(axl, "2106", "SJC_Internal_PT") == {"SEP2C3124B81A06"}
    assert "CTIRDJSMITH" not in (axl.service.getUser(userid="jsmith")["return"]["user"]["associatedDevices"]
                                 or {"device": []})["device"]


def test_a_whole_migration_leaves_the_cloud_destination_on_the_spark_rd(axl: Axl) -> None:
    """Add the Spark-RD, re-point the destination, move the association, remove the CTI-RD."""
    destination = cloud_destination_of(axl, "CTIRDJSMITH")
    add_spark_rd(axl)
    axl.service.updateRemoteDestination(destination=destination, ctiRemoteDeviceName="SPARKJSMITH")
    devices = axl.service.getUser(userid="jsmith")["return"]["user"]["associatedDevices"]["device"]
    axl.service.updateUser(userid="jsmith", associatedDevices={
        "device": [d for d in devices if d != "CTIRDJSMITH"] + ["SPARKJSMITH"]})
    axl.service.removePhone(name="CTIRDJSMITH")
    rd = axl.service.getRemoteDestination(destination=destination)["return"]["remoteDestination"]
    assert name_of(rd["ctiRemoteDeviceName"]) == "SPARKJSMITH" and name_of(rd["ownerUserId"]) == "jsmith"
    assert devices_on_line(axl, "2106", "SJC_Internal_PT") == {"SEP2C3124B81A06", "SPARKJSMITH"}
    assert sorted(axl.service.getUser(userid="jsmith")["return"]["user"]["associatedDevices"]["device"]) == [
        "SEP2C3124B81A06", "SPARKJSMITH"]
    assert axl.sql("SELECT COUNT(*) AS n FROM device WHERE tkmodel = 635 AND name = 'CTIRDJSMITH'") == [{"n": "0"}]


# -- executeSQLQuery through zeep -------------------------------------------------------------------------
def test_execute_sql_query_rows_through_zeep(axl: Axl) -> None:
    rows = axl.sql("SELECT SKIP 0 FIRST 3 name, tkmodel FROM device WHERE tkmodel = 36235 ORDER BY name")
    assert rows == [{"name": "SPARKGWHITE", "tkmodel": "36235"}, {"name": "SPARKLWONG", "tkmodel": "36235"},
                    {"name": "SPARKNADAMS", "tkmodel": "36235"}]
    assert axl.sql("SELECT name FROM device WHERE name = 'nothing'") == []


# -- search criteria of Cisco's schema that the lab does not model still filter -----------------------
def test_unmodelled_search_criteria_filter_instead_of_being_dropped(axl: Axl) -> None:
    tags = {"name": "", "destination": ""}
    assert axl.service.listRemoteDestination(searchCriteria={"dualModeDeviceName": "BOTX"},
                                             returnedTags=tags)["return"] is None
    everything = axl.service.listRemoteDestination(searchCriteria={"dualModeDeviceName": "%"}, returnedTags=tags)
    assert len(everything["return"]["remoteDestination"]) == len(axl.sql("SELECT pkid FROM remotedestination"))
    lines = axl.service.listLine(searchCriteria={"pattern": "2106", "usage": "Device"},
                                 returnedTags={"pattern": ""})["return"]["line"]
    assert [line["pattern"] for line in lines] == ["2106"]
    assert axl.service.listLine(searchCriteria={"pattern": "2106", "usage": "Hunt Pilot"},
                                returnedTags={"pattern": ""})["return"] is None
