"""The product's rule data (release table, device categories, cloud domains) and its loader."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from cucm_spark.errors import ConfigError


def load_json(bundled: str, path: Path | None, what: str) -> object:
    """A user's JSON file when given, else the bundled one; any failure is one ConfigError line."""
    try:
        if path is None:
            text = resources.files("cucm_spark.data").joinpath(bundled).read_text("utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        return json.loads(text)
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} {path} is not UTF-8 text (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} {path or bundled} is not JSON: {exc.msg} at line {exc.lineno}") from exc
    except RecursionError as exc:  # arrays or objects nested thousands deep
        raise ConfigError(f"{what} {path or bundled} nests too deep to be a rule file") from exc
