"""`cucm-spark migrate`, `rollback` and `runs`: plan, show or carry out a migration, and list the journal's runs.

The migration modules are imported inside the commands, so `cucm-spark audit` and the
lab start without loading them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer

from cucm_spark.classify import CloudDomains
from cucm_spark.cli_audit import (
    AxlVersion,
    CaBundle,
    Host,
    Insecure,
    Lab,
    PasswordFile,
    Timeout,
    Username,
    Verbose,
    Wsdl,
    write_output,
)
from cucm_spark.connect import ClusterTarget, open_cluster
from cucm_spark.errors import ConfigError, ExecutionError, JournalError, PlanError
from cucm_spark.paths import state_dir
from cucm_spark.releases import ReleaseTable, parse_release

if TYPE_CHECKING:
    from cucm_spark.axl.client import AxlClient
    from cucm_spark.migrate.executor import Executor, Report, RunResult, Watcher
    from cucm_spark.migrate.journal import RunSummary
    from cucm_spark.migrate.naming import NameTemplate
    from cucm_spark.migrate.pacing import Pacer
    from cucm_spark.migrate.plan import Plan

EXIT_REFUSED, EXIT_USAGE = 1, 2


class Format(str, Enum):
    table = "table"
    json = "json"


Users = Annotated[str | None, typer.Option(help="Only these users: a comma-separated list of userids.")]
Limit = Annotated[int | None, typer.Option(min=1, help="At most this many users (in userid order).")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
OutputFormatOption = Annotated[Format, typer.Option("--format", help="Output format.")]
# Ten at most: the client's connection pool holds ten, and CUCM serves AXL from a few threads anyway.
Workers = Annotated[int, typer.Option(min=1, max=10, help="Users handled at once, each user's steps in order.")]
MaxWriteRate = Annotated[float | None, typer.Option(
    min=0.1, help="Never more writes per second than this (the pace otherwise follows what the cluster accepts).")]


def _target(host: str | None, lab: bool, username: str | None, password_file: Path | None, wsdl: Path | None,
            axl_version: str | None, ca_bundle: Path | None, insecure: bool, timeout: float) -> ClusterTarget:
    return ClusterTarget(host=host, lab=lab, username=username, password_file=password_file, wsdl=wsdl,
                         axl_version=axl_version, ca_bundle=ca_bundle, insecure=insecure, timeout=timeout)


def _label(client: AxlClient, lab: bool) -> str:
    """The cluster as plans and journals name it: its AXL URL without any user:password@."""
    if lab:
        return "embedded lab"
    parts = urlsplit(client.endpoint.url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def _cluster_option(host: str | None, lab: bool) -> str:
    return "--lab" if lab else f"--host {host}"


def _users(users: str | None) -> set[str] | None:
    if users is None:
        return None
    chosen = {item.strip() for item in users.split(",") if item.strip()}
    if not chosen:
        raise ConfigError("--users: name at least one userid")
    return chosen


def _cluster_lock_path(label: str) -> Path:
    digest = hashlib.sha256(label.encode()).hexdigest()[:12]
    return state_dir() / "locks" / f"migrate-{digest}.lock"


@contextmanager
def _cluster_lock(label: str) -> Iterator[None]:
    """One migration or rollback per cluster at a time, across processes (an flock the kernel drops on exit)."""
    from cucm_spark.lock import RunLocked, run_lock

    try:
        with run_lock(_cluster_lock_path(label)):
            yield
    except RunLocked as exc:
        raise JournalError(f"another migration or rollback on {label} is running (pid {exc.pid or 'unknown'})") from exc


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        typer.echo("cucm-spark: error: refusing to change the cluster without confirmation: "
                   "no terminal to ask on; pass --yes", err=True)
        raise typer.Exit(EXIT_USAGE)
    if not typer.confirm(question, default=False, err=True):
        typer.echo("Nothing changed.", err=True)
        raise typer.Exit(EXIT_REFUSED)


def make_plan(client: AxlClient, label: str, releases: ReleaseTable, template: NameTemplate, domains: CloudDomains,
              users: set[str] | None, limit: int | None, use_sql: bool) -> Plan:
    """Read the inventory and the settings of the CTI-RDs to migrate (reads only), then plan."""
    from cucm_spark.inventory.collect import collect_inventory
    from cucm_spark.licensing.categories import CategoryMap
    from cucm_spark.licensing.migration_effect import is_migratable
    from cucm_spark.migrate.live import read_settings
    from cucm_spark.migrate.planner import plan_migration

    inventory, _source = collect_inventory(client, domains, use_sql=use_sql)
    release = parse_release(inventory.version)
    owners = sorted({d.owner for d in inventory.devices if is_migratable(d) and d.owner}, key=str.lower)
    if users is not None:
        wanted = {userid.lower() for userid in users}
        owners = [owner for owner in owners if owner.lower() in wanted]
    owners = owners[:limit] if limit is not None else owners
    chosen = {owner.lower() for owner in owners}
    names = [d.name for d in inventory.devices if is_migratable(d) and (d.owner or "").lower() in chosen]
    settings = read_settings(client, names) if releases.supports_spark_rd(release) else {}
    return plan_migration(inventory, release, releases, template, users, limit, settings=settings,
                          categories=CategoryMap.load(), cluster=label)


def migrate(
    host: Host = None,
    lab: Lab = False,
    username: Username = None,
    password_file: PasswordFile = None,
    wsdl: Wsdl = None,
    axl_version: AxlVersion = None,
    ca_bundle: CaBundle = None,
    insecure: Insecure = False,
    timeout: Timeout = 30.0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; send no write.")] = False,
    plan: Annotated[Path | None, typer.Option("--plan", help="Carry out this saved plan instead of planning.")] = None,
    plan_out: Annotated[Path | None, typer.Option(help="Save the plan (JSON) to this file.")] = None,
    users: Users = None,
    limit: Limit = None,
    yes: Yes = False,
    resume: Annotated[str | None, typer.Option(help="Finish an interrupted or partly failed run.")] = None,
    output_format: OutputFormatOption = Format.table,
    name_template: Annotated[str, typer.Option(help="Spark-RD name template.")] = "SPARK{userid}",
    name_max_length: Annotated[int, typer.Option(help="Longest device name CUCM accepts.")] = 15,
    name_chars: Annotated[str, typer.Option(help="Device-name characters (a regex class).")] = "A-Za-z0-9._-",
    releases: Annotated[Path | None, typer.Option(help="JSON table of Spark-RD minimum releases.")] = None,
    cloud_domains: Annotated[Path | None, typer.Option(help="JSON list of cloud call domains.")] = None,
    no_sql: Annotated[bool, typer.Option("--no-sql", help="Read with list/get calls, not executeSQLQuery.")] = False,
    workers: Workers = 4,
    max_write_rate: MaxWriteRate = None,
    verbose: Verbose = False,
) -> None:
    """Migrate Hybrid Call users from CTI-RDs to Spark-RDs (plan with --dry-run first)."""
    from cucm_spark.migrate.naming import NameTemplate
    from cucm_spark.migrate.plan import Plan

    if verbose:
        logging.getLogger("cucm_spark").setLevel(logging.INFO)
    chosen = _users(users)
    if chosen is not None and limit is not None:
        raise ConfigError("choose --users or --limit, not both")
    if resume and (plan or dry_run or chosen is not None or limit is not None):
        raise ConfigError("--resume carries on a recorded run: drop --plan, --dry-run, --users and --limit")
    if not dry_run:
        _confirm_possible(yes)
    table = ReleaseTable.load(releases)
    template = NameTemplate(name_template, name_max_length, name_chars)
    target = _target(host, lab, username, password_file, wsdl, axl_version, ca_bundle, insecure, timeout)
    with open_cluster(target) as client:
        label = _label(client, lab)
        pacing = Pacing(workers, max_write_rate)
        if resume:
            _execute(client, label, table, None, resume, yes, output_format, _cluster_option(host, lab), pacing)
            return
        if plan is not None:
            the_plan = Plan.load(plan)
            _require_same_cluster(the_plan, label, str(plan))
            if chosen is not None:
                the_plan = the_plan.only(chosen)
            if limit is not None:
                the_plan = replace(the_plan, users=the_plan.users[:limit])
        else:
            the_plan = make_plan(client, label, table, template, CloudDomains.load(cloud_domains), chosen, limit,
                                 use_sql=not no_sql)
        _warn_unplanned(the_plan, chosen)
        if plan_out is not None:
            write_output(the_plan.to_json(), plan_out)
        if dry_run:
            _show(the_plan, output_format)
            return
        _execute(client, label, table, the_plan, None, yes, output_format, _cluster_option(host, lab), pacing)


def _require_same_cluster(plan: Plan, label: str, source: str,
                          advice: str = "plan again against it with --dry-run --plan-out FILE") -> None:
    """Refuse a plan made on another cluster: its steps name that cluster's devices and users.

    Each user's fingerprint would still be checked before a write, but two clusters built
    alike (a lab and production, two sites from one template) give the same fingerprints.
    """
    if plan.cluster != label:
        raise PlanError(f"{source} was made on {plan.cluster}, not on {label}: {advice}")


def _warn_unplanned(plan: Plan, chosen: set[str] | None) -> None:
    """Name the --users that the plan has nothing for, so a typo does not pass unseen."""
    known = {user.userid.lower() for user in plan.users} | {s.userid.lower() for s in plan.skipped if s.userid}
    for userid in sorted(chosen or (), key=str.lower):
        if userid.lower() not in known:
            typer.echo(f"cucm-spark: warning: {userid} has no Hybrid Call CTI-RD in the plan", err=True)


def _confirm_possible(yes: bool) -> None:
    """Fail before any reading when a confirmation will be needed and cannot be asked."""
    if not yes and not sys.stdin.isatty():
        _confirm("", yes)


def _show(plan: Plan, output_format: Format) -> None:
    """The dry run: the summary, then each user's steps through the dry sink of the one executor."""
    from cucm_spark.migrate.executor import DrySink, Executor
    from cucm_spark.migrate.render import plan_summary

    if output_format is Format.json:
        sys.stdout.write(plan.to_json())
        return
    sys.stdout.write(plan_summary(plan))
    if plan.users:
        sys.stdout.write("\nSteps (dry run: nothing is sent):\n")
        Executor(DrySink(lambda line: sys.stdout.write(line + "\n"))).run(plan)


@dataclass(frozen=True)
class Pacing:
    """How a run paces itself: users at once, and an optional ceiling on writes per second."""

    workers: int = 4
    max_write_rate: float | None = None

    def run(self, title: str, users: int, executor_for: Callable[[Pacer, Watcher | None, Report], Executor],
            action: Callable[[Executor], RunResult]) -> RunResult:
        """``action`` on a fresh executor, under the progress display; then a line on how the writes went."""
        from cucm_spark.migrate.pacing import Pacer
        from cucm_spark.migrate.progress import pacing_summary, run_progress

        pacer = Pacer.capped(self.max_write_rate)
        started = time.monotonic()
        with run_progress(title, users, self.workers, pacer, _to_stderr) as (watcher, report):
            result = action(executor_for(pacer, watcher, report))
        _to_stderr(pacing_summary(pacer, time.monotonic() - started, self.workers))
        return result


def _done_with_interrupts(result: RunResult) -> RunResult:
    """Every user is through: from here on Ctrl-C is ignored, and the run's end is recorded and shown.

    What is left is to journal the run's end and report it. A Ctrl-C in that moment would
    leave a finished run recorded as running and unreported (typer exits 130), or, once
    the interpreter shuts down, print a traceback or end the process by the signal.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return result


def _to_stderr(line: str) -> None:
    typer.echo(line, err=True)


def _execute(client: AxlClient, label: str, table: ReleaseTable, plan: Plan | None, resume: str | None, yes: bool,
             output_format: Format, cluster_option: str, pacing: Pacing) -> None:
    from cucm_spark.migrate.executor import Executor, Interrupted
    from cucm_spark.migrate.journal import Journal, RunState
    from cucm_spark.migrate.live import LiveSink
    from cucm_spark.migrate.planner import unsupported_reason
    from cucm_spark.migrate.render import plan_summary, run_json, run_text

    release = parse_release(client.ccm_version())
    if not table.supports_spark_rd(release):
        typer.echo(f"cucm-spark: refusing to migrate: {unsupported_reason(release, table)}", err=True)
        raise typer.Exit(EXIT_REFUSED)
    with _cluster_lock(label), Journal() as journal:
        if resume:
            plan = journal.plan(resume)
            _require_same_cluster(plan, label, f"run {resume}", "name the cluster it ran on")
            run_id = resume
            question = f"Resume run {run_id} on {label}?"
        else:
            assert plan is not None
            run_id = None
            question = f"Migrate {len(plan.users)} user(s) on {label}?"
        if not plan.users:
            sys.stdout.write(plan_summary(plan) + "\nNothing to migrate.\n")
            return
        if not resume:
            sys.stderr.write(plan_summary(plan))
        _confirm(question, yes)
        if run_id is None:
            run_id = journal.start_run(plan, label)
        else:
            journal.reopen_run(run_id)
        typer.echo(f"Run {run_id} (journal {journal.path})", err=True)
        try:
            result = pacing.run(f"Migrating {len(plan.users)} user(s)", len(plan.users), lambda pacer, watcher, report:
                                Executor(LiveSink(client, pacer), journal, run_id, report, pacing.workers, watcher),
                                lambda executor: _done_with_interrupts(executor.run(plan)))
        except (KeyboardInterrupt, Interrupted):
            raise ExecutionError(f"interrupted after the steps in flight; finish with: "
                                 f"cucm-spark migrate --resume {run_id} {cluster_option}") from None
        journal.finish_run(run_id, RunState.PARTIAL if result.failed else RunState.DONE)
    sys.stdout.write(run_json(plan, result) if output_format is Format.json else run_text(plan, result))
    if result.failed:
        raise ExecutionError(f"some users failed; finish with: cucm-spark migrate --resume {run_id} {cluster_option}")


def runs(output_format: OutputFormatOption = Format.table) -> None:
    """List the migration runs in the journal and their state."""
    from cucm_spark.migrate.journal import Journal
    from cucm_spark.migrate.render import runs_json, runs_text

    with Journal() as journal:
        found = [_with_liveness(run) for run in journal.runs()]
    sys.stdout.write(runs_json(found) if output_format is Format.json else runs_text(found))


def _with_liveness(run: RunSummary) -> RunSummary:
    """A run recorded as running whose process is gone reads as interrupted (resume it)."""
    from cucm_spark.lock import holder_pid
    from cucm_spark.migrate.journal import RunState

    if run.state is not RunState.RUNNING:
        return run
    pid = holder_pid(_cluster_lock_path(run.cluster))
    if pid is not None and _process_alive(pid):
        return run
    return replace(run, interrupted=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def rollback(
    run: Annotated[str, typer.Argument(help="The run to undo (see `cucm-spark runs`).")],
    host: Host = None,
    lab: Lab = False,
    username: Username = None,
    password_file: PasswordFile = None,
    wsdl: Wsdl = None,
    axl_version: AxlVersion = None,
    ca_bundle: CaBundle = None,
    insecure: Insecure = False,
    timeout: Timeout = 30.0,
    users: Users = None,
    yes: Yes = False,
    output_format: OutputFormatOption = Format.table,
    workers: Workers = 4,
    max_write_rate: MaxWriteRate = None,
) -> None:
    """Restore a run's users to their CTI-RDs exactly: re-create each from its before-image, re-point, remove."""
    from cucm_spark.migrate.executor import Executor, Interrupted, UserStatus
    from cucm_spark.migrate.journal import Journal, RunState, UserState
    from cucm_spark.migrate.live import LiveSink

    chosen = _users(users)
    _confirm_possible(yes)
    with Journal() as journal:
        plan = journal.plan(run)
        if chosen is not None:
            plan = plan.only(chosen)
        target = _target(host, lab, username, password_file, wsdl, axl_version, ca_bundle, insecure, timeout)
        with open_cluster(target) as client, _cluster_lock(_label(client, lab)):
            _require_same_cluster(plan, _label(client, lab), f"run {run}", "name the cluster it ran on")
            _confirm(f"Roll back {len(plan.users)} user(s) of run {run} on {_label(client, lab)}?", yes)
            pacing = Pacing(workers, max_write_rate)
            try:
                result = pacing.run(f"Rolling back {len(plan.users)} user(s)", len(plan.users),
                                    lambda pacer, watcher, report: Executor(LiveSink(client, pacer), journal, run,
                                                                            report, pacing.workers, watcher),
                                    lambda executor: _done_with_interrupts(executor.rollback(plan)))
            except (KeyboardInterrupt, Interrupted):
                raise ExecutionError(f"interrupted after the steps in flight; run it again: cucm-spark rollback {run} "
                                     f"{_cluster_option(host, lab)}") from None
        whole = journal.plan(run)
        records = [journal.user(run, user.userid) for user in whole.users]
        if all(r is None or r.state in (UserState.ROLLED_BACK, UserState.SKIPPED) for r in records):
            journal.finish_run(run, RunState.ROLLED_BACK)
    counts = {status: len(result.users(status)) for status in (UserStatus.ROLLED_BACK, UserStatus.SKIPPED,
                                                                 UserStatus.FAILED)}
    if output_format is Format.json:
        sys.stdout.write(json.dumps({"run": run, **{s.value: [o.userid for o in result.users(s)] for s in counts}},
                                    indent=2) + "\n")
    else:
        sys.stdout.write(f"Rollback of run {run}: rolled back {counts[UserStatus.ROLLED_BACK]}, nothing to undo "
                         f"{counts[UserStatus.SKIPPED]}, failed {counts[UserStatus.FAILED]}\n")
        for outcome in result.users(UserStatus.FAILED):
            sys.stdout.write(f"  failed   {outcome.userid}: {outcome.reason}\n")
    if result.failed:
        raise ExecutionError(f"some users were not rolled back; run it again: cucm-spark rollback {run} "
                             f"{_cluster_option(host, lab)}")
