"""Logging for people and for cron: -v, --quiet, and --log-file with rotation."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from cucm_spark.errors import ConfigError
from cucm_spark.paths import private_dir, private_opener

LOG_FILE_BYTES = 1024 * 1024
LOG_FILE_BACKUPS = 5


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Rotation that creates each new log file 0600: a log names clusters, users and devices."""

    def _open(self):  # noqa: ANN202 - the base class's hook, called on first use and after each rollover
        return open(self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors, opener=private_opener)


def configure_logging(verbose: bool = False, quiet: bool = False, log_file: Path | None = None) -> None:
    """stderr gets warnings (info with -v, errors only with --quiet); a log file gets info, rotated."""
    logger = logging.getLogger("cucm_spark")
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING)
    logger.setLevel(logging.INFO if verbose or log_file else logging.WARNING)
    if log_file is None:
        return
    try:
        private_dir(log_file.parent)
        handler = PrivateRotatingFileHandler(
            log_file, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        raise ConfigError(f"cannot open --log-file {log_file}: {exc.strerror}") from exc
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    logger.addHandler(handler)
