"""SOAP for the lab: safe request parsing, AXL faults, and answers written the way CUCM writes them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape

from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
AXL_NAMESPACE = re.compile(r"^http://www\.cisco\.com/AXL/API/(\d+\.\d+)$")

# No DTDs, no entities, no network: a request cannot make the parser expand or fetch anything.
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


class SoapFault(Exception):
    """An AXL fault to send back: HTTP 500 with Cisco's axlError detail."""

    def __init__(self, message: str, code: int = 5003, faultcode: str = "Client") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.faultcode = faultcode


class NotFoundFault(SoapFault):
    def __init__(self, what: str) -> None:
        super().__init__(f"Item not valid: The specified {what} was not found", code=5007)


class DuplicateFault(SoapFault):
    def __init__(self) -> None:
        super().__init__(
            "Could not insert new row - duplicate value in a UNIQUE INDEX column (Unique Index:).",
            code=-239,
        )


class TooLargeFault(SoapFault):
    def __init__(self, total_rows: int, suggested_rows: int) -> None:
        super().__init__(
            f"Query request too large. Total rows matched: {total_rows} rows. "
            f"Suggestive Row Fetch: less than {suggested_rows} rows",
            code=-1,
            faultcode="Server",
        )


@dataclass(frozen=True)
class Request:
    """One AXL request: its operation, the schema version it was written for, its element."""

    operation: str
    version: str
    body: etree._Element


def parse_request(payload: bytes) -> Request:
    """Find the operation element in a SOAP 1.1 envelope, refusing anything else as a Client fault."""
    try:
        root = etree.fromstring(payload, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise SoapFault(f"Unable to parse the request: {exc}") from exc
    if root.getroottree().docinfo.doctype:
        raise SoapFault("Document type declarations are not allowed")
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SoapFault("The request is not a SOAP 1.1 envelope")
    body = root.find(f"{{{SOAP_ENV}}}Body")
    operation = next((child for child in body if isinstance(child.tag, str)), None) if body is not None else None
    if operation is None:
        raise SoapFault("The SOAP body holds no operation")
    qname = etree.QName(operation)
    match = AXL_NAMESPACE.match(qname.namespace or "")
    if not match:
        raise SoapFault(f"{qname.localname} is not in an AXL namespace")
    return Request(qname.localname, match.group(1), operation)


def text(element: etree._Element | None) -> str | None:
    """An element's text, or None when it is absent or xsi:nil."""
    if element is None or element.get(XSI_NIL) in ("true", "1"):
        return None
    return (element.text or "").strip()


def child(element: etree._Element, name: str) -> etree._Element | None:
    """The first child with this local name, whatever namespace the client put on it."""
    for item in element:
        if isinstance(item.tag, str) and etree.QName(item).localname == name:
            return item
    return None


def children(element: etree._Element | None, name: str) -> list[etree._Element]:
    if element is None:
        return []
    return [item for item in element if isinstance(item.tag, str) and etree.QName(item).localname == name]


def value(element: etree._Element, name: str) -> str | None:
    return text(child(element, name))


def required(element: etree._Element, name: str) -> str:
    found = value(element, name)
    if found is None or found == "":
        raise SoapFault(f"{etree.QName(element).localname}: element {name} is required")
    return found


def integer(element: etree._Element, name: str, minimum: int = 0) -> int | None:
    raw = value(element, name)
    if raw is None or raw == "":
        return None
    if not re.fullmatch(r"[+-]?\d+", raw) or int(raw) < minimum:
        raise SoapFault(f"{name}: {raw!r} is not a valid integer here")
    return int(raw)


def boolean(element: etree._Element, name: str) -> bool | None:
    raw = value(element, name)
    if raw is None or raw == "":
        return None
    if raw.lower() not in ("true", "false", "t", "f", "1", "0"):
        raise SoapFault(f"{name}: {raw!r} is not a boolean")
    return raw.lower() in ("true", "t", "1")


def envelope(operation: str, version: str, inner: str) -> bytes:
    """A response envelope in CUCM's shape around already-rendered inner XML."""
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body>'
        f'<ns:{operation}Response xmlns:ns="http://www.cisco.com/AXL/API/{version}">'
        f"{inner}</ns:{operation}Response></soapenv:Body></soapenv:Envelope>"
    ).encode()


def fault_envelope(fault: SoapFault, operation: str) -> bytes:
    message = escape(fault.message)
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>soapenv:{fault.faultcode}</faultcode><faultstring>{message}</faultstring>"
        f"<detail><axlError><axlcode>{fault.code}</axlcode><axlmessage>{message}</axlmessage>"
        f"<request>{escape(operation)}</request></axlError></detail>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    ).encode()


def tag(name: str, content: object, attrs: str = "") -> str:
    """<name attrs>escaped content</name>; None renders as an empty element."""
    if content is None:
        return f"<{name}{attrs}/>"
    return f"<{name}{attrs}>{escape(str(content))}</{name}>"


def fk_tag(name: str, fk_name: str | None, fk_pkid: str | None) -> str:
    """An XFkType element: the referenced name, with its uuid attribute as CUCM sends it."""
    if fk_name is None:
        return f"<{name}/>"
    return tag(name, fk_name, f' uuid="{{{str(fk_pkid).upper()}}}"')


def braced(pkid: str) -> str:
    """CUCM shows pkids to AXL clients upper case, in braces."""
    return "{" + pkid.upper() + "}"


def unbrace(uuid: str) -> str:
    return uuid.strip().strip("{}").lower()
