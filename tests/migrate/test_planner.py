"""The planner on the edge-case cluster and on small made-up ones: decisions, steps, order, tiers, fingerprint."""

from __future__ import annotations

from dataclasses import replace

from cucm_spark.inventory.model import Device, DeviceKind, Inventory, Line, RemoteDestination, User
from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.migrate.facts import DeviceSettings
from cucm_spark.migrate.naming import NameTemplate
from cucm_spark.migrate.plan import Action, StepKind
from cucm_spark.migrate.planner import plan_migration
from cucm_spark.releases import ReleaseTable, parse_release

RELEASES = ReleaseTable.load()
CATEGORIES = CategoryMap.load()
HYBRID = {"jsmith", "bchen", "ttaylor", "kmiller", "pwalker", "slopez", "christina.vandenberg", "swright"}


def plan(inventory, settings, release=None, **kw):
    return plan_migration(inventory, parse_release(release or inventory.version), RELEASES, NameTemplate(),
                          settings=settings, categories=CATEGORIES, **kw)


def test_edge_cases_migrate_exactly_the_owned_hybrid_cti_rds(edge_cases) -> None:
    result = plan(*edge_cases)
    assert {u.userid for u in result.users} == HYBRID
    assert all(u.action is Action.MIGRATE for u in result.users)
    reasons = {s.device: s.reason for s in result.skipped}
    assert reasons["CTIRDAJOHNSON"].startswith("no owner")
    for device in ("CTIRDHMULLER", "CTIRDOKIM", "CTIRDLWONG", "CTIRDFSATO"):
        assert reasons[device].startswith("not Hybrid Call")
    assert len(result.skipped) == 5


def test_edge_case_names_respect_rules_and_collisions(edge_cases) -> None:
    names = {u.userid: u.spark_rd for u in plan(*edge_cases).users}
    assert names["jsmith"] == "SPARKJSMITH"
    assert names["pwalker"] == "SPARKPWALKER1"  # his own CTI-RD holds SPARKPWALKER until it is removed
    assert names["slopez"] == "SPARKSLOPEZ"
    assert names["christina.vandenberg"] == "SPARKCHRISTINA."
    assert len(set(names.values())) == len(names)


def test_steps_keep_the_user_reachable(edge_cases) -> None:
    user = next(u for u in plan(*edge_cases).users if u.userid == "kmiller")
    kinds = [step.kind for step in user.steps]
    assert kinds == [
        StepKind.ADD_SPARK_RD, StepKind.VERIFY_SPARK_RD, StepKind.REPOINT_DESTINATION,
        StepKind.UPDATE_ASSOCIATION, StepKind.REMOVE_CTI_RD, StepKind.VERIFY_MIGRATED, StepKind.VERIFY_MIGRATED,
    ]
    add = user.steps[0]
    phone = add.payload["phone"]
    assert phone["name"] == "SPARKKMILLER" and phone["ownerUserName"] == "kmiller"
    assert phone["product"] == "Cisco Spark Remote Device"
    assert phone["callingSearchSpaceName"] == "Exec_CSS"
    assert phone["rerouteCallingSearchSpaceName"] == "Hybrid_Reroute_CSS"
    assert [(li["index"], li["dirn"]["pattern"], li["dirn"]["routePartitionName"]) for li in phone["lines"]["line"]] \
        == [(1, "2114", "SJC_Internal_PT"), (2, "2900", "Exec_PT")]
    assert add.undo.operation == "removePhone" and add.undo.payload == {"name": "SPARKKMILLER"}
    repoint = user.steps[2]
    assert repoint.payload == {"destination": "kmiller@acme.call.ciscospark.com",
                               "ctiRemoteDeviceName": "SPARKKMILLER"}
    assert repoint.undo.payload["ctiRemoteDeviceName"] == "CTIRDKMILLER"
    association = user.steps[3]
    assert association.payload == {"userid": "kmiller", "associatedDevices": {"device": [
        d for d in association.undo.payload["associatedDevices"]["device"] if d != "CTIRDKMILLER"] + ["SPARKKMILLER"]}}
    remove = user.steps[4]
    assert remove.payload == {"name": "CTIRDKMILLER"}
    assert remove.undo.operation == "addPhone" and remove.undo.payload["phone"]["product"] == "CTI Remote Device"
    assert all(step.description for step in user.steps)


def test_none_fields_are_left_out_of_payloads(edge_cases) -> None:
    user = next(u for u in plan(*edge_cases).users if u.userid == "jsmith")
    assert None not in user.steps[0].payload["phone"].values()


def test_tiers_before_and_after(edge_cases) -> None:
    result = plan(*edge_cases)
    jsmith = next(u for u in result.users if u.userid == "jsmith")
    assert (jsmith.tier_before, jsmith.tier_after) == ("enhanced_plus", "enhanced")
    assert result.licence_effect()["enhanced_plus -> enhanced"] >= 1


def test_release_without_spark_rd_skips_everything_and_names_the_upgrade(edge_cases) -> None:
    result = plan(*edge_cases, release="11.5.1.12900-21")
    assert result.users == ()
    assert not result.release_supported and result.upgrade_target == "11.5.1.13900-52"
    hybrid_skips = [s for s in result.skipped if "no Spark-RD support" in s.reason]
    assert len(hybrid_skips) == 9
    assert "upgrade to 11.5(1)SU3" in hybrid_skips[0].reason or "11.5.1.13900-52" in hybrid_skips[0].reason


def test_users_and_limit_select(edge_cases) -> None:
    chosen = plan(*edge_cases, users={"JSmith", "bchen"})
    assert [u.userid for u in chosen.users] == ["bchen", "jsmith"]
    assert any(s.reason == "user not selected (--users)" and s.userid == "kmiller" for s in chosen.skipped)
    limited = plan(*edge_cases, limit=3)
    assert [u.userid for u in limited.users] == ["bchen", "christina.vandenberg", "jsmith"]
    assert sum(1 for s in limited.skipped if s.reason == "beyond --limit 3") == 5


def test_planning_is_pure_and_deterministic(edge_cases) -> None:
    assert plan(*edge_cases) == plan(*edge_cases)


def test_fingerprint_changes_with_the_facts(edge_cases) -> None:
    inventory, settings = edge_cases
    before = {u.userid: u.fingerprint for u in plan(inventory, settings).users}
    devices = tuple(replace(d, lines=(Line(1, "9999", "SJC_Internal_PT"),)) if d.name == "CTIRDJSMITH" else d
                    for d in inventory.devices)
    after = {u.userid: u.fingerprint for u in plan(replace(inventory, devices=devices), settings).users}
    assert before["jsmith"] != after["jsmith"]
    assert all(before[u] == after[u] for u in before if u != "jsmith")
    moved = dict(settings, ctirdbchen=replace(settings["ctirdbchen"], device_pool="Default"))
    assert plan(inventory, moved).users[0].fingerprint != before["bchen"]


def test_missing_settings_skip_the_user(edge_cases) -> None:
    inventory, settings = edge_cases
    partial = {name: value for name, value in settings.items() if name != "ctirdjsmith"}
    result = plan(inventory, partial)
    assert "jsmith" not in {u.userid for u in result.users}
    assert any(s.device == "CTIRDJSMITH" and "not read" in s.reason for s in result.skipped)


SETTINGS = DeviceSettings("Default", None, None, "Hub_None", "Standard Common Phone Profile")


def _cti(name: str, owner: str, pattern: str, destination: str) -> Device:
    return Device(name, "CTI Remote Device", DeviceKind.CTI_RD, owner, None, (Line(1, pattern, "PT"),),
                  (RemoteDestination(destination, None, owner, name),), hybrid=True)


def test_an_owner_with_a_spark_rd_consolidates() -> None:
    spark = Device("SPARKANN", "Cisco Spark Remote Device", DeviceKind.SPARK_RD, "ann", None, (Line(1, "1000", "PT"),))
    inventory = Inventory("14.0.1.10000-20", (User("ann", associated_devices=("CTIANN", "SPARKANN")),),
                          (_cti("CTIANN", "ann", "1000", "ann@x.call.ciscospark.com"), spark))
    result = plan(inventory, {"ctiann": SETTINGS})
    (user,) = result.users
    assert user.action is Action.CONSOLIDATE and user.spark_rd == "SPARKANN"
    assert StepKind.ADD_SPARK_RD not in [s.kind for s in user.steps]
    association = next(s for s in user.steps if s.kind is StepKind.UPDATE_ASSOCIATION)
    assert association.payload["associatedDevices"]["device"] == ["SPARKANN"]


def test_two_cti_rds_of_one_user_fold_into_one_spark_rd() -> None:
    inventory = Inventory("14.0.1.10000-20", (User("bob", associated_devices=("CTIA", "CTIB")),),
                          (_cti("CTIA", "bob", "2000", "bob@x.call.ciscospark.com"),
                           _cti("CTIB", "bob", "2000", "bob2@x.calls.webex.com")))
    (user,) = plan(inventory, {"ctia": SETTINGS, "ctib": SETTINGS}).users
    assert user.cti_rds == ("CTIA", "CTIB") and user.spark_rd == "SPARKBOB"
    assert sum(1 for s in user.steps if s.kind is StepKind.REMOVE_CTI_RD) == 2
    assert sum(1 for s in user.steps if s.kind is StepKind.REPOINT_DESTINATION) == 2


def test_consolidation_refused_when_the_spark_rd_lacks_a_line() -> None:
    spark = Device("SPARKANN", "Cisco Spark Remote Device", DeviceKind.SPARK_RD, "ann", None, (Line(1, "1000", "PT"),))
    inventory = Inventory("14.0.1.10000-20", (User("ann"),),
                          (_cti("CTIANN", "ann", "1001", "ann@x.call.ciscospark.com"), spark))
    result = plan(inventory, {"ctiann": SETTINGS})
    assert result.users == ()
    assert "lacks (1001)" in result.skipped[0].reason


def test_other_controllers_keep_control_through_the_spark_rd() -> None:
    inventory = Inventory("14.0.1.10000-20",
                          (User("ann", associated_devices=("CTIANN",)),
                           User("assistant", associated_devices=("CTIANN", "SEPX"))),
                          (_cti("CTIANN", "ann", "1000", "ann@x.call.ciscospark.com"),))
    (user,) = plan(inventory, {"ctiann": SETTINGS}).users
    assert user.controllers == ("ann", "assistant")
    payloads = [s.payload for s in user.steps if s.kind is StepKind.UPDATE_ASSOCIATION]
    assert payloads[1] == {"userid": "assistant", "associatedDevices": {"device": ["SEPX", "SPARKANN"]}}


def test_every_planned_request_is_valid_under_ciscos_schema(edge_cases) -> None:
    """Each step, its undo, and the CTI-RD re-created for rollback, as zeep would send them."""
    import zeep
    from support.official_schema import require_official_schema, validate_body

    from cucm_spark.axl.client import default_wsdl
    from cucm_spark.migrate.facts import recreate_payload

    require_official_schema()
    client = zeep.Client(str(default_wsdl()), settings=zeep.Settings(strict=False, xml_huge_tree=True))
    requests = [(s.operation, s.payload) for u in plan(*edge_cases).users for s in u.steps]
    requests += [(s.undo.operation, s.undo.payload) for u in plan(*edge_cases).users for s in u.steps if s.undo]
    before = {"name": "CTIX", "product": "CTI Remote Device", "class": "Phone", "protocol": "CTI Remote Device",
              "protocolSide": "User", "devicePoolName": "Default",
              "commonPhoneConfigName": "Standard Common Phone Profile", "locationName": "Hub_None",
              "useTrustedRelayPoint": "Default", "builtInBridgeStatus": "Default",
              "ownerUserName": "ann", "packetCaptureMode": "None", "certificateOperation": "No Pending Operation",
              "deviceMobilityMode": "Default", "description": "", "callingSearchSpaceName": None,
              "lines": {"line": [{"index": "1", "label": "", "dirn": {"pattern": "1000", "routePartitionName": None}}]}}
    requests.append(("addPhone", recreate_payload(before)))
    assert len(requests) > 50
    for operation, payload in requests:
        validate_body(client.create_message(client.service, operation, **payload))
