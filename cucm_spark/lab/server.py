"""The lab's HTTP(S) front: Basic auth, version checks, throttling, faults, then the operation."""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import logging
import re
import socket
import sqlite3
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cucm_spark.lab.context import ANSWER_LIMIT_BYTES, LabContext
from cucm_spark.lab.faults import FaultInjector, FaultRule, FaultRuleError
from cucm_spark.lab.operations import OPERATIONS, WRITES
from cucm_spark.lab.release import LabRelease
from cucm_spark.lab.soap import DuplicateFault, Request, SoapFault, envelope, fault_envelope, parse_request
from cucm_spark.lab.sql import SqlDenied
from cucm_spark.lab.store import Store
from cucm_spark.lab.throttle import ConcurrencyCap, WriteThrottle

log = logging.getLogger("cucm_spark.lab")

DEFAULT_USERNAME = "administrator"
DEFAULT_PASSWORD = "ciscopsdt"
MAX_REQUEST_BYTES = 4 * 1024 * 1024
# How often serve_forever looks for a stop request: the default 0.5 s made every stop (and
# so every test lab) take half a second.
POLL_INTERVAL = 0.02
_SOAP_ACTION = re.compile(r'CUCM:DB ver=(\d+\.\d+)(?:\s+(\w+))?')
UNAUTHORIZED_PAGE = (
    "<html><head><title>Error 401 Unauthorized</title></head><body>"
    "<h1>HTTP Status 401 - Unauthorized</h1><hr/><p><b>type</b> Status report</p>"
    "<p><b>message</b> Unauthorized</p><p><b>description</b> This request requires HTTP "
    "authentication.</p><hr/><h3>Cisco Systems, Inc.</h3></body></html>"
)


class LabStartError(OSError):
    """The lab could not listen where it was asked to."""


@dataclass
class LabSettings:
    """How the lab behaves; everything a test may tune while the lab runs sits here."""

    username: str = DEFAULT_USERNAME
    password: str = DEFAULT_PASSWORD
    answer_limit: int = ANSWER_LIMIT_BYTES
    write_rate: float | None = None
    sql_concurrency: int = 2
    deny_sql: bool = False
    faults: list[FaultRule] = field(default_factory=list)
    seed: int = 0


class Stats:
    """Requests counted by operation and by HTTP status, for tests and benchmarks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.operations: Counter[str] = Counter()
            self.statuses: Counter[str] = Counter()
            self.writes_applied = 0
            self.bytes_sent = 0

    def record(self, operation: str | None, status: int, sent: int, applied_write: bool) -> None:
        with self._lock:
            if operation:
                self.operations[operation] += 1
            self.statuses[str(status)] += 1
            self.bytes_sent += sent
            self.writes_applied += int(applied_write)

    def as_dict(self) -> dict:
        with self._lock:
            return {
                "requests": sum(self.operations.values()),
                "operations": dict(self.operations),
                "writes": sum(n for op, n in self.operations.items() if op in WRITES),
                "writes_applied": self.writes_applied,
                "http_status": dict(self.statuses),
                "bytes_sent": self.bytes_sent,
            }


class LabServer:
    """A running lab: store + settings behind a threaded HTTP server on loopback."""

    def __init__(
        self,
        store: Store,
        release: LabRelease,
        settings: LabSettings | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        certificate: tuple[Path, Path] | None = None,
    ) -> None:
        self.settings = settings or LabSettings()
        self.context = LabContext(store, release, self.settings.answer_limit)
        self.stats = Stats()
        self.faults = FaultInjector(self.settings.faults, self.settings.seed)
        self.throttle = WriteThrottle(self.settings.write_rate)
        self.sql_cap = ConcurrencyCap(self.settings.sql_concurrency)
        try:
            self._httpd = _HTTPServer((host, port), _Handler)
        except OSError as exc:
            raise LabStartError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        self._httpd.lab = self
        self.scheme = "http"
        self.certificate_path = certificate[0] if certificate else None
        if certificate:
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(*map(str, certificate))
            # No handshake in accept(): that runs on the one thread that accepts every
            # connection, so a client that connects and stays silent would stall the lab.
            # _Handler.setup does the handshake on the connection's own thread instead.
            self._httpd.socket = tls.wrap_socket(
                self._httpd.socket, server_side=True, do_handshake_on_connect=False
            )
            self.scheme = "https"
        self._thread: threading.Thread | None = None
        self._serving = False

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        host = self._httpd.server_address[0]
        return f"{self.scheme}://{host}:{self.port}/axl/"

    def start(self) -> LabServer:
        self._serving = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(POLL_INTERVAL,), name="cucm-spark-lab", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._serving = True
        self._httpd.serve_forever(POLL_INTERVAL)

    def stop(self) -> None:
        """Stop serving, free the port and close the store.

        Safe on a lab that never started (shutdown would wait forever) and when called twice.
        Closing the store checkpoints a --state file, so the file alone holds the cluster.
        """
        if self._serving:
            self._serving = False
            self._httpd.shutdown()
        self._httpd.server_close()
        self.context.store.close()

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def configure(self, changes: dict) -> dict:
        """Apply runtime settings from POST /lab/config."""
        if "write_rate" in changes:
            self.throttle.set_rate(changes["write_rate"])
        if "sql_concurrency" in changes:
            self.sql_cap.limit = int(changes["sql_concurrency"])
        if "deny_sql" in changes:
            self.settings.deny_sql = bool(changes["deny_sql"])
        if "answer_limit" in changes:
            self.context.answer_limit = int(changes["answer_limit"])
        if "faults" in changes:
            self.faults.replace([FaultRule.from_dict(rule) for rule in changes["faults"]])
        return {
            "write_rate": self.throttle.rate,
            "sql_concurrency": self.sql_cap.limit,
            "deny_sql": self.settings.deny_sql,
            "answer_limit": self.context.answer_limit,
            "faults": self.faults.rules(),
            "release": str(self.context.release),
        }


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    lab: LabServer

    def handle_error(self, request: object, client_address: object) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "CUCM-lab"
    sys_version = ""
    timeout = 60
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            # Bounded by the handler timeout set in super().setup(); a failure only ends this connection.
            self.connection.do_handshake()

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    @property
    def lab(self) -> LabServer:
        return self.server.lab

    # -- plumbing ---------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str = "text/xml; charset=utf-8",
              operation: str | None = None, applied_write: bool = False, headers: dict | None = None,
              record: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        if record:  # the lab's own endpoints are not AXL traffic: reading stats must not change them
            self.lab.stats.record(operation, status, len(body), applied_write)

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).partition(b":")
        except ValueError:
            return False
        settings = self.lab.settings
        return _sent_as(user, settings.username) and _sent_as(password, settings.password)

    def _refuse_unauthorized(self, record: bool = True) -> None:
        self._send(401, UNAUTHORIZED_PAGE.encode(), "text/html;charset=utf-8",
                   headers={"WWW-Authenticate": 'Basic realm="Cisco AXL"'}, record=record)

    def _refuse_body(self, status: int, reason: bytes) -> None:
        """Answer a body we cannot read, and close: what follows on the connection is unframed."""
        self.close_connection = True
        self._send(status, reason, "text/plain")

    def _read_body(self) -> bytes | None:
        """The request body (Content-Length or chunked), or None once a 4xx has been sent.

        Read before anything else, even before auth: a body left unread on a kept-alive
        connection would be taken for the next request.
        """
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        length = int(raw) if raw.strip().isascii() and raw.strip().isdigit() else -1
        if length < 0:
            self._refuse_body(400, b"Bad Content-Length")
            return None
        if length > MAX_REQUEST_BYTES:
            self._refuse_body(413, b"Request too large")
            return None
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        while True:
            size_text = self.rfile.readline(1024).split(b";", 1)[0].strip()
            if not size_text or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
                self._refuse_body(400, b"Bad chunked body")
                return None
            size = int(size_text, 16)
            total += size
            if total > MAX_REQUEST_BYTES:
                self._refuse_body(413, b"Request too large")
                return None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)  # the CRLF after each chunk

    def _drop(self, partial: bytes = b"") -> None:
        """Cut the connection: optionally after the status line and part of the answer."""
        if partial:
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(partial)))
            self.end_headers()
            self.wfile.write(partial[: len(partial) // 2])
            self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # -- the lab's own endpoints ------------------------------------------------------
    def do_GET(self) -> None:
        if not self._authorized():
            self._refuse_unauthorized(record=False)
            return
        if self.path.rstrip("/") == "/lab/stats":
            self._json(self.lab.stats.as_dict())
        elif self.path.rstrip("/") == "/lab/dump":
            self._json(self.lab.context.store.dump())
        elif self.path.rstrip("/") == "/lab/config":
            self._json(self.lab.configure({}))
        else:
            self._send(404, b"Not found", "text/plain", record=False)

    def _json(self, data: object, status: int = 200) -> None:
        self._send(status, json.dumps(data, sort_keys=True).encode(), "application/json", record=False)

    def _lab_post(self, body: bytes) -> None:
        path = self.path.rstrip("/")
        if path == "/lab/stats/reset":
            self.lab.stats.reset()
            self._json({"reset": True})
            return
        if path != "/lab/config":
            self._send(404, b"Not found", "text/plain", record=False)
            return
        try:
            self._json(self.lab.configure(json.loads(body or b"{}")))
        except (ValueError, TypeError, FaultRuleError) as exc:
            self._json({"error": str(exc)}, 400)

    # -- AXL --------------------------------------------------------------------------
    def do_POST(self) -> None:
        body = self._read_body()
        if body is None:
            return
        is_axl = self.path.rstrip("/") == "/axl"
        if not self._authorized():
            self._refuse_unauthorized(record=is_axl)
        elif self.path.startswith("/lab/"):
            self._lab_post(body)
        elif is_axl:
            self._axl(body)
        else:
            self._send(404, b"Not found", "text/plain", record=False)

    def _axl(self, body: bytes) -> None:
        action = _SOAP_ACTION.search(self.headers.get("SOAPAction", "") or "")
        try:
            request = parse_request(body)
        except SoapFault as fault:
            hinted = action.group(2) if action else None
            self._send(500, fault_envelope(fault, hinted or ""), operation=hinted)
            return
        version = action.group(1) if action else request.version
        accepted = self.lab.context.release.accepted_axl_versions()
        if version not in accepted or request.version not in accepted:
            message = f"Incorrect axl version. Supported axl versions are {', '.join(accepted)}"
            self._send(599, message.encode(), "text/plain", operation=request.operation)
            return
        self._dispatch(request)

    def _dispatch(self, request: Request) -> None:
        name = request.operation
        handler = OPERATIONS.get(name)
        if handler is None:
            fault = SoapFault(f"Unknown operation {name}: not an AXL request this cluster understands")
            self._send(500, fault_envelope(fault, name), operation=name)
            return
        if self.lab.faults.fire("http503", name):
            self._send(503, b"Service Unavailable", "text/plain", operation=name)
            return
        is_write = name in WRITES
        if is_write and not self.lab.throttle.admit():
            self._send(503, b"Service Unavailable: AXL write throttle", "text/plain", operation=name)
            return
        is_sql = name == "executeSQLQuery"
        if is_sql and not self.lab.sql_cap.try_enter():
            self._send(503, b"Service Unavailable: too many concurrent queries", "text/plain", operation=name)
            return
        try:
            # Latency is spent inside the SQL slot, as a slow query holds it on a real node.
            latency = self.lab.faults.fire("latency", name)
            if latency:
                time.sleep(latency.ms / 1000)
            if is_sql and self.lab.settings.deny_sql:
                raise SqlDenied()
            answer = envelope(name, request.version, handler(self.lab.context, request.body))
            status = 200
        except SoapFault as fault:
            answer, status = fault_envelope(fault, name), HTTPStatus.INTERNAL_SERVER_ERROR
        except sqlite3.IntegrityError as exc:
            # A constraint the handler did not check first: the request's data broke it, so it
            # is the client's fault, answered as CUCM answers it; the transaction was rolled back.
            log.warning("%s broke a constraint the lab does not check first: %s", name, exc)
            fault = DuplicateFault() if "UNIQUE" in str(exc) else SoapFault(f"Could not write the request: {exc}")
            answer, status = fault_envelope(fault, name), HTTPStatus.INTERNAL_SERVER_ERROR
        except Exception:  # a lab bug must still answer like a server, never hang the client
            log.exception("lab failed on %s", name)
            answer = fault_envelope(SoapFault("Internal error", faultcode="Server"), name)
            status = HTTPStatus.INTERNAL_SERVER_ERROR
        finally:
            if is_sql:
                self.lab.sql_cap.leave()
        applied = is_write and status == 200
        if applied and self.lab.faults.fire("drop_after_write", name):
            self.lab.stats.record(name, 0, 0, True)
            self._drop()
            return
        if self.lab.faults.fire("drop", name):
            self.lab.stats.record(name, 0, len(answer) // 2, applied)
            self._drop(answer)
            return
        self._send(int(status), answer, operation=name, applied_write=applied)


def _sent_as(sent: bytes, expected: str) -> bool:
    """Whether Basic auth bytes spell ``expected`` in UTF-8 or in Latin-1 (Tomcat's and requests' default).

    Bytes, not str: compare_digest raises TypeError on non-ASCII str, which would drop the
    connection instead of answering 401.
    """
    forms = [expected.encode()]
    with contextlib.suppress(UnicodeEncodeError):
        forms.append(expected.encode("latin-1"))
    return any([hmac.compare_digest(sent, form) for form in forms])
