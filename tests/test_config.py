"""The config file: its shape, every error naming file, line and key, selection, and password sources."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from cucm_spark.config import (
    ClusterConfig,
    credentials_for,
    default_config_path,
    load_config,
    resolve_password,
    target_for,
)
from cucm_spark.errors import ConfigError
from cucm_spark.licensing.tiers import Naming

ISSUE_EXAMPLE = """\
[clusters.lab-a]
host = "cucm-a.example.com"        # or host:port, or a whole URL
username = "axl-audit"
password_env = "LAB_A_PASSWORD"    # or password_file = "...", or keyring = true
ca_bundle = "/etc/ssl/lab-ca.pem"  # optional; insecure = true only when asked
licensing = "ucl"                  # or "hcs"
spark_seats = 100
tags = ["lab"]
"""

THREE = """\
# three labs of different release trains
[clusters.lab-a]
host = "cucm-a.example.com"
username = "axl-audit"
password_env = "LAB_A_PASSWORD"
tags = ["lab", "11.x"]

[clusters.lab-b]
host = "cucm-b.example.com"
port = 9443
username = "axl-audit"
password_file = "secrets/lab-b"
licensing = "hcs"
axl_version = "12.5"
tags = ["lab"]

[clusters.prod]
host = "https://cucm-p.example.com:8443/axl/"
username = "axl-audit"
keyring = true
insecure = true
"""


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    return message.replace(str(path), "config.toml")


# -- the shape --------------------------------------------------------------------------------------

def test_the_issue_example_loads_as_written(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ISSUE_EXAMPLE))
    assert list(config.clusters) == ["lab-a"]
    assert config.clusters["lab-a"] == ClusterConfig(
        name="lab-a", host="cucm-a.example.com", username="axl-audit", password_env="LAB_A_PASSWORD",
        ca_bundle=Path("/etc/ssl/lab-ca.pem"), licensing=Naming.UCL, spark_seats=100, tags=("lab",),
    )


def test_every_key_and_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, THREE))
    a, b, prod = config.clusters.values()
    assert (a.port, a.insecure, a.licensing, a.spark_seats, a.axl_version) == (None, False, Naming.UCL, None, None)
    assert (b.port, b.licensing, b.axl_version) == (9443, Naming.HCS, "12.5")
    assert b.password_file == tmp_path / "secrets" / "lab-b"  # relative to the config file
    assert (prod.keyring, prod.insecure, prod.tags) == (True, True, ())
    assert config.path == tmp_path / "config.toml"


def test_default_path_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CUCM_SPARK_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert default_config_path() == tmp_path / "xdg" / "cucm-spark" / "config.toml"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_config_path() == tmp_path / "home" / ".config" / "cucm-spark" / "config.toml"
    monkeypatch.setenv("CUCM_SPARK_CONFIG", str(tmp_path / "explicit.toml"))
    assert default_config_path() == tmp_path / "explicit.toml"
    write(tmp_path, ISSUE_EXAMPLE, "explicit.toml")
    assert list(load_config(None).clusters) == ["lab-a"]


def test_paths_expand_home_and_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", "/run/credentials/cucm-spark-audit.service")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    text = ISSUE_EXAMPLE.replace('password_env = "LAB_A_PASSWORD"', 'password_file = "$CREDENTIALS_DIRECTORY/lab-a"')
    text = text.replace('"/etc/ssl/lab-ca.pem"', '"~/ca.pem"')
    cluster = load_config(write(tmp_path, text)).clusters["lab-a"]
    assert cluster.password_file == Path("/run/credentials/cucm-spark-audit.service/lab-a")
    assert cluster.ca_bundle == tmp_path / "home" / "ca.pem"


# -- errors: file, line, key -----------------------------------------------------------------------

@pytest.mark.parametrize(("old", "new", "expected"), [
    ("spark_seats = 100", "spark_seats = -1", "config.toml:7: clusters.lab-a.spark_seats: expected a whole number ≥ 0"),
    ("spark_seats = 100", "spark_seats = 1.5", "config.toml:7: clusters.lab-a.spark_seats: expected a whole number"),
    ("spark_seats = 100", "spark_seats = true", "config.toml:7: clusters.lab-a.spark_seats: expected a whole number"),
    ('licensing = "ucl"', 'licensing = "flex"', "config.toml:6: clusters.lab-a.licensing: 'flex': expected \"ucl\""),
    ('tags = ["lab"]', 'tags = "lab"', "config.toml:8: clusters.lab-a.tags: expected a list of non-empty strings"),
    ('tags = ["lab"]', "tags = [1]", "config.toml:8: clusters.lab-a.tags: expected a list"),
    ('tags = ["lab"]', "spark_seat = 3", "config.toml:8: clusters.lab-a.spark_seat: unknown key"),
    ('tags = ["lab"]', "insecure = 1", "config.toml:8: clusters.lab-a.insecure: expected true or false"),
    ('tags = ["lab"]', "port = 70000", "config.toml:8: clusters.lab-a.port: expected a whole number from 1 to 65535"),
    ('tags = ["lab"]', "axl_version = 11.5",
     'config.toml:8: clusters.lab-a.axl_version: expected a non-empty string '
     '(write it as a string: axl_version = "11.5")'),
    ('tags = ["lab"]', 'axl_version = "latest"', "config.toml:8: clusters.lab-a.axl_version: 'latest': expected"),
    ('tags = ["lab"]', "insecure = true",
     "config.toml:8: clusters.lab-a.insecure: insecure = true and ca_bundle contradict each other"),
    ('tags = ["lab"]', 'password_file = "p"',
     "config.toml:8: clusters.lab-a.password_file: password_env is set too; name only one password source"),
    ('tags = ["lab"]', "keyring = true", "config.toml:8: clusters.lab-a.keyring: password_env is set too"),
    ('host = "cucm-a.example.com"', 'host = "cucm a"', "config.toml:2: clusters.lab-a.host: 'cucm a': expected HOST"),
    ('host = "cucm-a.example.com"', 'host = "ftp://x"', "config.toml:2: clusters.lab-a.host: 'ftp://x': expected"),
    ('host = "cucm-a.example.com"', 'host = ""', "config.toml:2: clusters.lab-a.host: expected a non-empty string"),
    ('host = "cucm-a.example.com"', 'host = "cucm-a:8443"\nport = 8443',
     "config.toml:3: clusters.lab-a.port: host 'cucm-a:8443' names its port or is a URL already"),
    ('username = "axl-audit"', "", "config.toml:1: clusters.lab-a.username: required, but missing"),
    ('password_env = "LAB_A_PASSWORD"', "keyring = false",
     "config.toml:1: clusters.lab-a: name one password source: password_env, password_file or keyring = true"),
])
def test_a_bad_value_is_named_by_file_line_and_key(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in ISSUE_EXAMPLE
    assert error_of(tmp_path, ISSUE_EXAMPLE.replace(old, new)).startswith(expected)


def test_the_line_is_found_in_the_right_table(tmp_path: Path) -> None:
    text = THREE.replace('axl_version = "12.5"', 'axl_version = "twelve"')
    assert error_of(tmp_path, text).startswith("config.toml:14: clusters.lab-b.axl_version:")
    text = THREE.replace("port = 9443", 'port = "9443"')
    assert error_of(tmp_path, text).startswith("config.toml:10: clusters.lab-b.port:")


def test_quoted_names_and_dotted_keys_are_located_too(tmp_path: Path) -> None:
    text = '[clusters."lab-q"]\nhost = "h"\nusername = "u"\npassword_env = "P"\nspark_seats = -3\n'
    assert error_of(tmp_path, text).startswith("config.toml:5: clusters.lab-q.spark_seats:")
    text = 'clusters.lab-d.host = "h"\nclusters.lab-d.username = "u"\nclusters.lab-d.password_env = "P"\n' \
           "clusters.lab-d.spark_seats = -3\n"
    assert error_of(tmp_path, text).startswith("config.toml:4: clusters.lab-d.spark_seats:")


def test_invalid_toml_names_the_line_from_the_parser(tmp_path: Path) -> None:
    message = error_of(tmp_path, ISSUE_EXAMPLE.replace("spark_seats = 100", "spark_seats = "))
    assert message.startswith("config.toml:7: not valid TOML: ")
    message = error_of(tmp_path, ISSUE_EXAMPLE + "[clusters.lab-a]\n")
    assert message.startswith("config.toml:9: not valid TOML: ")


def test_unknown_top_level_keys_and_bad_names(tmp_path: Path) -> None:
    assert error_of(tmp_path, "\n[cluster.lab-a]\nhost = 'h'\n").startswith("config.toml:2: cluster: unknown key")
    assert error_of(tmp_path, "clusters = 3\n").startswith("config.toml:1: clusters: expected [clusters.NAME]")
    message = error_of(tmp_path, '[clusters."lab a"]\nhost = "h"\n')
    assert message.startswith("config.toml:1: clusters.lab a: a cluster name may hold only")


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.toml: no such config file"):
        load_config(tmp_path / "nowhere.toml")


# -- selection -------------------------------------------------------------------------------------

def test_select_by_name_all_and_tag(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, THREE))
    names = lambda clusters: [c.name for c in clusters]  # noqa: E731
    assert names(config.select(["prod", "lab-a", "prod"], False, None)) == ["prod", "lab-a"]
    assert names(config.select(None, True, None)) == ["lab-a", "lab-b", "prod"]
    assert names(config.select(None, True, "lab")) == ["lab-a", "lab-b"]
    assert names(config.select(None, False, "11.x")) == ["lab-a"]
    assert names(config.select(["lab-b", "prod"], False, "lab")) == ["lab-b"]


def test_select_refuses_unknown_names_and_empty_choices(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, THREE))
    with pytest.raises(ConfigError, match=r"no cluster named 'lab-z' \(known: lab-a, lab-b, prod\)"):
        config.select(["lab-a", "lab-z"], False, None)
    with pytest.raises(ConfigError, match="no selected cluster has the tag 'edge'"):
        config.select(None, True, "edge")
    with pytest.raises(ConfigError, match="not both"):
        config.select(["lab-a"], True, None)
    with pytest.raises(ConfigError, match="--cluster NAME, or use --all"):
        config.select(None, False, None)
    with pytest.raises(ConfigError, match="no clusters configured"):
        load_config(write(tmp_path, "# nothing yet\n", "empty.toml")).select(None, True, None)


# -- passwords and targets -------------------------------------------------------------------------

def test_password_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = load_config(write(tmp_path, THREE)).clusters["lab-a"]
    monkeypatch.setenv("LAB_A_PASSWORD", "s3cret")
    assert resolve_password(cluster) == "s3cret"
    assert credentials_for(cluster).username == "axl-audit"
    assert "s3cret" not in repr(credentials_for(cluster))
    monkeypatch.delenv("LAB_A_PASSWORD")
    with pytest.raises(ConfigError) as caught:
        resolve_password(cluster)
    assert str(caught.value).endswith(
        "config.toml:5: clusters.lab-a.password_env: the environment variable LAB_A_PASSWORD is not set or empty")


def test_password_from_a_file(tmp_path: Path) -> None:
    cluster = load_config(write(tmp_path, THREE)).clusters["lab-b"]
    where = r"config.toml:12: clusters.lab-b.password_file: "
    with pytest.raises(ConfigError, match=where + r"cannot read .*lab-b: No such"):
        resolve_password(cluster)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "lab-b").write_text("pa ss\n", encoding="utf-8")
    assert resolve_password(cluster) == "pa ss"
    (tmp_path / "secrets" / "lab-b").write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is empty"):
        resolve_password(cluster)


def test_password_from_the_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = load_config(write(tmp_path, THREE)).clusters["prod"]
    monkeypatch.setitem(sys.modules, "keyring", None)  # as if the package were not installed
    with pytest.raises(ConfigError, match="keyring = true needs the 'keyring' package"):
        resolve_password(cluster)

    asked: list[tuple[str, str]] = []

    def get_password(service: str, username: str) -> str | None:
        asked.append((service, username))
        return "from-keyring" if username == "axl-audit" else None

    fake = types.ModuleType("keyring")
    fake.get_password = get_password  # type: ignore[attr-defined]
    errors = types.ModuleType("keyring.errors")
    errors.KeyringError = RuntimeError  # type: ignore[attr-defined]
    fake.errors = errors  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    monkeypatch.setitem(sys.modules, "keyring.errors", errors)
    assert resolve_password(cluster) == "from-keyring"
    assert asked == [("cucm-spark", "axl-audit")]


def test_target_folds_the_port_and_chooses_verification(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, THREE))
    assert target_for(config.clusters["lab-a"]) == ("cucm-a.example.com", True)
    assert target_for(config.clusters["lab-b"]) == ("cucm-b.example.com:9443", True)
    assert target_for(config.clusters["prod"]) == ("https://cucm-p.example.com:8443/axl/", False)
    cluster = load_config(write(tmp_path, ISSUE_EXAMPLE.replace("/etc/ssl/lab-ca.pem", "ca.pem"))).clusters["lab-a"]
    with pytest.raises(ConfigError, match=r"config.toml:5: clusters.lab-a.ca_bundle: .*ca.pem: no such file"):
        target_for(cluster)
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    assert target_for(cluster) == ("cucm-a.example.com", str(tmp_path / "ca.pem"))


def test_an_ipv6_host_gets_brackets_with_a_port(tmp_path: Path) -> None:
    text = '[clusters.v6]\nhost = "fd00::10"\nport = 8443\nusername = "u"\npassword_env = "P"\n'
    assert target_for(load_config(write(tmp_path, text)).clusters["v6"]) == ("[fd00::10]:8443", True)
