"""The config file of scheduled audits: named clusters in TOML, each error naming file, line and key.

    [clusters.lab-a]
    host = "cucm-a.example.com"        # or host:port, or a whole URL
    port = 8443                        # optional, when host names no port
    username = "axl-audit"
    password_env = "LAB_A_PASSWORD"    # or password_file = "...", or keyring = true
    ca_bundle = "/etc/ssl/lab-ca.pem"  # optional; insecure = true only when asked
    axl_version = "11.5"               # optional pin
    licensing = "ucl"                  # or "hcs"
    spark_seats = 100
    tags = ["lab"]

Unknown keys are errors, so that a typo never silently drops a setting. Relative paths
(password_file, ca_bundle) are relative to the config file; ``~`` and ``$VARS`` are expanded.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cucm_spark.axl.endpoint import Endpoint
from cucm_spark.credentials import Credentials, read_password_file
from cucm_spark.errors import ConfigError
from cucm_spark.licensing.tiers import Naming

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG_ENV = "CUCM_SPARK_CONFIG"
KEYRING_SERVICE = "cucm-spark"
CLUSTER_KEYS = (
    "host", "port", "username", "password_env", "password_file", "keyring", "ca_bundle", "insecure",
    "axl_version", "licensing", "spark_seats", "tags",
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_AXL_VERSION = re.compile(r"^\d{1,2}\.\d$")
_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)|\(at end of document\)")


def default_config_path() -> Path:
    """$CUCM_SPARK_CONFIG, else $XDG_CONFIG_HOME/cucm-spark/config.toml, else ~/.config/cucm-spark/config.toml."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "cucm-spark" / "config.toml"


@dataclass(frozen=True)
class ClusterConfig:
    """One named cluster of the config file; ``where(key)`` locates a setting for error messages."""

    name: str
    host: str
    username: str
    port: int | None = None
    password_env: str | None = None
    password_file: Path | None = None
    keyring: bool = False
    ca_bundle: Path | None = None
    insecure: bool = False
    axl_version: str | None = None
    licensing: Naming = Naming.UCL
    spark_seats: int | None = None
    tags: tuple[str, ...] = ()
    source: str = field(default="", compare=False, repr=False)
    key_lines: tuple[tuple[str, int], ...] = field(default=(), compare=False, repr=False)

    def where(self, key: str | None = None) -> str:
        """``config.toml:7: clusters.lab-a.spark_seats`` (the prefix of an error about that setting)."""
        lines = dict(self.key_lines)
        line = lines.get(key or "", lines.get(""))
        place = f"{self.source}:{line}" if line else self.source
        dotted = f"clusters.{self.name}.{key}" if key else f"clusters.{self.name}"
        return f"{place}: {dotted}" if place else dotted


@dataclass(frozen=True)
class Config:
    """The loaded config file: its path and its clusters, in the file's order."""

    path: Path
    clusters: Mapping[str, ClusterConfig]

    def select(self, names: list[str] | None = None, all_: bool = False, tag: str | None = None) -> list[ClusterConfig]:
        """The clusters named (in the order given), or all of them; either one filtered by tag."""
        if names and all_:
            raise ConfigError("name clusters with --cluster NAME or use --all, not both")
        if names:
            unknown = [name for name in names if name not in self.clusters]
            if unknown:
                known = ", ".join(self.clusters) or "none"
                raise ConfigError(f"{self.path}: no cluster named {unknown[0]!r} (known: {known})")
            chosen = [self.clusters[name] for name in dict.fromkeys(names)]
        elif all_ or tag:
            chosen = list(self.clusters.values())
            if not chosen:
                raise ConfigError(f"{self.path}: no clusters configured; add a [clusters.NAME] table")
        else:
            raise ConfigError("name clusters with --cluster NAME, or use --all (optionally with --tag TAG)")
        if tag is not None:
            chosen = [cluster for cluster in chosen if tag in cluster.tags]
            if not chosen:
                raise ConfigError(f"{self.path}: no selected cluster has the tag {tag!r}")
        return chosen


def load_config(path: Path | None = None) -> Config:
    """Read and check the config file (the default path when none is given)."""
    path = path if path is not None else default_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such config file; write one with [clusters.NAME] tables, "
                          "or name another with --config FILE") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file: {getattr(exc, 'strerror', None) or exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}:{_toml_error_line(str(exc), text)}: not valid TOML: {exc}") from exc
    except RecursionError as exc:  # tomllib recurses into nested arrays and inline tables
        raise ConfigError(f"{path}: not valid TOML: nested too deeply to read") from exc
    locator = _Locator(text)
    for key in data:
        if key != "clusters":
            raise ConfigError(f"{path}:{locator.top_level(key)}: {key}: unknown key (expected [clusters.NAME] tables)")
    tables = data.get("clusters", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}:{locator.top_level('clusters')}: clusters: expected [clusters.NAME] tables")
    clusters = {name: _cluster(name, table, path, locator) for name, table in tables.items()}
    return Config(path, clusters)


def _toml_error_line(message: str, text: str) -> int:
    match = _TOML_POSITION.search(message)
    if match and match.group(1):
        return int(match.group(1))
    return max(1, text.count("\n") + (0 if text.endswith("\n") else 1))


class _Locator:
    """Finds the line of a key in the file text: the [clusters.NAME] header, then the key within it."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def top_level(self, key: str) -> int:
        pattern = re.compile(rf"^\s*(\[+\s*)?[\"']?{re.escape(key)}[\"']?\s*[.=\]]")
        return next((n for n, line in enumerate(self.lines, 1) if pattern.match(line)), 1)

    def cluster(self, name: str, key: str | None) -> int | None:
        name_re = rf"(?:{re.escape(name)}|\"{re.escape(name)}\"|'{re.escape(name)}')"
        header = re.compile(rf"^\s*\[\s*clusters\s*\.\s*{name_re}\s*\]")
        start = next((n for n, line in enumerate(self.lines) if header.match(line)), None)
        if start is not None:
            if key is None:
                return start + 1
            key_re = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
            for n in range(start + 1, len(self.lines)):
                if self.lines[n].lstrip().startswith("["):
                    break
                if key_re.match(self.lines[n]):
                    return n + 1
            return start + 1
        # Dotted keys or an inline table: the first line naming the cluster (and the key, if any).
        mention = re.compile(rf"{name_re}\s*[.=]" + (rf".*\b{re.escape(key)}\s*=" if key else ""))
        return next((n for n, line in enumerate(self.lines, 1) if mention.search(line)), None)


def _cluster(name: str, table: object, path: Path, locator: _Locator) -> ClusterConfig:
    def fail(key: str | None, problem: str) -> ConfigError:
        line = locator.cluster(name, key)
        dotted = f"clusters.{name}" + (f".{key}" if key else "")
        return ConfigError(f"{path}{f':{line}' if line else ''}: {dotted}: {problem}")

    if not isinstance(table, dict):
        raise fail(None, "expected a table such as [clusters.NAME]")
    if not _NAME.match(name):
        raise fail(None, "a cluster name may hold only letters, digits, '.', '_' and '-'")
    for key in table:
        if key not in CLUSTER_KEYS:
            raise fail(key, f"unknown key (expected one of: {', '.join(CLUSTER_KEYS)})")
    values = _Values(table, fail)
    host = values.required("host")
    port = values.port()
    try:
        Endpoint.parse(_host_with_port(host, port))
    except ConfigError as exc:
        raise fail("host", f"{host!r}: expected HOST, HOST:PORT or an http(s) URL") from exc
    if port is not None and not _bare_host(host):
        raise fail("port", f"host {host!r} names its port or is a URL already; give the port once")
    keyring = values.boolean("keyring")
    sources = [key for key in ("password_env", "password_file") if key in table] + (["keyring"] if keyring else [])
    if not sources:
        raise fail(None, "name one password source: password_env, password_file or keyring = true")
    if len(sources) > 1:
        raise fail(sources[1], f"{sources[0]} is set too; name only one password source")
    insecure = values.boolean("insecure")
    ca_bundle = values.path("ca_bundle", path)
    if insecure and ca_bundle:
        raise fail("insecure", "insecure = true and ca_bundle contradict each other; choose one")
    licensing = values.text("licensing")
    if licensing is not None and licensing not in {n.value for n in Naming}:
        raise fail("licensing", f'{licensing!r}: expected "ucl" or "hcs"')
    axl_version = values.text("axl_version")
    if axl_version is not None and not _AXL_VERSION.match(axl_version):
        raise fail("axl_version", f'{axl_version!r}: expected a version such as "11.5" or "14.0"')
    return ClusterConfig(
        name=name, host=host, port=port, username=values.required("username"),
        password_env=values.text("password_env"), password_file=values.path("password_file", path),
        keyring=keyring, ca_bundle=ca_bundle, insecure=insecure, axl_version=axl_version,
        licensing=Naming(licensing) if licensing else Naming.UCL, spark_seats=values.seats(),
        tags=values.tags(), source=str(path),
        key_lines=tuple((key, line) for key in ("", *table) if (line := locator.cluster(name, key or None))),
    )


class _Values:
    """Typed reads of one cluster table; each bad value fails with the key's location."""

    def __init__(self, table: dict[str, Any], fail: Callable[[str | None, str], ConfigError]) -> None:
        self.table = table
        self.fail = fail

    def required(self, key: str) -> str:
        if key not in self.table:
            raise self.fail(key, "required, but missing")
        return self.text(key) or ""

    def text(self, key: str) -> str | None:
        value = self.table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            hint = f' (write it as a string: {key} = "{value}")' if number else ""
            raise self.fail(key, f"expected a non-empty string{hint}")
        return value.strip()

    def boolean(self, key: str) -> bool:
        value = self.table.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(key, "expected true or false")
        return value

    def port(self) -> int | None:
        value = self.table.get("port")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536):
            raise self.fail("port", "expected a whole number from 1 to 65535")
        return value

    def seats(self) -> int | None:
        value = self.table.get("spark_seats")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise self.fail("spark_seats", "expected a whole number ≥ 0")
        return value

    def tags(self) -> tuple[str, ...]:
        value = self.table.get("tags", [])
        if not isinstance(value, list) or not all(isinstance(tag, str) and tag.strip() for tag in value):
            raise self.fail("tags", 'expected a list of non-empty strings, such as ["lab"]')
        return tuple(dict.fromkeys(tag.strip() for tag in value))

    def path(self, key: str, config_path: Path) -> Path | None:
        value = self.text(key)
        if value is None:
            return None
        expanded = Path(os.path.expandvars(os.path.expanduser(value)))
        return expanded if expanded.is_absolute() else config_path.parent / expanded


def _bare_host(host: str) -> bool:
    if "://" in host:
        return False
    if host.startswith("["):
        return host.endswith("]")
    return ":" not in host or host.count(":") > 1


def _host_with_port(host: str, port: int | None) -> str:
    if port is None or not _bare_host(host):
        return host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # a bare IPv6 address
    return f"{host}:{port}"


def resolve_password(cluster: ClusterConfig) -> str:
    """The cluster's password from its one source; errors name the source, never a secret."""
    if cluster.password_env:
        secret = os.environ.get(cluster.password_env)
        if not secret:
            raise ConfigError(f"{cluster.where('password_env')}: the environment variable "
                              f"{cluster.password_env} is not set or empty")
        return secret
    if cluster.password_file:
        return read_password_file(cluster.password_file, cluster.where("password_file"))
    if cluster.keyring:
        return _keyring_password(cluster)
    raise ConfigError(f"{cluster.where()}: no password source")


def _keyring_password(cluster: ClusterConfig) -> str:
    try:
        import keyring  # lazily: an optional dependency only keyring = true needs
        import keyring.errors
    except ImportError as exc:
        raise ConfigError(f"{cluster.where('keyring')}: keyring = true needs the 'keyring' package "
                          "(pip install keyring)") from exc
    try:
        secret = keyring.get_password(KEYRING_SERVICE, cluster.username)
    except keyring.errors.KeyringError as exc:
        raise ConfigError(f"{cluster.where('keyring')}: the system keyring failed: {exc}") from exc
    if not secret:
        raise ConfigError(f"{cluster.where('keyring')}: the keyring holds no password for service "
                          f"{KEYRING_SERVICE!r}, user {cluster.username!r} "
                          f"(keyring set {KEYRING_SERVICE} {cluster.username})")
    return secret


def credentials_for(cluster: ClusterConfig) -> Credentials:
    """User and password of a configured cluster; never prompts, so it is safe under cron."""
    return Credentials(cluster.username, resolve_password(cluster))


def target_for(cluster: ClusterConfig) -> tuple[str, bool | str]:
    """The host string for ``Endpoint.parse`` (port folded in) and the ``verify`` value for TLS."""
    if cluster.insecure:
        return _host_with_port(cluster.host, cluster.port), False
    if cluster.ca_bundle is not None:
        if not cluster.ca_bundle.is_file():
            raise ConfigError(f"{cluster.where('ca_bundle')}: {cluster.ca_bundle}: no such file")
        return _host_with_port(cluster.host, cluster.port), str(cluster.ca_bundle)
    return _host_with_port(cluster.host, cluster.port), True

