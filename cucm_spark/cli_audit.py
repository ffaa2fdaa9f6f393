"""`cucm-spark audit`: read a cluster, judge its licences, render the result."""

from __future__ import annotations

import re
import sys
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from cucm_spark.audit import Audit, AuditRules, run_audit
from cucm_spark.classify import CloudDomains
from cucm_spark.cli_fleet import ConfigFile, fleet_audit, record, write_run_files
from cucm_spark.connect import ClusterTarget, open_cluster
from cucm_spark.errors import ConfigError
from cucm_spark.fleet import AuditOptions
from cucm_spark.history import History
from cucm_spark.inventory.collect import collect_inventory
from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.licensing.tiers import Naming
from cucm_spark.logs import configure_logging
from cucm_spark.paths import write_private
from cucm_spark.progress import progress_reporter
from cucm_spark.releases import ReleaseTable
from cucm_spark.report.formats import CsvFormat, JsonFormat
from cucm_spark.report.glo import GloRequest
from cucm_spark.report.table import TableFormat


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class FailOn(str, Enum):
    deficiency = "deficiency"
    cti_rd = "cti-rd"


EXIT_FINDINGS = 1

Host = Annotated[str | None, typer.Option(
    help="Cluster: HOST, HOST:PORT (HTTPS, 8443 by default) or a URL such as http://127.0.0.1:8080/axl/.")]
Lab = Annotated[bool, typer.Option("--lab", help="Use the embedded lab cluster instead of --host.")]
Username = Annotated[str | None, typer.Option(help="AXL user (or $CUCM_SPARK_USERNAME).")]
PasswordFile = Annotated[Path | None, typer.Option(
    help="File holding the AXL password (else $CUCM_SPARK_PASSWORD, else a prompt on a terminal).")]
Wsdl = Annotated[Path | None, typer.Option(help="An official AXL WSDL to use instead of the bundled one.")]
AxlVersion = Annotated[str | None, typer.Option(help="Pin the AXL schema version (no negotiation).")]
CaBundle = Annotated[Path | None, typer.Option(help="CA bundle that signed the cluster's certificate.")]
Insecure = Annotated[bool, typer.Option("--insecure", help="Do not verify TLS certificates (not advised).")]
Timeout = Annotated[float, typer.Option(help="Seconds to wait for each AXL answer.")]
Verbose = Annotated[bool, typer.Option("-v", "--verbose", help="Show detail on stderr (never secrets).")]


def audit(
    host: Host = None,
    lab: Lab = False,
    username: Username = None,
    password_file: PasswordFile = None,
    wsdl: Wsdl = None,
    axl_version: AxlVersion = None,
    ca_bundle: CaBundle = None,
    insecure: Insecure = False,
    timeout: Timeout = 30.0,
    no_sql: Annotated[bool, typer.Option("--no-sql", help="Read with list/get calls, not executeSQLQuery.")] = False,
    output_format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.table,
    output: Annotated[Path | None, typer.Option(help="Write the report here instead of stdout.")] = None,
    licensing: Annotated[Naming, typer.Option(help="Licence naming: ucl or hcs.")] = Naming.UCL,
    spark_seats: Annotated[int | None, typer.Option(
        min=0, help="Spark Message/Meet seats on the Web Order: caps the temporary licence request.")] = None,
    glo_request: Annotated[Path | None, typer.Option(help="Write the request to Cisco GLO to this file.")] = None,
    web_order_id: Annotated[str | None, typer.Option(help="Web Order ID for the GLO request.")] = None,
    fail_on: Annotated[list[FailOn] | None, typer.Option(
        help="Exit 1 when the audit finds this: deficiency or cti-rd.")] = None,
    categories: Annotated[Path | None, typer.Option(help="JSON map of device model to licence category.")] = None,
    releases: Annotated[Path | None, typer.Option(help="JSON table of Spark-RD minimum releases.")] = None,
    cloud_domains: Annotated[Path | None, typer.Option(help="JSON list of cloud call domains.")] = None,
    cluster: Annotated[list[str] | None, typer.Option(help="Audit this cluster of the config file.")] = None,
    all_clusters: Annotated[bool, typer.Option("--all", help="Audit every cluster of the config file.")] = False,
    tag: Annotated[str | None, typer.Option(help="With --all: only the clusters with this tag.")] = None,
    config: ConfigFile = None,
    workers: Annotated[int, typer.Option(min=1, help="Clusters audited at once.")] = 4,
    show_diff: Annotated[bool, typer.Option("--diff", help="Show what changed since the previous audit.")] = False,
    output_dir: Annotated[Path | None, typer.Option(
        help="Also write DIR/CLUSTER/<timestamp>.json and DIR/CLUSTER/latest.json.")] = None,
    wait: Annotated[float, typer.Option(min=0, help="Seconds to wait for another run of the same config.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors (for cron).")] = False,
    log_file: Annotated[Path | None, typer.Option(help="Also log to this file, rotated at 1 MB.")] = None,
    verbose: Verbose = False,
) -> None:
    """Audit a cluster: release, CTI-RDs and Spark-RDs, licence tiers now and after migration."""
    configure_logging(verbose, quiet, log_file)
    rules = AuditRules(
        releases=ReleaseTable.load(releases),
        categories=CategoryMap.load(categories),
        naming=licensing,
        spark_seats=spark_seats,
    )
    domains = CloudDomains.load(cloud_domains)
    if cluster or all_clusters or tag:
        if host or lab:
            raise ConfigError("--cluster/--all audit the clusters of the config file: drop --host/--lab")
        options = AuditOptions(rules, domains, use_sql=not no_sql, timeout=timeout, wsdl=wsdl)
        worst = fleet_audit(config, cluster, all_clusters or (tag is not None and not cluster), tag, options,
                            workers=workers, show_diff=show_diff, quiet=quiet, output_dir=output_dir,
                            json_output=output_format is OutputFormat.json, wait=wait,
                            found=lambda result: findings(result, fail_on or []))
        raise typer.Exit(worst)
    target = ClusterTarget(host=host, lab=lab, username=username, password_file=password_file, wsdl=wsdl,
                           axl_version=axl_version, ca_bundle=ca_bundle, insecure=insecure, timeout=timeout)
    with open_cluster(target) as client, progress_reporter("Reading inventory") as step:
        inventory, source = collect_inventory(client, domains, use_sql=not no_sql, progress=step)
        result = run_audit(inventory, rules, "embedded lab" if lab else client.endpoint.url, source)
    renderer = {
        OutputFormat.table: TableFormat(color=output is None and sys.stdout.isatty()),
        OutputFormat.json: JsonFormat(),
        OutputFormat.csv: CsvFormat(),
    }[output_format]
    if output is not None or not quiet:
        write_output(renderer.render(result), output)
    if not lab:
        taken_at = datetime.now(timezone.utc)
        with History() as store:
            drift = record(store, result.cluster, result, taken_at, show_diff)
        if drift and not quiet:
            sys.stderr.write(drift)
        if output_dir:
            write_run_files(output_dir, _folder_name(result.cluster), result, taken_at)
    if glo_request:
        write_output(GloRequest(web_order_id).render(result), glo_request)
    if findings(result, fail_on or []):
        raise typer.Exit(EXIT_FINDINGS)


def _folder_name(url: str) -> str:
    """A cluster URL as a folder name: https://cucm-a:8443/axl/ -> cucm-a_8443."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", url.split("://", 1)[-1].split("/", 1)[0]).strip("_") or "cluster"


def findings(result: Audit, fail_on: list[FailOn]) -> bool:
    """Whether the audit found what ``--fail-on`` names.

    A deficiency is a tier raised by CTI-RDs, or an extra device licence (over 10
    devices) that only the CTI-RDs make necessary: both cost the customer licences.
    """
    deficiency = result.licensing.deficiency
    return (FailOn.deficiency in fail_on and (deficiency.users > 0 or deficiency.extra_device_licences > 0)) or (
        FailOn.cti_rd in fail_on and result.counts["cti_rd"] > 0
    )


def write_output(text: str, path: Path | None) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    try:
        write_private(path, text)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from exc
    typer.echo(f"wrote {path}", err=True)
