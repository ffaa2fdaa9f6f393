"""AXL schema version negotiation: pick the best version a cluster accepts, and remember it."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

from cucm_spark.errors import VersionRefused


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def best_version(supported: tuple[str, ...], refused: str) -> str:
    """The newest version the cluster lists; VersionRefused again when it lists nothing usable."""
    candidates = sorted(
        (v for v in supported if v != refused and version_key(v) >= (8, 0)), key=version_key
    )
    if not candidates:
        raise VersionRefused(f"the cluster refused AXL {refused} and named no version to use instead")
    return candidates[-1]


class VersionCache:
    """Negotiated versions per cluster URL, in a small JSON file in the state directory.

    Several clusters may be audited at once: writes are serialised within the process and
    each goes through its own temporary file, so a concurrent writer never sees half a file.
    """

    _lock = threading.Lock()

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def get(self, url: str) -> str | None:
        return self._read().get(url)

    def put(self, url: str, version: str) -> None:
        if self.path is None:
            return
        with self._lock:
            known = self._read()
            if known.get(url) == version:
                return
            known[url] = version
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=self.path.parent, prefix=".axl-versions-",
                                             suffix=".tmp", delete=False) as temporary:
                temporary.write(json.dumps(known, indent=2, sort_keys=True))
            os.replace(temporary.name, self.path)

    def _read(self) -> dict[str, str]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}
