"""The `cucm-spark` command: parse, call, render; the only place that knows exit codes."""

from __future__ import annotations

import logging
import signal
import sys

import typer

from cucm_spark.cli_audit import audit
from cucm_spark.cli_fleet import clusters, history, report
from cucm_spark.cli_lab import lab_app
from cucm_spark.cli_migrate import migrate, rollback, runs
from cucm_spark.exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, exit_code_for

app = typer.Typer(
    help="Audit CUCM clusters for Hybrid Call CTI Remote Devices and migrate them to Spark-RDs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(audit)
app.add_typer(lab_app, name="lab")
app.command()(migrate)
app.command()(rollback)
app.command()(runs)
app.command()(clusters)
app.command()(history)
app.command()(report)

class _StderrFormatter(logging.Formatter):
    """'cucm-spark: error: …', 'cucm-spark: warning: …': logged lines read like every other line on stderr.

    A cluster that fails in `audit --all` is logged (the log file must have it too), and
    must still read as the one-line error the README promises.
    """

    def format(self, record: logging.LogRecord) -> str:
        return f"cucm-spark: {record.levelname.lower()}: {super().format(record)}"


def main() -> None:
    """Entry point: run the app, turning every expected error into one line and its exit code.

    typer runs in non-standalone mode so that its usage errors (exit 2) come here too and
    read as one line like every other error, instead of a multi-line box.
    """
    stderr = logging.StreamHandler()
    stderr.setFormatter(_StderrFormatter())
    logging.basicConfig(level=logging.WARNING, handlers=[stderr])
    try:
        outcome = app(standalone_mode=False)
    except typer.TyperException as error:  # click's usage errors: unknown option, bad value, missing value
        sys.exit(_usage_error(error))
    except typer.Abort:  # end of input at a prompt
        typer.echo("cucm-spark: error: aborted (no input)", err=True)
        sys.exit(EXIT_USAGE)
    except Exception as error:
        code = exit_code_for(error)
        if code is None:
            raise
        typer.echo(f"cucm-spark: error: {error}", err=True)
        _detail(error)
        sys.exit(code)
    finally:
        # Whatever happens now is the way out; a Ctrl-C during it would only add a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if outcome == EXIT_INTERRUPTED:  # typer turns Ctrl-C into this code, silently
        typer.echo("cucm-spark: interrupted", err=True)
    sys.exit(outcome if isinstance(outcome, int) else EXIT_OK)


def _detail(error: BaseException) -> None:
    """With -v, what lay under the error: each cause's type and message (no secrets live there)."""
    log = logging.getLogger("cucm_spark")
    if not log.isEnabledFor(logging.INFO):
        return
    cause = _under(error)
    while cause is not None:
        log.info("caused by %s: %s", type(cause).__name__, " ".join(str(cause).split()))
        cause = _under(cause)


def _under(error: BaseException) -> BaseException | None:
    """What an error was raised from or while handling; nothing when it was raised ``from None`` to hide it."""
    return error.__cause__ or (None if error.__suppress_context__ else error.__context__)


def _usage_error(error: typer.TyperException) -> int:
    """Print a usage error as one line with a pointer to --help; return its exit code."""
    code = getattr(error, "exit_code", EXIT_USAGE)
    if type(error).__name__ == "NoArgsIsHelpError":
        # typer has printed the help already (rich); plain click leaves it in the message.
        help_text = error.format_message() if hasattr(error, "format_message") else ""
        if help_text.strip():
            typer.echo(help_text, err=True)
        return code
    message = error.format_message() if hasattr(error, "format_message") else str(error)
    ctx = getattr(error, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    typer.echo(f"cucm-spark: error: {' '.join(message.split())}{hint}", err=True)
    return code
