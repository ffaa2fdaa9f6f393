"""Logging for people and for cron: -v, --quiet, and --log-file with rotation."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from cucm_spark.errors import ConfigError

LOG_FILE_BYTES = 1024 * 1024
LOG_FILE_BACKUPS = 5


def configure_logging(verbose: bool = False, quiet: bool = False, log_file: Path | None = None) -> None:
    """stderr gets warnings (info with -v, errors only with --quiet); a log file gets info, rotated."""
    logger = logging.getLogger("cucm_spark")
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING)
    logger.setLevel(logging.INFO if verbose or log_file else logging.WARNING)
    if log_file is None:
        return
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        raise ConfigError(f"cannot open --log-file {log_file}: {exc.strerror}") from exc
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    logger.addHandler(handler)
