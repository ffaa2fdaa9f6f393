"""AXL faults in Cisco's format over real HTTP (5007, -239, -1 with paging), and injected faults."""

from __future__ import annotations

import re
import time

import pytest
import requests
from lxml import etree
from support.lab import AUTH, lab_config, lab_stats, running_lab

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
VERSION = "12.5"  # the bundled edge-case cluster is CUCM 12.5.1.10000-22
TOO_LARGE = re.compile(
    r"^Query request too large\. Total rows matched: (\d+) rows\. Suggestive Row Fetch: less than (\d+) rows$"
)


def envelope(operation: str, inner: str = "", version: str = VERSION) -> bytes:
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:ns="http://www.cisco.com/AXL/API/{version}">'
        f"<soapenv:Body><ns:{operation}>{inner}</ns:{operation}></soapenv:Body></soapenv:Envelope>"
    ).encode()


def call(server, operation: str, inner: str = "", *, timeout: float = 10, version: str = VERSION) -> requests.Response:
    return requests.post(
        server.url, data=envelope(operation, inner, version), auth=AUTH, timeout=timeout,
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"CUCM:DB ver={version} {operation}"'},
    )


def fault(response: requests.Response) -> dict[str, str]:
    """Cisco's fault shape: soapenv:Fault/faultcode+faultstring, detail/axlError/axlcode+axlmessage+request."""
    assert response.status_code == 500, response.text[:600]
    assert response.headers["Content-Type"].startswith("text/xml")
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{SOAP_NS}}}Envelope"
    body = root.find(f"{{{SOAP_NS}}}Body")
    assert body is not None and len(body) == 1
    found = body[0]
    assert found.tag == f"{{{SOAP_NS}}}Fault", response.text
    error = found.find("detail/axlError")
    assert error is not None, response.text
    assert [child.tag for child in error] == ["axlcode", "axlmessage", "request"]
    return {
        "faultcode": found.findtext("faultcode"),
        "faultstring": found.findtext("faultstring"),
        "axlcode": error.findtext("axlcode"),
        "axlmessage": error.findtext("axlmessage"),
        "request": error.findtext("request"),
    }


def ok(response: requests.Response) -> etree._Element:
    assert response.status_code == 200, response.text
    return etree.fromstring(response.content)


def sql_column(server, sql: str) -> list[str]:
    return [row[0].text or "" for row in ok(call(server, "executeSQLQuery", f"<sql>{sql}</sql>")).iter("row")]


# -- 5007: not found -------------------------------------------------------------------------
NOT_FOUND = {
    "getPhone": ("<name>SEPDOESNOTEXIST</name>", "Device"),
    "getUser": ("<userid>no.such.user</userid>", "User"),
    "getLine": ("<pattern>99999</pattern><routePartitionName>SJC_Internal_PT</routePartitionName>",
                "Directory Number"),
    "getRemoteDestination": ("<destination>nobody@acme.call.ciscospark.com</destination>", "Remote Destination"),
    "updatePhone": ("<name>SEPDOESNOTEXIST</name><description>x</description>", "Device"),
    "removePhone": ("<name>SEPDOESNOTEXIST</name>", "Device"),
    "updateUser": ("<userid>no.such.user</userid><department>x</department>", "User"),
    "removeRemoteDestination": ("<destination>nobody@acme.call.ciscospark.com</destination>", "Remote Destination"),
}


@pytest.mark.parametrize("operation", NOT_FOUND)
def test_an_unknown_item_is_5007(lab, operation: str) -> None:
    inner, what = NOT_FOUND[operation]
    detail = fault(call(lab, operation, inner))
    assert detail["axlcode"] == "5007"
    assert detail["axlmessage"] == f"Item not valid: The specified {what} was not found"
    assert detail["faultstring"] == detail["axlmessage"]
    assert detail["request"] == operation
    assert detail["faultcode"].endswith("Client")


def test_a_line_in_the_wrong_partition_is_not_found(lab) -> None:
    ok(call(lab, "getLine", "<pattern>2106</pattern><routePartitionName>SJC_Internal_PT</routePartitionName>"))
    assert fault(call(lab, "getLine", "<pattern>2106</pattern><routePartitionName>Exec_PT</routePartitionName>"))[
        "axlcode"] == "5007"


def test_a_get_by_unknown_uuid_is_5007(lab) -> None:
    detail = fault(call(lab, "getUser", "<uuid>{00000000-0000-0000-0000-000000000000}</uuid>"))
    assert detail["axlcode"] == "5007"


# -- -239: duplicate -------------------------------------------------------------------------
DUPLICATES = {
    "addPhone": (
        "<phone><name>SEP0022905C1A99</name><product>Cisco 8841</product><class>Phone</class>"
        "<protocol>SIP</protocol><protocolSide>User</protocolSide><devicePoolName>Default</devicePoolName>"
        "<commonPhoneConfigName>Standard Common Phone Profile</commonPhoneConfigName>"
        "<locationName>Hub_None</locationName><useTrustedRelayPoint>Default</useTrustedRelayPoint>"
        "<builtInBridgeStatus>Default</builtInBridgeStatus><packetCaptureMode>None</packetCaptureMode>"
        "<certificateOperation>No Pending Operation</certificateOperation>"
        "<deviceMobilityMode>Default</deviceMobilityMode></phone>"
    ),
    "addUser": "<user><userid>jsmith</userid><lastName>Smith</lastName></user>",
    "addLine": "<line><pattern>2106</pattern><usage>Device</usage>"
               "<routePartitionName>SJC_Internal_PT</routePartitionName></line>",
    "addRemoteDestination": (
        "<remoteDestination><destination>{destination}</destination><ownerUserId>jsmith</ownerUserId>"
        "<answerTooSoonTimer>1500</answerTooSoonTimer><answerTooLateTimer>19000</answerTooLateTimer>"
        "<delayBeforeRingingCell>4000</delayBeforeRingingCell></remoteDestination>"
    ),
}


@pytest.mark.parametrize("operation", DUPLICATES)
def test_adding_an_existing_item_is_minus_239_and_writes_nothing(lab, operation: str) -> None:
    inner = DUPLICATES[operation]
    if "{destination}" in inner:
        existing = sql_column(lab, "SELECT FIRST 1 destination FROM remotedestination ORDER BY destination")[0]
        inner = inner.format(destination=existing)
    before = requests.get(lab.url.replace("/axl/", "/lab/dump"), auth=AUTH, timeout=10).json()
    detail = fault(call(lab, operation, inner))
    assert detail["axlcode"] == "-239"
    assert detail["axlmessage"].startswith("Could not insert new row - duplicate value in a UNIQUE INDEX column")
    assert detail["request"] == operation
    assert requests.get(lab.url.replace("/axl/", "/lab/dump"), auth=AUTH, timeout=10).json() == before
    assert lab_stats(lab)["writes_applied"] == 0


def test_userids_are_unique_whatever_their_case(lab) -> None:
    assert fault(call(lab, "addUser", "<user><userid>JSMITH</userid><lastName>S</lastName></user>"))[
        "axlcode"] == "-239"


def test_renaming_a_phone_onto_another_is_minus_239(lab) -> None:
    detail = fault(call(lab, "updatePhone", "<name>CTIRDJSMITH</name><newName>SEP0022905C1A99</newName>"))
    assert detail["axlcode"] == "-239"
    assert sql_column(lab, "SELECT name FROM device WHERE name = 'CTIRDJSMITH'") == ["CTIRDJSMITH"]


# -- -1: answer too large, and paging by the suggestion ----------------------------------------
LIST_ALL_PHONES = (
    "<searchCriteria><name>%</name></searchCriteria>"
    "<returnedTags><name/><description/><model/><devicePoolName/><ownerUserName/></returnedTags>"
)


def too_large(response: requests.Response) -> tuple[int, int]:
    detail = fault(response)
    assert detail["axlcode"] == "-1"
    match = TOO_LARGE.match(detail["axlmessage"])
    assert match, detail["axlmessage"]
    assert detail["faultstring"] == detail["axlmessage"]
    return int(match.group(1)), int(match.group(2))


def test_listphone_over_the_limit_is_minus_1_and_the_suggestion_pages_through_everything(lab) -> None:
    names = sql_column(lab, "SELECT name FROM device")
    lab_config(lab, answer_limit=5000)
    total, suggested = too_large(call(lab, "listPhone", LIST_ALL_PHONES))
    assert total == len(names)
    assert 1 < suggested < total
    seen: list[str] = []
    page = suggested - 1
    for skip in range(0, total + page, page):
        answer = ok(call(lab, "listPhone", f"{LIST_ALL_PHONES}<skip>{skip}</skip><first>{page}</first>"))
        phones = answer.findall(".//return/phone")
        assert len(phones) <= page
        seen.extend(phone.findtext("name") for phone in phones)
        if len(phones) < page:
            break
    assert len(seen) == len(set(seen)) == total
    assert sorted(seen) == sorted(names)


@pytest.mark.parametrize(
    ("operation", "inner", "table"),
    [
        ("listUser", "<searchCriteria><userid>%</userid></searchCriteria><returnedTags><userid/><lastName/>"
                     "</returnedTags>", "enduser"),
        ("listLine", "<searchCriteria><pattern>%</pattern></searchCriteria><returnedTags><pattern/>"
                     "<routePartitionName/></returnedTags>", "numplan"),
        ("listRemoteDestination", "<searchCriteria><name>%</name></searchCriteria><returnedTags><name/>"
                                  "<destination/></returnedTags>", "remotedestination"),
    ],
)
def test_every_list_has_the_size_limit(lab, operation: str, inner: str, table: str) -> None:
    rows = len(sql_column(lab, f"SELECT pkid FROM {table}"))
    lab_config(lab, answer_limit=600)
    total, suggested = too_large(call(lab, operation, inner))
    assert total == rows and suggested >= 1
    page = ok(call(lab, operation, f"{inner}<skip>0</skip><first>{max(1, suggested - 1)}</first>"))
    assert len(page.find(".//return")) == max(1, suggested - 1)


def test_a_narrow_search_under_the_limit_still_answers(lab) -> None:
    lab_config(lab, answer_limit=5000)
    answer = ok(call(lab, "listPhone", LIST_ALL_PHONES.replace("<name>%</name>", "<name>CTIRD%</name>")))
    assert all(name.startswith("CTIRD") for name in (p.findtext("name") for p in answer.iter("phone")))


def test_sql_over_the_limit_is_minus_1_and_skip_first_pages_through_everything(lab) -> None:
    names = sql_column(lab, "SELECT name FROM device")
    lab_config(lab, answer_limit=4000)
    query = ("SELECT {paging} d.name, d.description, m.name AS model FROM device d"
             " JOIN typemodel m ON m.enum = d.tkmodel")
    total, suggested = too_large(call(lab, "executeSQLQuery", f"<sql>{query.format(paging='')}</sql>"))
    assert total == len(names)
    seen: list[str] = []
    page = suggested - 1
    for skip in range(0, total + page, page):
        sql = query.format(paging=f"SKIP {skip} FIRST {page}") + " ORDER BY d.name"
        rows = list(ok(call(lab, "executeSQLQuery", f"<sql>{sql}</sql>")).iter("row"))
        seen.extend(row.findtext("name") for row in rows)
        if len(rows) < page:
            break
    assert len(seen) == len(set(seen)) == total
    assert sorted(seen) == sorted(names)


def test_a_generated_cluster_over_the_8_mb_limit() -> None:
    with running_lab(generate="users=2000,seed=3") as server:
        everything = (
            "<searchCriteria><name>%</name></searchCriteria><returnedTags><name/><description/><product/><model/>"
            "<class/><protocol/><protocolSide/><callingSearchSpaceName/><devicePoolName/><commonPhoneConfigName/>"
            "<locationName/><useTrustedRelayPoint/><builtInBridgeStatus/><ownerUserName/><packetCaptureMode/>"
            "<rerouteCallingSearchSpaceName/><certificateOperation/><deviceMobilityMode/></returnedTags>"
        )
        lab_config(server, answer_limit=1024 * 1024)
        total, suggested = too_large(call(server, "listPhone", everything))
        assert total == 4000
        page = ok(call(server, "listPhone", f"{everything}<skip>0</skip><first>{suggested - 1}</first>"))
        assert len(page.findall(".//phone")) == suggested - 1


# -- Injected faults -----------------------------------------------------------------------------
def test_latency_delays_only_the_named_operations(lab) -> None:
    lab_config(lab, faults=[{"kind": "latency", "ms": 1000, "operations": ["getUser"]}])
    started = time.monotonic()
    ok(call(lab, "getUser", "<userid>jsmith</userid>"))
    assert time.monotonic() - started >= 1.0
    started = time.monotonic()
    ok(call(lab, "getCCMVersion"))
    assert time.monotonic() - started < 1.0


def test_http503_answers_about_the_configured_fraction(lab) -> None:
    lab_config(lab, faults=[{"kind": "http503", "rate": 0.3}])
    statuses = [call(lab, "getCCMVersion").status_code for _ in range(200)]
    refused = statuses.count(503)
    assert set(statuses) == {200, 503}
    assert 30 <= refused <= 90, refused


def test_http503_on_writes_changes_nothing(lab) -> None:
    lab_config(lab, faults=[{"kind": "http503", "operations": ["addUser"]}])
    response = call(lab, "addUser", "<user><userid>refused</userid><lastName>R</lastName></user>")
    assert response.status_code == 503
    assert not sql_column(lab, "SELECT userid FROM enduser WHERE userid = 'refused'")
    assert lab_stats(lab)["writes_applied"] == 0


def test_count_retires_a_rule(lab) -> None:
    lab_config(lab, faults=[{"kind": "http503", "count": 2}])
    assert [call(lab, "getCCMVersion").status_code for _ in range(4)] == [503, 503, 200, 200]


def test_drop_cuts_the_answer_halfway(lab) -> None:
    lab_config(lab, faults=[{"kind": "drop", "operations": ["getUser"], "count": 1}])
    with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        call(lab, "getUser", "<userid>jsmith</userid>")
    assert ok(call(lab, "getUser", "<userid>jsmith</userid>")).findtext(".//userid") == "jsmith"


def test_drop_after_write_applies_the_write_but_sends_no_answer(lab) -> None:
    lab_config(lab, faults=[{"kind": "drop_after_write", "operations": ["addUser"], "count": 1}])
    added = "<user><userid>ambiguous</userid><lastName>A</lastName></user>"
    with pytest.raises(requests.exceptions.ConnectionError):
        call(lab, "addUser", added)
    assert ok(call(lab, "getUser", "<userid>ambiguous</userid>")).findtext(".//lastName") == "A"
    assert lab_stats(lab)["writes_applied"] == 1
    # A client that retries blindly now meets the duplicate it made itself.
    assert fault(call(lab, "addUser", added))["axlcode"] == "-239"


def test_drop_after_write_leaves_reads_and_failed_writes_alone(lab) -> None:
    lab_config(lab, faults=[{"kind": "drop_after_write"}])
    ok(call(lab, "getUser", "<userid>jsmith</userid>"))
    assert fault(call(lab, "addUser", "<user><userid>jsmith</userid><lastName>S</lastName></user>"))[
        "axlcode"] == "-239"


def test_faults_can_be_cleared(lab) -> None:
    lab_config(lab, faults=[{"kind": "http503"}])
    assert call(lab, "getCCMVersion").status_code == 503
    assert lab_config(lab, faults=[])["faults"] == []
    ok(call(lab, "getCCMVersion"))


# -- Writes refused with a Client fault change nothing ---------------------------------------------------
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def test_update_user_with_a_nil_last_name_is_a_client_fault(lab) -> None:
    detail = fault(call(lab, "updateUser", f'<userid>jsmith</userid><lastName {XSI} xsi:nil="true"/>'))
    assert detail["faultcode"].endswith("Client")
    assert sql_column(lab, "SELECT lastname FROM enduser WHERE userid = 'jsmith'") == ["Smith"]


def test_update_phone_with_a_nil_device_pool_is_a_client_fault(lab) -> None:
    detail = fault(call(lab, "updatePhone", f'<name>CTIRDJSMITH</name><devicePoolName {XSI} xsi:nil="true"/>'))
    assert detail["faultcode"].endswith("Client")
    assert sql_column(lab, "SELECT dp.name FROM device d JOIN devicepool dp ON dp.pkid = d.fkdevicepool "
                           "WHERE d.name = 'CTIRDJSMITH'") == ["DP_SJC"]


def test_an_add_phone_that_fails_on_its_lines_leaves_no_device(lab) -> None:
    phone = DUPLICATES["addPhone"].replace("SEP0022905C1A99", "SEPAB0000000001").replace(
        "</phone>", "<lines><line><index>1</index><dirn><pattern>7777</pattern>"
                    "<routePartitionName>Mars_PT</routePartitionName></dirn></line></lines></phone>")
    assert fault(call(lab, "addPhone", phone))["axlcode"] == "5007"
    assert sql_column(lab, "SELECT name FROM device WHERE name = 'SEPAB0000000001'") == []
    assert sql_column(lab, "SELECT dnorpattern FROM numplan WHERE dnorpattern = '7777'") == []


def test_a_spark_rd_name_over_15_characters_is_refused(lab) -> None:
    phone = DUPLICATES["addPhone"].replace("SEP0022905C1A99", "SPARKCHRISTINAVANDENBERG").replace(
        "Cisco 8841", "Cisco Spark Remote Device").replace("<protocol>SIP</protocol>",
                                                            "<protocol>CTI Remote Device</protocol>")
    detail = fault(call(lab, "addPhone", phone))
    assert detail["faultcode"].endswith("Client") and "15 characters" in detail["axlmessage"]
    assert sql_column(lab, "SELECT name FROM device WHERE name LIKE 'SPARKCHRISTINA%'") == []


def test_re_pointing_a_remote_destination_to_an_unknown_device_changes_nothing(lab) -> None:
    destination = sql_column(lab, "SELECT r.destination FROM remotedestination r JOIN device d "
                                  "ON d.pkid = r.fkdevice WHERE d.name = 'CTIRDJSMITH'")[0]
    detail = fault(call(lab, "updateRemoteDestination",
                        f"<destination>{destination}</destination><ctiRemoteDeviceName>NOPE</ctiRemoteDeviceName>"))
    assert detail["axlcode"] == "5007"
    assert sql_column(lab, "SELECT d.name FROM remotedestination r JOIN device d ON d.pkid = r.fkdevice "
                           f"WHERE r.destination = '{destination}'") == ["CTIRDJSMITH"]


def test_renaming_a_remote_device_over_15_characters_is_refused(lab) -> None:
    detail = fault(call(lab, "updatePhone", "<name>CTIRDJSMITH</name><newName>CTIRD-JOHN-SMITH-2</newName>"))
    assert "15 characters" in detail["axlmessage"]
    assert sql_column(lab, "SELECT name FROM device WHERE name LIKE 'CTIRD%SMITH%'") == ["CTIRDJSMITH"]
    # Desk phones are not held to the remote-device rule.
    ok(call(lab, "updatePhone", "<name>SEP2C3124B81A06</name><newName>SEP2C3124B81A06-LONGER</newName>"))


SPARK_RD_PHONE = (
    "<phone><name>SPARKKPATEL</name><product>{product}</product><class>Phone</class>"
    "<protocol>CTI Remote Device</protocol><protocolSide>User</protocolSide><devicePoolName>Default</devicePoolName>"
    "<commonPhoneConfigName>Standard Common Phone Profile</commonPhoneConfigName><locationName>Hub_None</locationName>"
    "<useTrustedRelayPoint>Default</useTrustedRelayPoint><builtInBridgeStatus>Default</builtInBridgeStatus>"
    "<ownerUserName>kpatel</ownerUserName><packetCaptureMode>None</packetCaptureMode>"
    "<certificateOperation>No Pending Operation</certificateOperation><deviceMobilityMode>Default</deviceMobilityMode>"
    "</phone>"
)


@pytest.mark.parametrize(
    ("release", "has_spark_rd"),
    [("9.1.2.10000-28", False), ("10.5.2.14900-16", False), ("10.5.2.15900-8", True),
     ("11.0.1.22900-14", False), ("11.0.1.23900-5", True), ("11.5.1.12900-21", False),
     ("11.5.1.13900-52", True), ("11.5.1.13901-3", True), ("12.0.1.10000-10", True), ("15.0.1.10000-32", True)],
)
def test_a_spark_rd_can_be_added_only_from_the_release_that_has_it(release: str, has_spark_rd: bool) -> None:
    version = ".".join(release.split(".")[:2])
    with running_lab(cucm_version=release) as server:
        spark = call(server, "addPhone", SPARK_RD_PHONE.format(product="Cisco Spark Remote Device"), version=version)
        if has_spark_rd:
            ok(spark)
        else:
            detail = fault(spark)
            assert detail["axlcode"] == "5003" and "not supported on this release" in detail["axlmessage"]
        cti = call(server, "addPhone", SPARK_RD_PHONE.format(product="CTI Remote Device").replace(
            "SPARKKPATEL", "CTIRDKPATEL"), version=version)
        ok(cti)  # CTI-RDs exist on every release
