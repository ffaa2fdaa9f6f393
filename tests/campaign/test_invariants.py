"""The campaign's invariants catch what they claim to: each broken on purpose, after a real migration, is caught.

A campaign whose checks cannot fail proves nothing, so each check here meets the tables
of a real run (the installed command against a tangled lab) with one thing spoiled.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from campaign.datasets import tangled_cluster
from campaign.invariants import (
    JournalView,
    Violation,
    always,
    at_the_end,
    dump,
    natural_view,
    read_journal,
    run_ids,
)
from campaign.play import Ended, check_exit
from campaign.scenarios import Trouble
from support.lab import running_lab

EXE = Path(sys.executable).parent / "cucm-spark"
Raw = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def migrated_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Raw, Raw, JournalView]:
    """The tangled cluster's tables before and after a clean migration, and the journal of it."""
    work = tmp_path_factory.mktemp("invariants")
    dataset = work / "tangled.json"
    dataset.write_text(json.dumps(tangled_cluster(3)))
    env = {**os.environ, "CUCM_SPARK_USERNAME": "administrator", "CUCM_SPARK_PASSWORD": "ciscopsdt",
           "CUCM_SPARK_STATE_DIR": str(work)}
    with running_lab(dataset=dataset) as lab:
        before = dump(lab)
        result = subprocess.run([str(EXE), "migrate", "--host", lab.url, "--yes"], env=env, capture_output=True,
                                text=True, stdin=subprocess.DEVNULL, timeout=120)
        assert result.returncode == 0, result.stderr
        after = dump(lab)
    journal = work / "migrations.sqlite"
    return before, after, read_journal(journal, run_ids(journal)[-1])


def _pkid(raw: Raw, name: str) -> str:
    return next(row["pkid"] for row in raw["device"] if row["name"] == name)


def _without(raw: Raw, table: str, drop: Any) -> Raw:
    spoiled = copy.deepcopy(raw)
    spoiled[table] = [row for row in spoiled[table] if not drop(row)]
    return spoiled


def _with_user_state(journal: JournalView, userid: str, state: str) -> JournalView:
    return replace(journal, users={**journal.users, userid: (state, journal.users[userid][1])})


def test_a_clean_run_holds_every_invariant(migrated_run) -> None:
    before, after, journal = migrated_run
    assert {user.userid for user in journal.planned} >= {"plain1", "fold1", "twin1", "exec1"}
    at_the_end(after, natural_view(before), journal, "done")
    always(before, natural_view(before), None)


def test_a_lost_line_is_caught(migrated_run) -> None:
    before, after, journal = migrated_run
    spark = _pkid(after, "SPARKPLAIN1")
    with pytest.raises(Violation, match="line .* of CTIRDPLAIN1 is on none of"):
        always(_without(after, "devicenumplanmap", lambda row: row["fkdevice"] == spark), natural_view(before),
               journal)


def test_a_lost_destination_is_caught(migrated_run) -> None:
    before, after, journal = migrated_run
    spoiled = _without(after, "remotedestination", lambda row: row["destination"].startswith("twodest1.alt@"))
    with pytest.raises(Violation, match=r"remote destination twodest1\.alt@.* is lost"):
        always(spoiled, natural_view(before), journal)


def test_a_destination_on_a_missing_device_is_caught(migrated_run) -> None:
    before, after, journal = migrated_run
    spoiled = copy.deepcopy(after)
    next(row for row in spoiled["remotedestination"] if row["destination"].startswith("plain1@"))["fkdevice"] = "gone"
    with pytest.raises(Violation, match="points at rows that do not exist: fkdevice"):
        always(spoiled, natural_view(before), journal)


def test_a_duplicate_device_name_is_caught(migrated_run) -> None:
    before, after, journal = migrated_run
    spoiled = copy.deepcopy(after)
    twin = next(row for row in spoiled["device"] if row["name"] == "SPARKPLAIN1")
    spoiled["device"].append({**twin, "pkid": "another", "name": "sparkplain1"})
    with pytest.raises(Violation, match="duplicate device: SPARKPLAIN1 and sparkplain1"):
        always(spoiled, natural_view(before), journal)


def test_a_device_no_plan_made_is_caught(migrated_run) -> None:
    before, after, journal = migrated_run
    spoiled = copy.deepcopy(after)
    twin = next(row for row in spoiled["device"] if row["name"] == "SPARKPLAIN1")
    spoiled["device"].append({**twin, "pkid": "another", "name": "SPARKSTRAY"})
    with pytest.raises(Violation, match=r"devices no plan made: \['SPARKSTRAY'\]"):
        always(spoiled, natural_view(before), journal)


def test_a_change_outside_the_plan_is_caught(migrated_run) -> None:
    before, after, journal = migrated_run
    spoiled = copy.deepcopy(after)
    next(row for row in spoiled["device"] if row["name"].startswith("SEP"))["description"] = "changed by the run"
    with pytest.raises(Violation, match="device rows no planned user owns changed"):
        always(spoiled, natural_view(before), journal)


def test_a_journal_claim_the_tables_deny_is_caught(migrated_run) -> None:
    before, after, journal = migrated_run
    with pytest.raises(Violation, match="the journal says fold1 is rolled_back, the tables disagree"):
        always(after, natural_view(before), _with_user_state(journal, "fold1", "rolled_back"))


def test_a_half_migrated_user_is_caught_at_the_end(migrated_run) -> None:
    before, after, journal = migrated_run
    spark = _pkid(after, "SPARKEXEC1")
    spoiled = _without(after, "enduserdevicemap", lambda row: row["fkdevice"] == spark and row["fkenduser"] !=
                       next(user["pkid"] for user in after["enduser"] if user["userid"] == "exec1"))
    with pytest.raises(Violation, match="exec1 is neither fully migrated nor fully original"):
        at_the_end(spoiled, natural_view(before), _with_user_state(journal, "exec1", "failed"), "done")


def test_a_write_left_in_doubt_is_caught_at_the_end(migrated_run) -> None:
    before, after, journal = migrated_run
    steps = {**journal.steps, "twin1": {**journal.steps["twin1"], 0: ("started", "addPhone")}}
    with pytest.raises(Violation, match="twin1 is journalled migrated but their write steps are"):
        at_the_end(after, natural_view(before), replace(journal, steps=steps), "done")


def test_a_traceback_is_caught_whatever_the_exit() -> None:
    with pytest.raises(Violation, match="a traceback"):
        check_exit(Ended(4, None, "Traceback (most recent call last):\n  ...\nKeyError: 'x'"), Trouble(), False,
                          wrote=True)
    with pytest.raises(Violation, match="a run with no fault and no kill exited 4"):
        check_exit(Ended(4, None, "cucm-spark: error: some users failed"), Trouble(), True, wrote=True)


def test_a_cluster_error_after_writes_is_caught() -> None:
    faulted = Trouble(({"kind": "drop", "rate": 1.0, "count": 1, "operations": ["getPhone"], "ms": 0},))
    check_exit(Ended(3, None, "cucm-spark: error: busy (HTTP 503)"), faulted, False, wrote=False)
    with pytest.raises(Violation, match=r"exit 3 \(expected one of \[0, 4\] after writes\)"):
        check_exit(Ended(3, None, "cucm-spark: error: busy (HTTP 503)"), faulted, False, wrote=True)


def test_a_before_image_the_tables_deny_is_caught(migrated_run) -> None:
    before, after, journal = migrated_run
    state, image = journal.users["twodest1"]
    shortened = {**image, "destinations": {"CTIRDTWODEST1": image["destinations"]["CTIRDTWODEST1"][:1]}}
    spoiled = replace(journal, users={**journal.users, "twodest1": (state, shortened)})
    with pytest.raises(Violation, match="the before-image of CTIRDTWODEST1 shows lines"):
        at_the_end(after, natural_view(before), spoiled, "done")
