"""Plans survive JSON both ways, and a broken plan file is refused with a PlanError naming it."""

from __future__ import annotations

import json

import pytest

from cucm_spark.errors import PlanError
from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.migrate.naming import NameTemplate
from cucm_spark.migrate.plan import PLAN_SCHEMA, Plan
from cucm_spark.migrate.planner import plan_migration
from cucm_spark.releases import ReleaseTable, parse_release


@pytest.fixture
def edge_plan(edge_cases) -> Plan:
    inventory, settings = edge_cases
    return plan_migration(inventory, parse_release(inventory.version), ReleaseTable.load(), NameTemplate(),
                          settings=settings, categories=CategoryMap.load(), cluster="http://127.0.0.1:1/axl/")


def test_round_trip(edge_plan: Plan) -> None:
    assert Plan.from_json(edge_plan.to_json()) == edge_plan


def test_saved_and_loaded(edge_plan: Plan, tmp_path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(edge_plan.to_json())
    assert Plan.load(path) == edge_plan


def test_json_has_summary_and_schema(edge_plan: Plan) -> None:
    data = json.loads(edge_plan.to_json())
    assert data["schema"] == PLAN_SCHEMA
    assert data["summary"]["migrate"] == 8 and data["summary"]["skipped"] == 5
    assert data["users"][0]["steps"][0]["operation"] == "addPhone"


def test_only_keeps_the_named_users(edge_plan: Plan) -> None:
    assert [u.userid for u in edge_plan.only({"JSMITH"}).users] == ["jsmith"]


@pytest.mark.parametrize("text", ["not json", "[]", json.dumps({"schema": "other"}),
                                  json.dumps({"schema": PLAN_SCHEMA, "cluster": "x"})])
def test_bad_plans_are_refused(text: str, tmp_path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(PlanError, match="bad.json"):
        Plan.load(path)


def test_missing_file(tmp_path) -> None:
    with pytest.raises(PlanError, match="cannot read plan"):
        Plan.load(tmp_path / "absent.json")
