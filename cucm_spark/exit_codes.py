"""The exit codes, and which error earns which: one table for every command."""

from __future__ import annotations

from cucm_spark import errors
from cucm_spark.lab.runner import LabSetupError
from cucm_spark.lab.server import LabStartError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_CLUSTER, EXIT_PARTIAL = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report a process ended by SIGINT

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
