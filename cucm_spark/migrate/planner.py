"""The migration planner: from an inventory and a release, a decision and ordered AXL steps per user. Pure.

Per Hybrid Call CTI-RD: *skip* with a reason (release without Spark-RD support, naming
the release to upgrade to; not Hybrid Call; no owner; user not selected; beyond the
limit; settings not read; no free name; lines the target lacks), *consolidate* when the
owner already has a Spark-RD, else *migrate*. A user's CTI-RDs are planned together:
the first (by name) becomes the new Spark-RD, the others fold into it.

The step order keeps the user reachable at every point: create the Spark-RD with the
same lines (a shared line) → verify it → re-point each remote destination → update
the controlled-device associations → remove the CTI-RD (only now: removing a CTI-RD
deletes the destinations still ringing through it) → verify.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cucm_spark.inventory.model import Device, DeviceKind, Inventory, Line, User
from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.licensing.policy import licensing_report
from cucm_spark.migrate.facts import (
    CTI_RD_PRODUCT,
    SPARK_RD_PRODUCT,
    DeviceSettings,
    device_facts,
    fingerprint,
    line_payload,
    normal_lines,
    phone_payload,
    plan_fingerprint,
    user_facts,
)
from cucm_spark.migrate.naming import NameTemplate
from cucm_spark.migrate.plan import Action, Plan, Skipped, Step, StepKind, Undo, UserPlan
from cucm_spark.releases import Release, ReleaseTable

NOT_HYBRID = "not Hybrid Call (Extend and Connect, or no cloud remote destination): left alone"
NO_OWNER = "no owner: a Spark-RD needs an Owner User ID"
SPARK_RD_TAGS = {"name": "", "ownerUserName": "", "lines": {"line": {
    "index": "", "label": "", "display": "", "dirn": {"pattern": "", "routePartitionName": ""},
    "displayAscii": "", "e164Mask": ""}}}


@dataclass(frozen=True)
class Target:
    """The Spark-RD a user's CTI-RDs go to: a new one (migrate) or the one they own (consolidate)."""

    action: Action
    name: str
    lines: tuple[Line, ...]
    existing: Device | None = None


def plan_migration(
    inventory: Inventory,
    release: Release,
    releases: ReleaseTable,
    template: NameTemplate,
    users: set[str] | None = None,
    limit: int | None = None,
    *,
    settings: Mapping[str, DeviceSettings] | None = None,
    categories: CategoryMap | None = None,
    cluster: str = "",
) -> Plan:
    """The plan for this inventory. ``settings`` maps lower-cased CTI-RD names to what getPhone read."""
    supported = releases.supports_spark_rd(release)
    upgrade = releases.upgrade_target(release)
    skipped: list[Skipped] = []
    candidates: dict[str, list[Device]] = {}
    for device in sorted(inventory.devices, key=lambda d: d.name.lower()):
        if device.kind is not DeviceKind.CTI_RD:
            continue
        if not device.hybrid:
            skipped.append(Skipped(device.name, device.owner, NOT_HYBRID))
        elif not supported:
            skipped.append(Skipped(device.name, device.owner, unsupported_reason(release, releases)))
        elif device.owner is None:
            skipped.append(Skipped(device.name, None, NO_OWNER))
        else:
            candidates.setdefault(device.owner, []).append(device)
    chosen = _select(candidates, users, limit, skipped)
    tiers = _tiers(inventory, categories)
    taken = {device.name.lower() for device in inventory.devices}
    planned: list[UserPlan] = []
    for owner in chosen:
        user_plan = _plan_user(owner, candidates[owner], inventory, template, taken, settings or {}, skipped)
        if user_plan is not None:
            before, after = tiers.get(owner, (None, None))
            planned.append(_with_tiers(user_plan, before, after))
    return Plan(
        cluster=cluster,
        release=str(release),
        release_supported=supported,
        upgrade_target=str(upgrade) if upgrade else None,
        template=template.template,
        fingerprint=plan_fingerprint(user.fingerprint for user in planned),
        users=tuple(planned),
        skipped=tuple(sorted(skipped, key=lambda s: s.device.lower())),
    )


def unsupported_reason(release: Release, releases: ReleaseTable) -> str:
    """Why nothing can be migrated on this release, naming the release to upgrade to."""
    upgrade = releases.upgrade_target(release)
    target = releases.describe(upgrade) if upgrade else "a release that supports Spark-RDs"
    return f"release {releases.describe(release)} has no Spark-RD support: upgrade to {target}"


def _select(candidates: dict[str, list[Device]], users: set[str] | None, limit: int | None,
            skipped: list[Skipped]) -> list[str]:
    wanted = {userid.lower() for userid in users} if users is not None else None
    chosen: list[str] = []
    for owner in sorted(candidates, key=str.lower):
        reason = None
        if wanted is not None and owner.lower() not in wanted:
            reason = "user not selected (--users)"
        elif limit is not None and len(chosen) >= limit:
            reason = f"beyond --limit {limit}"
        if reason is None:
            chosen.append(owner)
        else:
            skipped.extend(Skipped(device.name, owner, reason) for device in candidates[owner])
    return chosen


def _tiers(inventory: Inventory, categories: CategoryMap | None) -> dict[str, tuple[str | None, str | None]]:
    if categories is None:
        return {}
    report = licensing_report(inventory, categories)
    return {
        row.userid: (row.tier_now.value if row.tier_now else None, row.tier_after.value if row.tier_after else None)
        for row in report.users
    }


def _with_tiers(user: UserPlan, before: str | None, after: str | None) -> UserPlan:
    return UserPlan(user.userid, user.action, user.cti_rds, user.spark_rd, user.steps, user.fingerprint,
                    user.controllers, before, after)


def _target(owner: str, ctis: list[Device], inventory: Inventory, template: NameTemplate,
            taken: set[str]) -> Target | str:
    """Where the user's CTI-RDs go, or why they cannot go anywhere."""
    owned_spark = sorted((d for d in inventory.devices if d.kind is DeviceKind.SPARK_RD
                          and (d.owner or "").lower() == owner.lower()), key=lambda d: d.name.lower())
    if owned_spark:
        return Target(Action.CONSOLIDATE, owned_spark[0].name, owned_spark[0].lines, owned_spark[0])
    if not template.userid_part(owner):
        return f"no Spark-RD name can be made from {owner!r}: it has no character of [{template.allowed}]"
    name = template.name_for(owner, taken)
    if name is None:
        return f"no free Spark-RD name from template {template.template!r} for {owner!r}"
    return Target(Action.MIGRATE, name, ctis[0].lines)


def _plan_user(owner: str, ctis: list[Device], inventory: Inventory, template: NameTemplate,
               taken: set[str], settings: Mapping[str, DeviceSettings], skipped: list[Skipped]) -> UserPlan | None:
    def skip(reason: str) -> None:
        skipped.extend(Skipped(device.name, owner, reason) for device in ctis)

    unread = [device.name for device in ctis if device.name.lower() not in settings]
    if unread:
        skip(f"settings of {', '.join(unread)} not read (getPhone)")
        return None
    target = _target(owner, ctis, inventory, template, taken)
    if isinstance(target, str):
        skip(target)
        return None
    folded = ctis if target.action is Action.CONSOLIDATE else ctis[1:]
    carried = {(line.pattern, line.partition) for line in target.lines}
    for device in folded:
        lacking = [line.pattern for line in device.lines if (line.pattern, line.partition) not in carried]
        if lacking:
            skip(f"{device.name} has lines {target.name} lacks ({', '.join(lacking)}): merge them by hand")
            return None
    if target.action is Action.MIGRATE:
        taken.add(target.name.lower())
    users_by_id = {user.userid.lower(): user for user in inventory.users}
    controllers = _controllers(owner, ctis, inventory.users, users_by_id)
    facts = [device_facts(d.name, d.model, d.owner, d.description, d.lines,
                          (r.destination for r in d.remote_destinations), settings[d.name.lower()]) for d in ctis]
    if target.existing is not None:
        e = target.existing
        facts.append(device_facts(e.name, e.model, e.owner, e.description, e.lines,
                                  (r.destination for r in e.remote_destinations)))
    associations = {user.userid: user.associated_devices for user in controllers}
    steps = _steps(owner, ctis, target, controllers, settings)
    return UserPlan(owner, target.action, tuple(d.name for d in ctis), target.name, steps,
                    fingerprint(user_facts(owner, facts, associations)), tuple(u.userid for u in controllers))


def _controllers(owner: str, ctis: list[Device], users: tuple[User, ...],
                 by_id: Mapping[str, User]) -> list[User]:
    """The owner (who gets the Spark-RD) and every other user who controls one of the CTI-RDs."""
    names = {device.name.lower() for device in ctis}
    found = [by_id.get(owner.lower()) or User(owner)]
    found.extend(user for user in users if user.userid.lower() != owner.lower()
                 and any(name.lower() in names for name in user.associated_devices))
    return found


def _steps(owner: str, ctis: list[Device], target: Target, controllers: list[User],
           settings: Mapping[str, DeviceSettings]) -> tuple[Step, ...]:
    steps: list[Step] = []
    spark = target.name
    if target.action is Action.MIGRATE:
        source = ctis[0]
        payload = phone_payload(spark, SPARK_RD_PRODUCT, owner, source.description,
                                settings[source.name.lower()], source.lines)
        steps.append(Step(StepKind.ADD_SPARK_RD, "addPhone", {"phone": payload},
                          f"create Spark-RD {spark} for {owner} from {source.name}, lines {_lines(source)}",
                          Undo("removePhone", {"name": spark})))
    steps.append(Step(StepKind.VERIFY_SPARK_RD, "getPhone", {"name": spark, "returnedTags": SPARK_RD_TAGS},
                      f"check {spark} exists, is owned by {owner} and carries {_lines(ctis[0])}",
                      expect={"ownerUserName": owner,
                              "lines": [line_payload(line) for line in normal_lines(target.lines)]}))
    for device in ctis:
        for destination in sorted(device.remote_destinations, key=lambda r: r.destination.lower()):
            steps.append(Step(
                StepKind.REPOINT_DESTINATION, "updateRemoteDestination",
                {"destination": destination.destination, "ctiRemoteDeviceName": spark},
                f"re-point remote destination {destination.destination} from {device.name} to {spark}",
                Undo("updateRemoteDestination",
                     {"destination": destination.destination, "ctiRemoteDeviceName": device.name})))
    gone = {device.name.lower() for device in ctis}
    for user in controllers:
        before = list(user.associated_devices)
        after = [name for name in before if name.lower() not in gone]
        if spark.lower() not in {name.lower() for name in after}:
            after.append(spark)
        if after == before:
            continue
        dropped = [name for name in before if name.lower() in gone]
        steps.append(Step(
            StepKind.UPDATE_ASSOCIATION, "updateUser",
            {"userid": user.userid, "associatedDevices": {"device": after}},
            f"controlled devices of {user.userid}: add {spark}" + (f", drop {', '.join(dropped)}" if dropped else ""),
            Undo("updateUser", {"userid": user.userid, "associatedDevices": {"device": before}})))
    for device in ctis:
        recreate = phone_payload(device.name, CTI_RD_PRODUCT, device.owner, device.description,
                                 settings[device.name.lower()], device.lines)
        steps.append(Step(StepKind.REMOVE_CTI_RD, "removePhone", {"name": device.name},
                          f"remove CTI-RD {device.name}", Undo("addPhone", {"phone": recreate})))
    for device in ctis:
        steps.append(Step(StepKind.VERIFY_MIGRATED, "getPhone", {"name": device.name, "returnedTags": {"name": ""}},
                          f"check {device.name} is gone", expect={"absent": True}))
        for destination in sorted(device.remote_destinations, key=lambda r: r.destination.lower()):
            steps.append(Step(
                StepKind.VERIFY_MIGRATED, "getRemoteDestination",
                {"destination": destination.destination,
                 "returnedTags": {"destination": "", "ctiRemoteDeviceName": ""}},
                f"check {destination.destination} rings through {spark}",
                expect={"ctiRemoteDeviceName": spark}))
    return tuple(steps)


def _lines(device: Device) -> str:
    return ", ".join(f"{line.pattern}" + (f" ({line.partition})" if line.partition else "") for line in device.lines) \
        or "no lines"
