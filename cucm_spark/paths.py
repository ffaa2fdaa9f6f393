"""Where cucm-spark keeps its state (negotiated versions, journals, history) and config."""

from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    """$CUCM_SPARK_STATE_DIR, else $XDG_STATE_HOME/cucm-spark, else ~/.local/state/cucm-spark."""
    explicit = os.environ.get("CUCM_SPARK_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "cucm-spark"
