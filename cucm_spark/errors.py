"""Every error cucm-spark raises, in one tree; the CLI maps each branch to an exit code.

    CucmSparkError
    ├── ConfigError              bad option, file, dataset or release string      → exit 2
    │   └── RunLocked            another run of the same config holds the lock (lock.py)
    ├── AxlError                 anything the cluster or the road to it did wrong → exit 3
    │   ├── TransportError       host unreachable, TLS refused, connection dropped
    │   ├── AuthError            HTTP 401: wrong user or password
    │   ├── VersionRefused       HTTP 599: the AXL schema version is not accepted
    │   ├── Throttled            HTTP 503: the node is too busy, try again later
    │   ├── MalformedAnswer      not SOAP, or SOAP we cannot read
    │   └── AxlFault             a SOAP fault with Cisco's axlError detail
    │       ├── NotFound         axlcode 5007
    │       ├── Duplicate        axlcode -239
    │       ├── AnswerTooLarge   axlcode -1, with the row count the cluster suggests
    │       └── SqlRefused       the account may not run executeSQLQuery
    ├── PlanError                a plan that cannot be made or trusted           → exit 2
    ├── ExecutionError           a migration step that failed                     → exit 4
    └── JournalError             the journal is missing, locked or inconsistent   → exit 2
        └── HistoryError         the audit history cannot be read or written (history.py)
"""

from __future__ import annotations


class CucmSparkError(Exception):
    """Base of every error the product raises on purpose."""


class ConfigError(CucmSparkError):
    """Bad input from the user: an option, a file, a dataset, a release string."""


class AxlError(CucmSparkError):
    """The cluster, or the network to it, did not give a usable answer."""


class TransportError(AxlError):
    """The cluster could not be reached, refused TLS, or dropped the connection."""


class AuthError(AxlError):
    """The cluster answered HTTP 401: the user name or password is wrong."""


class VersionRefused(AxlError):
    """The cluster answered HTTP 599: it does not accept this AXL schema version."""

    def __init__(self, message: str, supported: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.supported = supported


class Throttled(AxlError):
    """The cluster answered HTTP 503: too many requests, slow down and retry."""


class MalformedAnswer(AxlError):
    """The answer was not SOAP (an HTML page, say) or not the SOAP we expected."""


class AxlFault(AxlError):
    """A SOAP fault carrying Cisco's ``axlError`` detail."""

    def __init__(self, message: str, code: int | None = None, request: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.request = request


class NotFound(AxlFault):
    """axlcode 5007: the item named in the request does not exist."""


class Duplicate(AxlFault):
    """axlcode -239: a row with this unique value exists already."""


class AnswerTooLarge(AxlFault):
    """axlcode -1: the answer would pass the 8 MB limit; ask for fewer rows."""

    def __init__(
        self,
        message: str,
        code: int | None = None,
        request: str | None = None,
        total_rows: int | None = None,
        suggested_rows: int | None = None,
    ) -> None:
        super().__init__(message, code, request)
        self.total_rows = total_rows
        self.suggested_rows = suggested_rows


class SqlRefused(AxlFault):
    """The account may not run executeSQLQuery; the list/get path is the way."""


class PlanError(CucmSparkError):
    """A migration plan cannot be made, read, or trusted."""


class ExecutionError(CucmSparkError):
    """A migration step failed; the run can be resumed."""


class JournalError(CucmSparkError):
    """The journal is missing, locked by another run, or inconsistent."""
