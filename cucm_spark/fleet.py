"""Audit many clusters from the config file at once, each isolated from the others' failures."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from cucm_spark.audit import Audit, AuditRules, run_audit
from cucm_spark.classify import CloudDomains
from cucm_spark.config import ClusterConfig, credentials_for, target_for
from cucm_spark.connect import ClusterTarget, open_cluster
from cucm_spark.errors import CucmSparkError
from cucm_spark.inventory.collect import collect_inventory


@dataclass(frozen=True)
class AuditOptions:
    """What every cluster of a run shares: the rules and how to read."""

    rules: AuditRules
    domains: CloudDomains
    use_sql: bool = True
    timeout: float = 30.0
    wsdl: Path | None = None


@dataclass(frozen=True)
class ClusterOutcome:
    """One cluster's result: its audit, or the error that stopped it."""

    name: str
    audit: Audit | None = None
    error: CucmSparkError | None = None


def audit_cluster(cluster: ClusterConfig, options: AuditOptions) -> Audit:
    """Audit one configured cluster with its own credentials, TLS trust and licence settings."""
    host, _verify = target_for(cluster)
    target = ClusterTarget(
        host=host, wsdl=options.wsdl, axl_version=cluster.axl_version, ca_bundle=cluster.ca_bundle,
        insecure=cluster.insecure, timeout=options.timeout,
    )
    rules = replace(options.rules, naming=cluster.licensing, spark_seats=cluster.spark_seats)
    with open_cluster(target, credentials_for(cluster)) as client:
        inventory, source = collect_inventory(client, options.domains, use_sql=options.use_sql)
    return run_audit(inventory, rules, cluster.name, source)


def audit_fleet(clusters: list[ClusterConfig], options: AuditOptions, workers: int = 4) -> list[ClusterOutcome]:
    """Audit every cluster, a few at a time; a cluster that fails does not stop the others."""

    def one(cluster: ClusterConfig) -> ClusterOutcome:
        try:
            return ClusterOutcome(cluster.name, audit=audit_cluster(cluster, options))
        except CucmSparkError as error:
            return ClusterOutcome(cluster.name, error=error)

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(clusters)))) as pool:
        return list(pool.map(one, clusters))
