"""Validate AXL request bodies against Cisco's official AXL 14.0 schema.

The official schema (WSDL + XSDs) is not part of the project; it lives next to the
repository in ``../shared/axl-schema/14.0`` (or wherever the environment variable
``CUCM_SPARK_OFFICIAL_SCHEMA`` points). Tests that need it call
:func:`require_official_schema` first, which skips them when it is absent.

Usage::

    from support.official_schema import require_official_schema, validate_body

    require_official_schema()
    envelope = client.create_message(client.service, "getPhone", name="SEP1")
    validate_body(envelope)          # raises AssertionError with lxml's error log
"""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path

import pytest
from lxml import etree

ENV_VAR = "CUCM_SPARK_OFFICIAL_SCHEMA"
AXL_NS = "http://www.cisco.com/AXL/API/14.0"
SOAP_ENVELOPE_NAMESPACES = (
    "http://schemas.xmlsoap.org/soap/envelope/",  # SOAP 1.1
    "http://www.w3.org/2003/05/soap-envelope",  # SOAP 1.2
)

# tests/support/official_schema.py -> parents[2] is the repository root
_REPO_ROOT = Path(__file__).resolve().parents[2]
_DEFAULT_DIR = _REPO_ROOT.parent / "shared" / "axl-schema" / "14.0"


def _official_dir() -> Path:
    override = os.environ.get(ENV_VAR)
    return Path(override).expanduser().resolve() if override else _DEFAULT_DIR


OFFICIAL_DIR: Path = _official_dir()


def official_wsdl_path() -> Path:
    """Path of Cisco's AXLAPI.wsdl (it may not exist: see official_schema_available)."""
    return _official_dir() / "AXLAPI.wsdl"


def official_xsd_path() -> Path:
    return _official_dir() / "AXLSoap.xsd"


def official_schema_available() -> bool:
    return official_wsdl_path().is_file() and official_xsd_path().is_file()


def require_official_schema() -> None:
    """Skip the calling test when Cisco's schema is not on this machine."""
    if not official_schema_available():
        reason = (
            f"Cisco's official AXL 14.0 schema not found in {_official_dir()} "
            f"(expected AXLAPI.wsdl and AXLSoap.xsd; set {ENV_VAR} to its folder)"
        )
        print(f"SKIP: {reason}")
        pytest.skip(reason)


@functools.cache
def _compiled_schema(xsd_path: str) -> etree.XMLSchema:
    # AXLSoap.xsd is 3.7 MB: compile once per process.
    parser = etree.XMLParser(huge_tree=True, remove_comments=True)
    return etree.XMLSchema(etree.parse(xsd_path, parser))


def official_schema() -> etree.XMLSchema:
    """The compiled official AXLSoap.xsd (cached)."""
    require_official_schema()
    return _compiled_schema(str(official_xsd_path()))


def body_child(element_or_envelope: bytes | str | etree._Element) -> etree._Element:
    """Return the AXL element: the Body's first child for an envelope, else the element."""
    if isinstance(element_or_envelope, str):
        element_or_envelope = element_or_envelope.encode()
    if isinstance(element_or_envelope, bytes):
        parser = etree.XMLParser(huge_tree=True, remove_blank_text=True)
        element = etree.fromstring(element_or_envelope, parser)
    else:
        element = element_or_envelope
    qname = etree.QName(element)
    if qname.localname == "Envelope" and qname.namespace in SOAP_ENVELOPE_NAMESPACES:
        body = element.find(f"{{{qname.namespace}}}Body")
        if body is None:
            raise AssertionError("SOAP envelope has no Body")
        children = [c for c in body if isinstance(c.tag, str)]
        if not children:
            raise AssertionError("SOAP Body is empty")
        element = children[0]
    return element


def _is_empty_returned_tag(root: etree._Element, path: str | None) -> bool:
    """True if `path` (from lxml's error log) names an empty element under returnedTags."""
    if not path or "/returnedTags/" not in path:
        return False
    namespaces = {k: v for k, v in root.nsmap.items() if k}
    try:
        found = root.getroottree().xpath(path, namespaces=namespaces)
    except etree.XPathError:
        return False
    return bool(found) and all(
        isinstance(e, etree._Element) and len(e) == 0 and not (e.text or "").strip() for e in found
    )


# libxml2 error types raised by an empty value in an element with a pattern facet
_EMPTY_VALUE_ERRORS = {
    "SCHEMAV_CVC_PATTERN_VALID",
    "SCHEMAV_CVC_DATATYPE_VALID_1_2_1",
    "SCHEMAV_CVC_ENUMERATION_VALID",
}


def schema_errors(
    schema: etree.XMLSchema,
    element: etree._Element,
    *,
    allow_empty_returned_tags: bool = True,
) -> list[str]:
    """Validate a standalone AXL element with any schema; return the error lines.

    ``returnedTags`` lists the wanted fields as empty elements, and CUCM accepts that for
    every field; but Cisco's XSD types AXL booleans with a pattern that rejects "", so
    ``<returnedTags><enableCti/></returnedTags>`` is formally invalid. With
    ``allow_empty_returned_tags`` (the default) only that exact case is forgiven: a value
    error on an empty leaf element below ``returnedTags``. Everything else (order,
    cardinality, unknown elements, non-empty values) still counts.
    """
    if schema.validate(element):
        return []
    return [
        f"  {e.path}: {e.message} [{e.type_name}]"
        for e in schema.error_log
        if not (
            allow_empty_returned_tags
            and e.type_name in _EMPTY_VALUE_ERRORS
            and _is_empty_returned_tag(element, e.path)
        )
    ]


def validate_body(
    element_or_envelope: bytes | str | etree._Element,
    *,
    allow_empty_returned_tags: bool = True,
) -> etree._Element:
    """Assert that an AXL request (or response) element is valid under Cisco's schema.

    Accepts a whole SOAP envelope (bytes, str or element) or the AXL element itself.
    Returns the validated (copied) AXL element. See :func:`schema_errors` for
    ``allow_empty_returned_tags``.
    """
    require_official_schema()
    element = copy.deepcopy(body_child(element_or_envelope))  # validate as its own root
    qname = etree.QName(element)
    if qname.namespace != AXL_NS:
        raise AssertionError(f"not an AXL 14.0 element: {element.tag}")
    errors = schema_errors(
        official_schema(), element, allow_empty_returned_tags=allow_empty_returned_tags
    )
    if errors:
        log = "\n".join(errors)
        xml = etree.tostring(element, pretty_print=True).decode()
        raise AssertionError(
            f"<{qname.localname}> is not valid under Cisco's AXL 14.0 schema "
            f"({official_xsd_path()}):\n{log}\n--- element ---\n{xml}"
        )
    return element
