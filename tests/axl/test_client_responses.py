"""AxlClient against recorded SOAP answers (fixtures/soap), served by the `responses` library.

No server: each test registers the answers the cluster would give and checks what the
client sends back, how often, and which typed error or value comes out.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
import responses
from lxml import etree

from cucm_spark.axl.client import AxlClient, ClientOptions
from cucm_spark.axl.endpoint import Endpoint
from cucm_spark.axl.versions import VersionCache
from cucm_spark.errors import (
    AnswerTooLarge,
    AuthError,
    ConfigError,
    Duplicate,
    MalformedAnswer,
    NotFound,
    SqlRefused,
    Throttled,
    TransportError,
    VersionRefused,
)

SOAP = Path(__file__).resolve().parents[2] / "fixtures" / "soap"
URL = "https://cucm-pub.example.com:8443/axl/"
NEW_USER = {"userid": "jsmith", "lastName": "Smith", "presenceGroupName": "Standard Presence group"}
INCORRECT_VERSION = "Incorrect axl version. Supported axl versions are 9.1, 10.0, 10.5, 11.0, 11.5"


def answer(name: str) -> str:
    return (SOAP / name).read_text(encoding="utf-8")


def make_client(**options: object) -> AxlClient:
    settings = {"max_backoff": 0.01, **options}
    return AxlClient(Endpoint(URL), "axl-audit", "s3cret-Pa55", ClientOptions(**settings))  # type: ignore[arg-type]


def soap_action(call: responses.Call) -> str:
    return str(call.request.headers["SOAPAction"])


def body_of(call: responses.Call) -> bytes:
    body = call.request.body
    return body.encode() if isinstance(body, str) else bytes(body or b"")


def xml_answer(name: str, status: int = 200) -> dict[str, object]:
    return {"status": status, "body": answer(name), "content_type": "text/xml; charset=utf-8"}


# -- getCCMVersion ----------------------------------------------------------------------------

@responses.activate
def test_ccm_version_reads_component_version_from_the_answer() -> None:
    responses.add(responses.POST, URL, **xml_answer("get_ccm_version_14.0.xml"))
    client = make_client()

    assert client.ccm_version() == "14.0.1.10000(20)"
    assert soap_action(responses.calls[0]) == '"CUCM:DB ver=14.0 getCCMVersion"'
    assert b'xmlns:ns0="http://www.cisco.com/AXL/API/14.0"' in body_of(responses.calls[0])


@pytest.mark.parametrize(("password", "encoded"), [
    ("s3cret-Pa55", b"s3cret-Pa55"),
    ("pässwörd", "pässwörd".encode("latin-1")),  # what requests and Tomcat do by default
    ("pa€ss-你好", "pa€ss-你好".encode()),  # beyond Latin-1: UTF-8, not a UnicodeEncodeError
])
@responses.activate
def test_basic_auth_encodes_any_password(password: str, encoded: bytes) -> None:
    responses.add(responses.POST, URL, **xml_answer("get_ccm_version_14.0.xml"))
    client = AxlClient(Endpoint(URL), "axl-audit", password, ClientOptions(max_backoff=0.01))

    client.ccm_version()

    header = responses.calls[0].request.headers["Authorization"]
    assert header == "Basic " + base64.b64encode(b"axl-audit:" + encoded).decode()


# -- version negotiation ----------------------------------------------------------------------

def _negotiating_cluster(accepted: str, answer_file: str) -> None:
    """HTTP 599 for every version but ``accepted``; the answer file for that one."""

    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        if f"ver={accepted} " in request.headers["SOAPAction"]:
            return 200, {"Content-Type": "text/xml; charset=utf-8"}, answer(answer_file)
        return 599, {"Content-Type": "text/plain"}, INCORRECT_VERSION

    responses.add_callback(responses.POST, URL, callback=reply)


@responses.activate
def test_599_makes_the_client_retry_with_the_newest_version_the_cluster_lists(tmp_path: Path) -> None:
    _negotiating_cluster("11.5", "get_ccm_version_11.5.xml")
    cache = VersionCache(tmp_path / "axl-versions.json")
    client = make_client(version_cache=cache)

    assert client.ccm_version() == "11.5.1.13900(52)"
    assert len(responses.calls) == 2
    first, retry = responses.calls
    assert soap_action(first) == '"CUCM:DB ver=14.0 getCCMVersion"'
    assert soap_action(retry) == '"CUCM:DB ver=11.5 getCCMVersion"'
    assert b"http://www.cisco.com/AXL/API/11.5" in body_of(retry)
    assert b"http://www.cisco.com/AXL/API/14.0" not in body_of(retry)
    assert client.version == "11.5"
    assert cache.get(URL) == "11.5"


@responses.activate
def test_a_remembered_version_is_used_from_the_first_request(tmp_path: Path) -> None:
    _negotiating_cluster("11.5", "get_ccm_version_11.5.xml")
    cache_file = tmp_path / "axl-versions.json"
    make_client(version_cache=VersionCache(cache_file)).ccm_version()
    responses.calls.reset()

    later = make_client(version_cache=VersionCache(cache_file))
    assert later.ccm_version() == "11.5.1.13900(52)"
    assert [soap_action(call) for call in responses.calls] == ['"CUCM:DB ver=11.5 getCCMVersion"']


@responses.activate
def test_pinned_version_that_the_cluster_refuses_raises_version_refused_with_the_supported_list() -> None:
    _negotiating_cluster("11.5", "get_ccm_version_11.5.xml")
    client = make_client(version="15.0")

    with pytest.raises(VersionRefused) as refused:
        client.ccm_version()
    assert refused.value.supported == ("9.1", "10.0", "10.5", "11.0", "11.5")
    assert "pinned to 15.0" in str(refused.value)
    assert "11.5" in str(refused.value)
    assert len(responses.calls) == 1
    assert soap_action(responses.calls[0]) == '"CUCM:DB ver=15.0 getCCMVersion"'


# -- HTTP status → typed errors, and what is retried --------------------------------------------

@responses.activate
def test_401_raises_auth_error_and_is_never_retried() -> None:
    responses.add(responses.POST, URL, status=401, content_type="text/html",
                  body="<html><body><h1>HTTP Status 401 - Unauthorized</h1></body></html>")
    client = make_client()

    with pytest.raises(AuthError, match="HTTP 401") as refused:
        client.ccm_version()
    assert len(responses.calls) == 1
    assert "s3cret-Pa55" not in str(refused.value)


@responses.activate
def test_read_succeeds_after_two_503_answers() -> None:
    responses.add(responses.POST, URL, status=503, body="Service Unavailable", content_type="text/plain")
    responses.add(responses.POST, URL, status=503, body="Service Unavailable", content_type="text/plain")
    responses.add(responses.POST, URL, **xml_answer("get_ccm_version_14.0.xml"))

    assert make_client().ccm_version() == "14.0.1.10000(20)"
    assert len(responses.calls) == 3


@responses.activate
def test_read_gives_up_on_503_after_the_configured_attempts() -> None:
    responses.add(responses.POST, URL, status=503, body="Service Unavailable", content_type="text/plain")

    with pytest.raises(Throttled, match="503"):
        make_client(read_attempts=3).ccm_version()
    assert len(responses.calls) == 3


@responses.activate
def test_read_is_retried_after_a_connection_error() -> None:
    responses.add(responses.POST, URL, body=requests.exceptions.ConnectionError("connection reset"))
    responses.add(responses.POST, URL, **xml_answer("get_ccm_version_14.0.xml"))

    assert make_client().ccm_version() == "14.0.1.10000(20)"
    assert len(responses.calls) == 2


@responses.activate
def test_write_is_not_retried_after_a_connection_error() -> None:
    responses.add(responses.POST, URL, body=requests.exceptions.ConnectionError("connection reset"))
    client = make_client()

    with pytest.raises(TransportError, match="cannot reach"):
        client.write("removePhone", name="CTIRDJSMITH")
    assert len(responses.calls) == 1


@responses.activate
def test_write_is_retried_on_503_which_cucm_sends_before_doing_anything() -> None:
    responses.add(responses.POST, URL, status=503, body="Service Unavailable", content_type="text/plain")
    responses.add(responses.POST, URL, status=500, content_type="text/xml",
                  body=answer("fault_-239_duplicate_user.xml"))

    with pytest.raises(Duplicate):
        make_client().write("addUser", user=NEW_USER)
    assert len(responses.calls) == 2


@pytest.mark.parametrize("verify", [False, "/etc/corp/ca.pem"])
@responses.activate
def test_insecure_or_a_ca_bundle_wins_over_a_bundle_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, verify: bool | str
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    responses.add(responses.POST, URL, **xml_answer("get_ccm_version_14.0.xml"))

    make_client(verify=verify).ccm_version()

    assert responses.calls[0].request.req_kwargs["verify"] == verify


@responses.activate
def test_unknown_host_is_not_retried() -> None:
    responses.add(responses.POST, URL, body=requests.exceptions.ConnectionError(
        "Failed to resolve 'cucm-pub.example.com' ([Errno -2] Name or service not known)"))

    with pytest.raises(TransportError, match="Name or service not known"):
        make_client().ccm_version()
    assert len(responses.calls) == 1


@responses.activate
def test_a_temporary_name_resolution_failure_is_retried() -> None:
    responses.add(responses.POST, URL, body=requests.exceptions.ConnectionError(
        "Failed to resolve 'cucm-pub.example.com' ([Errno -3] Temporary failure in name resolution)"))
    responses.add(responses.POST, URL, **xml_answer("get_ccm_version_14.0.xml"))

    assert make_client().ccm_version() == "14.0.1.10000(20)"
    assert len(responses.calls) == 2


@responses.activate
def test_untrusted_certificate_is_not_retried_and_says_what_to_do() -> None:
    responses.add(responses.POST, URL, body=requests.exceptions.SSLError(
        "certificate verify failed: self-signed certificate"))

    with pytest.raises(TransportError, match="--ca-bundle"):
        make_client().ccm_version()
    assert len(responses.calls) == 1


# -- typed AXL faults ---------------------------------------------------------------------------

@responses.activate
def test_axlcode_5007_raises_not_found_with_cisco_message() -> None:
    responses.add(responses.POST, URL, **xml_answer("fault_5007_user_not_found.xml", status=500))

    with pytest.raises(NotFound) as fault:
        make_client().get("getUser", userid="nobody")
    assert fault.value.code == 5007
    assert "The specified User was not found" in str(fault.value)
    assert len(responses.calls) == 1


@responses.activate
def test_axlcode_minus_239_raises_duplicate() -> None:
    responses.add(responses.POST, URL, **xml_answer("fault_-239_duplicate_user.xml", status=500))

    with pytest.raises(Duplicate) as fault:
        make_client().write("addUser", user=NEW_USER)
    assert fault.value.code == -239
    assert "UNIQUE INDEX" in str(fault.value)


@responses.activate
def test_axlcode_minus_1_raises_answer_too_large_with_total_and_suggested_rows() -> None:
    responses.add(responses.POST, URL, **xml_answer("fault_-1_list_phone_too_large.xml", status=500))

    with pytest.raises(AnswerTooLarge) as fault:
        make_client().read("listPhone", searchCriteria={"name": "%"}, returnedTags={"name": ""})
    assert (fault.value.total_rows, fault.value.suggested_rows) == (2816, 844)


@responses.activate
def test_sql_refused_by_the_cluster_raises_sql_refused() -> None:
    responses.add(responses.POST, URL, **xml_answer("fault_5004_sql_not_permitted.xml", status=500))

    with pytest.raises(SqlRefused):
        make_client().sql("SELECT name FROM device")


# -- paging ("Suggestive Row Fetch") ------------------------------------------------------------

def _phone_list(names: list[str]) -> str:
    phones = "".join(
        f'<phone uuid="{{00000000-0000-4000-8000-{i:012d}}}"><name>{n}</name><model>Cisco 8841</model></phone>'
        for i, n in enumerate(names)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        f'<ns:listPhoneResponse xmlns:ns="http://www.cisco.com/AXL/API/14.0"><return>{phones}</return>'
        "</ns:listPhoneResponse></soapenv:Body></soapenv:Envelope>"
    )


def _paging_cluster(total: int, pages: list[tuple[int | None, int | None]]) -> Callable:
    """listPhone over ``total`` phones: too large without ``first``, else the asked-for slice."""
    names = [f"SEP{i:012X}" for i in range(total)]

    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        body = etree.fromstring(request.body if isinstance(request.body, bytes) else request.body.encode())
        skip = body.findtext(".//skip")
        first = body.findtext(".//first")
        pages.append((int(skip) if skip else None, int(first) if first else None))
        if first is None:
            return 500, {"Content-Type": "text/xml"}, answer("fault_-1_list_phone_too_large.xml")
        start = int(skip or 0)
        return 200, {"Content-Type": "text/xml"}, _phone_list(names[start:start + int(first)])

    return reply


@responses.activate
def test_list_all_follows_the_suggestive_row_fetch_until_a_short_page() -> None:
    pages: list[tuple[int | None, int | None]] = []
    responses.add_callback(responses.POST, URL, callback=_paging_cluster(2816, pages))

    phones = list(make_client().list_all("listPhone", "phone", {"name": "%"}, ["name", "model"]))

    assert pages == [(None, None), (0, 843), (843, 843), (1686, 843), (2529, 843)]
    assert len(phones) == 2816
    assert len({p["name"] for p in phones}) == 2816
    assert (phones[0]["name"], phones[0]["model"]) == ("SEP000000000000", "Cisco 8841")


@responses.activate
def test_list_all_with_a_page_that_fits_asks_once() -> None:
    pages: list[tuple[int | None, int | None]] = []
    responses.add_callback(responses.POST, URL, callback=_paging_cluster(5, pages))

    phones = list(make_client().list_all("listPhone", "phone", {"name": "%"}, ["name"], page=100))

    assert pages == [(0, 100)]
    assert [p["name"] for p in phones] == [f"SEP{i:012X}" for i in range(5)]


# -- answers that are not the SOAP we expect ----------------------------------------------------

@responses.activate
def test_html_page_with_http_200_raises_malformed_answer() -> None:
    responses.add(responses.POST, URL, status=200, content_type="text/html",
                  body="<html><head><title>Cisco Unified CM Console</title></head><body>Login</body></html>")

    with pytest.raises(MalformedAnswer, match="not SOAP"):
        make_client().ccm_version()
    assert len(responses.calls) == 1


@responses.activate
def test_truncated_soap_raises_malformed_answer() -> None:
    responses.add(responses.POST, URL, status=200, content_type="text/xml",
                  body=answer("get_ccm_version_14.0.xml")[:200])

    with pytest.raises(MalformedAnswer):
        make_client().ccm_version()


# -- SQL and get ----------------------------------------------------------------------------------

@responses.activate
def test_sql_returns_one_dict_per_row_with_none_for_an_empty_column() -> None:
    responses.add(responses.POST, URL, **xml_answer("execute_sql_two_rows_one_null.xml"))

    rows = make_client().sql("SELECT d.name, d.description, u.userid AS owner FROM device d")

    assert rows == [
        {"name": "SEP00562B7A1C01", "description": "Duc Nguyen 8845", "owner": "dnguyen"},
        {"name": "SEP0022905C1A99", "description": "Lobby 6901", "owner": None},
    ]
    assert b"<sql>SELECT d.name, d.description, u.userid AS owner FROM device d</sql>" in body_of(
        responses.calls[0])


@responses.activate
def test_sql_with_no_rows_returns_an_empty_list() -> None:
    responses.add(responses.POST, URL, **xml_answer("execute_sql_no_rows.xml"))

    assert make_client().sql("SELECT name FROM device WHERE 1 = 0") == []


@responses.activate
def test_get_returns_plain_data_with_foreign_keys_as_their_names() -> None:
    responses.add(responses.POST, URL, **xml_answer("get_phone_cti_rd_two_lines.xml"))

    phone = make_client().get("getPhone", name="CTIRDKMILLER", returnedTags={"name": "", "lines": {"line": {
        "index": "", "dirn": {"pattern": "", "routePartitionName": ""}}}})

    assert phone["name"] == "CTIRDKMILLER"
    lines = phone["lines"]["line"]
    assert [(line["index"], line["dirn"]["pattern"], line["dirn"]["routePartitionName"]) for line in lines] == [
        (1, "2114", "SJC_Internal_PT"), (2, "2900", "Exec_PT")]


# -- construction ---------------------------------------------------------------------------------

@pytest.mark.parametrize("timeout", [0, -1])
def test_a_timeout_of_zero_or_less_is_a_config_error(timeout: float) -> None:
    with pytest.raises(ConfigError, match="timeout"):
        make_client(timeout=timeout)


@pytest.mark.parametrize("content", ["just a host name\n", '<?xml version="1.0"?><notawsdl/>', ""])
def test_a_file_that_is_not_an_axl_wsdl_is_a_config_error(tmp_path: Path, content: str) -> None:
    wsdl = tmp_path / "AXLAPI.wsdl"
    wsdl.write_text(content)

    with pytest.raises(ConfigError, match="cannot load WSDL"):
        make_client(wsdl=wsdl)
