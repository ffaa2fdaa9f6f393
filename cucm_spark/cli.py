"""The `cucm-spark` command: parse, call, render; the only place that knows exit codes."""

from __future__ import annotations

import logging
import sys

import typer

from cucm_spark import errors
from cucm_spark.cli_audit import audit
from cucm_spark.cli_lab import lab_app
from cucm_spark.lab.runner import LabSetupError
from cucm_spark.lab.server import LabStartError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_CLUSTER, EXIT_PARTIAL = 0, 1, 2, 3, 4

app = typer.Typer(
    help="Audit CUCM clusters for Hybrid Call CTI Remote Devices and migrate them to Spark-RDs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(audit)
app.add_typer(lab_app, name="lab")

# Most specific first: the first class that matches decides the exit code.
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (errors.ConfigError, EXIT_USAGE),
    (errors.PlanError, EXIT_USAGE),
    (errors.JournalError, EXIT_USAGE),
    (LabSetupError, EXIT_USAGE),
    (LabStartError, EXIT_USAGE),
    (errors.AxlError, EXIT_CLUSTER),
    (errors.ExecutionError, EXIT_PARTIAL),
)


def exit_code_for(error: BaseException) -> int | None:
    return next((code for kind, code in EXIT_CODES if isinstance(error, kind)), None)


def main() -> None:
    """Entry point: run the app, turning every expected error into one line and its exit code.

    Usage errors (exit 2) and ``typer.Exit`` codes are handled by typer itself.
    """
    logging.basicConfig(level=logging.WARNING, format="cucm-spark: %(levelname)s: %(message)s")
    try:
        app()
    except Exception as error:
        code = exit_code_for(error)
        if code is None:
            raise
        typer.echo(f"cucm-spark: error: {error}", err=True)
        sys.exit(code)
