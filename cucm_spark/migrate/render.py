"""Text and JSON for people: a plan's summary, a run's outcome, the list of runs."""

from __future__ import annotations

import json
from collections import Counter

from cucm_spark.migrate.executor import RunResult, UserStatus
from cucm_spark.migrate.journal import RunSummary
from cucm_spark.migrate.plan import Action, Plan


def plan_summary(plan: Plan) -> str:
    """Users to migrate / consolidate, CTI-RDs skipped with their reasons, the licence effect."""
    support = ("supports Spark-RDs" if plan.release_supported
               else f"no Spark-RD support (upgrade to {plan.upgrade_target})")
    lines = [
        f"Cluster {plan.cluster}, release {plan.release}: {support}",
        f"Plan {plan.fingerprint[:16]}, Spark-RD names from {plan.template}",
        f"Users to migrate: {plan.count(Action.MIGRATE)}   to consolidate: {plan.count(Action.CONSOLIDATE)}"
        f"   CTI-RDs skipped: {len(plan.skipped)}",
    ]
    if plan.users:
        lines.append("")
        width = max(len(user.userid) for user in plan.users)
        for user in plan.users:
            lines.append(f"  {user.action.value:11} {user.userid:{width}}  {', '.join(user.cti_rds)} -> {user.spark_rd}"
                         f"  ({len(user.steps)} steps)")
    if plan.skipped:
        lines.append("")
        lines.append("Skipped:")
        width = max(len(skip.device) for skip in plan.skipped)
        for skip in plan.skipped:
            lines.append(f"  {skip.device:{width}}  {skip.userid or '-':12} {skip.reason}")
    lines.append("")
    lines.append("Licence effect: " + _effect(plan.licence_effect()))
    return "\n".join(lines) + "\n"


def _effect(effect: dict[str, int]) -> str:
    if not effect:
        return "no tier changes"
    return "; ".join(f"{key}: {count} user{'s' if count != 1 else ''}" for key, count in effect.items())


def run_effect(plan: Plan, result: RunResult) -> dict[str, int]:
    """Tier changes of the users this run migrated."""
    migrated = {outcome.userid for outcome in result.users(UserStatus.MIGRATED)}
    counts: Counter[str] = Counter()
    for user in plan.users:
        if user.userid in migrated and user.tier_before != user.tier_after:
            counts[f"{user.tier_before or 'none'} -> {user.tier_after or 'none'}"] += 1
    return dict(sorted(counts.items()))


def run_text(plan: Plan, result: RunResult) -> str:
    lines = [f"Run {result.run_id}: migrated {len(result.users(UserStatus.MIGRATED))}, "
             f"skipped {len(result.users(UserStatus.SKIPPED))}, failed {len(result.users(UserStatus.FAILED))}"]
    for status in (UserStatus.SKIPPED, UserStatus.FAILED):
        for outcome in result.users(status):
            lines.append(f"  {status.value:8} {outcome.userid}: {outcome.reason}")
    lines.append("Licence effect: " + _effect(run_effect(plan, result)))
    return "\n".join(lines) + "\n"


def run_json(plan: Plan, result: RunResult) -> str:
    data = {
        "run": result.run_id,
        **{status.value: [{"userid": o.userid, "reason": o.reason} for o in result.users(status)]
           for status in (UserStatus.MIGRATED, UserStatus.SKIPPED, UserStatus.FAILED)},
        "licence_effect": run_effect(plan, result),
    }
    return json.dumps(data, indent=2) + "\n"


def runs_text(runs: list[RunSummary]) -> str:
    if not runs:
        return "No migration runs in the journal.\n"
    lines = [f"{'RUN':21} {'CREATED':25} {'STATE':11} {'USERS':40} CLUSTER"]
    for run in runs:
        users = ", ".join(f"{state} {count}" for state, count in sorted(run.users.items())) or "-"
        state = "interrupted" if run.interrupted else run.state.value
        lines.append(f"{run.id:21} {run.created:25} {state:11} {users:40} {run.cluster}")
    return "\n".join(lines) + "\n"


def runs_json(runs: list[RunSummary]) -> str:
    return json.dumps([{"run": r.id, "created": r.created, "finished": r.finished, "cluster": r.cluster,
                        "state": r.state.value, "interrupted": r.interrupted, "users": r.users} for r in runs],
                      indent=2) + "\n"
