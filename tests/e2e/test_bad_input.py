"""The bad-input matrix: every way an administrator, a file or a cluster can hand cucm-spark bad input.

Each row of ``MATRIX`` sets something up, runs the installed command (no terminal, its
own state directory) over real HTTP on 127.0.0.1, and expects an exit code and ONE
line on stderr, ``cucm-spark: error: ...``, holding the given words: never a
traceback, never a second line, never a report on stdout. Some rows check more
afterwards: that a wrong password reached the lab exactly once (CUCM locks accounts
after a few), that a refused plan wrote nothing, that a huge answer was not read to its
end, that an external entity was never fetched.

The tests after the matrix take user names full of quotes, wildcards, unicode and SQL
through an audit and a migration on the lab, which runs real SQL: an injection would
show in its tables.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from support.certs import CertificateAuthority, ServerCertificate
from support.hostile import CCM_VERSION, MB, XML, Answer, HostileServer, envelope, hostile_server, listening
from support.lab import AUTH, CLUSTERS, lab_stats, running_lab

from cucm_spark.axl.transport import ANSWER_CAP_BYTES
from cucm_spark.lab.dataset import load_dataset, read_dataset
from cucm_spark.lab.release import LabRelease
from cucm_spark.lab.server import DEFAULT_PASSWORD, DEFAULT_USERNAME, LabServer
from cucm_spark.lab.store import Store

CLI = Path(sys.executable).parent / "cucm-spark"
EDGE_CASES = CLUSTERS / "edge-cases.json"
WRONG_PASSWORD = "Wr0ng-matrix-Pa55!"
EXIT_OK, EXIT_USAGE, EXIT_CLUSTER = 0, 2, 3


def cucm_spark(*args: str, state: Path, password: str = DEFAULT_PASSWORD, env: Mapping[str, str] | None = None,
               timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The installed command as cron would run it: no terminal, credentials and state from the environment."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("CUCM_SPARK_")}
    clean.update(CUCM_SPARK_USERNAME=DEFAULT_USERNAME, CUCM_SPARK_PASSWORD=password, CUCM_SPARK_STATE_DIR=str(state),
                 COLUMNS="200", REQUESTS_CA_BUNDLE=requests.certs.where(), **(env or {}))
    result = subprocess.run([str(CLI), *args], env=clean, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert password not in result.stdout + result.stderr, "the password was echoed"
    return result


def reset_stats(server: LabServer) -> None:
    requests.post(server.url.replace("/axl/", "/lab/stats/reset"), auth=AUTH, timeout=10).raise_for_status()


# -- what the rows share ------------------------------------------------------------------------

@dataclass(frozen=True)
class Labs:
    """The module's servers. No row writes to a lab: each row that could is one that must not."""

    edge: LabServer  # the edge-case cluster on 12.5
    twin: LabServer  # built like edge, a different cluster: where the foreign plan comes from
    tls: Mapping[str, LabServer]  # "self-signed", "expired", "wrong-host", "trusted"
    ca: CertificateAuthority  # signed "expired", "wrong-host" and "trusted"
    probe: HostileServer  # where external entities point: it must never be asked
    plans: Mapping[str, Path]  # "edge", "twin": plans saved by `migrate --dry-run --plan-out`


@dataclass
class Bench:
    """What one row's setup works with: the module's labs, a scratch folder, servers that live for the row."""

    labs: Labs
    tmp: Path
    stack: ExitStack
    password: str = DEFAULT_PASSWORD
    env: dict[str, str] = field(default_factory=dict)
    hostile: HostileServer | None = None

    def write(self, name: str, content: str | bytes) -> Path:
        path = self.tmp / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def serve(self, answer: Answer, operation: str) -> str:
        """A hostile server for this row; its URL."""
        self.hostile = self.stack.enter_context(hostile_server(answer, operation))
        return self.hostile.url


Setup = Callable[[Bench], list[str]]
Check = Callable[[Bench], None]


def _nothing(_: Bench) -> None:
    pass


@dataclass(frozen=True)
class Row:
    """One bad input: how to set it up (returning the command line), the exit code and words expected.

    A ``slow`` row (one that waits through the client's read retries) starts with the
    module and runs beside the others.
    """

    id: str
    setup: Setup
    code: int
    words: tuple[str, ...]
    check: Check = _nothing
    slow: bool = False


def run_row(row: Row, bench: Bench) -> subprocess.CompletedProcess[str]:
    args = row.setup(bench)
    return cucm_spark(*args, state=bench.tmp / "state", password=bench.password, env=bench.env)


# -- config files ---------------------------------------------------------------------------------

GOOD_CLUSTER = '[clusters.lab-a]\nhost = "{url}"\nusername = "administrator"\npassword_env = "{env}"\n'


def config_audit(toml: str, *args: str) -> Setup:
    """`audit --config FILE ARGS` (default: --all --quiet), FILE holding ``toml``.

    In ``toml``, {url} is the edge lab and {env} a variable that holds the right password.
    """

    def setup(bench: Bench) -> list[str]:
        bench.env["MATRIX_LAB_PASSWORD"] = DEFAULT_PASSWORD
        path = bench.write("config.toml", toml.format(url=bench.labs.edge.url, env="MATRIX_LAB_PASSWORD"))
        return ["audit", "--config", str(path), *(args or ("--all", "--quiet"))]

    return setup


def config_not_utf8(bench: Bench) -> list[str]:
    return ["audit", "--config", str(bench.write("config.toml", b"\xff\xfe[clusters.lab-a]\n")), "--all"]


def config_missing(bench: Bench) -> list[str]:
    return ["audit", "--config", str(bench.tmp / "absent.toml"), "--all"]


CONFIG_ROWS = [
    Row("config-malformed-toml", config_audit('[clusters.lab-a\nhost = "x"\n'), EXIT_USAGE,
        ("config.toml:1", "not valid TOML")),
    Row("config-nested-too-deep", config_audit("tags = " + "[" * 5000), EXIT_USAGE,
        ("config.toml", "nested too deeply")),
    Row("config-cluster-without-host", config_audit('[clusters.lab-a]\nusername = "u"\npassword_env = "X"\n'),
        EXIT_USAGE, ("config.toml:1", "clusters.lab-a.host", "required, but missing")),
    Row("config-negative-seats", config_audit(GOOD_CLUSTER + "spark_seats = -3\n"), EXIT_USAGE,
        ("config.toml:5", "clusters.lab-a.spark_seats", "whole number")),
    Row("config-port-as-text", config_audit(GOOD_CLUSTER.replace("{url}", "cucm-a") + 'port = "8443"\n'),
        EXIT_USAGE, ("clusters.lab-a.port", "whole number")),
    Row("config-typo-in-a-key", config_audit(GOOD_CLUSTER + 'licensign = "hcs"\n'), EXIT_USAGE,
        ("clusters.lab-a.licensign", "unknown key")),
    Row("config-host-not-http", config_audit(GOOD_CLUSTER.replace("{url}", "ftp://cucm-a/axl/")), EXIT_USAGE,
        ("clusters.lab-a.host", "ftp://cucm-a/axl/")),
    Row("config-password-variable-unset", config_audit(GOOD_CLUSTER.replace("{env}", "MATRIX_NOT_SET")), EXIT_USAGE,
        ("clusters.lab-a.password_env", "MATRIX_NOT_SET", "not set")),
    Row("config-not-utf8", config_not_utf8, EXIT_USAGE, ("cannot read the config file",)),
    Row("config-missing-file", config_missing, EXIT_USAGE, ("absent.toml", "no such config file")),
    Row("unknown-cluster-name", config_audit(GOOD_CLUSTER, "--cluster", "nosuch"), EXIT_USAGE,
        ("no cluster named 'nosuch'", "known: lab-a")),
]


# -- credentials, network, TLS, AXL version -------------------------------------------------------

def against_edge(*args: str, password: str = DEFAULT_PASSWORD) -> Setup:
    def setup(bench: Bench) -> list[str]:
        reset_stats(bench.labs.edge)
        bench.password = password
        return [*args, "--host", bench.labs.edge.url]

    return setup


def audit_all_with_wrong_password(bench: Bench) -> list[str]:
    reset_stats(bench.labs.edge)
    bench.env["MATRIX_LAB_PASSWORD"] = WRONG_PASSWORD
    config = bench.write("config.toml", GOOD_CLUSTER.format(url=bench.labs.edge.url, env="MATRIX_LAB_PASSWORD"))
    return ["audit", "--config", str(config), "--all", "--quiet"]


def one_401_and_no_write(bench: Bench) -> None:
    """CUCM locks an account after a few failed logins: a wrong password is tried once, never again."""
    stats = lab_stats(bench.labs.edge)
    assert stats["http_status"] == {"401": 1}, stats
    assert stats["writes"] == 0


def closed_port(bench: Bench) -> list[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return ["audit", "--host", f"127.0.0.1:{port}", "--timeout", "3"]


def tls_lab(name: str, *args: str) -> Setup:
    def setup(bench: Bench) -> list[str]:
        return ["audit", "--host", bench.labs.tls[name].url, *args]

    return setup


def with_test_ca(name: str) -> Setup:
    """The lab's certificate is signed by the test CA, which the client is given: only the certificate is wrong."""

    def setup(bench: Bench) -> list[str]:
        return tls_lab(name, "--ca-bundle", str(bench.labs.ca.bundle))(bench)

    return setup


ACCESS_ROWS = [
    Row("wrong-password-audit", against_edge("audit", password=WRONG_PASSWORD), EXIT_CLUSTER,
        ("HTTP 401", "user name and password"), one_401_and_no_write),
    Row("wrong-password-audit-all", audit_all_with_wrong_password, EXIT_CLUSTER,
        ("lab-a:", "HTTP 401", "user name and password"), one_401_and_no_write),
    Row("wrong-password-migrate", against_edge("migrate", "--yes", password=WRONG_PASSWORD), EXIT_CLUSTER,
        ("HTTP 401", "user name and password"), one_401_and_no_write),
    Row("unreachable-host", closed_port, EXIT_CLUSTER, ("cannot reach https://127.0.0.1:", "refused"), slow=True),
    Row("unknown-host-name", lambda bench: ["audit", "--host", "cucm-pub.no-such-host.invalid", "--timeout", "3"],
        EXIT_CLUSTER, ("cannot reach https://cucm-pub.no-such-host.invalid:8443/axl/",)),
    Row("tls-self-signed", tls_lab("self-signed"), EXIT_CLUSTER, ("TLS failed", "not trusted", "--ca-bundle")),
    Row("tls-expired", with_test_ca("expired"), EXIT_CLUSTER, ("TLS failed", "certificate has expired")),
    Row("tls-wrong-host", with_test_ca("wrong-host"), EXIT_CLUSTER,
        ("TLS failed", "certificate is for another host", "127.0.0.1")),
    Row("axl-version-refused", against_edge("audit", "--axl-version", "15.0"), EXIT_CLUSTER,
        ("Supported axl versions are", "12.5", "pinned to 15.0")),
]


# -- hostile answers --------------------------------------------------------------------------------

def sql_answer(rows: str, prolog: str = "") -> bytes:
    return envelope("executeSQLQuery", f"<return>{rows}</return>", prolog)


def version_answer(version: str, prolog: str = "") -> bytes:
    return envelope("getCCMVersion", f"<return><componentVersion><version>{version}</version></componentVersion>"
                                     "</return>", prolog)


def hostile_body(operation: str, text: str, prolog: str = "") -> bytes:
    """A well-formed answer to ``operation`` carrying ``text`` where the product reads a value."""
    if operation == "getCCMVersion":
        return version_answer(text, prolog)
    return sql_answer(f"<row><n>{text}</n><u>{text}</u><s/><m>Cisco 8841</m><o/></row>", prolog)


def truncated(operation: str) -> bytes:
    whole = CCM_VERSION if operation == "getCCMVersion" else sql_answer("<row><u>jsmith</u></row>" * 40)
    return whole[: len(whole) * 2 // 3]


def unending(operation: str) -> bytes:
    """The start of an answer whose end never comes."""
    whole = envelope(operation, "<return>")
    return whole[: whole.index(b"<return>") + len(b"<return>")]


NOT_XML = b"ORA-00942: database temporarily unavailable\n"
HTML_PAGE = b"<html><head><title>Error</title></head><body><h1>Internal Server Error</h1></body></html>"
LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(2, 10))
          + '<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>')
# "Envelope" in a comment, then a DOCTYPE beyond the first 512 bytes: past the quick look at
# an answer's head, to the parser's own refusal.
BEHIND_A_COMMENT = "<!-- Envelope -->" + " " * 600
PASSWD = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def hostile(operation: str, make: Callable[[Bench], Answer]) -> Setup:
    """`audit --host` a hostile server that gives ``operation`` the answer ``make`` builds.

    getCCMVersion is otherwise answered properly, so an executeSQLQuery row meets its
    hostile body on the streamed path, after the zeep path's first call went well.
    """

    def setup(bench: Bench) -> list[str]:
        return ["audit", "--host", bench.serve(make(bench), operation), "--timeout", "10"]

    return setup


def canned(body: bytes, status: int = 200, content_type: str = XML) -> Callable[[Bench], Answer]:
    return lambda bench: Answer(body, status, content_type)


def external_fetch(operation: str) -> Callable[[Bench], Answer]:
    """An answer whose DTD and entity point at the probe: an external DTD and an external entity."""

    def make(bench: Bench) -> Answer:
        probe = bench.labs.probe.url
        prolog = BEHIND_A_COMMENT + f'<!DOCTYPE x SYSTEM "{probe}/evil.dtd" [<!ENTITY xxe SYSTEM "{probe}/xxe">]>'
        return Answer(hostile_body(operation, "&xxe;", prolog))

    return make


def stopped_early(bench: Bench) -> None:
    """The client hung up near the cap: the server could not push much more than it into the socket."""
    assert bench.hostile is not None
    assert bench.hostile.record.bytes_sent < ANSWER_CAP_BYTES + 16 * MB


def refused_from_its_length(bench: Bench) -> None:
    assert bench.hostile is not None
    assert bench.hostile.record.bytes_sent < 16 * MB


def nothing_fetched(bench: Bench) -> None:
    assert bench.labs.probe.record.operations == []


def answer_rows(operation: str, path: str) -> list[Row]:
    """The hostile answers, given to one operation: getCCMVersion (zeep) or executeSQLQuery (streamed)."""
    def row(kind: str, make: Callable[[Bench], Answer], words: tuple[str, ...], check: Check = _nothing) -> Row:
        return Row(f"{path}-{kind}", hostile(operation, make), EXIT_CLUSTER, words, check)

    return [
        row("truncated", canned(truncated(operation)), (operation, "not readable SOAP")),
        row("text-as-xml", canned(NOT_XML), ("HTTP 200 with text/xml", "not SOAP", "ORA-00942")),
        row("html-200", canned(HTML_PAGE, 200, "text/html"), ("HTTP 200 with text/html", "not SOAP")),
        row("html-500", canned(HTML_PAGE, 500, "text/html"), ("HTTP 500 with text/html", "not SOAP")),
        row("huge-declared", lambda bench: Answer(unending(operation), declared=200 * MB, endless=True),
            ("declares 200 MB", "64 MB cap", "refused unread"), refused_from_its_length),
        row("endless", lambda bench: Answer(unending(operation), endless=True),
            ("went on past 64 MB", "stopped reading"), stopped_early),
        row("entity-bomb", canned(hostile_body(operation, "&lol9;", LAUGHS)), ("declares a DTD", "refused")),
        row("external-entity-file", canned(hostile_body(operation, "&xxe;", BEHIND_A_COMMENT + PASSWD)),
            (operation, "declares a DTD", "refused")),
        row("external-entity-http", external_fetch(operation), (operation, "declares a DTD", "refused"),
            nothing_fetched),
    ]


def truncated_list(bench: Bench) -> list[str]:
    """A listUser answer cut short: zeep's lenient parser would make a shorter list of it."""
    users = "".join(f"<user><firstName>F</firstName><lastName>L{i}</lastName><userid>user{i}</userid></user>"
                    for i in range(1, 4))
    whole = envelope("listUser", f"<return>{users}</return>")
    url = bench.serve(Answer(whole[: whole.index(b"<userid>user3") + 12]), "listUser")
    return ["audit", "--host", url, "--no-sql"]


ANSWER_ROWS = [
    *answer_rows("getCCMVersion", "zeep"),
    *answer_rows("executeSQLQuery", "sql"),
    Row("zeep-truncated-list", truncated_list, EXIT_CLUSTER, ("listUser", "not readable SOAP")),
    Row("sql-device-without-name", hostile("executeSQLQuery", canned(hostile_body("executeSQLQuery", ""))),
        EXIT_CLUSTER, ("a device without a name",)),
]


# -- migration plans ------------------------------------------------------------------------------

def migrate_with_plan(edit: Callable[[str], str | bytes] | None = None, made_on: str = "edge") -> Setup:
    """`migrate --plan FILE --yes` against the edge lab, FILE the plan made on ``made_on``, edited by ``edit``."""

    def setup(bench: Bench) -> list[str]:
        text = bench.labs.plans[made_on].read_text(encoding="utf-8")
        plan = bench.write("plan.json", edit(text) if edit else text)
        return ["migrate", "--host", bench.labs.edge.url, "--plan", str(plan), "--yes"]

    return setup


def redirect_a_line(text: str) -> str:
    """A hand edit: jsmith's Spark-RD gets another line than the one his CTI-RD carries."""
    plan = json.loads(text)
    jsmith = next(user for user in plan["users"] if user["userid"] == "jsmith")
    jsmith["steps"][0]["payload"]["phone"]["lines"]["line"][0]["dirn"]["pattern"] = "2999"
    return json.dumps(plan, indent=2)


def add_a_user(text: str) -> str:
    """A hand edit that keeps every payload: one more user, copied from another."""
    plan = json.loads(text)
    plan["users"].append({**plan["users"][0], "userid": "intruder"})
    return json.dumps(plan)


def nothing_written(bench: Bench) -> None:
    assert lab_stats(bench.labs.edge)["writes"] == 0
    assert lab_stats(bench.labs.twin)["writes"] == 0


def plan_row(id_: str, setup: Setup, words: tuple[str, ...]) -> Row:
    return Row(id_, setup, EXIT_USAGE, words, nothing_written)


PLAN_ROWS = [
    plan_row("plan-edited-payload", migrate_with_plan(redirect_a_line), ("plan.json", "does not match its digest")),
    plan_row("plan-edited-users", migrate_with_plan(add_a_user), ("plan.json", "does not match its digest")),
    plan_row("plan-cut-short", migrate_with_plan(lambda text: text[: len(text) // 2]), ("plan.json", "is not JSON")),
    plan_row("plan-nested-too-deep", migrate_with_plan(lambda text: "[" * 100_000), ("plan.json", "nested too deeply")),
    plan_row("plan-not-utf8", migrate_with_plan(lambda text: b"\xff\xfe" + text.encode("utf-16-le")),
             ("cannot read plan", "plan.json")),
    plan_row("plan-not-a-plan", migrate_with_plan(lambda text: "[]"), ("not a cucm-spark migration plan",)),
    plan_row("plan-from-another-cluster", migrate_with_plan(made_on="twin"),
             ("plan.json was made on http://127.0.0.1:", "plan again")),
]

MATRIX = [*CONFIG_ROWS, *ACCESS_ROWS, *ANSWER_ROWS, *PLAN_ROWS]


# -- fixtures ---------------------------------------------------------------------------------------

@contextmanager
def lab_with_certificate(certificate: ServerCertificate) -> Iterator[LabServer]:
    """The edge-case cluster over HTTPS with a certificate the test chose."""
    store, data = Store(), read_dataset(EDGE_CASES)
    load_dataset(store, data, str(EDGE_CASES))
    with LabServer(store, LabRelease.parse(data["release"]), certificate=(certificate.cert, certificate.key)) as server:
        yield server


def saved_plan(server: LabServer, folder: Path) -> Path:
    plan = folder / "plan.json"
    result = cucm_spark("migrate", "--dry-run", "--host", server.url, "--plan-out", str(plan), state=folder)
    assert result.returncode == EXIT_OK, result.stderr
    return plan


@pytest.fixture(scope="module")
def labs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Labs]:
    folder = tmp_path_factory.mktemp("labs")
    ca = CertificateAuthority.create(folder / "ca")
    certificates = {
        "expired": ca.issue(folder / "expired", expired=True),
        "wrong-host": ca.issue(folder / "wrong-host", hosts=("cucm-other.example.com",)),
        "trusted": ca.issue(folder / "trusted"),
    }
    with ExitStack() as stack:
        edge = stack.enter_context(running_lab(dataset=EDGE_CASES))
        twin = stack.enter_context(running_lab(dataset=EDGE_CASES))
        tls = {name: stack.enter_context(lab_with_certificate(cert)) for name, cert in certificates.items()}
        tls["self-signed"] = stack.enter_context(running_lab(dataset=EDGE_CASES, tls=True, cert_dir=folder / "self"))
        plans = {name: saved_plan(server, tmp_path_factory.mktemp(name)) for name, server in
                 (("edge", edge), ("twin", twin))}
        yield Labs(edge, twin, tls, ca, stack.enter_context(listening()), plans)


Started = dict[str, tuple[Bench, "Future[subprocess.CompletedProcess[str]]"]]


@pytest.fixture(scope="module")
def started(labs: Labs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Started]:
    """The slow rows, running from the first row on."""
    with ExitStack() as stack, ThreadPoolExecutor() as pool:
        benches = {row.id: (row, Bench(labs, tmp_path_factory.mktemp(row.id), stack)) for row in MATRIX if row.slow}
        yield {name: (bench, pool.submit(run_row, row, bench)) for name, (row, bench) in benches.items()}


@pytest.fixture
def bench(labs: Labs, started: Started, tmp_path: Path) -> Iterator[Bench]:
    with ExitStack() as stack:
        yield Bench(labs, tmp_path, stack)


# -- the matrix ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("row", MATRIX, ids=[row.id for row in MATRIX])
def test_bad_input_gives_one_error_line_and_its_exit_code(row: Row, bench: Bench, started: Started) -> None:
    if row.slow:
        bench, running = started[row.id]
        result = running.result()
    else:
        result = run_row(row, bench)

    assert result.returncode == row.code, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cucm-spark: error: "), lines[0]
    for word in row.words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"
    assert result.stdout == ""
    assert "root:" not in result.stderr  # nothing of /etc/passwd
    row.check(bench)


def test_matrix_ids_are_unique() -> None:
    assert len({row.id for row in MATRIX}) == len(MATRIX)


@pytest.mark.parametrize("name", ["self-signed", "expired", "wrong-host"])
def test_insecure_is_the_only_way_past_a_bad_certificate(labs: Labs, tmp_path: Path, name: str) -> None:
    """The matrix shows the certificate refused with and without the CA; --insecure gets the audit done."""
    result = cucm_spark("audit", "--host", labs.tls[name].url, "--insecure", "--format", "csv", state=tmp_path)

    assert result.returncode == EXIT_OK, result.stderr
    assert result.stderr.splitlines() == [
        "cucm-spark: warning: TLS verification is off (--insecure): the cluster's identity is not checked"]
    assert len(result.stdout.splitlines()) == 23  # the header and the 22 users


def test_the_test_ca_is_trusted_when_the_certificate_is_right(labs: Labs, tmp_path: Path) -> None:
    """The control for the TLS rows: with this CA, only expiry or host name can be what fails."""
    result = cucm_spark("audit", "--host", labs.tls["trusted"].url, "--ca-bundle", str(labs.ca.bundle),
                        "--format", "csv", state=tmp_path)

    assert result.returncode == EXIT_OK, result.stderr
    assert result.stderr == ""


# -- user names that are hard to quote ------------------------------------------------------------

NAMES = ("o'brien", 'say"hi', "100%", "a_b", "zoë", "李", "back\\slash", "x'; DROP TABLE device; --",
         "' OR '1'='1")
# What SPARK{userid} makes of each: upper case, only A-Z, 0-9, '.', '_' and '-', 15 characters at most.
SPARK_NAMES = {"o'brien": "SPARKOBRIEN", 'say"hi': "SPARKSAYHI", "100%": "SPARK100", "a_b": "SPARKA_B",
               "zoë": "SPARKZO", "back\\slash": "SPARKBACKSLASH", "x'; DROP TABLE device; --": "SPARKXDROPTABLE",
               "' OR '1'='1": "SPARKOR11"}
UNNAMEABLE = "李"
TABLE_ROWS = {"enduser": 9, "device": 18, "enduserdevicemap": 18, "remotedestination": 9, "numplan": 9,
              "devicenumplanmap": 18}


def desk_phone(number: int) -> str:
    return f"SEP0000000000{number:02d}"


def cti_rd(number: int) -> str:
    return f"CTIRDQUOTED{number:02d}"


def names_dataset(path: Path) -> Path:
    """Each user of NAMES with a desk phone and a Hybrid CTI-RD sharing its line, the name in every text field."""
    users, devices, destinations = [], [], []
    for number, userid in enumerate(NAMES, 1):
        line = {"index": 1, "pattern": f"30{number:02d}", "label": userid, "display": userid}
        users.append({"userid": userid, "firstName": userid, "lastName": userid})
        devices.append({"name": desk_phone(number), "model": "Cisco 8841", "owner": userid,
                        "description": f"desk of {userid}", "lines": [line]})
        devices.append({"name": cti_rd(number), "model": "CTI Remote Device", "owner": userid,
                        "description": f"Hybrid Call of {userid}", "lines": [line]})
        destinations.append({"destination": f"user{number:02d}@acme.call.ciscospark.com", "name": userid,
                             "owner": userid, "device": cti_rd(number)})
    path.write_text(json.dumps({"schema": "cucm-spark.lab-dataset/1", "release": "14.0.1.10000-20", "users": users,
                                "devices": devices, "remoteDestinations": destinations}, ensure_ascii=False),
                    encoding="utf-8")
    return path


def lab_dump(server: LabServer) -> dict[str, list[dict]]:
    return requests.get(server.url.replace("/axl/", "/lab/dump"), auth=AUTH, timeout=10).json()


def row_counts(server: LabServer) -> dict[str, int]:
    """Rows per table of TABLE_ROWS; a table that is gone has none."""
    dump = lab_dump(server)
    return {table: len(dump.get(table, ())) for table in TABLE_ROWS}


@pytest.fixture(scope="module")
def names_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return names_dataset(tmp_path_factory.mktemp("names") / "names.json")


@pytest.fixture(scope="module")
def names_lab(names_file: Path) -> Iterator[LabServer]:
    with running_lab(dataset=names_file) as server:
        yield server


def test_the_audit_lists_exactly_those_users_with_their_devices(names_lab: LabServer, tmp_path: Path) -> None:
    by_sql = cucm_spark("audit", "--host", names_lab.url, "--format", "json", state=tmp_path)
    by_list = cucm_spark("audit", "--host", names_lab.url, "--format", "json", "--no-sql", state=tmp_path)

    assert by_sql.returncode == EXIT_OK, by_sql.stderr
    assert by_list.returncode == EXIT_OK, by_list.stderr
    document = json.loads(by_sql.stdout)
    devices = {user["userid"]: sorted(device["name"] for device in user["devices"]) for user in document["users"]}
    assert devices == {userid: [cti_rd(number), desk_phone(number)] for number, userid in enumerate(NAMES, 1)}
    assert document["counts"]["cti_rd_hybrid"] == len(NAMES)
    listed = json.loads(by_list.stdout)
    assert (document["cluster"].pop("inventory_source"), listed["cluster"].pop("inventory_source")) == ("sql", "list")
    assert document == listed
    assert row_counts(names_lab) == TABLE_ROWS


def test_the_dry_run_names_each_spark_rd_and_skips_the_unnameable_user(names_lab: LabServer, tmp_path: Path) -> None:
    result = cucm_spark("migrate", "--host", names_lab.url, "--dry-run", "--format", "json", state=tmp_path)

    assert result.returncode == EXIT_OK, result.stderr
    plan = json.loads(result.stdout)
    assert {user["userid"]: user["spark_rd"] for user in plan["users"]} == SPARK_NAMES
    (skipped,) = plan["skipped"]
    assert skipped["userid"] == UNNAMEABLE
    assert "no Spark-RD name can be made from '李'" in skipped["reason"]
    assert lab_stats(names_lab)["writes"] == 0


@pytest.mark.parametrize("userid", ["x'; DROP TABLE device; --", "' OR '1'='1", "100%", "a_b"])
def test_users_option_takes_the_name_literally(names_lab: LabServer, tmp_path: Path, userid: str) -> None:
    result = cucm_spark("migrate", "--host", names_lab.url, "--dry-run", "--format", "json", "--users", userid,
                        state=tmp_path)

    assert result.returncode == EXIT_OK, result.stderr
    assert [user["userid"] for user in json.loads(result.stdout)["users"]] == [userid]


def spark_rds(dump: Mapping[str, list[dict]]) -> dict[str, tuple[str, list[str], str]]:
    """Per owner of a Spark-RD in the lab's tables: its name, its lines, the device their destination rings through."""
    users = {row["pkid"]: row["userid"] for row in dump["enduser"]}
    names = {row["pkid"]: row["name"] for row in dump["device"]}
    patterns = {row["pkid"]: row["dnorpattern"] for row in dump["numplan"]}
    lines: dict[str, list[str]] = {}
    for row in dump["devicenumplanmap"]:
        lines.setdefault(row["fkdevice"], []).append(patterns[row["fknumplan"]])
    rings = {users[row["fkenduser"]]: names[row["fkdevice"]] for row in dump["remotedestination"]}
    return {users[row["fkenduser"]]: (row["name"], lines.get(row["pkid"], []), rings[users[row["fkenduser"]]])
            for row in dump["device"] if row["name"].startswith("SPARK")}


def test_migrate_moves_each_user_and_leaves_the_tables_whole(names_file: Path, tmp_path: Path) -> None:
    with running_lab(dataset=names_file) as lab:
        result = cucm_spark("migrate", "--host", lab.url, "--yes", state=tmp_path)
        dump = lab_dump(lab)
        counts = row_counts(lab)

    assert result.returncode == EXIT_OK, result.stderr
    assert f"migrated {len(SPARK_NAMES)}, skipped 0, failed 0" in result.stdout
    assert counts == TABLE_ROWS  # each CTI-RD replaced by one Spark-RD; no table dropped, no row lost
    assert spark_rds(dump) == {userid: (SPARK_NAMES[userid], [f"30{number:02d}"], SPARK_NAMES[userid])
                               for number, userid in enumerate(NAMES, 1) if userid != UNNAMEABLE}
    assert [row["name"] for row in dump["device"] if row["name"].startswith("CTIRD")] == [
        cti_rd(NAMES.index(UNNAMEABLE) + 1)]
