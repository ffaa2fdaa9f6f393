"""Read a SOAP fault's axlError detail into the matching typed exception."""

from __future__ import annotations

import re

from lxml import etree

from cucm_spark.errors import AnswerTooLarge, AxlFault, Duplicate, NotFound, SqlRefused

# Numbers as CUCM writes them: ASCII digits, and not so many that int() refuses them.
_TOO_LARGE = re.compile(
    r"Total rows matched:\s*(?P<total>[0-9]{1,15})\s*rows.*?less than\s*(?P<suggested>[0-9]{1,15})\s*rows", re.S
)
_CODE = re.compile(r"-?[0-9]{1,10}")


def fault_from_detail(faultstring: str, detail: etree._Element | bytes | None, operation: str) -> AxlFault:
    """The typed fault for an axlError (or a bare faultstring when the detail is missing or not XML).

    zeep hands over the whole answer as bytes, not an element, for an HTTP 500 without a
    SOAP Fault: that is no detail to read.
    """
    code, message, request = None, faultstring or "AXL fault", operation
    if isinstance(detail, etree._Element):
        error = next(detail.iter("{*}axlError", "axlError"), None)
        if error is not None:
            code = _code(error.findtext("{*}axlcode") or error.findtext("axlcode"))
            message = (error.findtext("{*}axlmessage") or error.findtext("axlmessage") or message).strip()
            request = error.findtext("{*}request") or error.findtext("request") or operation
    text = f"{operation}: {message}" + (f" (axlcode {code})" if code is not None else "")
    if code == 5007:
        return NotFound(text, code, request)
    if code == -239:
        return Duplicate(text, code, request)
    too_large = _TOO_LARGE.search(message)
    if code == -1 and too_large:
        return AnswerTooLarge(text, code, request, int(too_large["total"]), int(too_large["suggested"]))
    if operation == "executeSQLQuery" and (code == 5004 or "not permitted" in message.lower()):
        return SqlRefused(text, code, request)
    return AxlFault(text, code, request)


def _code(text: str | None) -> int | None:
    """The axlcode as a number; None when it is missing or not one."""
    match = _CODE.fullmatch(text.strip()) if text else None
    return int(match.group()) if match else None
