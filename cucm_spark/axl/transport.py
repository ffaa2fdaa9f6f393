"""HTTP for AXL: one requests session, the schema version on the wire, and HTTP errors made ours.

zeep renders and parses SOAP with the project's WSDL, written for schema 14.0. This
transport puts the negotiated version on each request (namespace and SOAPAction) and
turns answers back into 14.0 for zeep, so one WSDL serves every version a cluster takes.
Every requests exception and every non-SOAP HTTP answer becomes a typed AxlError here,
and so does an answer no cluster sends: larger than ``ANSWER_CAP_BYTES``, not well-formed
XML (zeep's lenient parser would recover a truncated answer into a shorter one), or
declaring a DTD (the door to entity bombs and external entities).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import requests
import urllib3
from lxml import etree
from zeep.transports import Transport

from cucm_spark.errors import AuthError, MalformedAnswer, Throttled, TransportError, VersionRefused

WSDL_VERSION = "14.0"
_NAMESPACE = "http://www.cisco.com/AXL/API/{}"
_SUPPORTED = re.compile(r"\d+\.\d+")

RequestObserver = Callable[[str, bytes], None]

# CUCM never sends an answer over 8 MB: it faults and suggests fewer rows instead. An
# answer past eight times that is not AXL but a broken proxy or a hostile server, and is
# refused once that much has arrived, before it can fill the memory. ClientOptions may
# set another cap.
ANSWER_CAP_BYTES = 64 * 1024 * 1024
CHUNK_BYTES = 256 * 1024
_BEYOND_CUCM = "CUCM never sends more than 8 MB"
_SOAP_BODY = "{http://schemas.xmlsoap.org/soap/envelope/}Body"
# How every answer is parsed: no DTD loaded, no entity expanded, nothing fetched; large
# texts allowed (the answer cap bounds them). lxml's parsers do not recover by default.
SAFE_PARSING = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": True}

# urllib3 2 names a failed lookup NameResolutionError; urllib3 1.26 only says so in the message.
_NAME_RESOLUTION_ERROR = getattr(urllib3.exceptions, "NameResolutionError", ())
# OpenSSL's X509_V_ERR_CERT_HAS_EXPIRED, and X509_V_ERR_HOSTNAME_MISMATCH / _IP_ADDRESS_MISMATCH.
_CERT_HAS_EXPIRED = 10
_NAME_MISMATCH = (62, 64)
_UNKNOWN_HOST = ("failed to resolve", "name or service not known", "nodename nor servname", "no address associated",
                 "getaddrinfo failed")


def translate_requests_error(exc: requests.RequestException, url: str, timeout: float) -> TransportError:
    """One clear line for each way the road to the cluster can fail."""
    if isinstance(exc, requests.exceptions.SSLError):
        return TransportError(f"TLS failed for {url}: {_tls_trouble(exc)}")
    if isinstance(exc, requests.exceptions.Timeout):
        return TransportError(f"no answer from {url} within {timeout:g} s")
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return TransportError(f"connection to {url} dropped in the middle of the answer")
    if isinstance(exc, requests.exceptions.ConnectionError):
        return TransportError(f"cannot reach {url}: {_reason(exc)}")
    return TransportError(f"request to {url} failed: {_reason(exc)}")


def _tls_trouble(exc: requests.exceptions.SSLError) -> str:
    """What is wrong with the certificate, and the way out that fits: a CA bundle only helps an unknown issuer."""
    reason = _reason(exc)
    code = getattr(_innermost(exc), "verify_code", None)
    if code == _CERT_HAS_EXPIRED:
        return "the certificate has expired; renew it on the cluster, or pass --insecure to skip verification"
    if code in _NAME_MISMATCH:
        return (f"the certificate is for another host ({reason}); connect by a name it holds, "
                "or pass --insecure to skip verification")
    return f"the certificate is not trusted ({reason}); pass --ca-bundle FILE, or --insecure to skip verification"


def is_retryable(error: BaseException) -> bool:
    """Whether another attempt may succeed: a busy node or a network hiccup, not a refused identity.

    A certificate that is not trusted, or a host name that does not exist, stays so however
    often it is asked; retrying them only delays the one clear error the user needs.
    """
    if isinstance(error, Throttled):
        return True
    if not isinstance(error, TransportError):
        return False
    cause = error.__cause__
    if isinstance(cause, requests.exceptions.SSLError):
        return False
    reason = _innermost(cause) if cause is not None else error
    text = str(reason).lower()
    if "temporary failure" in text:  # EAI_AGAIN: the resolver may answer next time
        return True
    return not (isinstance(reason, _NAME_RESOLUTION_ERROR) or any(words in text for words in _UNKNOWN_HOST))


def _innermost(exc: BaseException) -> BaseException:
    """The real trouble inside requests' and urllib3's wrappers (MaxRetryError.reason, args)."""
    reason = exc
    while True:
        inner = getattr(reason, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((arg for arg in reversed(reason.args) if isinstance(arg, BaseException)), None)
        if inner is None or inner is reason:
            return reason
        reason = inner


def _reason(exc: BaseException) -> str:
    """The innermost cause's message, without urllib3's pool and connection descriptions.

    requests wraps urllib3's MaxRetryError, whose ``reason`` is the real trouble
    (NewConnectionError, NameResolutionError, SSLError(SSLCertVerificationError(...))).
    """
    reason = _innermost(exc)
    verify_message = getattr(reason, "verify_message", None)
    text = str(verify_message or (reason.args[-1] if isinstance(reason, OSError) and reason.args else reason))
    text = re.sub(r"^\w+\(host='[^']*', port=\d+\):\s*", "", text)  # "HTTPSConnection(host=..., port=...): "
    text = re.sub(r"<urllib3[^>]*>:\s*", "", text)
    text = re.sub(r"\s*\(_ssl\.c:\d+\)", "", text)
    return text.strip() or type(reason).__name__


class AxlTransport(Transport):
    """zeep's transport over our session, speaking the negotiated AXL version."""

    def __init__(self, session: requests.Session, timeout: float, observer: RequestObserver | None = None,
                 max_answer_bytes: int = ANSWER_CAP_BYTES) -> None:
        super().__init__(session=session, timeout=timeout, operation_timeout=timeout)
        self.version = WSDL_VERSION
        self.observer = observer
        self.max_answer_bytes = max_answer_bytes

    def post(self, address: str, message: bytes | str, headers: dict[str, str]) -> requests.Response:
        body, headers = self.outgoing(message, headers)
        response = self.send(address, body, headers)
        if self.version != WSDL_VERSION:
            response._content = response.content.replace(
                _ns(self.version).encode(), _ns(WSDL_VERSION).encode()
            )
        return response

    def outgoing(self, message: bytes | str, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        """The body and headers as they go on the wire: negotiated version, SOAPAction, observed."""
        body = message.encode() if isinstance(message, str) else message
        operation = _operation(headers)
        if self.version != WSDL_VERSION:
            body = body.replace(_ns(WSDL_VERSION).encode(), _ns(self.version).encode())
        headers = {**headers, "SOAPAction": f'"CUCM:DB ver={self.version} {operation}"'}
        if self.observer:
            self.observer(operation, body)
        return body, headers

    def send(self, address: str, body: bytes, headers: dict[str, str]) -> requests.Response:
        """POST, read the answer within the cap, then refuse every answer that is not well-formed SOAP."""
        try:
            response = self._post(address, body, headers, stream=True)
        except requests.RequestException as exc:
            raise translate_requests_error(exc, address, self.operation_timeout) from exc
        try:
            response._content = read_answer(response, address, self.operation_timeout, self.max_answer_bytes)
            response._content_consumed = True
        finally:
            response.close()
        check_status(response, address)
        require_well_formed(response.content, _operation(headers))
        return response

    def open_stream(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        """POST like ``post``, but leave the answer unread: the caller reads it in chunks.

        Only the status line and headers have arrived when this returns. The caller
        checks the answer with ``check_status`` (passing the first bytes it read) and
        must close the response.
        """
        body, headers = self.outgoing(message, headers)
        try:
            return self._post(address, body, headers, stream=True)
        except requests.RequestException as exc:
            raise translate_requests_error(exc, address, self.operation_timeout) from exc

    def _post(self, address: str, body: bytes, headers: dict[str, str], stream: bool) -> requests.Response:
        # verify passed on each call: a session's own verify loses to $REQUESTS_CA_BUNDLE (requests#3829)
        return self.session.post(address, data=body, headers=headers, timeout=self.operation_timeout,
                                 verify=self.session.verify, stream=stream)


def check_status(response: requests.Response, address: str, head: bytes | None = None) -> None:
    """Raise the typed error for every answer that is not SOAP (``head``: the first bytes, when streaming)."""
    status = response.status_code
    if status == 401:
        raise AuthError(f"{address} refused the credentials (HTTP 401): check the user name and password")
    if status == 403:
        raise AuthError(f"{address} denied access (HTTP 403): the user lacks an AXL API access role")
    if status == 599:
        text = response.text
        supported = tuple(_SUPPORTED.findall(text.split("are", 1)[-1]))
        raise VersionRefused(f"{address}: {' '.join(text.split())[:200]}", supported)
    if status == 503:
        raise Throttled(f"{address} is busy (HTTP 503): too many requests")
    content_type = response.headers.get("Content-Type", "")
    start = response.content[:512] if head is None else head[:512]
    if b"<!DOCTYPE" in start:
        raise MalformedAnswer(dtd_refused(address))
    if status in (200, 500) and "xml" in content_type and b"Envelope" in start:
        return
    shown = (response.text if head is None else head.decode("utf-8", "replace"))[:120].replace("\n", " ").strip()
    raise MalformedAnswer(f"{address} answered HTTP {status} with {content_type or 'no type'}, not SOAP: {shown!r}")


def answer_chunks(response: requests.Response, address: str, timeout: float, limit: int,
                  chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The answer's bytes as they arrive, never more than ``limit`` of them.

    An answer that declares or reaches more is a MalformedAnswer (the rest is never read);
    a connection cut short is a TransportError.
    """
    declared = response.headers.get("Content-Length", "")
    expected = int(declared) if declared.isdigit() and not response.headers.get("Content-Encoding") else None
    if expected is not None and expected > limit:
        raise MalformedAnswer(f"{address}: the answer declares {_mb(expected)}, over the {_mb(limit)} cap "
                              f"({_BEYOND_CUCM}); refused unread")
    received = 0
    try:
        for chunk in response.iter_content(chunk_bytes):
            received += len(chunk)
            if received > limit:
                raise MalformedAnswer(f"{address}: the answer went on past {_mb(limit)} ({_BEYOND_CUCM}); "
                                      "stopped reading it")
            yield chunk
    except requests.RequestException as exc:
        raise translate_requests_error(exc, address, timeout) from exc
    if expected is not None and received < expected:
        # urllib3 1.26 ends the stream quietly where 2.x raises IncompleteRead.
        raise TransportError(f"connection to {address} dropped in the middle of the answer")


def read_answer(response: requests.Response, address: str, timeout: float, limit: int) -> bytes:
    """The whole answer, as ``answer_chunks`` lets it through."""
    return b"".join(answer_chunks(response, address, timeout, limit))


def _mb(size: int) -> str:
    return f"{size / 2**20:.0f} MB"


def require_well_formed(content: bytes, operation: str) -> None:
    """Refuse an answer that is not well-formed XML, or that declares a DTD, before zeep reads it."""
    try:
        root = etree.fromstring(content, etree.XMLParser(**SAFE_PARSING))
    except etree.XMLSyntaxError as exc:
        raise MalformedAnswer(f"{operation}: the answer is not readable SOAP ({exc})") from exc
    refuse_dtd(root, operation)
    if root.find(_SOAP_BODY) is None:  # zeep would stumble on it with a TypeError
        raise MalformedAnswer(f"{operation}: the answer is not a SOAP envelope with a Body")


def refuse_dtd(element: etree._Element, where: str) -> None:
    """A MalformedAnswer when the document holding ``element`` declares a DTD (and so maybe entities)."""
    if element.getroottree().docinfo.doctype:
        raise MalformedAnswer(dtd_refused(where))


def dtd_refused(where: str) -> str:
    return f"{where}: the answer declares a DTD or XML entities, which AXL never does; refused unread"


def _ns(version: str) -> str:
    return _NAMESPACE.format(version) + '"'


def _operation(headers: dict[str, str]) -> str:
    action = headers.get("SOAPAction", "").strip('"')
    return action.rsplit(" ", 1)[-1] if action else ""
