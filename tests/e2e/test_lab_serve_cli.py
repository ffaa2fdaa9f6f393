"""`cucm-spark lab serve` as a user runs it: the installed command, in its own process, over real HTTP."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from lxml import etree

COMMAND = Path(sys.executable).parent / "cucm-spark"  # the venv the tests run in
DEFAULT_AUTH = ("administrator", "ciscopsdt")
PASSWORD_ENV = "CUCM_SPARK_LAB_PASSWORD"
STARTUP_TIMEOUT = 30


def command() -> str:
    if COMMAND.exists():
        return str(COMMAND)
    found = shutil.which("cucm-spark")
    if not found:
        pytest.skip(f"the cucm-spark command is not installed (looked in {COMMAND.parent} and on PATH)")
    return found


def environment(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != PASSWORD_ENV}
    env.update(extra)
    return env


@contextmanager
def serving(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen, str]]:
    """Start `cucm-spark lab serve --port 0 ARGS`; yield the process and the URL from its first stdout line."""
    process = subprocess.Popen(
        [command(), "lab", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env or environment(),
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], STARTUP_TIMEOUT)
        url = process.stdout.readline().strip() if ready else ""
        if not url:
            process.kill()
            pytest.fail(f"the lab did not print its URL: {process.communicate(timeout=10)[1]}")
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def ccm_version(url: str, version: str, **kwargs: object) -> requests.Response:
    body = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:ns="http://www.cisco.com/AXL/API/{version}"><soapenv:Body><ns:getCCMVersion/></soapenv:Body>'
        "</soapenv:Envelope>"
    )
    kwargs.setdefault("auth", DEFAULT_AUTH)
    return requests.post(url, data=body, timeout=10,
                         headers={"SOAPAction": f'"CUCM:DB ver={version} getCCMVersion"'}, **kwargs)


def reported_version(response: requests.Response) -> str:
    assert response.status_code == 200, response.text[:500]
    return etree.fromstring(response.content).findtext(".//componentVersion/version")


def run_failing(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([command(), "lab", "serve", *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd, env=environment())


def assert_one_line_usage_error(result: subprocess.CompletedProcess, *named: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # no URL: nothing is served
    for text in named:
        assert text in lines[0], lines[0]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_prints_its_url_answers_and_stops_on_a_signal(tmp_path: Path, stop: signal.Signals) -> None:
    with serving("--cucm-version", "11.5.1.13900-52", cwd=tmp_path) as (process, url):
        assert url.startswith("http://127.0.0.1:") and url.endswith("/axl/")
        assert reported_version(ccm_version(url, "11.5")) == "11.5.1.13900(52)"
        assert ccm_version(url, "14.0").status_code == 599
        process.send_signal(stop)
        assert process.wait(15) == 0
        stderr = process.stderr.read()
        assert "Traceback" not in stderr
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_the_password_comes_from_the_environment(tmp_path: Path) -> None:
    env = environment(**{PASSWORD_ENV: "Lab-Pass-42"})
    with serving("--username", "axladmin", cwd=tmp_path, env=env) as (_, url):
        refused = ccm_version(url, "12.5")
        assert refused.status_code == 401 and "<html" in refused.text.lower()
        assert ccm_version(url, "12.5", auth=("administrator", "Lab-Pass-42")).status_code == 401
        assert reported_version(ccm_version(url, "12.5", auth=("axladmin", "Lab-Pass-42"))) == "12.5.1.10000(22)"


def test_tls_and_a_generated_cluster(tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    with serving("--tls", "--cert-dir", str(certs), "--generate", "users=50,seed=2", "--cucm-version",
                 "15.0.1.10000-10", cwd=tmp_path) as (_, url):
        assert url.startswith("https://127.0.0.1:")
        assert reported_version(ccm_version(url, "15.0", verify=str(certs / "cert.pem"))) == "15.0.1.10000(10)"
        with pytest.raises(requests.exceptions.SSLError):
            ccm_version(url, "15.0")


def test_a_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        result = run_failing("--port", port, cwd=tmp_path)
    assert_one_line_usage_error(result, port)


def test_a_malformed_dataset_is_a_one_line_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"schema": "cucm-spark.lab-dataset/1", "users": [{"userid": "a"}],
                                  "devices": [{"name": "SEP1", "model": "Cisco 8841", "owner": "ghost"}]}))
    assert_one_line_usage_error(run_failing("--port", "0", "--dataset", str(broken), cwd=tmp_path),
                                "broken.json", "ghost")
    not_json = tmp_path / "not.json"
    not_json.write_text("{ this is not json")
    assert_one_line_usage_error(run_failing("--port", "0", "--dataset", str(not_json), cwd=tmp_path), "not.json")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--cucm-version", "13.9.9.1-1"], ["13.9.9.1-1"]),
        (["--cucm-version", "eleven"], ["eleven"]),
        (["--generate", "users=abc"], ["users"]),
        (["--dataset", "missing.json"], ["missing.json"]),
    ],
    ids=["release-without-schema", "not-a-release", "bad-generate", "missing-dataset"],
)
def test_a_bad_choice_is_a_one_line_error(tmp_path: Path, args: list[str], named: list[str]) -> None:
    assert_one_line_usage_error(run_failing("--port", "0", *args, cwd=tmp_path), *named)
