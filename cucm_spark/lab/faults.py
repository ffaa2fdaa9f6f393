"""Fault injection: the network and node trouble a real cluster gives its clients, on demand.

A rule says what goes wrong (``kind``), to which operations (all when none are named),
how often (``rate``, 0 to 1), and optionally how many times before it retires (``count``).

- ``latency``: wait ``ms`` milliseconds before answering;
- ``http503``: answer HTTP 503, as a busy node does, and do nothing;
- ``drop``: do the work, then cut the connection halfway through the answer;
- ``drop_after_write``: apply a write, then close the connection with no answer at all,
  the ambiguous write a real network produces.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

KINDS = ("latency", "http503", "drop", "drop_after_write")


class FaultRuleError(ValueError):
    """A fault rule that cannot be understood."""


@dataclass
class FaultRule:
    kind: str
    rate: float = 1.0
    operations: frozenset[str] = field(default_factory=frozenset)
    count: int | None = None
    ms: int = 0

    @classmethod
    def from_dict(cls, data: dict) -> FaultRule:
        if not isinstance(data, dict) or data.get("kind") not in KINDS:
            raise FaultRuleError(f"fault rule needs a kind among {', '.join(KINDS)}: {data!r}")
        rate = float(data.get("rate", 1.0))
        if not 0.0 <= rate <= 1.0:
            raise FaultRuleError(f"fault rate must be between 0 and 1, not {rate}")
        count = data.get("count")
        return cls(
            kind=data["kind"],
            rate=rate,
            operations=frozenset(data.get("operations") or ()),
            count=int(count) if count is not None else None,
            ms=int(data.get("ms", 0)),
        )

    @classmethod
    def parse(cls, spec: str) -> FaultRule:
        """The command-line form: ``KIND[:RATE][:OP,OP…][:ms=N]``, e.g. ``http503:0.3:addPhone``."""
        kind, *parts = spec.split(":")
        data: dict = {"kind": kind}
        for part in parts:
            if part.startswith("ms="):
                data["ms"] = part[3:]
            elif part.replace(".", "", 1).isdigit():
                data["rate"] = part
            elif part:
                data["operations"] = part.split(",")
        try:
            return cls.from_dict(data)
        except ValueError as exc:
            raise FaultRuleError(f"bad fault {spec!r}: {exc}") from exc

    def as_dict(self) -> dict:
        return {"kind": self.kind, "rate": self.rate, "operations": sorted(self.operations),
                "count": self.count, "ms": self.ms}


class FaultInjector:
    """Decides, request by request and reproducibly by seed, which faults fire."""

    def __init__(self, rules: list[FaultRule] | None = None, seed: int = 0) -> None:
        self._rules = list(rules or [])
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def replace(self, rules: list[FaultRule]) -> None:
        with self._lock:
            self._rules = list(rules)

    def rules(self) -> list[dict]:
        with self._lock:
            return [rule.as_dict() for rule in self._rules]

    def fire(self, kind: str, operation: str) -> FaultRule | None:
        """The first rule of this kind that fires for this operation now, if any."""
        with self._lock:
            for rule in self._rules:
                if rule.kind != kind or (rule.operations and operation not in rule.operations):
                    continue
                if rule.count is not None and rule.count <= 0:
                    continue
                if self._random.random() < rule.rate:
                    if rule.count is not None:
                        rule.count -= 1
                    return rule
        return None
