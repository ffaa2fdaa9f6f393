"""Read a SOAP fault's axlError detail into the matching typed exception."""

from __future__ import annotations

import re

from lxml import etree

from cucm_spark.errors import AnswerTooLarge, AxlFault, Duplicate, NotFound, SqlRefused

_TOO_LARGE = re.compile(
    r"Total rows matched:\s*(?P<total>\d+)\s*rows.*?less than\s*(?P<suggested>\d+)\s*rows", re.S
)


def fault_from_detail(faultstring: str, detail: etree._Element | None, operation: str) -> AxlFault:
    """The typed fault for an axlError (or a bare faultstring when the detail is missing)."""
    code, message, request = None, faultstring or "AXL fault", operation
    if detail is not None:
        error = next(detail.iter("{*}axlError", "axlError"), None)
        if error is not None:
            code_text = error.findtext("{*}axlcode") or error.findtext("axlcode")
            code = int(code_text) if code_text and code_text.lstrip("-").isdigit() else None
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
