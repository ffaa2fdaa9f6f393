"""The lab's HTTP front over real sockets: auth, versions, throttling, bad requests, safe XML, state, TLS."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import requests
from lxml import etree
from support.lab import AUTH, lab_config, lab_stats, running_lab

from cucm_spark.lab.release import LabRelease
from cucm_spark.lab.runner import LabSetupError, LabSpec, build_lab
from cucm_spark.lab.server import LabSettings, LabStartError
from cucm_spark.lab.store import DUMPED_TABLES

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
EDGE_VERSION = "12.5"  # the bundled edge-case cluster is CUCM 12.5.1.10000-22


# -- helpers: raw SOAP written by hand, sent with requests -----------------------------------
def envelope(operation: str, inner: str = "", version: str = EDGE_VERSION) -> str:
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:ns="http://www.cisco.com/AXL/API/{version}">'
        f"<soapenv:Header/><soapenv:Body><ns:{operation}>{inner}</ns:{operation}></soapenv:Body>"
        "</soapenv:Envelope>"
    )


def post(server, body: str | bytes, *, action: str | None = None, auth=AUTH, timeout: float = 10,
         session: requests.Session | None = None, verify: object = True) -> requests.Response:
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    if action:
        headers["SOAPAction"] = f'"{action}"'
    sender = session or requests
    return sender.post(server.url, data=body if isinstance(body, bytes) else body.encode(), headers=headers,
                       auth=auth, timeout=timeout, verify=verify)


def call(server, operation: str, inner: str = "", version: str = EDGE_VERSION, **kwargs) -> requests.Response:
    """One AXL request as CUCM clients send it: namespace and SOAPAction of the same version."""
    return post(server, envelope(operation, inner, version), action=f"CUCM:DB ver={version} {operation}", **kwargs)


def xml(response: requests.Response) -> etree._Element:
    return etree.fromstring(response.content)


def fault(response: requests.Response) -> dict[str, str]:
    """The parts of a SOAP fault in Cisco's AXL shape; fails the test when the shape is wrong."""
    assert response.status_code == 500, response.text[:600]
    root = xml(response)
    found = root.find(f"{{{SOAP_NS}}}Body/{{{SOAP_NS}}}Fault")
    assert found is not None, response.text
    error = found.find("detail/axlError")
    assert error is not None, response.text
    return {
        "faultcode": found.findtext("faultcode"),
        "faultstring": found.findtext("faultstring"),
        "axlcode": error.findtext("axlcode"),
        "axlmessage": error.findtext("axlmessage"),
        "request": error.findtext("request"),
    }


def sql_rows(server, sql: str, version: str = EDGE_VERSION) -> list[dict[str, str]]:
    response = call(server, "executeSQLQuery", f"<sql>{sql}</sql>", version)
    assert response.status_code == 200, response.text
    return [{col.tag: col.text or "" for col in row} for row in xml(response).iter("row")]


def ccm_version(server, version: str = EDGE_VERSION, **kwargs) -> str:
    response = call(server, "getCCMVersion", version=version, **kwargs)
    assert response.status_code == 200, response.text
    return xml(response).findtext(".//return/componentVersion/version")


def lab_url(server, path: str) -> str:
    return server.url.replace("/axl/", path)


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> Path:
    """A cluster with one user and no devices: starts in a blink, for tests about the front."""
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({"schema": "cucm-spark.lab-dataset/1", "users": [{"userid": "solo"}]}))
    return path


# -- 1. Basic auth -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "auth",
    [("administrator", "wrong"), ("nobody", "ciscopsdt"), None, ("ädministrator", "ciscopsdt"),
     ("administrator", "çiscopsdt")],
    ids=["wrong-password", "wrong-user", "no-auth", "non-ascii-user", "non-ascii-password"],
)
def test_bad_credentials_get_401_with_an_html_page(lab, auth) -> None:
    response = call(lab, "getCCMVersion", auth=auth)
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert "<html" in response.text.lower()
    assert "Envelope" not in response.text and "Fault" not in response.text
    assert lab_stats(lab)["writes_applied"] == 0


def test_lab_endpoints_need_auth_too(lab) -> None:
    assert requests.get(lab_url(lab, "/lab/stats"), timeout=10).status_code == 401
    assert requests.get(lab_url(lab, "/lab/dump"), auth=("administrator", "x"), timeout=10).status_code == 401
    assert requests.post(lab_url(lab, "/lab/config"), data="{}", timeout=10).status_code == 401


def test_a_connection_stays_usable_after_a_401(lab) -> None:
    """The refused request's body must not be read as the next request on a kept-alive connection."""
    with requests.Session() as session:
        refused = call(lab, "getUser", "<userid>jsmith</userid>", auth=("administrator", "bad"), session=session)
        assert refused.status_code == 401
        response = call(lab, "getUser", "<userid>jsmith</userid>", session=session)
        assert response.status_code == 200, response.text
        assert xml(response).findtext(".//user/userid") == "jsmith"


def test_other_credentials_when_started_with_them(tiny_dataset: Path) -> None:
    settings = LabSettings(username="axladmin", password="S3cret!")
    with running_lab(settings, dataset=tiny_dataset, cucm_version="14.0.1.10000-20") as server:
        assert call(server, "getCCMVersion", version="14.0").status_code == 401
        assert ccm_version(server, "14.0", auth=("axladmin", "S3cret!")) == "14.0.1.10000(20)"


# -- 2. Release and AXL schema versions --------------------------------------------------------
def test_getccmversion_reports_the_started_release_in_cucm_form(tiny_dataset: Path) -> None:
    with running_lab(dataset=tiny_dataset, cucm_version="11.5.1.13900-52") as server:
        assert ccm_version(server, "11.5") == "11.5.1.13900(52)"


def test_the_dataset_release_is_used_when_none_is_given(lab) -> None:
    assert ccm_version(lab) == "12.5.1.10000(22)"


@pytest.mark.parametrize(
    ("namespace", "action"), [("14.0", "14.0"), ("14.0", None), ("11.5", "14.0"), ("14.0", "11.5")],
    ids=["both-14.0", "namespace-14.0-no-action", "action-14.0", "namespace-14.0"],
)
def test_an_axl_version_the_release_refuses_gets_599_with_the_supported_list(
    tiny_dataset: Path, namespace: str, action: str | None
) -> None:
    with running_lab(dataset=tiny_dataset, cucm_version="11.5.1.13900-52") as server:
        body = envelope("getCCMVersion", version=namespace)
        response = post(server, body, action=f"CUCM:DB ver={action} getCCMVersion" if action else None)
        assert response.status_code == 599
        assert "Incorrect axl version" in response.text
        supported = response.text.split("Supported axl versions are", 1)[1]
        listed = {part.strip().rstrip(".") for part in supported.split(",")}
        assert listed == set(LabRelease.parse("11.5.1.13900-52").accepted_axl_versions())
        assert {"11.5", "11.0", "10.5"} <= listed
        assert "14.0" not in listed and "12.5" not in listed


@pytest.mark.parametrize(
    ("release", "accepted", "refused"),
    [
        ("15.0.1.10000-10", ["12.0", "12.5", "14.0", "15.0"], ["11.5", "10.5"]),
        ("14.0.1.10000-20", ["12.5", "14.0", "11.5"], ["15.0", "10.5"]),
        ("12.5.1.10000-22", ["12.5", "12.0", "10.5"], ["14.0", "15.0", "9.1"]),
        ("12.0.1.10000-10", ["12.0", "11.5"], ["12.5", "14.0"]),
        ("11.5.1.13900-52", ["11.5", "9.1"], ["12.0", "8.5"]),
    ],
)
def test_schema_versions_each_release_accepts(
    tiny_dataset: Path, release: str, accepted: list[str], refused: list[str]
) -> None:
    with running_lab(dataset=tiny_dataset, cucm_version=release) as server:
        for version in accepted:
            assert ccm_version(server, version) == LabRelease.parse(release).axl_form
        for version in refused:
            assert call(server, "getCCMVersion", version=version).status_code == 599, version


# -- 4. Throttling -----------------------------------------------------------------------------
def test_writes_over_the_rate_get_503_and_change_nothing(lab) -> None:
    lab_config(lab, write_rate=5)
    statuses: dict[str, int] = {}
    for n in range(25):
        userid = f"burst{n:02d}"
        added = call(lab, "addUser", f"<user><userid>{userid}</userid><lastName>B</lastName></user>")
        statuses[userid] = added.status_code
    refused = {userid for userid, status in statuses.items() if status == 503}
    applied = {userid for userid, status in statuses.items() if status == 200}
    assert refused and applied and len(refused) + len(applied) == 25, statuses
    in_table = {row["userid"] for row in sql_rows(lab, "SELECT userid FROM enduser WHERE userid LIKE 'burst%'")}
    assert in_table == applied
    stats = lab_stats(lab)
    assert stats["writes_applied"] == len(applied)
    assert stats["http_status"]["503"] == len(refused)
    # Reads are never throttled, and lifting the rate lets writes through again.
    assert all(call(lab, "getUser", "<userid>jsmith</userid>").status_code == 200 for _ in range(10))
    lab_config(lab, write_rate=None)
    assert call(lab, "addUser", "<user><userid>after</userid><lastName>A</lastName></user>").status_code == 200


def test_503_answers_are_plain_http_not_soap(lab) -> None:
    lab_config(lab, write_rate=0.01)
    call(lab, "addUser", "<user><userid>first</userid><lastName>F</lastName></user>")
    response = call(lab, "addUser", "<user><userid>second</userid><lastName>S</lastName></user>")
    assert response.status_code == 503
    assert "Envelope" not in response.text


def test_concurrent_sql_over_the_cap_gets_503(lab) -> None:
    lab_config(lab, sql_concurrency=1,
               faults=[{"kind": "latency", "ms": 1000, "operations": ["executeSQLQuery"]}])
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def query() -> None:
        barrier.wait()
        statuses.append(call(lab, "executeSQLQuery", "<sql>SELECT name FROM device</sql>").status_code)

    threads = [threading.Thread(target=query) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert sorted(statuses) == [200, 503]
    # The cap is on concurrency, not on rate: one after the other both succeed.
    lab_config(lab, faults=[])
    assert [call(lab, "executeSQLQuery", "<sql>SELECT 1 AS one</sql>").status_code for _ in range(3)] == [200] * 3


# -- 5. Requests that break the schema's rules --------------------------------------------------
PHONE_WITHOUT_PRODUCT = (
    "<phone><name>SEPBAD000000001</name><class>Phone</class><protocol>SIP</protocol>"
    "<protocolSide>User</protocolSide><devicePoolName>Default</devicePoolName>"
    "<commonPhoneConfigName>Standard Common Phone Profile</commonPhoneConfigName>"
    "<locationName>Hub_None</locationName><useTrustedRelayPoint>Default</useTrustedRelayPoint>"
    "<builtInBridgeStatus>Default</builtInBridgeStatus><packetCaptureMode>None</packetCaptureMode>"
    "<certificateOperation>No Pending Operation</certificateOperation>"
    "<deviceMobilityMode>Default</deviceMobilityMode></phone>"
)
BROKEN_REQUESTS = {
    "missing-required": envelope("addPhone", PHONE_WITHOUT_PRODUCT),
    "wrong-type-skip": envelope(
        "listPhone", "<searchCriteria><name>%</name></searchCriteria><returnedTags><name/></returnedTags>"
        "<skip>abc</skip>"),
    "wrong-type-first": envelope(
        "listPhone", "<searchCriteria><name>%</name></searchCriteria><returnedTags><name/></returnedTags>"
        "<first>-5</first>"),
    "no-search-criteria": envelope("listPhone", "<returnedTags><name/></returnedTags>"),
    "unknown-operation": envelope("getFoo", "<name>x</name>"),
    "not-xml": "this is not XML at all <<<",
    "non-soap-xml": "<?xml version='1.0'?><order><item>phone</item></order>",
    "empty-body": "",
    "empty-soap-body": f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}"><soapenv:Body/></soapenv:Envelope>',
    "not-axl-namespace": (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}"><soapenv:Body><getPhone><name>x</name></getPhone>'
        "</soapenv:Body></soapenv:Envelope>"),
    "soap-1.2": (
        '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>'
        '<ns:getCCMVersion xmlns:ns="http://www.cisco.com/AXL/API/12.5"/></env:Body></env:Envelope>'),
    "truncated": envelope("getUser", "<userid>jsmith</userid>")[:-30],
    "bad-utf8": envelope("getUser", "<userid>js\udcffmith</userid>").encode("utf-8", "surrogateescape"),
    "missing-key": envelope("getPhone", "<returnedTags><name/></returnedTags>"),
    "bad-boolean": envelope(
        "addRemoteDestination",
        "<remoteDestination><destination>x@y.com</destination><ownerUserId>jsmith</ownerUserId>"
        "<answerTooSoonTimer>1500</answerTooSoonTimer><answerTooLateTimer>19000</answerTooLateTimer>"
        "<delayBeforeRingingCell>4000</delayBeforeRingingCell><isMobilePhone>maybe</isMobilePhone>"
        "</remoteDestination>"),
}


@pytest.mark.parametrize("body", BROKEN_REQUESTS.values(), ids=BROKEN_REQUESTS.keys())
def test_a_request_that_breaks_the_schema_gets_a_client_fault(lab, body: str | bytes) -> None:
    started = time.monotonic()
    response = post(lab, body if isinstance(body, bytes) else body.encode(), timeout=5)
    assert time.monotonic() - started < 3
    assert fault(response)["faultcode"].endswith("Client")
    assert lab_stats(lab)["writes_applied"] == 0
    assert ccm_version(lab) == "12.5.1.10000(22)"  # and the lab still serves


def test_missing_product_names_the_element(lab) -> None:
    detail = fault(call(lab, "addPhone", PHONE_WITHOUT_PRODUCT))
    assert "product" in detail["faultstring"]
    assert detail["request"] == "addPhone"
    assert not sql_rows(lab, "SELECT name FROM device WHERE name = 'SEPBAD000000001'")


@pytest.mark.parametrize(
    "head",
    [b"Content-Length: abc\r\n", b"Content-Length: -5\r\n", b""],
    ids=["non-numeric-length", "negative-length", "no-length"],
)
def test_a_broken_content_length_is_answered_not_hung(lab, head: bytes) -> None:
    request = (
        b"POST /axl/ HTTP/1.1\r\nHost: lab\r\nAuthorization: Basic YWRtaW5pc3RyYXRvcjpjaXNjb3BzZHQ=\r\n"
        + head + b"Connection: close\r\n\r\n" + envelope("getCCMVersion").encode()
    )
    with socket.create_connection(("127.0.0.1", lab.port), timeout=5) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    assert status in (400, 411, 500), answer[:200]
    assert ccm_version(lab) == "12.5.1.10000(22)"


def test_a_chunked_request_body_is_read(lab) -> None:
    body = envelope("getUser", "<userid>jsmith</userid>").encode()
    pieces = (body[i : i + 50] for i in range(0, len(body), 50))
    with requests.Session() as session:
        response = session.post(lab.url, data=pieces, auth=AUTH, timeout=10,
                                headers={"Content-Type": "text/xml", "SOAPAction": '"CUCM:DB ver=12.5 getUser"'})
        assert response.status_code == 200, response.text[:500]
        assert xml(response).findtext(".//user/userid") == "jsmith"
        assert ccm_version(lab, session=session) == "12.5.1.10000(22)"  # the connection is still in step


def test_garbage_authorization_headers_get_401(lab) -> None:
    for header in ["Basic !!!not-base64!!!", "Basic " + "w6k=", "Bearer abc", "Basic"]:
        response = requests.post(lab.url, data=envelope("getCCMVersion"), timeout=10,
                                 headers={"Authorization": header})
        assert response.status_code == 401, header


UNMODELLED_PHONE = (
    "<phone><name>SEPCAFE00000001</name><description>unmodelled fields</description>"
    "<product>Cisco 8841</product><class>Phone</class><protocol>SIP</protocol>"
    "<protocolSide>User</protocolSide><devicePoolName>Default</devicePoolName>"
    '<commonDeviceConfigName xsi:nil="true"/>'
    "<commonPhoneConfigName>Standard Common Phone Profile</commonPhoneConfigName>"
    "<networkLocation>Use System Default</networkLocation>"
    "<locationName>Hub_None</locationName>"
    '<mediaResourceListName xsi:nil="true"/>'
    "<useTrustedRelayPoint>Default</useTrustedRelayPoint>"
    "<securityProfileName>Cisco 8841 - Standard SIP Non-Secure Profile</securityProfileName>"
    "<sipProfileName>Standard SIP Profile</sipProfileName>"
    '<lines><line><index>1</index><dirn><pattern>2106</pattern><routePartitionName>SJC_Internal_PT'
    '</routePartitionName></dirn><ringSetting xsi:nil="true"/><associatedEndusers><enduser><userId>jsmith'
    "</userId></enduser></associatedEndusers></line></lines>"
    "<builtInBridgeStatus>Default</builtInBridgeStatus><packetCaptureMode>None</packetCaptureMode>"
    "<certificateOperation>No Pending Operation</certificateOperation>"
    "<deviceMobilityMode>Default</deviceMobilityMode>"
    '<vendorConfig xsi:nil="true"/><phoneTemplateName>Standard 8841 SIP</phoneTemplateName></phone>'
)


def test_elements_the_lab_does_not_model_are_accepted_and_ignored(lab) -> None:
    body = envelope("addPhone", UNMODELLED_PHONE).replace(
        "<soapenv:Envelope ", '<soapenv:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ', 1)
    response = post(lab, body, action="CUCM:DB ver=12.5 addPhone")
    assert response.status_code == 200, response.text
    phone = xml(call(lab, "getPhone", "<name>SEPCAFE00000001</name>")).find(".//phone")
    assert phone.findtext("description") == "unmodelled fields"
    assert phone.findtext("lines/line/dirn/pattern") == "2106"
    assert phone.findtext("lines/line/dirn/routePartitionName") == "SJC_Internal_PT"


# -- 6. Safe XML ---------------------------------------------------------------------------------
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10))
    + f']><soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:ns="http://www.cisco.com/AXL/API/12.5">'
    "<soapenv:Body><ns:getUser><userid>&lol9;</userid></ns:getUser></soapenv:Body></soapenv:Envelope>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:ns="http://www.cisco.com/AXL/API/12.5">'
    "<soapenv:Body><ns:getUser><userid>&xxe;</userid></ns:getUser></soapenv:Body></soapenv:Envelope>"
)
EXTERNAL_PARAMETER_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY % ext SYSTEM "file:///etc/passwd"> %ext;]>'
    f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:ns="http://www.cisco.com/AXL/API/12.5">'
    "<soapenv:Body><ns:getCCMVersion/></soapenv:Body></soapenv:Envelope>"
)


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_PARAMETER_ENTITY],
                         ids=["billion-laughs", "external-entity", "external-parameter-entity"])
def test_entities_are_refused_quickly_and_never_expanded(lab, body: str) -> None:
    started = time.monotonic()
    response = post(lab, body, action="CUCM:DB ver=12.5 getUser", timeout=5)
    assert time.monotonic() - started < 2
    assert fault(response)["faultcode"].endswith("Client")
    assert len(response.content) < 4096
    assert "lollol" not in response.text
    assert "root:" not in response.text and "/bin/" not in response.text


def test_an_external_dtd_is_never_fetched(lab) -> None:
    fetched: list[str] = []
    trap = socket.socket()
    trap.bind(("127.0.0.1", 0))
    trap.listen(1)
    trap.settimeout(0.2)
    port = trap.getsockname()[1]
    body = (
        f'<?xml version="1.0"?><!DOCTYPE foo SYSTEM "http://127.0.0.1:{port}/evil.dtd">'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:ns="http://www.cisco.com/AXL/API/12.5">'
        "<soapenv:Body><ns:getCCMVersion/></soapenv:Body></soapenv:Envelope>"
    )
    try:
        response = post(lab, body, timeout=5)
        try:
            connection, _ = trap.accept()
            fetched.append("connected")
            connection.close()
        except OSError:
            pass
    finally:
        trap.close()
    assert fault(response)["faultcode"].endswith("Client")
    assert not fetched


# -- 8. State ------------------------------------------------------------------------------------
def test_state_file_keeps_the_cluster_and_release_across_restarts(tmp_path: Path, tiny_dataset: Path) -> None:
    state = tmp_path / "lab.db"
    with running_lab(dataset=tiny_dataset, cucm_version="11.5.1.13900-52", state=state) as server:
        added = call(server, "addUser", "<user><userid>persisted</userid><lastName>P</lastName></user>", "11.5")
        assert added.status_code == 200, added.text
    with running_lab(state=state) as server:
        assert ccm_version(server, "11.5") == "11.5.1.13900(52)"
        user = xml(call(server, "getUser", "<userid>persisted</userid>", "11.5"))
        assert user.findtext(".//user/lastName") == "P"
        assert {row["userid"] for row in sql_rows(server, "SELECT userid FROM enduser", "11.5")} == {
            "solo", "persisted"}
    # A later start may still choose another release for the same data.
    with running_lab(state=state, cucm_version="14.0.1.10000-20") as server:
        assert ccm_version(server, "14.0") == "14.0.1.10000(20)"


def test_a_stopped_lab_leaves_a_state_file_that_holds_everything_by_itself(tmp_path: Path, tiny_dataset: Path) -> None:
    state = tmp_path / "lab.db"
    with running_lab(dataset=tiny_dataset, state=state) as server:
        call(server, "addUser", "<user><userid>kept</userid><lastName>K</lastName></user>", "14.0")
    assert not state.with_name("lab.db-wal").exists()
    moved = tmp_path / "elsewhere" / "copy.db"
    moved.parent.mkdir()
    moved.write_bytes(state.read_bytes())
    with running_lab(state=moved) as server:
        assert xml(call(server, "getUser", "<userid>kept</userid>", "14.0")).findtext(".//lastName") == "K"


def test_a_lab_that_never_started_stops_at_once(tiny_dataset: Path) -> None:
    server = build_lab(LabSpec(dataset=tiny_dataset))
    started = time.monotonic()
    server.stop()
    server.stop()
    assert time.monotonic() - started < 1


def test_a_state_file_that_holds_a_cluster_refuses_a_dataset(tmp_path: Path, tiny_dataset: Path) -> None:
    state = tmp_path / "lab.db"
    with running_lab(dataset=tiny_dataset, state=state):
        pass
    with pytest.raises(LabSetupError, match="already holds a cluster"):
        running_lab(dataset=tiny_dataset, state=state).__enter__()


@pytest.mark.parametrize("content", [b"this is not a database", b"SQLite format 3\x00" + b"\x00" * 200],
                         ids=["text-file", "corrupt-sqlite"])
def test_a_state_file_that_is_not_a_lab_database_is_a_setup_error(tmp_path: Path, content: bytes) -> None:
    state = tmp_path / "lab.db"
    state.write_bytes(content)
    with pytest.raises(LabSetupError) as caught:
        running_lab(state=state).__enter__()
    assert str(state) in str(caught.value) and "\n" not in str(caught.value)
    assert state.read_bytes() == content  # never overwritten


def test_a_state_file_of_another_program_is_a_setup_error(tmp_path: Path) -> None:
    state = tmp_path / "other.db"
    with sqlite3.connect(state) as other:
        other.execute("CREATE TABLE notes (body TEXT)")
    with pytest.raises(LabSetupError, match="other.db"):
        running_lab(state=state).__enter__()


def test_a_state_file_where_none_can_be_written_is_a_setup_error(tmp_path: Path) -> None:
    with pytest.raises(LabSetupError, match="nowhere"):
        running_lab(state=tmp_path / "nowhere" / "lab.db").__enter__()


def test_a_failed_first_load_leaves_no_half_made_state_file(tmp_path: Path) -> None:
    state = tmp_path / "lab.db"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"schema": "cucm-spark.lab-dataset/1", "users": [],
                                  "devices": [{"name": "SEP1", "model": "Cisco 9999"}]}))
    with pytest.raises(LabSetupError, match="Cisco 9999"):
        running_lab(dataset=broken, state=state).__enter__()
    assert not state.exists()
    with running_lab(state=state) as server:  # a clean start: the bundled cluster, loaded anew
        assert ccm_version(server) == "12.5.1.10000(22)"
        assert len(sql_rows(server, "SELECT userid FROM enduser")) == 22


def test_a_port_in_use_leaves_no_state_file_behind(tmp_path: Path, tiny_dataset: Path) -> None:
    """Else the retry on another port would meet "state file already holds a cluster"."""
    state = tmp_path / "lab.db"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        with pytest.raises(LabStartError, match=str(taken.getsockname()[1])):
            running_lab(dataset=tiny_dataset, state=state, port=taken.getsockname()[1]).__enter__()
    assert not state.exists()
    with running_lab(dataset=tiny_dataset, state=state) as server:
        assert [row["userid"] for row in sql_rows(server, "SELECT userid FROM enduser", "14.0")] == ["solo"]


def test_without_state_every_lab_starts_fresh(tiny_dataset: Path) -> None:
    with running_lab(dataset=tiny_dataset, cucm_version="14.0.1.10000-20") as server:
        call(server, "addUser", "<user><userid>ephemeral</userid><lastName>E</lastName></user>", "14.0")
        assert call(server, "getUser", "<userid>ephemeral</userid>", "14.0").status_code == 200
    with running_lab(dataset=tiny_dataset, cucm_version="14.0.1.10000-20") as server:
        assert fault(call(server, "getUser", "<userid>ephemeral</userid>", "14.0"))["axlcode"] == "5007"


# -- 9. Stats and dump ----------------------------------------------------------------------------
def test_stats_count_by_operation_and_reset(lab) -> None:
    requests.post(lab_url(lab, "/lab/stats/reset"), auth=AUTH, timeout=10).raise_for_status()
    for _ in range(3):
        ccm_version(lab)
    call(lab, "listPhone", "<searchCriteria><name>SEP%</name></searchCriteria><returnedTags><name/></returnedTags>")
    call(lab, "getUser", "<userid>nobody-here</userid>")
    call(lab, "addUser", "<user><userid>counted</userid><lastName>C</lastName></user>")
    stats = lab_stats(lab)
    assert stats["operations"] == {"getCCMVersion": 3, "listPhone": 1, "getUser": 1, "addUser": 1}
    assert stats["requests"] == 6
    assert stats["writes"] == 1 and stats["writes_applied"] == 1
    assert stats["http_status"] == {"200": 5, "500": 1}
    assert stats["bytes_sent"] > 0
    reset = requests.post(lab_url(lab, "/lab/stats/reset"), auth=AUTH, timeout=10)
    assert reset.status_code == 200
    after = lab_stats(lab)
    assert after["requests"] == 0 and after["operations"] == {} and after["writes_applied"] == 0


def test_a_dry_run_can_be_proved_to_write_nothing(lab) -> None:
    requests.post(lab_url(lab, "/lab/stats/reset"), auth=AUTH, timeout=10).raise_for_status()
    before = requests.get(lab_url(lab, "/lab/dump"), auth=AUTH, timeout=10).json()
    call(lab, "listUser", "<searchCriteria><userid>%</userid></searchCriteria><returnedTags><userid/></returnedTags>")
    sql_rows(lab, "SELECT COUNT(*) AS n FROM device")
    call(lab, "addUser", "<user><userid>jsmith</userid><lastName>dup</lastName></user>")  # -239: not applied
    assert lab_stats(lab)["writes_applied"] == 0
    assert requests.get(lab_url(lab, "/lab/dump"), auth=AUTH, timeout=10).json() == before


def test_dump_returns_every_table(lab) -> None:
    dump = requests.get(lab_url(lab, "/lab/dump"), auth=AUTH, timeout=10).json()
    assert set(dump) == set(DUMPED_TABLES)
    assert len(dump["enduser"]) == 22
    assert any(row["name"] == "CTIRDJSMITH" for row in dump["device"])
    assert {"pkid", "destination", "fkdevice", "fkenduser"} <= set(dump["remotedestination"][0])


def test_unknown_lab_paths_are_404_and_bad_config_is_400(lab) -> None:
    assert requests.get(lab_url(lab, "/lab/nothing"), auth=AUTH, timeout=10).status_code == 404
    assert requests.post(lab_url(lab, "/elsewhere"), auth=AUTH, data="x", timeout=10).status_code == 404
    bad = requests.post(lab_url(lab, "/lab/config"), auth=AUTH, data="{not json", timeout=10)
    assert bad.status_code == 400
    bad_rule = requests.post(lab_url(lab, "/lab/config"), auth=AUTH, timeout=10,
                             data=json.dumps({"faults": [{"kind": "meteor"}]}))
    assert bad_rule.status_code == 400 and "kind" in bad_rule.json()["error"]
    current = requests.get(lab_url(lab, "/lab/config"), auth=AUTH, timeout=10).json()
    assert current["release"] == "12.5.1.10000-22" and current["faults"] == []


# -- 12. TLS ----------------------------------------------------------------------------------------
def test_tls_serves_https_with_its_self_signed_certificate(tmp_path: Path, tiny_dataset: Path) -> None:
    with running_lab(dataset=tiny_dataset, cucm_version="14.0.1.10000-20", tls=True, cert_dir=tmp_path) as server:
        assert server.url.startswith("https://127.0.0.1:")
        certificate = tmp_path / "cert.pem"
        assert certificate.is_file() and (tmp_path / "key.pem").stat().st_mode & 0o077 == 0
        assert ccm_version(server, "14.0", verify=str(certificate)) == "14.0.1.10000(20)"
        with pytest.raises(requests.exceptions.SSLError):
            call(server, "getCCMVersion", version="14.0")
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(server.url.replace("https://", "http://"), data=envelope("getCCMVersion", version="14.0"),
                          auth=AUTH, timeout=5)
        assert ccm_version(server, "14.0", verify=str(certificate)) == "14.0.1.10000(20)"


def test_a_certificate_directory_that_cannot_be_written_is_a_setup_error(tmp_path: Path, tiny_dataset: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(LabSetupError, match="certificate"):
        running_lab(dataset=tiny_dataset, tls=True, cert_dir=blocker / "certs").__enter__()


def test_a_client_that_never_finishes_the_handshake_does_not_stall_the_lab(
    tmp_path: Path, tiny_dataset: Path
) -> None:
    with running_lab(dataset=tiny_dataset, cucm_version="14.0.1.10000-20", tls=True, cert_dir=tmp_path) as server:
        silent = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        try:
            time.sleep(0.1)
            started = time.monotonic()
            version = ccm_version(server, "14.0", verify=str(tmp_path / "cert.pem"), timeout=5)
            assert version == "14.0.1.10000(20)"
            assert time.monotonic() - started < 3
        finally:
            silent.close()


def test_a_request_over_4_mb_is_refused_with_413_and_the_lab_carries_on(lab) -> None:
    padding = "x" * (5 * 1024 * 1024)
    response = call(lab, "getUser", f"<userid>jsmith</userid><!-- {padding} -->", timeout=20)
    assert response.status_code == 413
    assert ccm_version(lab) == "12.5.1.10000(22)"


def test_deeply_nested_xml_is_a_client_fault(lab) -> None:
    deep = "<a>" * 5000 + "x" + "</a>" * 5000
    started = time.monotonic()
    assert fault(call(lab, "getUser", f"<userid>{deep}</userid>", timeout=10))["faultcode"].endswith("Client")
    assert time.monotonic() - started < 3


def test_concurrent_clients_each_get_their_own_answers(lab) -> None:
    """Reads and writes from many threads at once: every answer is whole and every write lands once."""
    errors: list[str] = []

    def client(worker: int) -> None:
        with requests.Session() as session:
            for n in range(15):
                userid = f"w{worker}n{n}"
                added = call(lab, "addUser", f"<user><userid>{userid}</userid><lastName>W</lastName></user>",
                             session=session)
                got = call(lab, "getUser", f"<userid>{userid}</userid>", session=session)
                listed = call(lab, "listPhone", "<searchCriteria><name>CTIRD%</name></searchCriteria>"
                                                "<returnedTags><name/></returnedTags>", session=session)
                if (added.status_code, got.status_code, listed.status_code) != (200, 200, 200):
                    errors.append(f"{userid}: {added.status_code} {got.status_code} {listed.status_code}")
                elif xml(got).findtext(".//userid") != userid:
                    errors.append(f"{userid}: answered {xml(got).findtext('.//userid')}")

    threads = [threading.Thread(target=client, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sql_rows(lab, "SELECT COUNT(*) AS n FROM enduser WHERE userid LIKE 'w%n%'") == [{"n": "120"}]
    assert lab_stats(lab)["writes_applied"] == 120
