"""fault_from_detail: Cisco's axlError detail read into the matching typed exception."""

from __future__ import annotations

from lxml import etree

from cucm_spark.axl.faults import fault_from_detail
from cucm_spark.errors import AnswerTooLarge, AxlFault, Duplicate, NotFound, SqlRefused


def detail(code: str, message: str, request: str = "getUser") -> etree._Element:
    return etree.fromstring(
        f"<detail><axlError><axlcode>{code}</axlcode><axlmessage>{message}</axlmessage>"
        f"<request>{request}</request></axlError></detail>"
    )


def test_5007_is_not_found_and_keeps_cisco_message_and_code() -> None:
    fault = fault_from_detail("x", detail("5007", "Item not valid: The specified User was not found"), "getUser")

    assert type(fault) is NotFound
    assert fault.code == 5007
    assert fault.request == "getUser"
    assert str(fault) == "getUser: Item not valid: The specified User was not found (axlcode 5007)"


def test_minus_239_is_duplicate() -> None:
    message = "Could not insert new row - duplicate value in a UNIQUE INDEX column (Unique Index:)."
    fault = fault_from_detail(message, detail("-239", message, "addPhone"), "addPhone")

    assert type(fault) is Duplicate
    assert fault.code == -239


def test_minus_1_too_large_reads_total_and_suggested_rows() -> None:
    message = ("Query request too large. Total rows matched: 2816 rows. "
               "Suggestive Row Fetch: less than 844 rows")
    fault = fault_from_detail(message, detail("-1", message, "listPhone"), "listPhone")

    assert isinstance(fault, AnswerTooLarge)
    assert (fault.total_rows, fault.suggested_rows) == (2816, 844)


def test_minus_1_without_the_row_figures_is_a_plain_fault() -> None:
    fault = fault_from_detail("boom", detail("-1", "Some other Informix trouble", "listPhone"), "listPhone")

    assert type(fault) is AxlFault
    assert fault.code == -1


def test_sql_not_permitted_is_sql_refused_only_for_execute_sql_query() -> None:
    message = "Access to executeSQLQuery is not permitted for this user"
    assert type(fault_from_detail(message, detail("5004", message, "executeSQLQuery"), "executeSQLQuery")) is (
        SqlRefused)
    assert type(fault_from_detail(message, detail("5004", message, "getUser"), "getUser")) is AxlFault


def test_a_fault_without_detail_keeps_the_faultstring() -> None:
    fault = fault_from_detail("Unknown operation listThing", None, "listThing")

    assert type(fault) is AxlFault
    assert fault.code is None
    assert str(fault) == "listThing: Unknown operation listThing"


def test_a_namespaced_axl_error_is_read_too() -> None:
    namespaced = etree.fromstring(
        '<detail><ns:axlError xmlns:ns="http://www.cisco.com/AXL/API/14.0"><ns:axlcode>5007</ns:axlcode>'
        "<ns:axlmessage>Item not valid: The specified Phone was not found</ns:axlmessage>"
        "<ns:request>getPhone</ns:request></ns:axlError></detail>"
    )
    fault = fault_from_detail("x", namespaced, "getPhone")

    assert type(fault) is NotFound
    assert "Phone was not found" in str(fault)


def test_a_non_numeric_code_is_kept_as_none_not_an_error() -> None:
    fault = fault_from_detail("x", detail("abc", "strange"), "getUser")

    assert type(fault) is AxlFault
    assert fault.code is None
