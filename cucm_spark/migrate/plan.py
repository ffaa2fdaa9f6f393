"""A migration plan as data: per user, ordered AXL steps with payloads, descriptions and undos; JSON both ways.

A plan is what the planner decides and what the executor carries out, dry or live.
Every write step names its AXL operation and the exact keyword arguments the client
sends; verify steps name the read and what it must show. Each write knows its undo,
which rollback uses (with the before-image the journal keeps for the removed CTI-RD).

Payloads are concrete: the planning command reads each CTI-RD with getPhone (a read,
allowed in a dry run) and the planner copies the settings into the addPhone payload.
The plan's per-user fingerprint covers those settings, so the executor, which reads the
CTI-RD again before it touches the user, sends the planned payload only when the
cluster still holds exactly what the plan was made from.

A saved plan carries a digest of its content (``digest``: sha256 over its canonical JSON),
so a plan file edited by hand is refused when loaded rather than carried out: the steps
are sent as written, and the per-user fingerprints only vouch for what was read, not for
the payloads. It catches edits, not forgery: anyone can compute a sha256.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from cucm_spark.errors import PlanError

PLAN_SCHEMA = "cucm-spark.migration-plan/1"
WRITE_PREFIXES = ("add", "update", "remove")


class Action(str, Enum):
    """What happens to a user: a new Spark-RD, or their CTI-RDs folded into the one they have."""

    MIGRATE = "migrate"
    CONSOLIDATE = "consolidate"


class StepKind(str, Enum):
    """The part a step plays in a user's migration, in the order the steps run."""

    ADD_SPARK_RD = "add_spark_rd"
    VERIFY_SPARK_RD = "verify_spark_rd"
    REPOINT_DESTINATION = "repoint_destination"
    UPDATE_ASSOCIATION = "update_association"
    REMOVE_CTI_RD = "remove_cti_rd"
    VERIFY_MIGRATED = "verify_migrated"


@dataclass(frozen=True)
class Undo:
    """The AXL call that reverses a write."""

    operation: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Step:
    """One AXL operation: a write with its undo, or a verifying read with what it must show."""

    kind: StepKind
    operation: str
    payload: Mapping[str, Any]
    description: str
    undo: Undo | None = None
    expect: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_write(self) -> bool:
        return self.operation.startswith(WRITE_PREFIXES)


@dataclass(frozen=True)
class UserPlan:
    """One user's migration: the CTI-RDs that go, the Spark-RD that carries them, the steps."""

    userid: str
    action: Action
    cti_rds: tuple[str, ...]
    spark_rd: str
    steps: tuple[Step, ...]
    fingerprint: str
    controllers: tuple[str, ...] = ()
    tier_before: str | None = None
    tier_after: str | None = None


@dataclass(frozen=True)
class Skipped:
    """A CTI-RD the plan leaves alone, and why."""

    device: str
    userid: str | None
    reason: str


@dataclass(frozen=True)
class Plan:
    """Everything a run needs: the cluster it was made for, the users and their steps, the skips."""

    cluster: str
    release: str
    release_supported: bool
    upgrade_target: str | None
    template: str
    fingerprint: str
    users: tuple[UserPlan, ...] = ()
    skipped: tuple[Skipped, ...] = ()

    def count(self, action: Action) -> int:
        return sum(1 for user in self.users if user.action is action)

    def licence_effect(self) -> dict[str, int]:
        """"tier before -> tier after": users, for the planned users whose tier changes."""
        effect: dict[str, int] = {}
        for user in self.users:
            if user.tier_before != user.tier_after:
                key = f"{user.tier_before or 'none'} -> {user.tier_after or 'none'}"
                effect[key] = effect.get(key, 0) + 1
        return dict(sorted(effect.items()))

    def only(self, userids: set[str]) -> Plan:
        """The same plan restricted to some users (compared without regard to case)."""
        wanted = {userid.lower() for userid in userids}
        return Plan(self.cluster, self.release, self.release_supported, self.upgrade_target, self.template,
                    self.fingerprint, tuple(u for u in self.users if u.userid.lower() in wanted), self.skipped)

    def to_dict(self) -> dict[str, Any]:
        content = {
            "schema": PLAN_SCHEMA,
            "cluster": self.cluster,
            "release": self.release,
            "release_supported": self.release_supported,
            "upgrade_target": self.upgrade_target,
            "template": self.template,
            "fingerprint": self.fingerprint,
            "summary": {
                "migrate": self.count(Action.MIGRATE),
                "consolidate": self.count(Action.CONSOLIDATE),
                "skipped": len(self.skipped),
                "licence_effect": self.licence_effect(),
            },
            "users": [_user_dict(user) for user in self.users],
            "skipped": [{"device": s.device, "userid": s.userid, "reason": s.reason} for s in self.skipped],
        }
        return {**content, "digest": content_digest(content)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: object, source: str = "plan") -> Plan:
        """A plan from its JSON form; PlanError naming what is wrong."""
        if not isinstance(data, dict) or data.get("schema") != PLAN_SCHEMA:
            raise PlanError(f"{source}: not a cucm-spark migration plan (schema {PLAN_SCHEMA})")
        try:
            return cls(
                cluster=str(data["cluster"]),
                release=str(data["release"]),
                release_supported=bool(data["release_supported"]),
                upgrade_target=data.get("upgrade_target"),
                template=str(data["template"]),
                fingerprint=str(data["fingerprint"]),
                users=tuple(_user_from(item) for item in data["users"]),
                skipped=tuple(Skipped(s["device"], s.get("userid"), s["reason"]) for s in data["skipped"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PlanError(f"{source}: a plan entry is missing or malformed ({exc!r})") from exc

    @classmethod
    def from_json(cls, text: str, source: str = "plan") -> Plan:
        return cls.from_dict(_parse(text, source), source)

    @classmethod
    def load(cls, path: Path) -> Plan:
        """A saved plan, refused unless its content still matches its digest."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PlanError(f"cannot read plan {path}: {getattr(exc, 'strerror', None) or exc}") from exc
        data = _parse(text, str(path))
        _check_digest(data, str(path))
        return cls.from_dict(data, str(path))


def content_digest(content: Mapping[str, Any]) -> str:
    """sha256 over the canonical JSON of a plan's content: the same whatever the file's layout."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))  # ASCII: a lone surrogate stays \uXXXX
    return hashlib.sha256(text.encode()).hexdigest()


def _parse(text: str, source: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(f"{source} is not JSON: {exc.msg} at line {exc.lineno}") from exc
    except RecursionError as exc:
        raise PlanError(f"{source} is not a plan: its JSON is nested too deeply to read") from exc


def _check_digest(data: object, source: str) -> None:
    if not isinstance(data, dict) or data.get("schema") != PLAN_SCHEMA:
        return  # not a plan at all: from_dict says so
    content = {key: value for key, value in data.items() if key != "digest"}
    if data.get("digest") != content_digest(content):
        raise PlanError(f"{source} does not match its digest: it was edited after planning (or made by an older "
                        "cucm-spark); plan again with --dry-run --plan-out FILE")


def step_dict(step: Step) -> dict[str, Any]:
    return {
        "kind": step.kind.value,
        "operation": step.operation,
        "payload": step.payload,
        "description": step.description,
        "undo": None if step.undo is None else {"operation": step.undo.operation, "payload": step.undo.payload},
        "expect": step.expect,
    }


def step_from(data: Mapping[str, Any]) -> Step:
    undo = data.get("undo")
    return Step(
        kind=StepKind(data["kind"]),
        operation=str(data["operation"]),
        payload=dict(data["payload"]),
        description=str(data["description"]),
        undo=None if undo is None else Undo(str(undo["operation"]), dict(undo["payload"])),
        expect=dict(data.get("expect") or {}),
    )


def _user_dict(user: UserPlan) -> dict[str, Any]:
    return {
        "userid": user.userid,
        "action": user.action.value,
        "cti_rds": list(user.cti_rds),
        "spark_rd": user.spark_rd,
        "controllers": list(user.controllers),
        "tier_before": user.tier_before,
        "tier_after": user.tier_after,
        "fingerprint": user.fingerprint,
        "steps": [step_dict(step) for step in user.steps],
    }


def _user_from(data: Mapping[str, Any]) -> UserPlan:
    return UserPlan(
        userid=str(data["userid"]),
        action=Action(data["action"]),
        cti_rds=tuple(data["cti_rds"]),
        spark_rd=str(data["spark_rd"]),
        steps=tuple(step_from(step) for step in data["steps"]),
        fingerprint=str(data["fingerprint"]),
        controllers=tuple(data.get("controllers") or ()),
        tier_before=data.get("tier_before"),
        tier_after=data.get("tier_after"),
    )
