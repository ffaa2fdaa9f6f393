"""`cucm-spark lab serve`: run the lab cluster until interrupted."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Annotated

import typer

from cucm_spark.lab.faults import FaultRule, FaultRuleError
from cucm_spark.lab.runner import LabSpec, build_lab
from cucm_spark.lab.server import DEFAULT_PASSWORD, DEFAULT_USERNAME, LabSettings

lab_app = typer.Typer(help="The lab cluster: a local server that speaks AXL like CUCM.", no_args_is_help=True)

PASSWORD_ENV = "CUCM_SPARK_LAB_PASSWORD"


@lab_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 8443,
    tls: Annotated[bool, typer.Option("--tls", help="HTTPS with a generated self-signed certificate.")] = False,
    cert_dir: Annotated[Path | None, typer.Option(help="Where --tls writes cert.pem and key.pem.")] = None,
    cucm_version: Annotated[str | None, typer.Option(help="Release to report, e.g. 11.5.1.13900-52.")] = None,
    dataset: Annotated[Path | None, typer.Option(help="Dataset file (fixtures/README.md).")] = None,
    generate: Annotated[str | None, typer.Option(help="Generate a cluster: users=N[,seed=S].")] = None,
    state: Annotated[Path | None, typer.Option(help="Keep the cluster in this SQLite file.")] = None,
    username: Annotated[str, typer.Option(help=f"AXL user; password from ${PASSWORD_ENV}.")] = DEFAULT_USERNAME,
    write_rate: Annotated[float | None, typer.Option(help="Writes per second before HTTP 503.")] = None,
    sql_concurrency: Annotated[int, typer.Option(help="Concurrent executeSQLQuery calls allowed.")] = 2,
    answer_limit: Annotated[int, typer.Option(help="Largest list/SQL answer in bytes.")] = 8 * 1024 * 1024,
    fault: Annotated[list[str] | None, typer.Option(
        help="Inject faults: KIND[:RATE][:OPS][:ms=N], KIND one of latency, http503, drop, drop_after_write."
    )] = None,
    seed: Annotated[int, typer.Option(help="Seed for fault injection.")] = 0,
) -> None:
    """Serve AXL at /axl/ until interrupted (Ctrl-C)."""
    password = os.environ.get(PASSWORD_ENV) or DEFAULT_PASSWORD
    try:
        rules = [FaultRule.parse(spec) for spec in fault or []]
    except FaultRuleError as exc:
        raise typer.BadParameter(str(exc), param_hint="--fault") from exc
    settings = LabSettings(
        username=username, password=password, answer_limit=answer_limit, write_rate=write_rate,
        sql_concurrency=sql_concurrency, faults=rules, seed=seed,
    )
    spec = LabSpec(cucm_version=cucm_version, dataset=dataset, generate=generate, state=state,
                   host=host, port=port, tls=tls, cert_dir=cert_dir)
    server = build_lab(spec, settings)
    typer.echo(f"AXL at {server.url} (CUCM {server.context.release}, user {username})", err=True)
    if server.scheme == "https":
        typer.echo(f"certificate: {server.certificate_path}", err=True)
    typer.echo(server.url)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt
