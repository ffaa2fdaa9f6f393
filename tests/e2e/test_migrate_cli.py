"""`cucm-spark migrate`, `runs`: the installed command against a lab over HTTP, checked through the lab's tables."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
import requests
from support.lab import AUTH, lab_config, lab_stats, running_lab

from cucm_spark.axl.client import AxlClient
from cucm_spark.axl.endpoint import Endpoint

EXE = Path(sys.executable).parent / "cucm-spark"
HYBRID = {"bchen": "CTIRDBCHEN", "christina.vandenberg": "CTIRDCVANDENBER", "jsmith": "CTIRDJSMITH",
          "kmiller": "CTIRDKMILLER", "pwalker": "SPARKPWALKER", "slopez": "SPARKDCLARK", "swright": "CTIRDSWRIGHT",
          "ttaylor": "CTIRDTTAYLOR"}
SPARK_NAMES = {"bchen": "SPARKBCHEN", "christina.vandenberg": "SPARKCHRISTINA.", "jsmith": "SPARKJSMITH",
               "kmiller": "SPARKKMILLER", "pwalker": "SPARKPWALKER1", "slopez": "SPARKSLOPEZ",
               "swright": "SPARKSWRIGHT", "ttaylor": "SPARKTTAYLOR"}
LEFT_ALONE = ("CTIRDAJOHNSON", "CTIRDHMULLER", "CTIRDOKIM", "CTIRDLWONG", "CTIRDFSATO")
CTI_RD, SPARK_RD = 635, 36235


def run(state: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CUCM_SPARK_USERNAME": "administrator", "CUCM_SPARK_PASSWORD": "ciscopsdt",
           "CUCM_SPARK_STATE_DIR": str(state)}
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
                          timeout=timeout)


def tables(lab) -> dict:
    """The lab's tables without pkids: devices (with lines), destinations, associations, by name."""
    dump = requests.get(lab.url.replace("/axl/", "/lab/dump"), auth=AUTH, timeout=10).json()
    names = {table: {row["pkid"]: row.get("name") for row in dump[table]}
             for table in ("callingsearchspace", "devicepool", "location", "commonphoneconfig", "routepartition")}
    users = {row["pkid"]: row["userid"] for row in dump["enduser"]}
    numbers = {row["pkid"]: (row["dnorpattern"], names["routepartition"].get(row["fkroutepartition"]))
               for row in dump["numplan"]}
    devices = {row["pkid"]: row for row in dump["device"]}
    device_name = {pkid: row["name"] for pkid, row in devices.items()}
    lines: dict[str, list] = {}
    for row in dump["devicenumplanmap"]:
        lines.setdefault(device_name[row["fkdevice"]], []).append(
            (row["numplanindex"], *numbers[row["fknumplan"]], row["label"], row["display"], row["e164mask"]))
    view_devices = {
        row["name"]: {
            "model": row["tkmodel"], "owner": users.get(row["fkenduser"]), "description": row["description"],
            "pool": names["devicepool"][row["fkdevicepool"]], "location": names["location"][row["fklocation"]],
            "css": names["callingsearchspace"].get(row["fkcallingsearchspace"]),
            "reroute": names["callingsearchspace"].get(row["fkcallingsearchspace_reroute"]),
            "common": names["commonphoneconfig"][row["fkcommonphoneconfig"]],
            "lines": sorted(lines.get(row["name"], [])),
        }
        for row in devices.values()
    }
    destinations = {row["destination"]: {"device": device_name.get(row["fkdevice"]), "owner": users[row["fkenduser"]],
                                         "name": row["name"]} for row in dump["remotedestination"]}
    associations: dict[str, list[str]] = {}
    for row in dump["enduserdevicemap"]:
        associations.setdefault(users[row["fkenduser"]], []).append(device_name[row["fkdevice"]])
    return {"devices": view_devices, "destinations": destinations,
            "associations": {user: sorted(found) for user, found in associations.items()}}


def assert_migrated(before: dict, after: dict) -> None:
    """Every Hybrid user on a Spark-RD that copies their CTI-RD; everything else as it was."""
    for user, cti in HYBRID.items():
        spark = SPARK_NAMES[user]
        assert cti not in after["devices"]
        old, new = before["devices"][cti], after["devices"][spark]
        assert new["model"] == SPARK_RD and new["owner"] == user
        for key in ("description", "pool", "location", "css", "reroute", "common", "lines"):
            assert new[key] == old[key], (user, key)
        for destination, row in before["destinations"].items():
            if row["device"] == cti:
                assert after["destinations"][destination] == {**row, "device": spark}
        assert after["associations"][user] == sorted(
            [d for d in before["associations"][user] if d != cti] + [spark])
    untouched = set(before["devices"]) - set(HYBRID.values())
    assert {name: after["devices"][name] for name in untouched} == {n: before["devices"][n] for n in untouched}
    for name in LEFT_ALONE:
        assert after["devices"][name] == before["devices"][name]
    assert len(after["devices"]) == len(before["devices"])


@pytest.fixture
def lab():
    with running_lab() as server:
        yield server


def test_dry_run_sends_no_write(lab, tmp_path: Path) -> None:
    result = run(tmp_path, "migrate", "--dry-run", "--host", lab.url, "--plan-out", str(tmp_path / "plan.json"))
    assert result.returncode == 0, result.stderr
    assert "Users to migrate: 8" in result.stdout
    assert "no owner" in result.stdout and "not Hybrid Call" in result.stdout
    assert "write addPhone: create Spark-RD SPARKJSMITH" in result.stdout
    assert "enhanced_plus -> enhanced" in result.stdout
    as_json = run(tmp_path, "migrate", "--dry-run", "--host", lab.url, "--format", "json", "--users", "jsmith")
    assert [u["userid"] for u in json.loads(as_json.stdout)["users"]] == ["jsmith"]
    assert lab_stats(lab)["writes"] == 0
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert len(plan["users"]) == 8
    assert "ciscopsdt" not in (tmp_path / "plan.json").read_text() + result.stdout + result.stderr


def test_a_run_migrates_exactly_the_hybrid_cti_rds(lab, tmp_path: Path) -> None:
    before = tables(lab)
    result = run(tmp_path, "migrate", "--host", lab.url, "--yes")
    assert result.returncode == 0, result.stderr
    assert "migrated 8, skipped 0, failed 0" in result.stdout
    assert_migrated(before, tables(lab))
    again = run(tmp_path, "migrate", "--dry-run", "--host", lab.url)
    assert "Users to migrate: 0" in again.stdout
    listed = run(tmp_path, "runs", "--format", "json")
    (entry,) = json.loads(listed.stdout)
    assert entry["state"] == "done" and entry["users"] == {"migrated": 8}
    journal = tmp_path / "migrations.sqlite"
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    assert b"ciscopsdt" not in journal.read_bytes()


def test_no_terminal_and_no_yes_is_refused(lab, tmp_path: Path) -> None:
    result = run(tmp_path, "migrate", "--host", lab.url)
    assert result.returncode == 2
    assert "pass --yes" in result.stderr
    assert lab_stats(lab)["requests"] == 0


def test_a_release_without_spark_rd_is_refused_naming_the_upgrade(tmp_path: Path) -> None:
    with running_lab(cucm_version="11.5.1.12900-21") as old:
        planned = run(tmp_path, "migrate", "--dry-run", "--host", old.url)
        assert planned.returncode == 0 and "upgrade to 11.5(1)SU3" in planned.stdout
        refused = run(tmp_path, "migrate", "--host", old.url, "--yes")
        assert refused.returncode == 1
        assert "11.5(1)SU3" in refused.stderr
        assert lab_stats(old)["writes"] == 0


def test_a_user_changed_since_the_plan_is_skipped(lab, tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    assert run(tmp_path, "migrate", "--dry-run", "--host", lab.url, "--plan-out", str(plan)).returncode == 0
    body = ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
            ' xmlns:ns="http://www.cisco.com/AXL/API/12.5"><soapenv:Body><ns:updatePhone><name>CTIRDJSMITH</name>'
            '<description>changed by hand</description></ns:updatePhone></soapenv:Body></soapenv:Envelope>')
    answer = requests.post(lab.url, data=body, auth=AUTH, timeout=10,
                           headers={"SOAPAction": '"CUCM:DB ver=12.5 updatePhone"', "Content-Type": "text/xml"})
    assert answer.status_code == 200, answer.text
    result = run(tmp_path, "migrate", "--host", lab.url, "--plan", str(plan), "--yes")
    assert result.returncode == 0, result.stderr
    assert "migrated 7, skipped 1, failed 0" in result.stdout
    assert "jsmith: changed since the plan" in result.stdout
    assert "CTIRDJSMITH" in tables(lab)["devices"]


def test_lost_answers_are_read_back_not_resent_blindly(lab, tmp_path: Path) -> None:
    before = tables(lab)
    writes = ["addPhone", "updateRemoteDestination", "updateUser", "removePhone"]
    lab_config(lab, faults=[{"kind": "drop_after_write", "operations": [op], "count": 2} for op in writes])
    result = run(tmp_path, "migrate", "--host", lab.url, "--yes")
    assert result.returncode == 0, result.stderr
    assert "failed 0" in result.stdout
    assert_migrated(before, tables(lab))
    assert lab_stats(lab)["operations"]["addPhone"] == 8  # never sent twice


def test_busy_cluster_503_on_writes_ends_with_no_failure(lab, tmp_path: Path) -> None:
    before = tables(lab)
    lab_config(lab, faults=[{"kind": "http503", "rate": 0.3,
                             "operations": ["addPhone", "updateRemoteDestination", "updateUser", "removePhone"]}])
    result = run(tmp_path, "migrate", "--host", lab.url, "--yes")
    assert result.returncode == 0, result.stderr
    assert_migrated(before, tables(lab))


def test_failed_user_exits_4_and_resume_finishes(lab, tmp_path: Path) -> None:
    before = tables(lab)
    # updateUser answers far too late for the first user, four times: that user fails (one worker, so
    # the four late answers all go to that user and not one each to four users).
    lab_config(lab, faults=[{"kind": "latency", "ms": 8000, "operations": ["updateUser"], "count": 4}])
    result = run(tmp_path, "migrate", "--host", lab.url, "--yes", "--timeout", "0.5", "--workers", "1")
    assert result.returncode == 4, result.stderr
    assert "failed 1" in result.stdout
    command = result.stderr.strip().splitlines()[-1]
    assert "--resume" in command
    run_id = command.split("--resume ")[1].split()[0]
    assert json.loads(run(tmp_path, "runs", "--format", "json").stdout)[0]["state"] == "partial"
    resumed = run(tmp_path, "migrate", "--resume", run_id, "--host", lab.url, "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert "migrated 8, skipped 0, failed 0" in resumed.stdout
    assert_migrated(before, tables(lab))


@pytest.mark.parametrize("operation", ["addPhone", "updateRemoteDestination", "updateUser", "removePhone"])
def test_killed_mid_write_then_resumed(lab, tmp_path: Path, operation: str) -> None:
    before = tables(lab)
    lab_config(lab, faults=[{"kind": "latency", "ms": 1500, "operations": [operation], "count": 1}])
    env = {**os.environ, "CUCM_SPARK_USERNAME": "administrator", "CUCM_SPARK_PASSWORD": "ciscopsdt",
           "CUCM_SPARK_STATE_DIR": str(tmp_path)}
    process = subprocess.Popen([str(EXE), "migrate", "--host", lab.url, "--yes"], env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run_id = _wait_for_started(tmp_path / "migrations.sqlite", operation, process)
    time.sleep(0.5)  # the write has reached the lab, which holds its answer back
    process.kill()
    process.wait()
    time.sleep(1.6)  # the lab applies the write the killed process never heard about
    listed = json.loads(run(tmp_path, "runs", "--format", "json").stdout)
    assert listed[0]["state"] == "running"
    assert listed[0]["interrupted"] is True
    resumed = run(tmp_path, "migrate", "--resume", run_id, "--host", lab.url, "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert "migrated 8, skipped 0, failed 0" in resumed.stdout
    assert_migrated(before, tables(lab))
    with sqlite3.connect(tmp_path / "migrations.sqlite") as db:
        results = {result for (result,) in db.execute("SELECT result FROM steps WHERE operation = ?", (operation,))}
    # The write held back when the process died (other workers may have had one in flight too).
    assert "confirmed by read-back on resume" in results


def test_ctrl_c_finishes_the_writes_in_flight_then_resume_completes(lab, tmp_path: Path) -> None:
    """Ctrl-C while a write is held up: no write is left in doubt, the run says how to resume, resume finishes."""
    before = tables(lab)
    lab_config(lab, faults=[{"kind": "latency", "ms": 1000, "operations": ["updateUser"], "count": 1}])
    env = {**os.environ, "CUCM_SPARK_USERNAME": "administrator", "CUCM_SPARK_PASSWORD": "ciscopsdt",
           "CUCM_SPARK_STATE_DIR": str(tmp_path)}
    process = subprocess.Popen([str(EXE), "migrate", "--host", lab.url, "--yes"], env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_id = _wait_for_started(tmp_path / "migrations.sqlite", "updateUser", process)
    process.send_signal(signal.SIGINT)
    _, errors = process.communicate(timeout=60)
    assert process.returncode == 4, errors
    assert f"--resume {run_id}" in errors
    with sqlite3.connect(tmp_path / "migrations.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM steps WHERE state = 'started'").fetchone()[0] == 0
    resumed = run(tmp_path, "migrate", "--resume", run_id, "--host", lab.url, "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert "migrated 8, skipped 0, failed 0" in resumed.stdout
    assert_migrated(before, tables(lab))


def _run_id(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.split("Run ", 1)[1].split(":", 1)[0]


def test_rollback_restores_the_tables(lab, tmp_path: Path) -> None:
    before = tables(lab)
    migrated = run(tmp_path, "migrate", "--host", lab.url, "--yes")
    assert migrated.returncode == 0, migrated.stderr
    run_id = _run_id(migrated)
    undone = run(tmp_path, "rollback", run_id, "--host", lab.url, "--yes")
    assert undone.returncode == 0, undone.stderr
    assert "rolled back 8" in undone.stdout
    assert tables(lab) == before
    assert json.loads(run(tmp_path, "runs", "--format", "json").stdout)[0]["state"] == "rolled_back"
    again = run(tmp_path, "rollback", run_id, "--host", lab.url, "--yes")
    assert again.returncode == 0 and "failed 0" in again.stdout


def test_rollback_leaves_a_spark_rd_given_a_destination_after_the_run(lab, tmp_path: Path) -> None:
    """Removing the Spark-RD would delete what was added to it since: that user's rollback fails instead."""
    before = tables(lab)
    migrated = run(tmp_path, "migrate", "--host", lab.url, "--yes")
    added = {"name": "jsmith-desk", "destination": "jsmith.later@acme.calls.webex.com", "answerTooSoonTimer": 1500,
             "answerTooLateTimer": 19000, "delayBeforeRingingCell": 4000, "ownerUserId": "jsmith",
             "ctiRemoteDeviceName": "SPARKJSMITH"}
    with closing(AxlClient(Endpoint(lab.url), *AUTH)) as client:
        client.write("addRemoteDestination", remoteDestination=added)
    refused = run(tmp_path, "rollback", _run_id(migrated), "--host", lab.url, "--yes")
    assert refused.returncode == 4, refused.stderr
    assert "SPARKJSMITH changed after the run (remote destinations ring through it: jsmith.later@" in refused.stdout
    after = tables(lab)
    assert "SPARKJSMITH" in after["devices"] and after["destinations"][added["destination"]]["device"] == "SPARKJSMITH"
    assert "CTIRDBCHEN" in after["devices"] and "SPARKBCHEN" not in after["devices"]
    with closing(AxlClient(Endpoint(lab.url), *AUTH)) as client:
        client.write("removeRemoteDestination", destination=added["destination"])
    again = run(tmp_path, "rollback", _run_id(migrated), "--host", lab.url, "--yes")
    assert again.returncode == 0, again.stderr
    assert tables(lab) == before


def test_rollback_of_some_users(lab, tmp_path: Path) -> None:
    before = tables(lab)
    migrated = run(tmp_path, "migrate", "--host", lab.url, "--yes")
    undone = run(tmp_path, "rollback", _run_id(migrated), "--host", lab.url, "--yes", "--users", "jsmith,kmiller")
    assert undone.returncode == 0, undone.stderr
    after = tables(lab)
    for user in ("jsmith", "kmiller"):
        cti = HYBRID[user]
        assert after["devices"][cti] == before["devices"][cti]
        assert SPARK_NAMES[user] not in after["devices"]
        assert after["associations"][user] == before["associations"][user]
    assert "CTIRDBCHEN" not in after["devices"] and "SPARKBCHEN" in after["devices"]
    assert json.loads(run(tmp_path, "runs", "--format", "json").stdout)[0]["state"] == "done"


def test_rollback_of_an_interrupted_run(lab, tmp_path: Path) -> None:
    before = tables(lab)
    lab_config(lab, faults=[{"kind": "latency", "ms": 2500, "operations": ["removePhone"], "count": 4}])
    failed = run(tmp_path, "migrate", "--host", lab.url, "--yes", "--timeout", "0.5", "--workers", "1")
    assert failed.returncode == 4
    run_id = failed.stderr.split("--resume ")[1].split()[0]
    time.sleep(2.6)  # the late removePhone calls land on the lab after all
    undone = run(tmp_path, "rollback", run_id, "--host", lab.url, "--yes")
    assert undone.returncode == 0, undone.stderr
    assert tables(lab) == before


def _wait_for_started(journal: Path, operation: str, process: subprocess.Popen, deadline: float = 30) -> str:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process.poll() is not None:
            raise AssertionError(f"cucm-spark ended (exit {process.returncode}) before any {operation} started")
        if journal.exists():
            try:
                with sqlite3.connect(journal) as db:
                    row = db.execute("SELECT run_id FROM steps WHERE operation = ? AND state = 'started'",
                                     (operation,)).fetchone()
            except sqlite3.OperationalError:
                row = None
            if row:
                return row[0]
        time.sleep(0.05)
    raise AssertionError(f"no {operation} step started within {deadline}s")


def test_the_list_path_plans_and_checks_the_same_way(lab, tmp_path: Path) -> None:
    """Without SQL the inventory comes from list/get calls; the fingerprints must still match."""
    before = tables(lab)
    result = run(tmp_path, "migrate", "--host", lab.url, "--yes", "--no-sql")
    assert result.returncode == 0, result.stderr
    assert "migrated 8, skipped 0, failed 0" in result.stdout
    assert "executeSQLQuery" not in lab_stats(lab)["operations"]
    assert_migrated(before, tables(lab))


def test_two_hundred_users_with_a_third_of_writes_refused(tmp_path: Path) -> None:
    """The issue's bar: 30% of writes answered 503, 200 users migrated, none failed; paced, not backed off."""
    with running_lab(generate="users=534") as big:  # 534 users hold exactly 200 Hybrid CTI-RDs
        lab_config(big, faults=[{"kind": "http503", "rate": 0.3,
                                 "operations": ["addPhone", "updateRemoteDestination", "updateUser", "removePhone"]}])
        started = time.monotonic()
        result = run(tmp_path, "migrate", "--host", big.url, "--yes", timeout=600)
        took = time.monotonic() - started
        assert result.returncode == 0, result.stderr
        assert "migrated 200, skipped 0, failed 0" in result.stdout
        stats = lab_stats(big)
    refused = stats["http_status"].get("503", 0)
    assert stats["writes_applied"] == 800 and refused > 150  # every write once, after its 503s
    assert f"{refused} answered HTTP 503 and sent again" in result.stderr
    assert took < 45  # the client's own backoff took about 100 s here


def test_on_a_terminal_it_asks_first(lab, tmp_path: Path) -> None:
    env = {**os.environ, "CUCM_SPARK_USERNAME": "administrator", "CUCM_SPARK_PASSWORD": "ciscopsdt",
           "CUCM_SPARK_STATE_DIR": str(tmp_path)}
    controller, terminal = os.openpty()
    try:
        os.write(controller, b"n\n")
        declined = subprocess.run([str(EXE), "migrate", "--host", lab.url], stdin=terminal, capture_output=True,
                                  text=True, env=env, timeout=60)
    finally:
        os.close(controller)
        os.close(terminal)
    assert declined.returncode == 1
    assert "Migrate 8 user(s)" in declined.stderr and "Nothing changed." in declined.stderr
    assert lab_stats(lab)["writes"] == 0


def test_one_migration_per_cluster_at_a_time(lab, tmp_path: Path) -> None:
    lab_config(lab, faults=[{"kind": "latency", "ms": 2000, "operations": ["addPhone"], "count": 1}])
    env = {**os.environ, "CUCM_SPARK_USERNAME": "administrator", "CUCM_SPARK_PASSWORD": "ciscopsdt",
           "CUCM_SPARK_STATE_DIR": str(tmp_path)}
    first = subprocess.Popen([str(EXE), "migrate", "--host", lab.url, "--yes"], env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_started(tmp_path / "migrations.sqlite", "addPhone", first)
        second = run(tmp_path, "migrate", "--host", lab.url, "--yes")
        assert second.returncode == 2
        assert "another migration or rollback" in second.stderr
    finally:
        assert first.wait(timeout=60) == 0
