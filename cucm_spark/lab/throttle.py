"""Write throttling and the executeSQLQuery concurrency cap: CUCM's two HTTP 503 causes."""

from __future__ import annotations

import threading
import time


class WriteThrottle:
    """A token bucket: ``rate`` writes a second, bursts of up to one second's worth."""

    def __init__(self, rate: float | None) -> None:
        self._lock = threading.Lock()
        self.set_rate(rate)

    def set_rate(self, rate: float | None) -> None:
        with self._lock:
            self.rate = rate if rate and rate > 0 else None
            self._tokens = max(1.0, self.rate or 1.0)
            self._stamp = time.monotonic()

    def admit(self) -> bool:
        """True when a write may run now; False means answer 503."""
        with self._lock:
            if self.rate is None:
                return True
            now = time.monotonic()
            capacity = max(1.0, self.rate)
            self._tokens = min(capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


class ConcurrencyCap:
    """At most ``limit`` executeSQLQuery calls at once; the next one is refused, not queued."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._running = 0
        self._lock = threading.Lock()

    def try_enter(self) -> bool:
        with self._lock:
            if self.limit > 0 and self._running >= self.limit:
                return False
            self._running += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._running -= 1
