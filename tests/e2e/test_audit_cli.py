"""`cucm-spark audit` as an administrator runs it: the installed command against labs over HTTP(S).

Each run is a subprocess with the password in the environment, stdin closed (no
terminal) and its own state directory. Every run is checked for the things that must
never happen whatever the outcome: a traceback, or the password anywhere in the output.
"""

from __future__ import annotations

import csv
import http.server
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from support.lab import CLUSTERS, running_lab
from support.official_schema import official_wsdl_path, require_official_schema

from cucm_spark.audit import AuditRules, run_audit
from cucm_spark.cli_audit import FailOn, findings
from cucm_spark.inventory.model import Device, DeviceKind, Inventory, RemoteDestination, User
from cucm_spark.lab.faults import FaultRule
from cucm_spark.lab.server import DEFAULT_USERNAME, LabServer, LabSettings
from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.releases import ReleaseTable

CLI = Path(sys.executable).parent / "cucm-spark"
SECRET = "Zq8-e2e-Pa55w0rd!"
WRONG_SECRET = "Wr0ng-e2e-Secret?"
EDGE_CASES = CLUSTERS / "edge-cases.json"
WORKED_EXAMPLE = CLUSTERS / "worked-example.json"
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_CLUSTER = 0, 1, 2, 3


def settings(**changes: object) -> LabSettings:
    return LabSettings(password=SECRET, **changes)  # type: ignore[arg-type]


def audit_cli(*args: str, state: Path, password: str | None = SECRET, timeout: float = 60) -> (
        subprocess.CompletedProcess[str]):
    """`cucm-spark audit ARGS` as a subprocess, checked for a traceback and an echoed password."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CUCM_SPARK_")}
    env.update(CUCM_SPARK_USERNAME=DEFAULT_USERNAME, CUCM_SPARK_STATE_DIR=str(state), COLUMNS="200",
               # As on many admin hosts: a system bundle in the environment must not override --ca-bundle/--insecure.
               REQUESTS_CA_BUNDLE=requests.certs.where())
    if password is not None:
        env["CUCM_SPARK_PASSWORD"] = password
    result = subprocess.run([str(CLI), "audit", *args], env=env, stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, timeout=timeout, check=False)
    for secret in (SECRET, WRONG_SECRET):
        assert secret not in result.stdout and secret not in result.stderr, "the password was echoed"
    assert "Traceback" not in result.stderr, result.stderr
    return result


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """The exit code, one 'cucm-spark: error:' line on stderr that holds each word, nothing on stdout."""
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("cucm-spark: error: "), line
    for word in words:
        assert word.lower() in line.lower(), line
    assert result.stdout == ""
    return line


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture(scope="module")
def edge_lab() -> Iterator[LabServer]:
    with running_lab(settings(), dataset=EDGE_CASES) as server:
        yield server


@pytest.fixture(scope="module")
def lab_11_5() -> Iterator[LabServer]:
    with running_lab(settings(), dataset=EDGE_CASES, cucm_version="11.5.1.13900-52") as server:
        yield server


# -- what an audit produces ---------------------------------------------------------------------

def test_audit_of_the_embedded_lab_prints_the_release_and_exits_0(state: Path) -> None:
    result = audit_cli("--lab", state=state)

    assert result.returncode == EXIT_OK, result.stderr
    assert "12.5.1.10000-22" in result.stdout
    assert "CTI Remote Devices" in result.stdout
    assert "\x1b[" not in result.stdout  # not a terminal: no colour codes


def test_json_output_file_holds_a_valid_audit_document(edge_lab: LabServer, state: Path, tmp_path: Path) -> None:
    output = tmp_path / "audit.json"

    result = audit_cli("--host", edge_lab.url, "--format", "json", "--output", str(output), state=state)

    assert result.returncode == EXIT_OK, result.stderr
    assert result.stdout == ""
    assert f"wrote {output}" in result.stderr
    document = json.loads(output.read_text(encoding="utf-8"))
    assert document["schema"] == "cucm-spark.audit/1"
    assert document["cluster"]["version"] == "12.5.1.10000-22"
    assert document["cluster"]["url"] == edge_lab.url
    assert document["counts"]["users"] == 22
    assert len(document["users"]) == 22


def test_no_sql_gives_the_same_document_as_sql(edge_lab: LabServer, state: Path) -> None:
    by_sql = json.loads(audit_cli("--host", edge_lab.url, "--format", "json", state=state).stdout)
    by_list = json.loads(audit_cli("--host", edge_lab.url, "--format", "json", "--no-sql", state=state).stdout)

    assert (by_sql["cluster"].pop("inventory_source"), by_list["cluster"].pop("inventory_source")) == (
        "sql", "list")
    assert by_sql == by_list


def test_csv_format_prints_a_header_and_one_row_per_user(edge_lab: LabServer, state: Path) -> None:
    result = audit_cli("--host", edge_lab.url, "--format", "csv", state=state)

    assert result.returncode == EXIT_OK, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 22
    assert {row["userid"] for row in rows} >= {"kpatel", "jsmith", "christina.vandenberg"}
    jsmith = next(row for row in rows if row["userid"] == "jsmith")
    assert (jsmith["tier_now"], jsmith["tier_after"], jsmith["cti_rd_hybrid"]) == ("enhanced_plus", "enhanced", "1")


def test_glo_request_is_written_with_the_web_order_id(edge_lab: LabServer, state: Path, tmp_path: Path) -> None:
    request = tmp_path / "glo.txt"

    result = audit_cli("--host", edge_lab.url, "--format", "json", "--glo-request", str(request),
                       "--web-order-id", "12345", state=state)

    assert result.returncode == EXIT_OK, result.stderr
    json.loads(result.stdout)  # the report still goes to stdout
    text = request.read_text(encoding="utf-8")
    for expected in ("12345", "Hybrid", "Call Service Connect", "A-SPK-NU-M1", "Prime License Manager",
                     "Enhanced Plus: 6", "CUWL Standard: 1", "CUSTOMER ACKNOWLEDGEMENT"):
        assert expected in text


def test_fail_on_deficiency_exits_1_only_when_asked(edge_lab: LabServer, state: Path) -> None:
    asked = audit_cli("--host", edge_lab.url, "--format", "csv", "--fail-on", "deficiency", state=state)
    not_asked = audit_cli("--host", edge_lab.url, "--format", "csv", state=state)

    assert asked.returncode == EXIT_FINDINGS, asked.stderr
    assert asked.stdout == not_asked.stdout  # the report is written either way
    assert not_asked.returncode == EXIT_OK


def test_fail_on_deficiency_exits_0_when_no_cti_rd_is_hybrid_under_the_given_cloud_domains(
    edge_lab: LabServer, state: Path, tmp_path: Path
) -> None:
    domains = tmp_path / "domains.json"
    domains.write_text(json.dumps({"patterns": ["*.cloud.example.invalid"]}))
    common = ("--host", edge_lab.url, "--format", "csv", "--cloud-domains", str(domains))

    clean = audit_cli(*common, "--fail-on", "deficiency", state=state)
    cti = audit_cli(*common, "--fail-on", "cti-rd", state=state)

    assert clean.returncode == EXIT_OK, clean.stderr
    assert not any(row["cti_rd_hybrid"] != "0" for row in csv.DictReader(io.StringIO(clean.stdout)))
    assert cti.returncode == EXIT_FINDINGS, cti.stderr


def test_hcs_licensing_names_the_tiers_foundation_and_standard(edge_lab: LabServer, state: Path) -> None:
    result = audit_cli("--host", edge_lab.url, "--format", "json", "--licensing", "hcs", state=state)

    document = json.loads(result.stdout)
    assert document["licensing"] == "hcs"
    assert set(document["licenses"]["now"]) == {"hcs_foundation", "hcs_standard"}
    assert sum(document["licenses"]["now"].values()) == 21  # every user who owns a device


def test_worked_example_with_100_spark_seats_requests_60_and_20(state: Path) -> None:
    with running_lab(settings(), dataset=WORKED_EXAMPLE) as server:
        result = audit_cli("--host", server.url, "--format", "json", "--spark-seats", "100", state=state)

    assert result.returncode == EXIT_OK, result.stderr
    request = json.loads(result.stdout)["temporary_license_request"]
    assert (request["enhanced_plus"], request["cuwl_standard"]) == (60, 20)
    assert (request["users_covered"], request["users_uncovered"]) == (80, 0)


def test_an_official_cisco_wsdl_gives_the_same_audit_as_the_bundled_one(edge_lab: LabServer, state: Path) -> None:
    require_official_schema()
    bundled = audit_cli("--host", edge_lab.url, "--format", "json", state=state)
    official = audit_cli("--host", edge_lab.url, "--format", "json", "--wsdl", str(official_wsdl_path()),
                         state=state)

    assert official.returncode == EXIT_OK, official.stderr
    assert json.loads(official.stdout) == json.loads(bundled.stdout)


def test_password_from_a_file(edge_lab: LabServer, state: Path, tmp_path: Path) -> None:
    secret_file = tmp_path / "axl-password"
    secret_file.write_text(SECRET + "\n")

    result = audit_cli("--host", edge_lab.url, "--format", "csv", "--password-file", str(secret_file), state=state,
                       password=None)

    assert result.returncode == EXIT_OK, result.stderr


def test_the_negotiated_axl_version_is_remembered_in_the_state_directory(lab_11_5: LabServer, state: Path) -> None:
    result = audit_cli("--host", lab_11_5.url, "--format", "csv", state=state)

    assert result.returncode == EXIT_OK, result.stderr
    assert json.loads((state / "axl-versions.json").read_text()) == {lab_11_5.url: "11.5"}


# -- errors: one line, the right exit code ----------------------------------------------------------

def test_wrong_password_exits_3_naming_the_401(edge_lab: LabServer, state: Path) -> None:
    result = audit_cli("--host", edge_lab.url, state=state, password=WRONG_SECRET)

    assert_one_line_error(result, EXIT_CLUSTER, "401", "password")


def test_wrong_password_with_verbose_still_hides_it(edge_lab: LabServer, state: Path) -> None:
    result = audit_cli("--host", edge_lab.url, "-v", state=state, password=WRONG_SECRET)

    assert result.returncode == EXIT_CLUSTER
    assert "401" in result.stderr


def test_unknown_host_exits_3_naming_the_host(state: Path) -> None:
    result = audit_cli("--host", "https://no-such-host.invalid:8443/axl/", "--timeout", "3", state=state)

    line = assert_one_line_error(result, EXIT_CLUSTER, "no-such-host.invalid")
    assert "HTTPSConnection(" not in line  # urllib3's internals are not the user's business


def test_untrusted_certificate_exits_3_and_points_to_ca_bundle(state: Path) -> None:
    with running_lab(settings(), dataset=EDGE_CASES, tls=True) as server:
        result = audit_cli("--host", server.url, state=state)

    assert_one_line_error(result, EXIT_CLUSTER, "certificate", "--ca-bundle")


def test_verbose_adds_the_underlying_cause_after_the_error_line(state: Path) -> None:
    with running_lab(settings(), dataset=EDGE_CASES, tls=True) as server:
        result = audit_cli("--host", server.url, "-v", state=state)

    assert result.returncode == EXIT_CLUSTER
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("cucm-spark: error: TLS failed")
    assert any("caused by SSLError" in line for line in lines[1:]), result.stderr


def test_the_labs_certificate_as_ca_bundle_is_trusted(state: Path) -> None:
    with running_lab(settings(), dataset=EDGE_CASES, tls=True) as server:
        result = audit_cli("--host", server.url, "--ca-bundle", str(server.certificate_path), "--format", "csv",
                           state=state)

    assert result.returncode == EXIT_OK, result.stderr
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 23


def test_insecure_skips_verification_with_one_warning(state: Path) -> None:
    with running_lab(settings(), dataset=EDGE_CASES, tls=True) as server:
        result = audit_cli("--host", server.url, "--insecure", "--format", "csv", state=state)

    assert result.returncode == EXIT_OK, result.stderr
    warnings = result.stderr.strip().splitlines()
    assert len(warnings) == 1, result.stderr
    assert "TLS verification is off" in warnings[0]


def test_pinned_axl_version_the_cluster_refuses_exits_3_naming_the_supported_ones(
    lab_11_5: LabServer, state: Path
) -> None:
    result = audit_cli("--host", lab_11_5.url, "--axl-version", "15.0", state=state)

    assert_one_line_error(result, EXIT_CLUSTER, "Supported axl versions are", "11.5", "10.5", "pinned to 15.0")


Outcome = tuple[subprocess.CompletedProcess[str], dict[str, int]]


@pytest.fixture(scope="module")
def retried_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """The runs that wait through every read retry (about 5 s each), side by side to save time.

    Each outcome is the finished run and the operations its lab was asked for.
    """
    busy = FaultRule.from_dict({"kind": "http503", "operations": ["executeSQLQuery"], "rate": 1.0})
    dropped = FaultRule.from_dict({"kind": "drop", "operations": ["getPhone"], "rate": 1.0})
    with running_lab(settings(faults=[busy]), dataset=EDGE_CASES) as busy_lab, \
            running_lab(settings(faults=[dropped]), dataset=EDGE_CASES) as dropping_lab:
        runs = {
            "busy": (busy_lab, ("--host", busy_lab.url)),
            "dropped": (dropping_lab, ("--host", dropping_lab.url, "--no-sql")),
            "unreachable": (None, ("--host", "127.0.0.1:1", "--timeout", "3")),
        }
        with ThreadPoolExecutor(len(runs)) as pool:
            futures = {name: pool.submit(audit_cli, *args, state=tmp_path_factory.mktemp(name))
                       for name, (_, args) in runs.items()}
            results = {name: future.result() for name, future in futures.items()}
        return {name: (results[name], server.stats.as_dict()["operations"] if server else {})
                for name, (server, _) in runs.items()}


def test_unreachable_port_exits_3(retried_runs: dict[str, Outcome]) -> None:
    result, _ = retried_runs["unreachable"]

    assert_one_line_error(result, EXIT_CLUSTER, "cannot reach https://127.0.0.1:1/axl/", "refused")


def test_busy_node_during_the_inventory_exits_3_after_the_retries(retried_runs: dict[str, Outcome]) -> None:
    result, asked = retried_runs["busy"]

    assert_one_line_error(result, EXIT_CLUSTER, "503")
    assert asked["executeSQLQuery"] == 5  # the read attempts, then it gives up
    assert "listPhone" not in asked  # a busy node is not a refusal of SQL: no fallback


def test_connection_dropped_in_the_middle_of_the_list_inventory_exits_3(retried_runs: dict[str, Outcome]) -> None:
    result, asked = retried_runs["dropped"]

    assert_one_line_error(result, EXIT_CLUSTER, "dropped")
    assert asked["listPhone"] >= 1  # it failed part way, after the first reads went well
    assert asked["getPhone"] == 5


class _HtmlPage(http.server.BaseHTTPRequestHandler):
    """A web server that answers every request with a login page: not SOAP."""

    def _page(self) -> None:
        body = b"<html><head><title>Cisco Unified CM Administration</title></head><body>Login</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _page

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def html_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HtmlPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/axl/"
    finally:
        server.shutdown()
        server.server_close()


def test_an_html_page_instead_of_soap_exits_3(state: Path) -> None:
    with html_server() as url:
        result = audit_cli("--host", url, state=state)

    assert_one_line_error(result, EXIT_CLUSTER, "not SOAP", "text/html")


def test_a_password_beyond_latin_1_is_sent_not_a_traceback(state: Path) -> None:
    # Against a page, not the lab: the lab drops the connection on a non-ASCII password (see test_client_responses).
    password = "Zq8-€-Pa55-你好"
    with html_server() as url:
        result = audit_cli("--host", url, state=state, password=password)

    assert_one_line_error(result, EXIT_CLUSTER, "not SOAP")
    assert password not in result.stderr


# -- usage errors: exit 2 -----------------------------------------------------------------------

def test_no_password_and_no_terminal_exits_2(edge_lab: LabServer, state: Path) -> None:
    result = audit_cli("--host", edge_lab.url, state=state, password=None)

    assert_one_line_error(result, EXIT_USAGE, "no password", "CUCM_SPARK_PASSWORD")


def test_host_and_lab_together_exit_2(edge_lab: LabServer, state: Path) -> None:
    result = audit_cli("--host", edge_lab.url, "--lab", state=state)

    assert_one_line_error(result, EXIT_USAGE, "--host", "--lab")


def test_bad_format_exits_2_naming_the_choices(edge_lab: LabServer, state: Path) -> None:
    result = audit_cli("--host", edge_lab.url, "--format", "xml", state=state)

    assert_one_line_error(result, EXIT_USAGE, "--format", "xml", "json", "csv")


def test_bad_host_exits_2(state: Path) -> None:
    result = audit_cli("--host", "ftp://cucm-pub/axl/", state=state)

    assert_one_line_error(result, EXIT_USAGE, "--host")


def test_a_timeout_of_zero_exits_2(edge_lab: LabServer, state: Path) -> None:
    result = audit_cli("--host", edge_lab.url, "--timeout", "0", state=state)

    assert_one_line_error(result, EXIT_USAGE, "--timeout")


def test_a_wsdl_that_is_not_a_wsdl_exits_2(edge_lab: LabServer, state: Path, tmp_path: Path) -> None:
    wsdl = tmp_path / "AXLAPI.wsdl"
    wsdl.write_text("cucm-pub.example.com\n")

    result = audit_cli("--host", edge_lab.url, "--wsdl", str(wsdl), state=state)

    assert_one_line_error(result, EXIT_USAGE, "cannot load WSDL")


def test_insecure_with_ca_bundle_exits_2(edge_lab: LabServer, state: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not used")

    result = audit_cli("--host", edge_lab.url, "--insecure", "--ca-bundle", str(bundle), state=state)

    assert_one_line_error(result, EXIT_USAGE, "--insecure", "--ca-bundle")


# -- what --fail-on deficiency counts ---------------------------------------------------------------

def test_an_extra_device_licence_caused_by_a_cti_rd_alone_is_a_deficiency() -> None:
    """Eleven devices with the CTI-RD, ten without: the tier stays CUWL Standard, the cost does not."""
    devices = [Device(f"SEPUC{i:02d}", "Cisco 8841", DeviceKind.DESK_PHONE, owner="uc") for i in range(10)]
    destination = RemoteDestination("uc@acme.call.ciscospark.com", owner="uc", device="CTIRDUC")
    devices.append(Device("CTIRDUC", "CTI Remote Device", DeviceKind.CTI_RD, owner="uc",
                          remote_destinations=(destination,), hybrid=True))
    audit = run_audit(Inventory("14.0.1.10000(20)", users=(User("uc"),), devices=tuple(devices)),
                            AuditRules(ReleaseTable.load(), CategoryMap.load()), "hand-built", "sql")
    assert audit.licensing.deficiency.users == 0
    assert audit.licensing.deficiency.extra_device_licences == 1

    assert findings(audit, [FailOn.deficiency])
    assert findings(audit, [FailOn.cti_rd])
    assert not findings(audit, [])
