"""Secrets stay secret, files stay private, the lab stays on loopback: every command of the installed cucm-spark.

One lab with a distinctive password; then every command, as an administrator runs it (the
password from the environment, a password file and a config file's sources; -v, log
files, output directories, plans, reports, a migration that writes and its rollback, a
wrong password, `lab serve`). Afterwards every byte it printed or left behind is searched
for the password in every form it could take on the way (raw, Latin-1, Basic auth base64,
URL-encoded, JSON-escaped, inside SQLite and zlib), and every file it created must be 0600
and every directory 0700: they hold cluster inventory.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import select
import signal
import sqlite3
import stat
import subprocess
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus, urlsplit

import pytest
import requests
from support.lab import running_lab

from cucm_spark import logs
from cucm_spark.connect import ClusterTarget, open_cluster
from cucm_spark.lab.runner import LabSpec
from cucm_spark.lab.server import DEFAULT_USERNAME, LabSettings

CLI = Path(sys.executable).parent / "cucm-spark"
SECRET = "S3cret-Pa55w0rd-%-ü"
WRONG_SECRET = "Wr0ng-Pa55w0rd-%-é"
LOOPBACK = "127.0.0.1"
UMASK = 0o022  # a common default: what the product must not rely on
MIGRATED_USER = "jsmith"


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def command(self) -> str:
        return " ".join(self.args[:2]) if self.args[0] == "lab" else self.args[0]

    @property
    def errors(self) -> str:
        return self.stderr.decode("utf-8", "replace")


@dataclass
class Session:
    """Everything the commands were given and everything they printed."""

    root: Path
    url: str
    runs: list[Run] = field(default_factory=list)

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    def env(self, password: str | None = SECRET, **extra: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("CUCM_SPARK_")}
        env.update(CUCM_SPARK_USERNAME=DEFAULT_USERNAME, CUCM_SPARK_STATE_DIR=str(self.state), COLUMNS="200",
                   HOME=str(self.root / "home"), XDG_CONFIG_HOME=str(self.root / "home" / ".config"), **extra)
        if password is not None:  # the one for --host, and the one the config's lab-env cluster names
            env.update(CUCM_SPARK_PASSWORD=password, LAB_PASSWORD=password)
        return env

    def run(self, *args: object, password: str | None = SECRET, expect: int = 0) -> Run:
        """Run the installed command with stdin closed (no terminal), as cron would."""
        words = tuple(str(arg) for arg in args)
        result = subprocess.run([str(CLI), *words], env=self.env(password), stdin=subprocess.DEVNULL,
                                capture_output=True, timeout=120, check=False, umask=UMASK)
        run = Run(words, result.returncode, result.stdout, result.stderr)
        self.runs.append(run)
        assert b"Traceback" not in run.stderr, run.errors
        assert run.returncode == expect, f"{' '.join(words)} -> {run.returncode}: {run.errors}"
        return run


# -- the session: every command, once ------------------------------------------------------------

@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    root = tmp_path_factory.mktemp("secrets")
    with running_lab(settings=LabSettings(password=SECRET)) as lab:
        session = Session(root, lab.url)
        _prepare(session)
        _audits(session)
        _fleet(session)
        _migration(session)
        _wrong_password(session)
        _password_file_not_utf8(session)
        _lab_serve(session)
        yield session


def _prepare(session: Session) -> None:
    session.out.mkdir()
    session.secrets.mkdir()
    (session.secrets / "password").write_text(SECRET + "\n", encoding="utf-8")
    session.config.write_text(
        f'[clusters.lab-env]\nhost = "{session.url}"\nusername = "{DEFAULT_USERNAME}"\npassword_env = "LAB_PASSWORD"\n'
        f'\n[clusters.lab-file]\nhost = "{session.url}"\nusername = "{DEFAULT_USERNAME}"\n'
        f'password_file = "{session.secrets / "password"}"\ntags = ["file"]\n', encoding="utf-8")


def _audits(session: Session) -> None:
    out, url = session.out, session.url
    session.run("audit", "--host", url, "-v", "--log-file", session.logs / "nested" / "audit.log",
                "--output-dir", out / "runs", "--format", "json", "--output", out / "audit.json",
                "--glo-request", out / "glo.txt", "--web-order-id", "98765432", "--spark-seats", "5")
    session.run("audit", "--host", url, "--password-file", session.secrets / "password", "--format", "csv",
                "--output", out / "audit.csv", "--diff", "-v", password=None)
    session.run("audit", "--lab", "-v", "--format", "json")


def _fleet(session: Session) -> None:
    config = session.config
    session.run("audit", "--all", "--config", config, "-v", "--diff", "--log-file", session.logs / "fleet.log",
                "--output-dir", session.out / "runs")
    session.run("audit", "--cluster", "lab-file", "--config", config, "--quiet", "--format", "json")
    session.run("clusters", "--config", config)
    session.run("clusters", "--check", "--config", config)
    session.run("history")
    session.run("history", "--cluster", "lab-env", "--format", "json")
    session.run("report", "--html", session.out / "report.html")


def _migration(session: Session) -> None:
    url, plan = session.url, session.out / "plan.json"
    session.run("migrate", "--host", url, "--dry-run", "--plan-out", plan, "-v")
    session.run("migrate", "--host", url, "--plan", plan, "--users", MIGRATED_USER, "--yes", "-v", "--format", "json")
    session.run("runs")
    runs = json.loads(session.run("runs", "--format", "json").stdout)
    assert len(runs) == 1, runs
    session.run("rollback", runs[0]["run"], "--host", url, "--yes")


def _wrong_password(session: Session) -> None:
    refused = session.run("audit", "--host", session.url, "-v", "--log-file", session.logs / "wrong.log",
                          password=WRONG_SECRET, expect=3)
    assert "HTTP 401" in refused.errors
    session.run("migrate", "--host", session.url, "--dry-run", "-v", password=WRONG_SECRET, expect=3)
    checked = session.run("clusters", "--check", "--config", session.config, password=WRONG_SECRET, expect=3)
    assert b"lab-env" in checked.stdout and b"FAILED" in checked.stdout


def _password_file_not_utf8(session: Session) -> None:
    """A password file in Latin-1: the error says so without quoting the byte it stumbled on."""
    latin1 = session.secrets / "password-latin-1"
    latin1.write_bytes(SECRET.encode("latin-1"))
    config = session.root / "config-latin-1.toml"
    config.write_text(f'[clusters.lab-latin-1]\nhost = "{session.url}"\nusername = "{DEFAULT_USERNAME}"\n'
                      f'password_file = "{latin1}"\n', encoding="utf-8")
    direct = session.run("audit", "--host", session.url, "--password-file", latin1, "-v", password=None, expect=2)
    configured = session.run("audit", "--all", "--config", config, "-v", password=None, expect=2)
    for refused in (direct, configured):
        assert "not UTF-8" in refused.errors


def _lab_serve(session: Session) -> None:
    """`lab serve` with its password from the environment: asked with it and without, then stopped."""
    env = session.env(None, CUCM_SPARK_LAB_PASSWORD=SECRET)
    process = subprocess.Popen([str(CLI), "lab", "serve", "--port", "0"], env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, umask=UMASK)
    try:
        ready, _, _ = select.select([process.stdout], [], [], 30)
        url = process.stdout.readline().decode().strip() if ready else ""
        assert urlsplit(url).hostname == LOOPBACK, url
        assert _ccm_version(url, SECRET) == 200
        assert _ccm_version(url, WRONG_SECRET) == 401
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=15)
    session.runs.append(Run(("lab", "serve", "--port", "0"), process.returncode, url.encode() + b"\n" + stdout,
                            stderr))


def _ccm_version(url: str, password: str) -> int:
    body = ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:ns="http://www.cisco.com/AXL/API/12.5"><soapenv:Body><ns:getCCMVersion/></soapenv:Body>'
            "</soapenv:Envelope>")
    answer = requests.post(url, data=body, timeout=10, auth=(DEFAULT_USERNAME, password.encode("latin-1")),
                           headers={"SOAPAction": '"CUCM:DB ver=12.5 getCCMVersion"'})
    return answer.status_code


# -- every command is run, with -v where it has one ----------------------------------------------

def _listed_commands(*group: str) -> set[str]:
    """The commands `cucm-spark [GROUP] --help` lists (rich's box or click's plain list); none for a command."""
    text = _help(*group)
    header = re.search(r"^\W*Commands\W*$", text, flags=re.M)
    if header is None:
        return set()
    return {match.group(1) for match in re.finditer(r"^[│|\s]+([a-z][a-z-]*)\s{2,}\S", text[header.end():], re.M)}


def _every_command() -> set[str]:
    """Each command as typed: "audit", "lab serve"."""
    commands = set()
    for name in _listed_commands():
        commands |= {f"{name} {sub}" for sub in _listed_commands(name)} or {name}
    return commands


def _help(*command: str) -> str:
    return subprocess.run([str(CLI), *command, "--help"], capture_output=True, text=True, check=True,
                          env={**os.environ, "COLUMNS": "200"}, stdin=subprocess.DEVNULL).stdout


def test_every_command_of_the_installed_cli_was_run(session: Session) -> None:
    listed = _every_command()
    ran = {run.command for run in session.runs}

    assert listed - ran == set(), "a command this test does not run yet: add it to the session"
    assert ran <= listed


def test_every_command_with_a_verbose_option_was_run_with_it(session: Session) -> None:
    for command in sorted({run.command for run in session.runs}):
        if "--verbose" in _help(*command.split()):
            assert any("-v" in run.args for run in session.runs if run.command == command), command


def test_the_migration_wrote_and_was_rolled_back(session: Session) -> None:
    migrated = next(run for run in session.runs if run.command == "migrate" and "--plan" in run.args)
    assert [user["userid"] for user in json.loads(migrated.stdout)["migrated"]] == [MIGRATED_USER]
    runs = json.loads(next(run for run in session.runs if run.args == ("runs", "--format", "json")).stdout)
    assert "migrated" in runs[0]["users"]
    assert any(run.command == "rollback" and run.returncode == 0 for run in session.runs)


# -- no secret anywhere ---------------------------------------------------------------------------

def secret_forms(secret: str) -> dict[str, bytes]:
    """Every form the password could take in a leak, by name."""
    core = re.match(r"[ -~]+", secret).group(0).rstrip("%-")  # its ASCII start: found in any escaping
    header = f"{DEFAULT_USERNAME}:{secret}"
    forms = {"utf-8": secret.encode(), "ascii start": core.encode(), "utf-16": core.encode("utf-16-le"),
             "json": json.dumps(secret)[1:-1].encode()}
    for charset in ("utf-8", "latin-1"):
        forms[f"basic auth ({charset})"] = base64.b64encode(header.encode(charset))
        forms[f"base64 ({charset})"] = base64.b64encode(secret.encode(charset))
        forms[f"url ({charset})"] = quote(secret, safe="", encoding=charset).encode()
        forms[f"url plus ({charset})"] = quote_plus(secret, encoding=charset).encode()
        forms[f"raw ({charset})"] = secret.encode(charset)
        for byte in secret.encode(charset):
            if byte > 0x7F:  # how a UnicodeDecodeError quotes it
                forms[f"byte {byte:#x} ({charset})"] = f"byte {byte:#x}".encode()
    return forms


def _leaks(data: bytes, secrets: tuple[str, ...] = (SECRET, WRONG_SECRET)) -> list[str]:
    return [f"{secret!r} as {name}" for secret in secrets for name, form in secret_forms(secret).items()
            if form in data]


def _sqlite_cells(path: Path) -> Iterator[bytes]:
    """Every value of every table, zlib blobs inflated (the history keeps documents compressed)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    yield from _cell_bytes(value)


def _cell_bytes(value: object) -> list[bytes]:
    if value is None:
        return []
    if not isinstance(value, bytes):
        return [str(value).encode()]
    try:
        return [value, zlib.decompress(value)]
    except zlib.error:
        return [value]


def _written_files(session: Session) -> list[Path]:
    """Every file the commands left under the session (the password file, which the test wrote, aside)."""
    return [path for path in session.root.rglob("*") if path.is_file() and session.secrets not in path.parents]


def test_the_password_is_in_no_output(session: Session) -> None:
    for run in session.runs:
        assert _leaks(run.stdout) == [], f"stdout of {' '.join(run.args)}"
        assert _leaks(run.stderr) == [], f"stderr of {' '.join(run.args)}"


def test_the_password_is_in_no_file_log_plan_journal_history_or_report(session: Session) -> None:
    files = _written_files(session)
    names = {path.name for path in files}
    assert {"history.db", "migrations.sqlite", "axl-versions.json", "audit.log", "fleet.log", "wrong.log",
            "plan.json", "report.html", "glo.txt", "audit.json", "audit.csv", "latest.json"} <= names, names
    for path in files:
        content = path.read_bytes()
        assert _leaks(content) == [], path
        if content.startswith(b"SQLite format 3"):
            for cell in _sqlite_cells(path):
                assert _leaks(cell) == [], path


def test_the_scan_reads_the_compressed_audit_documents_of_the_history(session: Session) -> None:
    cells = list(_sqlite_cells(session.state / "history.db"))
    assert any(b'"schema":"cucm-spark.audit/1"' in cell and MIGRATED_USER.encode() in cell for cell in cells)


def test_the_scan_would_find_the_password_in_each_form() -> None:
    for name, form in secret_forms(SECRET).items():
        assert _leaks(b"header " + form + b" trailer", (SECRET,)), name


# -- private files ----------------------------------------------------------------------------------

def _created_by_the_product(session: Session) -> Iterator[Path]:
    """The state directory, the log directories and all in them, and what the commands wrote into out/."""
    for top in (session.state, session.logs):
        yield top
        yield from top.rglob("*")
    yield from session.out.rglob("*")


def test_every_file_created_is_0600_and_every_directory_0700(session: Session) -> None:
    wrong = {}
    for path in _created_by_the_product(session):
        mode = stat.S_IMODE(path.lstat().st_mode)
        expected = 0o700 if path.is_dir() else 0o600
        if mode != expected:
            wrong[str(path.relative_to(session.root))] = oct(mode)
    assert wrong == {}


def test_rotated_log_files_are_created_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "LOG_FILE_BYTES", 300)
    logger = logging.getLogger("cucm_spark")
    before, level = list(logger.handlers), logger.level
    previous_umask = os.umask(UMASK)
    try:
        logs.configure_logging(log_file=tmp_path / "logs" / "audit.log")
        for number in range(40):
            logger.info("audit of cluster %d done", number)
    finally:
        os.umask(previous_umask)
        for handler in set(logger.handlers) - set(before):
            handler.close()
            logger.removeHandler(handler)
        logger.setLevel(level)
    files = sorted((tmp_path / "logs").iterdir())
    assert len(files) == logs.LOG_FILE_BACKUPS + 1
    assert {path.name: oct(stat.S_IMODE(path.stat().st_mode)) for path in files} == {
        path.name: "0o600" for path in files}
    assert oct(stat.S_IMODE((tmp_path / "logs").stat().st_mode)) == "0o700"


# -- the lab listens on loopback unless told otherwise ------------------------------------------------

def test_the_lab_binds_to_loopback_by_default() -> None:
    assert LabSpec().host == LOOPBACK
    with running_lab() as server:  # build_lab(LabSpec()) with LabSettings() as they come
        assert server.settings == LabSettings()
        assert urlsplit(server.url).hostname == LOOPBACK


def test_audit_lab_runs_its_lab_on_loopback() -> None:
    with open_cluster(ClusterTarget(lab=True)) as client:
        assert urlsplit(client.endpoint.url).hostname == LOOPBACK


def test_lab_serve_listens_on_loopback_by_default(session: Session) -> None:
    served = next(run for run in session.runs if run.command == "lab serve")
    assert urlsplit(served.stdout.decode().splitlines()[0]).hostname == LOOPBACK
    assert served.returncode == 0, served.errors
