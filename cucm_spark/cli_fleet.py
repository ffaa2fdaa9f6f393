"""Scheduled audits: `audit --cluster/--all`, `clusters`, `history` and `report --html`."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import typer

from cucm_spark.audit import Audit, audit_document
from cucm_spark.config import ClusterConfig, credentials_for, load_config, target_for
from cucm_spark.connect import ClusterTarget, open_cluster
from cucm_spark.errors import ConfigError, CucmSparkError
from cucm_spark.exit_codes import EXIT_CLUSTER, EXIT_FINDINGS, EXIT_OK, exit_code_for
from cucm_spark.fleet import AuditOptions, audit_fleet
from cucm_spark.history import History, HistoryRow, diff, window_warnings
from cucm_spark.lock import config_lock_path, run_lock
from cucm_spark.paths import private_dir, replace_private, write_private
from cucm_spark.report.fleet import drift_text, history_table, summary_table
from cucm_spark.report.formats import JsonFormat
from cucm_spark.report.html import ClusterReport, render_html

log = logging.getLogger("cucm_spark")

ConfigFile = Annotated[Path | None, typer.Option(
    "--config", help="Config file (else $CUCM_SPARK_CONFIG, else ~/.config/cucm-spark/config.toml).")]


def record(history: History, name: str, audit: Audit, taken_at: datetime, show_diff: bool) -> str:
    """Store one audit; warn about the 60-day window; return the drift text when asked for."""
    document = audit_document(audit)
    run_id = history.record(name, document, taken_at)
    for warning in window_warnings(history.cti_rd_first_seen(name), taken_at):
        log.warning("%s: %s", name, warning)
    if not show_diff:
        return ""
    previous = history.previous(name, run_id)
    return drift_text(name, diff(previous, document) if previous is not None else None)


def write_run_files(directory: Path, name: str, audit: Audit, taken_at: datetime) -> None:
    """DIR/NAME/<timestamp>.json and DIR/NAME/latest.json (replaced atomically), private like every audit file."""
    folder = directory / name
    text = JsonFormat().render(audit)
    try:
        private_dir(folder)
        write_private(folder / f"{taken_at.strftime('%Y%m%dT%H%M%SZ')}.json", text)
        replace_private(folder / "latest.json", text)
    except OSError as exc:
        raise ConfigError(f"cannot write to --output-dir {directory}: {exc.strerror}") from exc


def fleet_audit(
    config_path: Path | None, names: list[str] | None, all_: bool, tag: str | None, options: AuditOptions,
    *, workers: int, show_diff: bool, quiet: bool, output_dir: Path | None, json_output: bool, wait: float,
    found: Callable[[Audit], bool],
) -> int:
    """Audit the selected clusters; the exit code is the worst of theirs.

    ``found`` tells whether an audit holds what ``--fail-on`` asks about (exit 1).
    """
    config = load_config(config_path)
    clusters = config.select(names, all_, tag)
    with run_lock(config_lock_path(config.path), wait):
        outcomes = audit_fleet(clusters, options, workers)
        taken_at = datetime.now(timezone.utc)
        rows, drifts, worst = [], [], EXIT_OK
        with History() as history:
            for outcome in outcomes:
                if outcome.audit is None:
                    code = exit_code_for(outcome.error) or EXIT_CLUSTER
                    worst = max(worst, code)
                    log.error("%s: %s", outcome.name, outcome.error)
                    rows.append({"cluster": outcome.name, "status": f"failed (exit {code})",
                                 "error": str(outcome.error)})
                    continue
                drifts.append(record(history, outcome.name, outcome.audit, taken_at, show_diff))
                if output_dir:
                    write_run_files(output_dir, outcome.name, outcome.audit, taken_at)
                rows.append(_summary_row(outcome.name, outcome.audit))
                if found(outcome.audit):
                    worst = max(worst, EXIT_FINDINGS)
    if json_output:
        sys.stdout.write(json.dumps({"schema": "cucm-spark.audit-run/1", "clusters": rows}, indent=2) + "\n")
    elif not quiet:
        sys.stdout.write(summary_table(rows, color=sys.stdout.isatty()) + "".join(drifts))
    return worst


def _summary_row(name: str, audit: Audit) -> dict[str, object]:
    counts, lic = audit.counts, audit.licensing
    request = lic.temporary_request
    return {
        "cluster": name, "release": str(audit.release), "spark_rd": "yes" if audit.spark_rd_supported else "no",
        "users": counts["users"], "cti_rd": counts["cti_rd"], "cti_rd_hybrid": counts["cti_rd_hybrid"],
        "spark_rds": counts["spark_rd"], "deficiency": lic.deficiency.users,
        "temporary": f"{request.enhanced_plus}/{request.cuwl_standard}", "status": "ok",
    }


def clusters(
    config: ConfigFile = None,
    check: Annotated[bool, typer.Option("--check", help="Connect to each cluster and say what failed.")] = False,
) -> None:
    """List the clusters of the config file; with --check, test each connection."""
    loaded = load_config(config)
    worst = EXIT_OK
    for cluster in loaded.clusters.values():
        source = ("env " + cluster.password_env if cluster.password_env else
                  "file " + str(cluster.password_file) if cluster.password_file else "keyring")
        line = (f"{cluster.name}: {cluster.host}{':' + str(cluster.port) if cluster.port else ''} "
                f"user {cluster.username}, password from {source}, {cluster.licensing.value}"
                + (f", tags {', '.join(cluster.tags)}" if cluster.tags else ""))
        if check:
            code, outcome = _check(cluster)
            worst = max(worst, code)
            line += f" ... {outcome}"
        typer.echo(line)
    raise typer.Exit(worst)


def _check(cluster: ClusterConfig) -> tuple[int, str]:
    """Connect and read the release: (exit code, what happened)."""
    try:
        host, _verify = target_for(cluster)
        target = ClusterTarget(host=host, axl_version=cluster.axl_version, ca_bundle=cluster.ca_bundle,
                               insecure=cluster.insecure, timeout=15.0)
        with open_cluster(target, credentials_for(cluster)) as client:
            version = client.ccm_version()
        return EXIT_OK, f"ok ({version}, AXL {client.version})"
    except CucmSparkError as error:
        return exit_code_for(error) or EXIT_CLUSTER, f"FAILED: {error}"


def history(
    cluster: Annotated[str | None, typer.Option(help="Only this cluster.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many audits per cluster.")] = 30,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Show the trend of recorded audits: users, CTI-RDs, Spark-RDs, deficiency."""
    if output_format not in ("table", "json"):
        raise ConfigError(f"--format {output_format!r}: choose table or json")
    with History() as store:
        names = [cluster] if cluster else store.clusters()
        rows = [row for name in names for row in store.runs(name, limit)]
    if cluster and not rows:
        raise ConfigError(f"no audits recorded for cluster {cluster!r}")
    if output_format == "json":
        sys.stdout.write(json.dumps([_history_dict(row) for row in rows], indent=2) + "\n")
    else:
        sys.stdout.write(history_table(rows, color=sys.stdout.isatty()))


def _history_dict(row: HistoryRow) -> dict[str, object]:
    return {"cluster": row.cluster, "taken_at": row.taken_at.isoformat(), "users": row.users, "cti_rd": row.cti_rd,
            "cti_rd_hybrid": row.cti_rd_hybrid, "spark_rd": row.spark_rd, "deficiency_users": row.deficiency_users,
            "tiers_now": row.tiers_now, "tiers_after": row.tiers_after}


def report(
    html: Annotated[Path, typer.Option("--html", help="Write the self-contained HTML page here.")],
    cluster: Annotated[list[str] | None, typer.Option(help="Only these clusters (default: all recorded).")] = None,
) -> None:
    """One self-contained HTML page from the recorded audits: tiers, trends, deficiency, users to migrate."""
    now = datetime.now(timezone.utc)
    with History() as store:
        names = cluster or store.clusters()
        reports = []
        for name in names:
            latest = store.latest(name)
            if latest is None:
                reports.append(ClusterReport(name, None, error="no audit recorded"))
                continue
            warnings = tuple(window_warnings(store.cti_rd_first_seen(name), now))
            reports.append(ClusterReport(name, latest[1], tuple(store.runs(name, 365)), warnings))
    if not reports:
        raise ConfigError("no audits recorded yet: run cucm-spark audit first")
    try:
        write_private(html, render_html(reports, now))
    except OSError as exc:
        raise ConfigError(f"cannot write {html}: {exc.strerror}") from exc
    typer.echo(f"wrote {html}", err=True)
