"""The one door to a cluster: AXL operations over zeep, with negotiation, retries and paging."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import requests
import tenacity
import urllib3
import zeep
import zeep.exceptions
from lxml import etree
from zeep.helpers import serialize_object
from zeep.wsdl.utils import etree_to_string

from cucm_spark.axl.endpoint import Endpoint
from cucm_spark.axl.faults import fault_from_detail
from cucm_spark.axl.sqlstream import SqlAnswer, read_sql_answer
from cucm_spark.axl.transport import (
    ANSWER_CAP_BYTES,
    WSDL_VERSION,
    AxlTransport,
    RequestObserver,
    is_retryable,
)
from cucm_spark.axl.versions import VersionCache, best_version
from cucm_spark.errors import (
    AnswerTooLarge,
    ConfigError,
    MalformedAnswer,
    Throttled,
    VersionRefused,
)

log = logging.getLogger("cucm_spark.axl")

BINDING = "{http://www.cisco.com/AXLAPIService/}AXLAPIBinding"

# CUCM refuses a list or SQL answer over 8 MB. Pages sized from what earlier pages
# taught aim at 90% of it: rows vary, and a refused page costs a request.
ANSWER_LIMIT_BYTES = 8 * 1024 * 1024
PAGE_BUDGET_BYTES = int(ANSWER_LIMIT_BYTES * 0.9)

Row = tuple[str | None, ...]

# zeep refuses these before expanding or fetching anything (Settings forbid_entities, forbid_external).
# The transport refuses every DTD before zeep parses (require_well_formed); this keeps zeep's own
# refusal a MalformedAnswer too, should an answer ever reach it another way.
_HOSTILE_XML = (zeep.exceptions.DTDForbidden, zeep.exceptions.EntitiesForbidden,
                zeep.exceptions.ExternalReferenceForbidden)


def default_wsdl() -> Path:
    """The project's WSDL: packaged as cucm_spark.wsdl, or at the root of a source checkout."""
    try:
        return Path(str(resources.files("cucm_spark.wsdl").joinpath("AXLAPI.wsdl")))
    except ModuleNotFoundError:
        # Imported from the repository itself (python -m pytest from its root): wsdl/ is not a subpackage there.
        return Path(__file__).resolve().parents[2] / "wsdl" / "AXLAPI.wsdl"


@dataclass(frozen=True)
class ClientOptions:
    """How to talk to a cluster. ``verify`` is True, False (``--insecure``) or a CA bundle path.

    ``max_answer_bytes`` is the most of one answer that is read before it is refused
    (see ``ANSWER_CAP_BYTES``).
    """

    wsdl: Path | None = None
    version: str | None = None
    verify: bool | str = True
    timeout: float = 30.0
    read_attempts: int = 5
    write_attempts: int = 8
    max_backoff: float = 8.0
    version_cache: VersionCache | None = None
    observer: RequestObserver | None = None
    max_answer_bytes: int = ANSWER_CAP_BYTES


class AxlClient:
    """AXL operations on one cluster. Reads retry on 503 and network errors; writes on 503 only."""

    def __init__(self, endpoint: Endpoint, username: str, password: str, options: ClientOptions | None = None) -> None:
        self.endpoint = endpoint
        self.options = options or ClientOptions()
        if not self.options.timeout > 0:
            raise ConfigError(f"the timeout must be more than 0 seconds, not {self.options.timeout:g}")
        session = requests.Session()
        session.auth = requests.auth.HTTPBasicAuth(_credential_bytes(username), _credential_bytes(password))
        session.verify = self.options.verify
        if self.options.verify is False:
            # The user asked for --insecure and was warned once; not once per request.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        session.headers["User-Agent"] = "cucm-spark"
        self._transport = AxlTransport(session, self.options.timeout, self.options.observer,
                                       self.options.max_answer_bytes)
        wsdl = self.options.wsdl or default_wsdl()
        try:
            self._zeep = zeep.Client(
                str(wsdl),
                transport=self._transport,
                settings=zeep.Settings(strict=False, xml_huge_tree=True, xsd_ignore_sequence_order=True),
            )
            self._service = self._zeep.create_service(BINDING, endpoint.url)
        except (OSError, etree.XMLSyntaxError, zeep.exceptions.Error) as exc:
            raise ConfigError(f"cannot load WSDL {wsdl}: {exc}") from exc
        except (ValueError, AttributeError, TypeError, KeyError) as exc:
            # zeep fails this way on XML that is not a WSDL, or a WSDL without Cisco's AXL binding.
            raise ConfigError(f"cannot load WSDL {wsdl}: not an AXL WSDL with the {BINDING} binding") from exc
        cache = self.options.version_cache
        self._transport.version = (
            self.options.version or (cache.get(endpoint.url) if cache else None) or self._transport.version
        )

    @property
    def version(self) -> str:
        """The AXL schema version in use (negotiated once the first call has been answered)."""
        return self._transport.version

    def close(self) -> None:
        self._transport.session.close()

    # -- calls ------------------------------------------------------------------------
    def read(self, operation: str, **kwargs: Any) -> Any:
        """A read: retried with backoff on 503 and on network trouble (reads are idempotent).

        An untrusted certificate or an unknown host name is not network trouble: no retry.
        """
        return self._retrying(self.options.read_attempts, is_retryable)(self._negotiated, self._call, operation, kwargs)

    def write(self, operation: str, **kwargs: Any) -> Any:
        """A write: retried only on 503, which CUCM sends before doing anything.

        A timeout or a dropped connection is raised as TransportError: the write may or
        may not have happened, and only a read can tell. That is the caller's job.
        """
        return self._retrying(self.options.write_attempts, lambda error: isinstance(error, Throttled))(
            self._negotiated, self._call, operation, kwargs
        )

    def write_once(self, operation: str, **kwargs: Any) -> Any:
        """A write sent once, a 503 raised as Throttled: for callers that pace and resend writes themselves.

        A migration's workers share one pace (cucm_spark.migrate.pacing); a per-call backoff
        here would fight it.
        """
        return self._negotiated(self._call, operation, kwargs)

    def _retrying(self, attempts: int, retryable: Callable[[BaseException], bool]) -> tenacity.Retrying:
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(attempts),
            wait=self._backoff,
            retry=tenacity.retry_if_exception(retryable),
            before_sleep=lambda state: log.info(
                "retrying after %s (attempt %d)", state.outcome.exception(), state.attempt_number
            ),
            reraise=True,
        )

    def _backoff(self, state: tenacity.RetryCallState) -> float:
        """0.2 s doubling per attempt, plus up to 1 s of jitter, never over ``max_backoff``.

        Written out because tenacity's wait_exponential_jitter renamed its first argument
        (``initial`` is deprecated in 9.x, ``multiplier`` missing in 8.x).
        """
        exponential = 0.2 * 2 ** (state.attempt_number - 1)
        return min(self.options.max_backoff, exponential + random.uniform(0, 1))

    def _negotiated(self, call: Callable[[str, dict[str, Any]], Any], operation: str, kwargs: dict[str, Any]) -> Any:
        try:
            return call(operation, kwargs)
        except VersionRefused as refused:
            if self.options.version:
                raise VersionRefused(
                    f"{refused} (the AXL version is pinned to {self.options.version})", refused.supported
                ) from refused
            chosen = best_version(refused.supported, self._transport.version)
            log.info("cluster refused AXL %s; using %s", self._transport.version, chosen)
            self._transport.version = chosen
            if self.options.version_cache:
                self.options.version_cache.put(self.endpoint.url, chosen)
            return call(operation, kwargs)

    def _call(self, operation: str, kwargs: dict[str, Any]) -> Any:
        try:
            return getattr(self._service, operation)(**kwargs)
        except zeep.exceptions.Fault as fault:
            raise fault_from_detail(fault.message, fault.detail, operation) from fault
        except (zeep.exceptions.XMLSyntaxError, zeep.exceptions.XMLParseError, etree.XMLSyntaxError) as exc:
            raise MalformedAnswer(f"{operation}: the answer is not readable SOAP ({exc})") from exc
        except _HOSTILE_XML as exc:
            raise MalformedAnswer(f"{operation}: the answer declares a DTD or XML entities, which AXL never does; "
                                  f"refused unread ({type(exc).__name__})") from exc
        except zeep.exceptions.TransportError as exc:
            raise MalformedAnswer(f"{operation}: HTTP {exc.status_code}: {exc.message}") from exc

    def _streamed_sql(self, operation: str, kwargs: dict[str, Any]) -> SqlAnswer:
        """executeSQLQuery rendered by zeep (so it stays valid under the WSDL), its answer streamed."""
        envelope = self._zeep.create_message(self._service, operation, sql=kwargs["sql"])
        headers = {"Content-Type": "text/xml; charset=utf-8",
                   "SOAPAction": f'"CUCM:DB ver={WSDL_VERSION} {operation}"'}
        response = self._transport.open_stream(self.endpoint.url, etree_to_string(envelope), headers)
        return read_sql_answer(response, self.endpoint.url, self.options.timeout, kwargs.get("columns"),
                               self.options.max_answer_bytes)

    # -- reads the product uses -------------------------------------------------------
    def ccm_version(self) -> str:
        """The cluster's release as AXL reports it, e.g. 11.5.1.13900(52)."""
        result = self.read("getCCMVersion")
        try:
            return str(result["return"]["componentVersion"]["version"])
        except (KeyError, TypeError) as exc:
            raise MalformedAnswer("getCCMVersion: the answer has no componentVersion/version") from exc

    def list_all(
        self, operation: str, item: str, search: dict[str, str], tags: list[str], page: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item a list* operation matches, paging by skip/first as the cluster suggests."""
        skip, first = 0, page
        while True:
            kwargs: dict[str, Any] = {"searchCriteria": search, "returnedTags": {t: "" for t in tags}}
            if first:
                kwargs.update(skip=skip, first=first)
            try:
                result = self.read(operation, **kwargs)
            except AnswerTooLarge as exc:
                first = _smaller_page(exc, first)
                continue
            items = plain(_returned(result, item))
            yield from items
            if not first or len(items) < first:
                return
            skip += len(items)

    def get(self, operation: str, **key: Any) -> dict[str, Any]:
        """One object from a get* operation, as plain data."""
        result = self.read(operation, **key)
        found = plain(result["return"])
        return next(iter(found.values())) if isinstance(found, dict) and len(found) == 1 else found

    def sql(self, query: str) -> list[dict[str, str | None]]:
        """The rows of one SELECT, each a dict of column → text (None for NULL)."""
        return self._sql_answer(query, None).rows

    def sql_paged(self, select: str, order_by: str, page: int | None = None) -> Iterator[dict[str, str | None]]:
        """A SELECT too large for one answer, fetched with Informix SKIP/FIRST in stable order.

        ``select`` must start with ``SELECT `` and have no ORDER BY; ``order_by`` keeps pages stable.
        """
        for answer in self._sql_pages(select, order_by, None, page, None):
            yield from answer.rows

    def sql_rows(self, select: str, order_by: str, columns: Sequence[str], row_bytes: int | None = None
                 ) -> Iterator[Row]:
        """Like ``sql_paged``, each row a tuple in the order of ``columns`` (the select's column names).

        Pages are sized to stay under the answer limit: the first from ``row_bytes`` (an
        estimate of one row's size in the answer; without it, the first asks for everything),
        each next one from the bytes per row the previous answer carried. A page the
        cluster still refuses is asked again with the row count it suggests, and no page
        is larger than that from then on.
        """
        for answer in self._sql_pages(select, order_by, tuple(columns), None, row_bytes):
            yield from answer.rows

    def _sql_answer(self, query: str, columns: tuple[str, ...] | None) -> SqlAnswer:
        kwargs = {"sql": query, "columns": columns}
        return self._retrying(self.options.read_attempts, is_retryable)(
            self._negotiated, self._streamed_sql, "executeSQLQuery", kwargs
        )

    def _sql_pages(
        self, select: str, order_by: str, columns: tuple[str, ...] | None, page: int | None, row_bytes: int | None
    ) -> Iterator[SqlAnswer]:
        body = select.strip()[len("SELECT "):]
        adaptive = page is None
        skip, first = 0, page or (_rows_within(PAGE_BUDGET_BYTES, row_bytes) if row_bytes else None)
        ceiling: int | None = None  # the most rows the cluster let us ask for, once it refused a page
        while True:
            paging = f"SKIP {skip} FIRST {first} " if first else ""
            try:
                answer = self._sql_answer(f"SELECT {paging}{body} ORDER BY {order_by}", columns)
            except AnswerTooLarge as exc:
                first = ceiling = _smaller_page(exc, first)
                continue
            yield answer
            count = len(answer.rows)
            if not first or count < first:
                return
            skip += count
            if adaptive:
                learned = _rows_within(PAGE_BUDGET_BYTES, answer.size / count)
                first = min(learned, ceiling) if ceiling else learned


def _rows_within(budget: int, row_bytes: float) -> int:
    return max(1, int(budget / max(row_bytes, 1.0)))


def _credential_bytes(text: str) -> bytes:
    """Latin-1, as requests and CUCM's Tomcat use by default; UTF-8 (RFC 7617) for what Latin-1 cannot hold.

    requests would raise UnicodeEncodeError (a traceback) on a password with, say, a euro sign.
    """
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _returned(result: Any, item: str) -> list[Any]:
    """The list of ``item`` elements under ``return`` (empty when the answer holds none)."""
    returned = result["return"] if result is not None else None
    if returned is None:
        return []
    try:
        return list(returned[item] or [])
    except (KeyError, AttributeError, TypeError) as exc:
        raise MalformedAnswer(f"the answer has no return/{item}") from exc


def _smaller_page(exc: AnswerTooLarge, current: int | None) -> int:
    """The page size the cluster's "Suggestive Row Fetch: less than M rows" allows."""
    suggested = max(1, (exc.suggested_rows or 2) - 1)
    if current is not None and suggested >= current:
        suggested = max(1, current // 2)
    if current == 1:
        raise exc
    log.info("answer too large; fetching %d rows at a time", suggested)
    return suggested


def plain(value: Any) -> Any:
    """zeep objects as plain dicts and lists; an XFkType (name + uuid) becomes its name."""
    return _flatten(serialize_object(value, dict))


def _flatten(value: Any) -> Any:
    if isinstance(value, list):
        return [_flatten(item) for item in value]
    if isinstance(value, dict):
        if "_value_1" in value and set(value) <= {"_value_1", "uuid"}:
            return value["_value_1"]
        return {key: _flatten(item) for key, item in value.items()}
    return value
