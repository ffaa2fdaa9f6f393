"""A loopback server that answers AXL requests with canned, hostile bodies, for the bad-input tests.

It answers getCCMVersion like a 14.0 cluster (unless told otherwise), so an audit gets
past its first call and meets the hostile body where the test wants it: on the zeep
path (any operation but executeSQLQuery) or on the streamed SQL path. It tells the
operation by the SOAPAction header, as CUCM does, and counts the bytes it managed to
send, so a test can prove the client stopped reading a huge answer early.

``listening()`` is a server that only records what reaches it: the target of an
external entity, to prove the client never fetched it.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

MB = 1024 * 1024
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XML = "text/xml; charset=utf-8"


def envelope(operation: str, inner: str, prolog: str = "") -> bytes:
    """A 14.0 answer envelope around ``inner``; ``prolog`` goes between the XML declaration and the root."""
    return (
        f"<?xml version='1.0' encoding='UTF-8'?>{prolog}"
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body>'
        f'<ns:{operation}Response xmlns:ns="http://www.cisco.com/AXL/API/14.0">{inner}'
        f"</ns:{operation}Response></soapenv:Body></soapenv:Envelope>"
    ).encode()


CCM_VERSION = envelope("getCCMVersion", "<return><componentVersion><version>14.0.1.10000(20)</version>"
                                        "</componentVersion></return>")


@dataclass(frozen=True)
class Answer:
    """One canned HTTP answer.

    ``declared`` is the Content-Length sent (default: the body's length). With
    ``endless`` the body is followed by filler until the client hangs up, and no
    Content-Length is sent unless ``declared`` names one: the answer ends when the
    connection does, which only the client can make happen.
    """

    body: bytes
    status: int = 200
    content_type: str = XML
    declared: int | None = None
    endless: bool = False


@dataclass
class Record:
    """What the server saw and did: the operations asked for, the bytes of answer sent."""

    operations: list[str] = field(default_factory=list)
    bytes_sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, operation: str, sent: int) -> None:
        with self.lock:
            self.operations.append(operation)
            self.bytes_sent += sent


FILLER = b"<row><u>" + b"x" * (MB - 16) + b"</u></row>"


class _HostileHandler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.0: an answer without Content-Length ends when the connection closes."""

    server: _HostileHTTPServer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        operation = self.headers.get("SOAPAction", "").strip('"').rpartition(" ")[2]
        answer = self.server.answers.get(operation) or self.server.answers["*"]
        sent = 0
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            length = answer.declared if answer.declared is not None else None if answer.endless else len(answer.body)
            if length is not None:
                self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.write(answer.body)
            sent = len(answer.body)
            while answer.endless:
                self.wfile.write(FILLER)
                sent += len(FILLER)
        except OSError:
            pass  # the client hung up: what it refused to read is the point
        finally:
            self.server.record.add(operation, sent)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _HostileHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    answers: Mapping[str, Answer]
    record: Record


@dataclass(frozen=True)
class HostileServer:
    url: str
    record: Record


@contextmanager
def hostile_server(answer: Answer, operation: str = "*") -> Iterator[HostileServer]:
    """A server giving ``answer`` to ``operation`` (every operation with "*"), a 14.0 getCCMVersion otherwise."""
    answers = {"*": answer, operation: answer}
    if operation != "getCCMVersion":
        answers["getCCMVersion"] = Answer(CCM_VERSION)
    with _serving(_HostileHandler, answers=answers) as (server, url):
        yield HostileServer(f"{url}/axl/", server.record)


class _ListeningHandler(http.server.BaseHTTPRequestHandler):
    server: _HostileHTTPServer

    def _record(self) -> None:
        self.server.record.add(f"{self.command} {self.path}", 0)
        self.send_error(404)

    do_GET = do_POST = _record

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def listening() -> Iterator[HostileServer]:
    """A server that records every request it gets and answers 404: ``record.operations`` lists them."""
    with _serving(_ListeningHandler) as (server, url):
        yield HostileServer(url, server.record)


@contextmanager
def _serving(handler: type[http.server.BaseHTTPRequestHandler], **attributes: object
             ) -> Iterator[tuple[_HostileHTTPServer, str]]:
    server = _HostileHTTPServer(("127.0.0.1", 0), handler)
    server.record = Record()
    for name, value in attributes.items():
        setattr(server, name, value)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
