"""Scheduled audits end to end: a config of three lab clusters, run by the installed command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from support.lab import AUTH, CLUSTERS, lab_config, running_lab

from cucm_spark.lab.server import LabServer

COMMAND = Path(sys.executable).parent / "cucm-spark"
TRAINS = {
    "lab-115": ("release-11.5-before.json", ["lab", "old"]),
    "lab-12": ("release-12.0.json", ["lab"]),
    "lab-14": ("release-14.json", ["lab", "new"]),
}


def run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(COMMAND), *args], env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def three_labs(tmp_path: Path):
    """Three labs of different release trains, and a config naming them (plus one that is down)."""
    with running_lab(dataset=CLUSTERS / TRAINS["lab-115"][0]) as a, \
            running_lab(dataset=CLUSTERS / TRAINS["lab-12"][0]) as b, \
            running_lab(dataset=CLUSTERS / TRAINS["lab-14"][0]) as c:
        servers = {"lab-115": a, "lab-12": b, "lab-14": c}
        lines = []
        for name, server in servers.items():
            tags = ", ".join(f'"{t}"' for t in TRAINS[name][1])
            lines += [f"[clusters.{name}]", f'host = "{server.url}"', f'username = "{AUTH[0]}"',
                      'password_env = "LAB_PASSWORD"', "spark_seats = 100", f"tags = [{tags}]", ""]
        lines += ["[clusters.lab-down]", 'host = "http://127.0.0.1:1/axl/"', f'username = "{AUTH[0]}"',
                  'password_env = "LAB_PASSWORD"', 'tags = ["down"]', ""]
        config = tmp_path / "config.toml"
        config.write_text("\n".join(lines))
        env = {**os.environ, "LAB_PASSWORD": AUTH[1], "CUCM_SPARK_CONFIG": str(config),
               "CUCM_SPARK_STATE_DIR": str(tmp_path / "state")}
        yield servers, env


def test_all_audits_every_cluster_and_one_down_gives_exit_3(three_labs, tmp_path: Path) -> None:
    _servers, env = three_labs
    result = run(["audit", "--all", "--format", "json", "--output-dir", str(tmp_path / "out")], env)
    assert result.returncode == 3, result.stderr
    clusters = {row["cluster"]: row for row in json.loads(result.stdout)["clusters"]}
    assert {name: row["status"] for name, row in clusters.items()} == {
        "lab-115": "ok", "lab-12": "ok", "lab-14": "ok", "lab-down": "failed (exit 3)"}
    assert clusters["lab-115"]["spark_rd"] == "no" and clusters["lab-14"]["spark_rd"] == "yes"
    assert "lab-down" in result.stderr and "Traceback" not in result.stderr
    latest = json.loads((tmp_path / "out" / "lab-12" / "latest.json").read_text())
    assert latest["schema"] == "cucm-spark.audit/1"
    assert len(list((tmp_path / "out" / "lab-12").glob("2*.json"))) == 1


def test_tag_selects_clusters_and_healthy_ones_exit_0(three_labs) -> None:
    _servers, env = three_labs
    result = run(["audit", "--tag", "lab"], env)
    assert result.returncode == 0, result.stderr
    assert "lab-115" in result.stdout and "lab-14" in result.stdout and "lab-down" not in result.stdout


def test_history_and_diff_show_a_change_made_between_two_runs(three_labs) -> None:
    servers, env = three_labs
    assert run(["audit", "--cluster", "lab-14"], env).returncode == 0
    _add_cti_rd(servers["lab-14"], "CTIRDNEWUSER", owner="ayao")
    second = run(["audit", "--cluster", "lab-14", "--diff"], env)
    assert second.returncode == 0, second.stderr
    assert "CTI-RD added: CTIRDNEWUSER" in second.stdout
    history = run(["history", "--cluster", "lab-14", "--format", "json"], env)
    rows = json.loads(history.stdout)
    assert [row["cti_rd"] for row in rows] == [rows[0]["cti_rd"], rows[0]["cti_rd"] + 1]


def test_report_html_is_written_from_history(three_labs, tmp_path: Path) -> None:
    _servers, env = three_labs
    assert run(["audit", "--tag", "lab", "--quiet"], env).returncode == 0
    page = tmp_path / "report.html"
    result = run(["report", "--html", str(page)], env)
    assert result.returncode == 0, result.stderr
    text = page.read_text()
    assert "lab-115" in text and "lab-14" in text and "<svg" in text


def test_clusters_check_names_what_failed(three_labs) -> None:
    _servers, env = three_labs
    result = run(["clusters", "--check"], env)
    assert result.returncode == 3
    assert "lab-12:" in result.stdout and "ok (" in result.stdout
    assert "lab-down:" in result.stdout and "FAILED" in result.stdout


def test_a_second_overlapping_run_exits_with_a_clear_message(three_labs, tmp_path: Path) -> None:
    servers, env = three_labs
    lab_config(servers["lab-12"], faults=[{"kind": "latency", "ms": 1500, "rate": 1.0}])
    first = threading.Thread(target=run, args=(["audit", "--cluster", "lab-12", "--quiet"], env))
    first.start()
    try:
        time.sleep(1.0)
        second = run(["audit", "--cluster", "lab-12"], env)
    finally:
        first.join()
    assert second.returncode == 2
    assert "another cucm-spark run holds" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1


def test_no_password_without_a_terminal_fails_clearly(three_labs) -> None:
    _servers, env = three_labs
    env = {key: value for key, value in env.items() if key != "LAB_PASSWORD"}
    result = run(["audit", "--cluster", "lab-12"], env)
    assert result.returncode == 2
    assert "LAB_PASSWORD" in result.stderr


def _add_cti_rd(server: LabServer, name: str, owner: str) -> None:
    envelope = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:ns="http://www.cisco.com/AXL/API/14.0"><soapenv:Body><ns:addPhone><phone>'
        f"<name>{name}</name><product>CTI Remote Device</product><class>Phone</class>"
        "<protocol>CTI Remote Device</protocol><protocolSide>User</protocolSide>"
        "<devicePoolName>Default</devicePoolName><commonPhoneConfigName>Standard Common Phone Profile"
        "</commonPhoneConfigName><locationName>Hub_None</locationName><useTrustedRelayPoint>Default"
        "</useTrustedRelayPoint><builtInBridgeStatus>Default</builtInBridgeStatus>"
        "<packetCaptureMode>None</packetCaptureMode><certificateOperation>No Pending Operation"
        "</certificateOperation><deviceMobilityMode>Default</deviceMobilityMode>"
        f"<ownerUserName>{owner}</ownerUserName>"
        "</phone></ns:addPhone></soapenv:Body></soapenv:Envelope>"
    )
    response = requests.post(server.url, data=envelope, auth=AUTH, timeout=10,
                             headers={"SOAPAction": '"CUCM:DB ver=14.0 addPhone"', "Content-Type": "text/xml"})
    assert response.status_code == 200, response.text


def test_fail_on_applies_to_every_cluster_of_a_run(three_labs) -> None:
    _servers, env = three_labs
    clean = run(["audit", "--cluster", "lab-12", "--quiet"], env)
    flagged = run(["audit", "--cluster", "lab-12", "--quiet", "--fail-on", "cti-rd"], env)
    assert clean.returncode == 0, clean.stderr
    assert flagged.returncode == 1, flagged.stderr
