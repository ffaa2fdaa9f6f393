"""HTTP for AXL: one requests session, the schema version on the wire, and HTTP errors made ours.

zeep renders and parses SOAP with the project's WSDL, written for schema 14.0. This
transport puts the negotiated version on each request (namespace and SOAPAction) and
turns answers back into 14.0 for zeep, so one WSDL serves every version a cluster takes.
Every requests exception and every non-SOAP HTTP answer becomes a typed AxlError here.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import requests
import urllib3
from zeep.transports import Transport

from cucm_spark.errors import AuthError, MalformedAnswer, Throttled, TransportError, VersionRefused

WSDL_VERSION = "14.0"
_NAMESPACE = "http://www.cisco.com/AXL/API/{}"
_SUPPORTED = re.compile(r"\d+\.\d+")

RequestObserver = Callable[[str, bytes], None]

# urllib3 2 names a failed lookup NameResolutionError; urllib3 1.26 only says so in the message.
_NAME_RESOLUTION_ERROR = getattr(urllib3.exceptions, "NameResolutionError", ())
_UNKNOWN_HOST = ("failed to resolve", "name or service not known", "nodename nor servname", "no address associated",
                 "getaddrinfo failed")


def translate_requests_error(exc: requests.RequestException, url: str, timeout: float) -> TransportError:
    """One clear line for each way the road to the cluster can fail."""
    if isinstance(exc, requests.exceptions.SSLError):
        return TransportError(
            f"TLS failed for {url}: the certificate is not trusted ({_reason(exc)}); "
            "pass --ca-bundle FILE, or --insecure to skip verification"
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return TransportError(f"no answer from {url} within {timeout:g} s")
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return TransportError(f"connection to {url} dropped in the middle of the answer")
    if isinstance(exc, requests.exceptions.ConnectionError):
        return TransportError(f"cannot reach {url}: {_reason(exc)}")
    return TransportError(f"request to {url} failed: {_reason(exc)}")


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

    def __init__(self, session: requests.Session, timeout: float, observer: RequestObserver | None = None) -> None:
        super().__init__(session=session, timeout=timeout, operation_timeout=timeout)
        self.version = WSDL_VERSION
        self.observer = observer

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
        """POST, then refuse every answer that is not SOAP with the matching typed error."""
        try:
            response = self._post(address, body, headers, stream=False)
            response.content  # noqa: B018 - read it all now, so a dropped connection fails here
        except requests.RequestException as exc:
            raise translate_requests_error(exc, address, self.operation_timeout) from exc
        check_status(response, address)
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
        raise VersionRefused(f"{address}: {text.strip()[:200]}", supported)
    if status == 503:
        raise Throttled(f"{address} is busy (HTTP 503): too many requests")
    content_type = response.headers.get("Content-Type", "")
    start = response.content[:512] if head is None else head[:512]
    if status in (200, 500) and "xml" in content_type and b"Envelope" in start:
        return
    shown = (response.text if head is None else head.decode("utf-8", "replace"))[:120].replace("\n", " ").strip()
    raise MalformedAnswer(f"{address} answered HTTP {status} with {content_type or 'no type'}, not SOAP: {shown!r}")


def _ns(version: str) -> str:
    return _NAMESPACE.format(version) + '"'


def _operation(headers: dict[str, str]) -> str:
    action = headers.get("SOAPAction", "").strip('"')
    return action.rsplit(" ", 1)[-1] if action else ""
