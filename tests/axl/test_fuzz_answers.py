"""Fuzzing what a cluster answers: every answer ends in a result or a typed error, never a traceback.

Three readers meet bytes from the network: the streamed executeSQLQuery reader
(``read_sql_answer``), the zeep path behind ``AxlClient`` (getCCMVersion, listPhone,
getPhone), and the fault detail reader (``fault_from_detail``). Each is fed arbitrary
bytes and, closer to the truth, real lab answers mutated: cut short, bytes flipped,
a DTD with entities put in, elements renamed, huge attributes, foreign namespaces, and
the stream cut into chunks at any byte. Whatever comes in, what comes out is a value or
a CucmSparkError.

The run is bounded and reproducible (the "ci" profile in tests/conftest.py);
HYPOTHESIS_PROFILE=long searches far longer.
"""

from __future__ import annotations

import functools
import itertools
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import requests
import responses
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lxml import etree
from requests.structures import CaseInsensitiveDict
from support.lab import AUTH, running_lab

from cucm_spark.axl.client import AxlClient, ClientOptions
from cucm_spark.axl.endpoint import Endpoint
from cucm_spark.axl.faults import fault_from_detail
from cucm_spark.axl.sqlstream import SqlAnswer, read_sql_answer
from cucm_spark.axl.transport import WSDL_VERSION
from cucm_spark.errors import AxlFault, CucmSparkError

URL = "https://cucm-pub.example.com:8443/axl/"
VERSION = "12.5"  # the bundled lab's release takes it
SQL = "SELECT d.name, d.description, d.fkenduser FROM device d ORDER BY d.name"
COLUMNS = ("name", "description", "fkenduser")
XML = "text/xml; charset=utf-8"
# Mostly what a cluster sends, so that most examples reach the parsers.
STATUSES = (200,) * 8 + (500,) * 3 + (401, 403, 503, 599, 404, 302)
CONTENT_TYPES = (XML,) * 6 + ("text/html;charset=utf-8", "application/soap+xml", "", "text/plain")

CALLS: dict[str, Callable[[AxlClient], object]] = {
    "getCCMVersion": lambda client: client.ccm_version(),
    "listPhone": lambda client: list(client.list_all("listPhone", "phone", {"name": "%"}, ["name", "model"])),
    "getPhone": lambda client: client.get("getPhone", name="CTIRDJSMITH"),
}
REQUESTS = {
    "executeSQLQuery": f"<sql>{SQL}</sql>",
    "getCCMVersion": "",
    "listPhone": "<searchCriteria><name>%</name></searchCriteria><returnedTags><name/><model/></returnedTags>",
    "getPhone": "<name>CTIRDJSMITH</name>",
    "fault": "<name>NOSUCHPHONE</name>",
}


# -- real answers, from the lab -------------------------------------------------------------------

def _ask(url: str, operation: str, inner: str) -> bytes:
    name = "getPhone" if operation == "fault" else operation
    body = (f'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            f'xmlns:ns="http://www.cisco.com/AXL/API/{VERSION}"><soapenv:Body><ns:{name}>{inner}</ns:{name}>'
            "</soapenv:Body></soapenv:Envelope>")
    answer = requests.post(url, data=body.encode(), auth=AUTH, timeout=10,
                           headers={"SOAPAction": f'"CUCM:DB ver={VERSION} {name}"', "Content-Type": XML})
    assert answer.status_code == (500 if operation == "fault" else 200), answer.text[:300]
    return answer.content.replace(f"/AXL/API/{VERSION}".encode(), f"/AXL/API/{WSDL_VERSION}".encode())


@functools.cache
def real() -> dict[str, bytes]:
    """One answer of each kind, as the lab (speaking like CUCM) writes it, in the WSDL's namespace.

    Cached rather than a fixture: hypothesis would print a fixture's whole value with every failure.
    """
    with running_lab() as lab:
        return {operation: _ask(lab.url, operation, inner) for operation, inner in REQUESTS.items()}


# -- mutations ------------------------------------------------------------------------------------

DTD = (b'<!DOCTYPE soapenv:Envelope [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
       b'<!ENTITY ext SYSTEM "http://127.0.0.1:1/secret">]>')
NAMES = st.text(string.ascii_letters + "_:.-0123456789", min_size=1, max_size=12)


def _cut(data: bytes, at: int) -> int:
    return at % (len(data) + 1)


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` changed one to four times in the ways a broken proxy or a hostile server would."""
    data = original
    for _ in range(draw(st.integers(1, 4))):
        data = draw(st.sampled_from(MUTATIONS))(draw, data)
    return data


def _truncate(draw: st.DrawFn, data: bytes) -> bytes:
    return data[:_cut(data, draw(st.integers(0, 1 << 20)))]


def _flip(draw: st.DrawFn, data: bytes) -> bytes:
    if not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]


def _insert(draw: st.DrawFn, data: bytes) -> bytes:
    at = _cut(data, draw(st.integers(0, 1 << 20)))
    piece = draw(st.one_of(st.binary(max_size=40), st.sampled_from([
        b"&b;", b"&ext;", b"&#0;", b"&#x110000;", b"]]>", b"<![CDATA[", b"<!-- x -->", b"<?pi x?>", b"</return>",
        b"<row>", b"\xff\xfe", b"\x00", b'<x xmlns="urn:other">', b"<soapenv:Fault>",
    ])))
    return data[:at] + piece + data[at:]


def _dtd(draw: st.DrawFn, data: bytes) -> bytes:
    """A DTD with entities after the XML declaration, and a reference to them somewhere in the body."""
    declaration_end = data.find(b"?>") + 2 if data.startswith(b"<?xml") else 0
    with_dtd = data[:declaration_end] + DTD + data[declaration_end:]
    at = with_dtd.find(b"<name>")
    reference = draw(st.sampled_from([b"&b;", b"&ext;", b"&a;"]))
    return with_dtd if at < 0 else with_dtd[:at + 6] + reference + with_dtd[at + 6:]


def _rename(draw: st.DrawFn, data: bytes) -> bytes:
    tag = draw(st.sampled_from([b"return", b"row", b"name", b"phone", b"version", b"componentVersion",
                                b"soapenv:Body", b"soapenv:Envelope", b"axlcode", b"detail", b"faultstring"]))
    return data.replace(tag, draw(NAMES).encode(), draw(st.integers(1, 3)))


def _huge_attribute(draw: st.DrawFn, data: bytes) -> bytes:
    at = data.find(b"<", data.find(b"<") + 1 + draw(st.integers(0, 200)))
    end = data.find(b">", at) if at >= 0 else -1
    if end < 0:
        return data
    value = draw(st.sampled_from([b"x", b"&amp;", b"\xc3\xa9", b"\"'"])) * draw(st.integers(1, 200_000))
    return data[:end] + b' big="' + value + b'"' + data[end:]


def _namespace(draw: st.DrawFn, data: bytes) -> bytes:
    old = draw(st.sampled_from([b"http://schemas.xmlsoap.org/soap/envelope/", b"http://www.cisco.com/AXL/API/14.0"]))
    new = draw(st.sampled_from([b"http://www.w3.org/2003/05/soap-envelope", b"urn:wrong", b"",
                                b"http://www.cisco.com/AXL/API/99.9"]))
    return data.replace(old, new, draw(st.integers(1, 2)))


def _repeat(draw: st.DrawFn, data: bytes) -> bytes:
    start = _cut(data, draw(st.integers(0, 1 << 20)))
    end = min(len(data), start + draw(st.integers(0, 400)))
    return data[:end] + data[start:end] * draw(st.integers(1, 50)) + data[end:]


MUTATIONS = (_truncate, _flip, _insert, _dtd, _rename, _huge_attribute, _namespace, _repeat)


def body_for(real_answer: bytes) -> st.SearchStrategy[bytes]:
    """Mostly mutated real answers; some arbitrary bytes; a few untouched (the happy path stays in the set)."""
    return st.one_of(mutated(real_answer), mutated(real_answer), st.binary(max_size=2000), st.just(real_answer))


# -- a streamed answer cut into chunks anywhere ---------------------------------------------------

class ChunkedBody:
    """A response body that arrives in the given pieces, as a socket may deliver it."""

    def __init__(self, pieces: list[bytes]) -> None:
        self._pieces: Iterator[bytes] = iter(pieces)

    def read(self, *_: object) -> bytes:
        return next(self._pieces, b"")

    def close(self) -> None:
        self._pieces = iter(())


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes
    cuts: tuple[int, ...]

    def response(self) -> requests.Response:
        response = requests.Response()
        response.status_code = self.status
        response.headers = CaseInsensitiveDict({"Content-Type": self.content_type,
                                                "Content-Length": str(len(self.body))})
        response.url = URL
        response.encoding = "utf-8"
        bounds = (0, *sorted({cut % (len(self.body) + 1) for cut in self.cuts}), len(self.body))
        response.raw = ChunkedBody([self.body[a:b] for a, b in itertools.pairwise(bounds) if b > a])
        return response


def answers(bodies: st.SearchStrategy[bytes]) -> st.SearchStrategy[Answer]:
    return st.builds(Answer, st.sampled_from(STATUSES), st.sampled_from(CONTENT_TYPES), bodies,
                     st.lists(st.integers(0, 1 << 20), max_size=8).map(tuple))


def ends_well(call: Callable[[], object]) -> object:
    """The call's result, or None when it raised a typed error; any other exception fails the test."""
    try:
        result = call()
    except CucmSparkError as error:
        event(f"typed error: {type(error).__name__}")
        return None
    event("result")
    return result


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_a_streamed_sql_answer_ends_in_rows_or_a_typed_error(data: st.DataObject) -> None:
    source = data.draw(st.sampled_from(["executeSQLQuery", "executeSQLQuery", "fault"]))
    answer = data.draw(answers(body_for(real()[source])))
    columns = data.draw(st.sampled_from([COLUMNS, None, ("name",), ()]))

    result = ends_well(lambda: read_sql_answer(answer.response(), URL, 5.0, columns))

    assert result is None or isinstance(result, SqlAnswer)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(answer=answers(st.binary(max_size=4000)))
def test_arbitrary_bytes_as_a_streamed_sql_answer_end_in_a_typed_error_or_rows(answer: Answer) -> None:
    result = ends_well(lambda: read_sql_answer(answer.response(), URL, 5.0, COLUMNS))

    assert result is None or isinstance(result, SqlAnswer)


def test_the_real_sql_answer_in_one_byte_chunks_reads_its_rows() -> None:
    body = real()["executeSQLQuery"]
    whole = read_sql_answer(Answer(200, XML, body, ()).response(), URL, 5.0, COLUMNS)
    bytewise = read_sql_answer(Answer(200, XML, body, tuple(range(len(body)))).response(), URL, 5.0, COLUMNS)

    assert whole.rows and bytewise.rows == whole.rows


# -- the zeep path --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client() -> Iterator[AxlClient]:
    """One client for every example: loading the WSDL costs more than a hundred answers."""
    axl = AxlClient(Endpoint(URL), "axl-audit", "fuzz-Pa55", ClientOptions(read_attempts=1, max_backoff=0.0))
    yield axl
    axl.close()


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_a_zeep_answer_ends_in_a_value_or_a_typed_error(client: AxlClient, data: st.DataObject) -> None:
    operation = data.draw(st.sampled_from(sorted(CALLS)))
    source = data.draw(st.sampled_from([operation, operation, "fault"]))
    answer = data.draw(answers(body_for(real()[source])))
    client._transport.version = WSDL_VERSION  # a 599 example may have negotiated another version

    with responses.RequestsMock(assert_all_requests_are_fired=False) as served:
        served.add(responses.POST, URL, body=answer.body, status=answer.status, content_type=answer.content_type)
        ends_well(lambda: CALLS[operation](client))


def test_the_real_answers_read_through_zeep(client: AxlClient) -> None:
    client._transport.version = WSDL_VERSION
    with responses.RequestsMock() as served:
        for operation in ("getCCMVersion", "listPhone", "getPhone"):
            served.add(responses.POST, URL, body=real()[operation], status=200, content_type=XML)
        assert client.ccm_version().startswith("12.5.1")
        assert any(phone["name"] == "CTIRDJSMITH" for phone in CALLS["listPhone"](client))
        assert client.get("getPhone", name="CTIRDJSMITH")["name"] == "CTIRDJSMITH"


# -- the fault detail -----------------------------------------------------------------------------

XML_TEXT = st.text(st.one_of(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
                             st.sampled_from("\t\n\r")), max_size=60)  # what an XML element can hold
CODES = st.one_of(st.integers(-10**6, 10**6).map(str), st.sampled_from(["5007", "-239", "-1", "5004", "--5", "+7",
                                                                          "²", "٣", "1_000", " 12 ", "9" * 5000]),
                  XML_TEXT)
TOO_LARGE = st.builds("Query request too large. Total rows matched: {} rows. Suggestive Row Fetch: less than {} rows"
                      .format, st.sampled_from(["12", "٣٣", "9" * 5000, "0"]), st.sampled_from(["5", "9" * 5000, "²"]))


@st.composite
def details(draw: st.DrawFn) -> etree._Element | bytes | None:
    """A <detail> as zeep or lxml hand it over: axlError with any code and message, namespaced or not, or junk.

    zeep passes the whole answer as bytes when an HTTP 500 holds no SOAP Fault.
    """
    if draw(st.booleans()) and draw(st.booleans()):
        return draw(st.one_of(st.none(), st.binary(max_size=100)))
    namespace = draw(st.sampled_from(["", "{http://www.cisco.com/AXL/API/14.0}", "{urn:other}"]))
    detail = etree.Element(draw(st.sampled_from(["detail", f"{namespace}detail"])))
    error = etree.SubElement(detail, draw(st.sampled_from([f"{namespace}axlError", "axlError", "other"])))
    for child, values in (("axlcode", CODES), ("axlmessage", st.one_of(XML_TEXT, TOO_LARGE)), ("request", XML_TEXT)):
        if draw(st.integers(0, 4)):
            etree.SubElement(error, f"{namespace}{child}").text = draw(values)
    return detail


@given(message=st.one_of(XML_TEXT, TOO_LARGE, st.just("")), detail=details(),
       operation=st.sampled_from(["executeSQLQuery", "getUser", "listPhone", "addPhone", ""]))
def test_a_fault_detail_always_reads_into_a_typed_fault(message: str, detail: etree._Element | bytes | None,
                                                        operation: str) -> None:
    fault = fault_from_detail(message, detail, operation)

    assert isinstance(fault, AxlFault)
    assert fault.code is None or isinstance(fault.code, int)
