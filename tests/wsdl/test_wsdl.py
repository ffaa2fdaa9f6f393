"""The project's own AXL WSDL (wsdl/AXLAPI.wsdl + wsdl/AXLSoap.xsd).

Checks that it loads fast in zeep, that every request the product sends is valid under
Cisco's official AXL 14.0 schema, that it renders the same bodies as the official WSDL,
that its schema is a faithful subset of Cisco's, and that zeep parses sample answers.
"""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path

import pytest
import zeep
from lxml import etree
from support.official_schema import (
    body_child,
    official_wsdl_path,
    official_xsd_path,
    require_official_schema,
    schema_errors,
    validate_body,
)
from zeep.exceptions import Fault

REPO_ROOT = Path(__file__).resolve().parents[2]
OUR_WSDL = REPO_ROOT / "wsdl" / "AXLAPI.wsdl"
OUR_XSD = REPO_ROOT / "wsdl" / "AXLSoap.xsd"

AXL_NS = "http://www.cisco.com/AXL/API/14.0"
XS = "{http://www.w3.org/2001/XMLSchema}"
WSDL_NS = "{http://schemas.xmlsoap.org/wsdl/}"
WSDL_SOAP_NS = "{http://schemas.xmlsoap.org/wsdl/soap/}"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"

OPERATIONS = [
    "getCCMVersion",
    "listUser",
    "getUser",
    "addUser",
    "updateUser",
    "listPhone",
    "getPhone",
    "addPhone",
    "updatePhone",
    "removePhone",
    "listLine",
    "getLine",
    "addLine",
    "listRemoteDestination",
    "getRemoteDestination",
    "addRemoteDestination",
    "updateRemoteDestination",
    "removeRemoteDestination",
    "executeSQLQuery",
]

# Settings the tests load the WSDLs with.
LOAD_SETTINGS = {"strict": False, "xml_huge_tree": True}
# What the client should use: also match response elements out of schema order, so that
# elements CUCM returns but our small schema lacks do not end parsing of a sequence.
CLIENT_SETTINGS = {**LOAD_SETTINGS, "xsd_ignore_sequence_order": True}


def make_client(wsdl: Path, **settings) -> zeep.Client:
    return zeep.Client(str(wsdl), settings=zeep.Settings(**(settings or LOAD_SETTINGS)))


@pytest.fixture(scope="module")
def client() -> zeep.Client:
    return make_client(OUR_WSDL)


@pytest.fixture(scope="module")
def lenient_client() -> zeep.Client:
    return make_client(OUR_WSDL, **CLIENT_SETTINGS)


@pytest.fixture(scope="module")
def official_client() -> zeep.Client:
    require_official_schema()
    return make_client(official_wsdl_path())  # about 1 s: once per module


def render(client: zeep.Client, operation: str, kwargs: dict) -> etree._Element:
    envelope = client.create_message(client.service, operation, **copy.deepcopy(kwargs))
    return body_child(envelope)


# --------------------------------------------------------------------------- payloads

USER = "alice"
SPARK_RD = "SPARKALICE"
CTI_RD = "CTIRDALICE"
DESTINATION = "alice@example.call.ciscospark.com"
UUID = "{5A3B1C2D-1111-2222-3333-444455556666}"
SQL = (
    "SELECT d.name, d.tkmodel, e.userid FROM device d "
    "LEFT OUTER JOIN enduser e ON e.pkid = d.fkenduser "
    "WHERE d.tkmodel IN (635, 36235)"
)

LINE = {
    "index": 1,
    "label": "Alice Anders - 1000",
    "display": "Alice Anders",
    "dirn": {"pattern": "1000", "routePartitionName": "PT_Internal"},
    "displayAscii": "Alice Anders",
    "e164Mask": "+14085551XXX",
}

SPARK_RD_PHONE = {
    "name": SPARK_RD,
    "description": "Alice Anders - Webex (Hybrid Call)",
    "product": "Cisco Spark Remote Device",
    "class": "Phone",
    "protocol": "CTI Remote Device",
    "protocolSide": "User",
    "callingSearchSpaceName": "CSS_Internal",
    "devicePoolName": "Default",
    "commonPhoneConfigName": "Standard Common Phone Profile",
    "locationName": "Hub_None",
    "useTrustedRelayPoint": "Default",
    "lines": {"line": [LINE]},
    "phoneTemplateName": None,  # required + nillable: rendered as xsi:nil
    "primaryPhoneName": None,  # required + nillable: rendered as xsi:nil
    "builtInBridgeStatus": "Default",
    "ownerUserName": USER,
    "packetCaptureMode": "None",
    "rerouteCallingSearchSpaceName": "CSS_Internal",
    "certificateOperation": "No Pending Operation",
    "deviceMobilityMode": "Default",
}

RPHONE_TAGS = {
    "name": "",
    "description": "",
    "product": "",
    "model": "",
    "class": "",
    "protocol": "",
    "protocolSide": "",
    "callingSearchSpaceName": "",
    "devicePoolName": "",
    "commonPhoneConfigName": "",
    "locationName": "",
    "useTrustedRelayPoint": "",
    "lines": {
        "line": {
            "index": "",
            "label": "",
            "display": "",
            "dirn": {"pattern": "", "routePartitionName": ""},
            "displayAscii": "",
            "e164Mask": "",
        }
    },
    "phoneTemplateName": "",
    "primaryPhoneName": "",
    "builtInBridgeStatus": "",
    "ownerUserName": "",
    "packetCaptureMode": "",
    "rerouteCallingSearchSpaceName": "",
    "presenceGroupName": "",
    "certificateOperation": "",
    "deviceMobilityMode": "",
}

# One realistic request per operation, as the product sends it: (operation, kwargs).
REQUESTS: dict[str, dict] = {
    "getCCMVersion": {},
    "listUser": {
        "searchCriteria": {"userid": "%"},
        "returnedTags": {
            "firstName": "",
            "lastName": "",
            "userid": "",
            "mailid": "",
            "telephoneNumber": "",
        },
        "skip": 0,
        "first": 500,
    },
    "getUser": {
        "userid": USER,
        "returnedTags": {
            "firstName": "",
            "lastName": "",
            "userid": "",
            "mailid": "",
            "associatedDevices": {"device": ""},
            "enableCti": "",  # AXL boolean: empty is formally invalid, CUCM accepts it
            "presenceGroupName": "",
            "enableMobility": "",
            "homeCluster": "",
        },
    },
    "addUser": {
        "user": {
            "firstName": "Alice",
            "lastName": "Anders",
            "userid": USER,
            "mailid": "alice@example.com",
            "department": "Sales",
            "enableCti": "true",
            "presenceGroupName": "Standard Presence group",
            "enableMobility": "true",
            "homeCluster": "true",
            "imAndPresenceEnable": "false",
            "telephoneNumber": "+14085551000",
        }
    },
    "updateUser": {
        "userid": USER,
        "associatedDevices": {"device": ["SEP00AABBCCDDEE", SPARK_RD]},
    },
    "listPhone": {
        "searchCriteria": {"name": "%"},
        "returnedTags": {"name": "", "description": "", "model": "", "ownerUserName": ""},
        "skip": 0,
        "first": 1000,
    },
    "getPhone": {"name": CTI_RD, "returnedTags": RPHONE_TAGS},
    "addPhone": {"phone": SPARK_RD_PHONE},
    "updatePhone": {
        "name": SPARK_RD,
        "description": "Alice Anders - Webex (Hybrid Call)",
        "callingSearchSpaceName": "CSS_Internal",
        "devicePoolName": "Default",
        "locationName": "Hub_None",
        "lines": {"line": [LINE]},
        "ownerUserName": USER,
        "rerouteCallingSearchSpaceName": "CSS_Internal",
    },
    "removePhone": {"name": CTI_RD},
    "listLine": {
        "searchCriteria": {"pattern": "%", "routePartitionName": "PT_Internal"},
        "returnedTags": {"pattern": "", "description": "", "usage": "", "routePartitionName": ""},
        "skip": 0,
        "first": 1000,
    },
    "getLine": {
        "pattern": "1000",
        "routePartitionName": "PT_Internal",
        "returnedTags": {
            "pattern": "",
            "description": "",
            "routePartitionName": "",
            "alertingName": "",
            "asciiAlertingName": "",
            "associatedDevices": {"device": ""},
        },
    },
    "addLine": {
        "line": {
            "pattern": "1000",
            "description": "Alice Anders",
            "usage": "Device",
            "routePartitionName": "PT_Internal",
            "alertingName": "Alice Anders",
            "asciiAlertingName": "Alice Anders",
        }
    },
    "listRemoteDestination": {
        "searchCriteria": {"name": "%"},
        "returnedTags": {
            "name": "",
            "destination": "",
            "answerTooSoonTimer": "",
            "answerTooLateTimer": "",
            "delayBeforeRingingCell": "",
            "ctiRemoteDeviceName": "",
            "dualModeDeviceName": "",
        },
        "skip": 0,
        "first": 1000,
    },
    "getRemoteDestination": {
        "destination": DESTINATION,
        "returnedTags": {
            "name": "",
            "destination": "",
            "answerTooSoonTimer": "",
            "answerTooLateTimer": "",
            "delayBeforeRingingCell": "",
            "ownerUserId": "",
            "ctiRemoteDeviceName": "",
            "isMobilePhone": "",
            "enableMobileConnect": "",
        },
    },
    "addRemoteDestination": {
        "remoteDestination": {
            "name": "Alice Anders - Webex",
            "destination": DESTINATION,
            "answerTooSoonTimer": 1500,
            "answerTooLateTimer": 19000,
            "delayBeforeRingingCell": 4000,
            "ownerUserId": USER,
            "ctiRemoteDeviceName": SPARK_RD,
            "isMobilePhone": "false",
            "enableMobileConnect": "true",
        }
    },
    "updateRemoteDestination": {"destination": DESTINATION, "ctiRemoteDeviceName": SPARK_RD},
    "removeRemoteDestination": {"destination": DESTINATION},
    "executeSQLQuery": {"sql": SQL},
}

# Other shapes the product uses: the alternative keys of the choices.
VARIANTS: dict[str, tuple[str, dict]] = {
    "getCCMVersion-node": ("getCCMVersion", {"processNodeName": "cucm-pub.example.com"}),
    "listPhone-ctird": (
        "listPhone",
        {
            "searchCriteria": {"protocol": "CTI Remote Device", "devicePoolName": "%"},
            "returnedTags": {"name": "", "product": "", "model": "", "ownerUserName": ""},
        },
    ),
    "getPhone-uuid": ("getPhone", {"uuid": UUID}),
    "getUser-uuid": ("getUser", {"uuid": UUID}),
    "updateUser-uuid": ("updateUser", {"uuid": UUID, "associatedDevices": {"device": []}}),
    "updatePhone-uuid-rename": ("updatePhone", {"uuid": UUID, "newName": "SPARKALICE2"}),
    "removePhone-uuid": ("removePhone", {"uuid": UUID}),
    "getLine-uuid": ("getLine", {"uuid": UUID}),
    "getLine-pattern-only": ("getLine", {"pattern": "1000"}),
    "getLine-nil-partition": ("getLine", {"pattern": "1000", "routePartitionName": zeep.xsd.Nil}),
    "addPhone-minimal": (
        "addPhone",
        {
            "phone": {
                k: v
                for k, v in SPARK_RD_PHONE.items()
                if k not in {"phoneTemplateName", "primaryPhoneName", "lines", "description"}
            }
        },
    ),
    "addPhone-unpartitioned-line": (
        "addPhone",
        {
            "phone": {
                **SPARK_RD_PHONE,
                "lines": {
                    "line": [{"index": 1, "dirn": {"pattern": "1000", "routePartitionName": None}}]
                },
            }
        },
    ),
    "addPhone-fk-uuid": (
        "addPhone",
        {"phone": {**SPARK_RD_PHONE, "devicePoolName": {"_value_1": "Default", "uuid": UUID}}},
    ),
    "listRemoteDestination-by-device": (
        "listRemoteDestination",
        {"searchCriteria": {"ctiRemoteDeviceName": "CTIRD%"}, "returnedTags": {"destination": ""}},
    ),
    "getRemoteDestination-uuid": ("getRemoteDestination", {"uuid": UUID}),
    "updateRemoteDestination-uuid": (
        "updateRemoteDestination",
        {"uuid": UUID, "ctiRemoteDeviceName": SPARK_RD},
    ),
    "removeRemoteDestination-uuid": ("removeRemoteDestination", {"uuid": UUID}),
}

ALL_REQUESTS = [pytest.param(op, kw, id=op) for op, kw in REQUESTS.items()] + [
    pytest.param(op, kw, id=name) for name, (op, kw) in VARIANTS.items()
]


# --------------------------------------------------------------------------- loading


def test_wsdl_loads_fast(capsys):
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        zeep.Client(str(OUR_WSDL), settings=zeep.Settings(strict=False, xml_huge_tree=True))
        timings.append(time.perf_counter() - start)
    with capsys.disabled():
        print(
            f"\n[wsdl] cucm-spark AXLAPI.wsdl zeep load: first {timings[0] * 1000:.1f} ms, "
            f"best {min(timings) * 1000:.1f} ms"
        )
    assert timings[0] < 0.5, f"WSDL took {timings[0]:.3f} s to load (target well under 0.2 s)"


def test_exactly_the_product_operations(client):
    service = client.wsdl.services["AXLAPIService"]
    port = service.ports["AXLPort"]
    assert port.binding_options["address"] == "https://CCMSERVERNAME:8443/axl/"
    assert port.binding.name.localname == "AXLAPIBinding"
    assert sorted(port.binding._operations) == sorted(OPERATIONS)
    assert len(OPERATIONS) == 19


@pytest.mark.parametrize("operation", OPERATIONS)
def test_soap_action(client, operation):
    assert client.service._binding.get(operation).soapaction == f"CUCM:DB ver=14.0 {operation}"


def test_wsdl_matches_official_wsdl_declarations():
    """Same message/part/soapAction/fault declarations as Cisco's, for our operations."""
    require_official_schema()

    def declarations(path: Path) -> dict:
        root = etree.parse(str(path), etree.XMLParser(huge_tree=True)).getroot()
        messages = {
            m.get("name"): [(p.get("name"), p.get("element").split(":")[1]) for p in m]
            for m in root.iter(f"{WSDL_NS}message")
        }
        port_ops = {
            o.get("name"): (
                o.find(f"{WSDL_NS}input").get("message").split(":")[1],
                o.find(f"{WSDL_NS}output").get("message").split(":")[1],
                [
                    (f.get("name"), f.get("message").split(":")[1])
                    for f in o.findall(f"{WSDL_NS}fault")
                ],
            )
            for o in root.find(f"{WSDL_NS}portType")
        }
        actions = {
            o.get("name"): o.find(f"{WSDL_SOAP_NS}operation").get("soapAction")
            for o in root.find(f"{WSDL_NS}binding").findall(f"{WSDL_NS}operation")
        }
        return {"messages": messages, "port": port_ops, "actions": actions}

    ours, cisco = declarations(OUR_WSDL), declarations(official_wsdl_path())
    assert set(ours["port"]) == set(OPERATIONS)
    assert ours["messages"]["AXLError"] == cisco["messages"]["AXLError"]
    for op in OPERATIONS:
        assert ours["port"][op] == cisco["port"][op], op
        for message in ours["port"][op][:2]:
            assert ours["messages"][message] == cisco["messages"][message], message
        assert ours["actions"][op] == cisco["actions"][op], op


# --------------------------------------------------------------------------- requests


def test_every_operation_has_a_request():
    assert list(REQUESTS) == OPERATIONS


@pytest.mark.parametrize(("operation", "kwargs"), ALL_REQUESTS)
def test_request_valid_under_official_schema(client, operation, kwargs):
    require_official_schema()
    body = render(client, operation, kwargs)
    assert etree.QName(body) == etree.QName(AXL_NS, operation)
    validate_body(body)


@pytest.fixture(scope="module")
def our_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(OUR_XSD)))  # also proves it is a valid XSD


@pytest.mark.parametrize(("operation", "kwargs"), ALL_REQUESTS)
def test_request_valid_under_our_schema(client, our_schema, operation, kwargs):
    body = copy.deepcopy(render(client, operation, kwargs))
    errors = schema_errors(our_schema, body)
    assert not errors, "\n".join(errors)


def test_validate_body_accepts_envelope_bytes(client):
    require_official_schema()
    envelope = client.create_message(client.service, "getCCMVersion")
    validated = validate_body(etree.tostring(envelope))
    assert etree.QName(validated).localname == "getCCMVersion"


def test_add_phone_nils_and_omissions(client):
    body = render(client, "addPhone", REQUESTS["addPhone"])
    phone = body.find("phone")
    for name in ("phoneTemplateName", "primaryPhoneName"):
        assert phone.find(name).get(XSI_NIL) == "true", name
    # Unset optional elements are left out, never sent as nil.
    assert phone.find("presenceGroupName") is None
    minimal = render(client, *VARIANTS["addPhone-minimal"])
    assert minimal.find("phone/phoneTemplateName").get(XSI_NIL) == "true"
    assert minimal.find("phone/primaryPhoneName").get(XSI_NIL) == "true"


def test_add_remote_destination_omits_dual_mode_device(client):
    # CSCvq98025: AXL rejects a nil dualModeDeviceName.
    for extra in ({}, {"dualModeDeviceName": None}):
        kwargs = copy.deepcopy(REQUESTS["addRemoteDestination"])
        kwargs["remoteDestination"].update(extra)
        body = render(client, "addRemoteDestination", kwargs)
        assert body.find("remoteDestination/dualModeDeviceName") is None
        assert "nil" not in etree.tostring(body).decode()


def test_python_bool_is_not_an_axl_boolean(client):
    """zeep renders True as "True", which Cisco's boolean pattern rejects: send "true"."""
    require_official_schema()
    kwargs = copy.deepcopy(REQUESTS["addRemoteDestination"])
    kwargs["remoteDestination"]["isMobilePhone"] = True
    body = render(client, "addRemoteDestination", kwargs)
    assert body.find("remoteDestination/isMobilePhone").text == "True"
    with pytest.raises(AssertionError, match="isMobilePhone"):
        validate_body(body)


def test_validate_body_rejects_misordered_request(client):
    require_official_schema()
    body = render(client, "addRemoteDestination", REQUESTS["addRemoteDestination"])
    rd = body.find("remoteDestination")
    rd.append(rd.find("destination"))  # move a required element to the end
    with pytest.raises(AssertionError, match="not valid"):
        validate_body(body)


def test_empty_boolean_returned_tag_is_only_forgiven_when_asked(client):
    require_official_schema()
    body = render(client, "getUser", REQUESTS["getUser"])
    validate_body(body)
    with pytest.raises(AssertionError, match="enableCti"):
        validate_body(body, allow_empty_returned_tags=False)


# --------------------------------------------------------------------------- same bytes as official


@pytest.mark.parametrize(("operation", "kwargs"), ALL_REQUESTS)
def test_same_body_as_official_wsdl(client, official_client, operation, kwargs):
    ours = render(client, operation, kwargs)
    cisco = render(official_client, operation, kwargs)
    assert etree.tostring(ours, method="c14n") == etree.tostring(cisco, method="c14n")


def test_same_soap_action_and_address_as_official(client, official_client):
    ours, cisco = client.service, official_client.service
    assert ours._binding_options == cisco._binding_options
    for op in OPERATIONS:
        assert ours._binding.get(op).soapaction == cisco._binding.get(op).soapaction


# --------------------------------------------------------------------------- schema subset


def _named(root: etree._Element, kind: str) -> dict[str, etree._Element]:
    return {e.get("name"): e for e in root.findall(f"{XS}{kind}")}


def _local(qname: str | None) -> str | None:
    return qname.split(":")[-1] if qname else None


def _occurs(value: str | None) -> float:
    return math.inf if value == "unbounded" else int(value or 1)


def _flatten(ct: etree._Element, types: dict[str, etree._Element]):
    """Elements of a complexType: {path: info}, children order per path, attributes."""
    elements: dict[str, dict] = {}
    order: dict[str, list[str]] = {}
    attributes: dict[str, set[str]] = {}

    def walk(node, path, in_choice):
        for child in node:
            tag = child.tag
            if tag in (f"{XS}sequence", f"{XS}complexContent", f"{XS}complexType"):
                walk(child, path, in_choice)
            elif tag == f"{XS}choice":
                walk(child, path, True)
            elif tag == f"{XS}extension":
                base = _local(child.get("base"))
                if base in types:
                    walk(types[base], path, in_choice)
                walk(child, path, in_choice)
            elif tag == f"{XS}attribute":
                attributes.setdefault(path, set()).add(child.get("name"))
            elif tag == f"{XS}element":
                name = child.get("name")
                full = f"{path}/{name}" if path else name
                elements[full] = {
                    "min": _occurs(child.get("minOccurs")),
                    "max": _occurs(child.get("maxOccurs")),
                    "nillable": child.get("nillable") == "true",
                    "type": _local(child.get("type")),
                    "in_choice": in_choice,
                }
                order.setdefault(path, []).append(name)
                inline = child.find(f"{XS}complexType")
                if inline is not None:
                    walk(inline, full, False)

    walk(ct, "", False)
    return elements, order, attributes


def _is_subsequence(short: list[str], long: list[str]) -> bool:
    it = iter(long)
    return all(name in it for name in short)


@pytest.fixture(scope="module")
def schemas():
    require_official_schema()
    parser = etree.XMLParser(huge_tree=True, remove_comments=True)
    ours = etree.parse(str(OUR_XSD), parser).getroot()
    cisco = etree.parse(str(official_xsd_path()), parser).getroot()
    return ours, cisco


def test_schema_header_matches(schemas):
    ours, cisco = schemas
    for attr in ("targetNamespace", "elementFormDefault", "attributeFormDefault"):
        assert ours.get(attr) == cisco.get(attr), attr


def test_top_level_elements_match_official(schemas):
    ours, cisco = schemas
    ours_elements, cisco_elements = _named(ours, "element"), _named(cisco, "element")
    for op in OPERATIONS:
        assert op in ours_elements and f"{op}Response" in ours_elements, op
    for name, element in ours_elements.items():
        assert name in cisco_elements, name
        assert _local(element.get("type")) == _local(cisco_elements[name].get("type")), name


def test_simple_types_match_official(schemas):
    ours, cisco = schemas
    cisco_simple = _named(cisco, "simpleType")
    for name, st in _named(ours, "simpleType").items():
        assert name in cisco_simple, name
        facets = {(f.tag, f.get("value")) for f in st.iter(f"{XS}maxLength", f"{XS}pattern")}
        official = {
            (f.tag, f.get("value"))
            for f in cisco_simple[name].iter(f"{XS}maxLength", f"{XS}pattern")
        }
        assert facets == official, name


def _response_side(name: str) -> bool:
    return name.endswith(("Res", "Response")) or (name[0] in "RL" and name[1].isupper())


def test_complex_types_are_a_faithful_subset(schemas):
    """Anything valid under our schema must be valid under Cisco's (order, names, nils...)."""
    ours, cisco = schemas
    ours_types, cisco_types = _named(ours, "complexType"), _named(cisco, "complexType")
    problems = []
    for name, ct in ours_types.items():
        if name not in cisco_types:
            problems.append(f"{name}: no such type in Cisco's schema")
            continue
        o_el, o_order, o_attr = _flatten(ct, ours_types)
        c_el, c_order, c_attr = _flatten(cisco_types[name], cisco_types)
        response = _response_side(name)
        for path, info in o_el.items():
            official = c_el.get(path)
            if official is None:
                problems.append(f"{name}/{path}: not in Cisco's type")
                continue
            widened = response and info["type"] == "string"  # e.g. StandardResponse/return
            if info["type"] != official["type"] and not widened:
                problems.append(f"{name}/{path}: type {info['type']} != {official['type']}")
            if info["max"] > official["max"]:
                problems.append(f"{name}/{path}: maxOccurs wider than Cisco's")
            if not response:
                if info["nillable"] != official["nillable"]:
                    problems.append(f"{name}/{path}: nillable differs from Cisco's")
                if info["min"] < official["min"] and not official["in_choice"]:
                    problems.append(f"{name}/{path}: optional here, required in Cisco's")
        for path, names in o_order.items():
            if not _is_subsequence(names, c_order.get(path, [])):
                problems.append(f"{name}/{path or '.'}: order {names} not Cisco's")
        for path, attrs in o_attr.items():
            if not attrs <= c_attr.get(path, set()):
                problems.append(
                    f"{name}/{path or '.'}: attributes {attrs - c_attr.get(path, set())}"
                )
        if not response:
            for path, official in c_el.items():
                parent = path.rpartition("/")[0]
                required = official["min"] >= 1 and not official["in_choice"]
                if required and (parent == "" or parent in o_el) and path not in o_el:
                    problems.append(f"{name}/{path}: required by Cisco, missing here")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- responses


def envelope(body: str) -> etree._Element:
    return etree.fromstring(
        (
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
            f"<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
        ).encode()
    )


def _fk(name: str, value: str, uuid: str = UUID) -> str:
    return f'<{name} uuid="{uuid}">{value}</{name}>'


# Answers as CUCM sends them when asked with the returnedTags above (only known elements).
RESPONSES: dict[str, str] = {
    "getCCMVersion": (
        "<return><componentVersion><version>14.0.1.11900(132)</version></componentVersion></return>"
    ),
    "listUser": (
        f'<return><user uuid="{UUID}"><firstName>Alice</firstName><lastName>Anders</lastName>'
        "<userid>alice</userid><mailid>alice@example.com</mailid>"
        "<telephoneNumber>+14085551000</telephoneNumber></user>"
        '<user uuid="{6B3B1C2D-1111-2222-3333-444455556666}"><firstName/><lastName>Bo</lastName>'
        "<userid>bo</userid><mailid/><telephoneNumber/></user></return>"
    ),
    "getUser": (
        f'<return><user uuid="{UUID}"><firstName>Alice</firstName><lastName>Anders</lastName>'
        "<userid>alice</userid><mailid>alice@example.com</mailid>"
        "<associatedDevices><device>SEP00AABBCCDDEE</device><device>CTIRDALICE</device>"
        "</associatedDevices><enableCti>true</enableCti>"
        + _fk("presenceGroupName", "Standard Presence group")
        + "<enableMobility>true</enableMobility><homeCluster>true</homeCluster></user></return>"
    ),
    "listPhone": (
        f'<return><phone ctiid="12" uuid="{UUID}"><name>CTIRDALICE</name>'
        "<description>Alice CTI-RD</description><model>CTI Remote Device</model>"
        + _fk("ownerUserName", "alice")
        + "</phone>"
        '<phone ctiid="13" uuid="{7B3B1C2D-1111-2222-3333-444455556666}">'
        "<name>SEP00AABBCCDDEE</name>"
        "<description/><model>Cisco 8845</model><ownerUserName/></phone></return>"
    ),
    "getPhone": (
        f'<return><phone ctiid="12" uuid="{UUID}"><name>CTIRDALICE</name>'
        "<description>Alice CTI-RD</description><product>CTI Remote Device</product>"
        "<model>CTI Remote Device</model><class>Phone</class><protocol>CTI Remote Device</protocol>"
        "<protocolSide>User</protocolSide>"
        + _fk("callingSearchSpaceName", "CSS_Internal")
        + _fk("devicePoolName", "Default")
        + _fk("commonPhoneConfigName", "Standard Common Phone Profile")
        + _fk("locationName", "Hub_None")
        + "<useTrustedRelayPoint>Default</useTrustedRelayPoint>"
        f'<lines><line ctiid="3" uuid="{UUID}"><index>1</index><label>Alice Anders - 1000</label>'
        f'<display>Alice Anders</display><dirn uuid="{UUID}"><pattern>1000</pattern>'
        + _fk("routePartitionName", "PT_Internal")
        + "</dirn><displayAscii>Alice Anders</displayAscii><e164Mask>+14085551XXX</e164Mask>"
        "</line></lines><phoneTemplateName/><primaryPhoneName/>"
        "<builtInBridgeStatus>Default</builtInBridgeStatus>"
        + _fk("ownerUserName", "alice")
        + "<packetCaptureMode>None</packetCaptureMode>"
        + _fk("rerouteCallingSearchSpaceName", "CSS_Internal")
        + _fk("presenceGroupName", "Standard Presence group")
        + "<certificateOperation>No Pending Operation</certificateOperation>"
        "<deviceMobilityMode>Default</deviceMobilityMode></phone></return>"
    ),
    "listLine": (
        f'<return><line uuid="{UUID}"><pattern>1000</pattern><description>Alice</description>'
        "<usage>Device</usage>" + _fk("routePartitionName", "PT_Internal") + "</line></return>"
    ),
    "getLine": (
        f'<return><line uuid="{UUID}"><pattern>1000</pattern><description>Alice</description>'
        + _fk("routePartitionName", "PT_Internal")
        + "<alertingName>Alice Anders</alertingName>"
        "<asciiAlertingName>Alice Anders</asciiAlertingName>"
        "<associatedDevices><device>SEP00AABBCCDDEE</device><device>CTIRDALICE</device>"
        "</associatedDevices></line></return>"
    ),
    "listRemoteDestination": (
        f'<return><remoteDestination uuid="{UUID}"><name>Alice Webex</name>'
        f"<destination>{DESTINATION}</destination><answerTooSoonTimer>1500</answerTooSoonTimer>"
        "<answerTooLateTimer>19000</answerTooLateTimer>"
        "<delayBeforeRingingCell>4000</delayBeforeRingingCell>"
        + _fk("ctiRemoteDeviceName", "CTIRDALICE")
        + "<dualModeDeviceName/></remoteDestination></return>"
    ),
    "getRemoteDestination": (
        f'<return><remoteDestination uuid="{UUID}"><name>Alice Webex</name>'
        f"<destination>{DESTINATION}</destination><answerTooSoonTimer>1500</answerTooSoonTimer>"
        "<answerTooLateTimer>19000</answerTooLateTimer>"
        "<delayBeforeRingingCell>4000</delayBeforeRingingCell>"
        + _fk("ownerUserId", "alice")
        + _fk("ctiRemoteDeviceName", "CTIRDALICE")
        + "<isMobilePhone>false</isMobilePhone><enableMobileConnect>true</enableMobileConnect>"
        "</remoteDestination></return>"
    ),
    "executeSQLQuery": (
        "<return><row><name>CTIRDALICE</name><tkmodel>635</tkmodel><userid>alice</userid></row>"
        "<row><name>SPARKBO</name><tkmodel>36235</tkmodel><userid/></row></return>"
    ),
}
for _op in OPERATIONS:
    if _op.startswith(("add", "update", "remove")):
        RESPONSES[_op] = f"<return>{UUID if _op.startswith('add') else 'true'}</return>"


def response_element(operation: str) -> str:
    name = f"{operation}Response"
    return f'<ns:{name} xmlns:ns="{AXL_NS}">{RESPONSES[operation]}</ns:{name}>'


def parse_reply(client: zeep.Client, operation: str, body: str):
    return client.service._binding.get(operation).process_reply(envelope(body))


def test_every_operation_has_a_sample_response():
    assert sorted(RESPONSES) == sorted(OPERATIONS)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_sample_response_is_realistic(operation):
    """The hand-written answers are valid under Cisco's schema (so they are realistic)."""
    validate_body(etree.fromstring(response_element(operation).encode()))


@pytest.mark.parametrize("operation", OPERATIONS)
def test_parse_response(client, lenient_client, operation):
    for c in (client, lenient_client):
        result = parse_reply(c, operation, response_element(operation))
        assert "return" in result
        assert not list(_raw_elements(result)), f"{operation}: elements not parsed"
    check_response(operation, result["return"])


def _raw_elements(value):
    """Yield any _raw_elements zeep left behind (elements it could not place)."""
    if isinstance(value, list):
        for item in value:
            yield from _raw_elements(item)
    elif hasattr(value, "__values__"):
        for key, item in value.__values__.items():
            if key == "_raw_elements" and item:
                yield from item
            else:
                yield from _raw_elements(item)


def _check_get_phone(ret):
    phone = ret.phone
    assert phone.name == "CTIRDALICE"
    assert phone.uuid == UUID and phone.ctiid == 12
    assert phone["class"] == "Phone" and phone.model == "CTI Remote Device"
    assert phone.ownerUserName._value_1 == "alice" and phone.ownerUserName.uuid == UUID
    assert phone.phoneTemplateName._value_1 is None
    line = phone.lines.line[0]
    assert line.index == 1 and line.e164Mask == "+14085551XXX"
    assert line.dirn.pattern == "1000" and line.dirn.routePartitionName._value_1 == "PT_Internal"


def _check_sql(ret):
    rows = [{col.tag: col.text for col in row} for row in ret.row]
    assert rows == [
        {"name": "CTIRDALICE", "tkmodel": "635", "userid": "alice"},
        {"name": "SPARKBO", "tkmodel": "36235", "userid": None},
    ]


def check_response(operation: str, ret) -> None:
    """Spot-check the values zeep parsed from RESPONSES[operation]."""
    if operation == "getCCMVersion":
        assert ret.componentVersion.version == "14.0.1.11900(132)"
    elif operation == "listUser":
        assert [u.userid for u in ret.user] == ["alice", "bo"]
        assert ret.user[0].uuid == UUID
    elif operation == "getUser":
        assert ret.user.associatedDevices.device == ["SEP00AABBCCDDEE", "CTIRDALICE"]
        assert ret.user.enableCti == "true"
        assert ret.user.presenceGroupName._value_1 == "Standard Presence group"
    elif operation == "listPhone":
        assert [p.ownerUserName._value_1 for p in ret.phone] == ["alice", None]
        assert [p.model for p in ret.phone] == ["CTI Remote Device", "Cisco 8845"]
    elif operation == "getPhone":
        _check_get_phone(ret)
    elif operation == "listLine":
        assert ret.line[0].routePartitionName._value_1 == "PT_Internal"
    elif operation == "getLine":
        assert ret.line.associatedDevices.device == ["SEP00AABBCCDDEE", "CTIRDALICE"]
    elif operation == "listRemoteDestination":
        rd = ret.remoteDestination[0]
        assert rd.destination == DESTINATION
        assert rd.ctiRemoteDeviceName._value_1 == "CTIRDALICE"
        assert rd.answerTooSoonTimer == 1500
    elif operation == "getRemoteDestination":
        rd = ret.remoteDestination
        assert rd.uuid == UUID
        assert rd.ownerUserId._value_1 == "alice"
        assert rd.ctiRemoteDeviceName._value_1 == "CTIRDALICE"
        assert (rd.answerTooLateTimer, rd.isMobilePhone) == (19000, "false")
    elif operation == "executeSQLQuery":
        _check_sql(ret)
    elif operation.startswith("add"):
        assert ret == UUID
    else:  # update*, remove*
        assert ret == "true"


FULL_GET_PHONE = (
    f'<ns:getPhoneResponse xmlns:ns="{AXL_NS}"><return><phone ctiid="12" uuid="{UUID}">'
    "<name>CTIRDALICE</name><description>Alice CTI-RD</description>"
    "<product>CTI Remote Device</product><model>CTI Remote Device</model><class>Phone</class>"
    "<protocol>CTI Remote Device</protocol><protocolSide>User</protocolSide>"
    + _fk("callingSearchSpaceName", "CSS_Internal")
    + _fk("devicePoolName", "Default")
    + "<commonDeviceConfigName/>"
    + _fk("commonPhoneConfigName", "Standard Common Phone Profile")
    + "<networkLocation>Use System Default</networkLocation>"
    + _fk("locationName", "Hub_None")
    + "<mediaResourceListName/><traceFlag>false</traceFlag>"
    "<useTrustedRelayPoint>Default</useTrustedRelayPoint><retryVideoCallAsAudio>true</retryVideoCallAsAudio>"
    + _fk(
        "securityProfileName", "CTI Remote Device - Standard CTI Remote Device Non-Secure Profile"
    )
    + f'<lines><line ctiid="3" uuid="{UUID}"><index>1</index>'
    "<label>Alice</label><display>Alice</display>"
    f'<dirn uuid="{UUID}"><pattern>1000</pattern>'
    + _fk("routePartitionName", "PT_Internal")
    + "</dirn><ringSetting>Ring</ringSetting><displayAscii>Alice</displayAscii>"
    "<e164Mask>+14085551XXX</e164Mask><mwlPolicy>Use System Policy</mwlPolicy>"
    "<maxNumCalls>2</maxNumCalls><busyTrigger>1</busyTrigger></line></lines>"
    "<numberOfButtons>1</numberOfButtons><phoneTemplateName/><primaryPhoneName/>"
    "<builtInBridgeStatus>Default</builtInBridgeStatus><callInfoPrivacyStatus>Default</callInfoPrivacyStatus>"
    + _fk("ownerUserName", "alice")
    + "<ignorePresentationIndicators>false</ignorePresentationIndicators>"
    "<packetCaptureMode>None</packetCaptureMode><packetCaptureDuration>0</packetCaptureDuration>"
    + _fk("rerouteCallingSearchSpaceName", "CSS_Internal")
    + "<allowCtiControlFlag>true</allowCtiControlFlag>"
    + _fk("presenceGroupName", "Standard Presence group")
    + "<certificateOperation>No Pending Operation</certificateOperation>"
    "<deviceMobilityMode>Default</deviceMobilityMode><remoteDevice>false</remoteDevice>"
    "</phone></return></ns:getPhoneResponse>"
)


def test_full_answer_parses_with_client_settings(lenient_client, client):
    """An answer with every field (no returnedTags) still parses: use CLIENT_SETTINGS."""
    validate_body(etree.fromstring(FULL_GET_PHONE.encode()))
    result = parse_reply(lenient_client, "getPhone", FULL_GET_PHONE)
    _check_get_phone(result["return"])
    phone = result["return"].phone
    assert phone.presenceGroupName._value_1 == "Standard Presence group"
    assert phone.securityProfileName._value_1.startswith("CTI Remote Device")
    # Only the elements our schema lacks are left unparsed, wherever they appear:
    assert {e.tag for e in _raw_elements(phone)} == {
        "commonDeviceConfigName",
        "networkLocation",
        "mediaResourceListName",
        "traceFlag",
        "retryVideoCallAsAudio",
        "ringSetting",
        "mwlPolicy",
        "maxNumCalls",
        "busyTrigger",
        "numberOfButtons",
        "callInfoPrivacyStatus",
        "ignorePresentationIndicators",
        "packetCaptureDuration",
        "allowCtiControlFlag",
        "remoteDevice",
    }
    # Without xsd_ignore_sequence_order (zeep 4.3), parsing of the sequence stops at the
    # first element our schema lacks (commonDeviceConfigName here): everything after it
    # lands in _raw_elements and commonPhoneConfigName, lines, ownerUserName... are None.
    partial = parse_reply(client, "getPhone", FULL_GET_PHONE)["return"].phone
    assert partial.name == "CTIRDALICE"


def test_fault_parses_as_zeep_fault(client):
    fault = envelope(
        "<soapenv:Fault><faultcode>soapenv:Server</faultcode>"
        "<faultstring>Item not valid: The specified User was not found</faultstring>"
        "<detail><axlError><axlcode>5007</axlcode>"
        "<axlmessage>Item not valid: The specified User was not found</axlmessage>"
        "<request>getUser</request></axlError></detail></soapenv:Fault>"
    )
    binding = client.service._binding
    with pytest.raises(Fault) as info:
        binding.process_error(fault, binding.get("getUser"))
    assert info.value.message == "Item not valid: The specified User was not found"
    assert info.value.detail.findtext("axlError/axlcode") == "5007"
    error = client.get_element(f"{{{AXL_NS}}}axlError").parse(
        info.value.detail.find("axlError"), client.wsdl.types
    )
    assert (error.axlcode, error.request) == (5007, "getUser")
