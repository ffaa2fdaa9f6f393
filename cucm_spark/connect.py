"""Open a cluster for a command: a real one by --host, or the embedded lab by --lab."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cucm_spark.axl.client import AxlClient, ClientOptions
from cucm_spark.axl.endpoint import Endpoint
from cucm_spark.axl.versions import VersionCache
from cucm_spark.credentials import Credentials, resolve_credentials
from cucm_spark.errors import ConfigError
from cucm_spark.lab.runner import LabSpec, build_lab
from cucm_spark.lab.server import DEFAULT_PASSWORD, DEFAULT_USERNAME
from cucm_spark.paths import state_dir

log = logging.getLogger("cucm_spark")


@dataclass(frozen=True)
class ClusterTarget:
    """Where and how to connect, as the command line gave it."""

    host: str | None = None
    lab: bool = False
    username: str | None = None
    password_file: Path | None = None
    wsdl: Path | None = None
    axl_version: str | None = None
    ca_bundle: Path | None = None
    insecure: bool = False
    timeout: float = 30.0


def _check(target: ClusterTarget) -> None:
    """Options that cannot work, found before anything is opened."""
    if target.lab and target.host:
        raise ConfigError("--host and --lab both name a cluster: choose one")
    if not target.lab and not target.host:
        raise ConfigError("name a cluster with --host HOST, or use --lab for the embedded lab")
    if not target.timeout > 0:
        raise ConfigError(f"--timeout {target.timeout:g}: must be more than 0 seconds")


def _verify(target: ClusterTarget) -> bool | str:
    if target.insecure and target.ca_bundle:
        raise ConfigError("--insecure and --ca-bundle contradict each other: choose one")
    if target.insecure:
        log.warning("TLS verification is off (--insecure): the cluster's identity is not checked")
        return False
    if target.ca_bundle:
        if not target.ca_bundle.is_file():
            raise ConfigError(f"--ca-bundle {target.ca_bundle}: no such file")
        return str(target.ca_bundle)
    return True


def _client(
    endpoint: Endpoint, credentials: Credentials, target: ClusterTarget, verify: bool | str, remember: bool
) -> AxlClient:
    if target.wsdl is not None and not target.wsdl.is_file():
        raise ConfigError(f"--wsdl {target.wsdl}: no such file")
    options = ClientOptions(
        wsdl=target.wsdl,
        version=target.axl_version,
        verify=verify,
        timeout=target.timeout,
        version_cache=VersionCache(state_dir() / "axl-versions.json" if remember else None),
    )
    return AxlClient(endpoint, credentials.username, credentials.password, options)


@contextmanager
def open_cluster(target: ClusterTarget, credentials: Credentials | None = None) -> Iterator[AxlClient]:
    """An AXL client for the target; with --lab, the lab runs for as long as the block does.

    ``credentials`` come from a config file's cluster; without them the user and password
    are resolved from the command line, the environment or a terminal prompt.
    """
    _check(target)
    if target.lab:
        server = build_lab(LabSpec(port=0)).start()
        try:
            client = _client(Endpoint.parse(server.url), Credentials(DEFAULT_USERNAME, DEFAULT_PASSWORD),
                             target, verify=True, remember=False)
            try:
                yield client
            finally:
                client.close()
        finally:
            server.stop()
        return
    verify = _verify(target)
    credentials = credentials or resolve_credentials(target.username, target.password_file)
    client = _client(Endpoint.parse(target.host or ""), credentials, target, verify, remember=True)
    try:
        yield client
    finally:
        client.close()
