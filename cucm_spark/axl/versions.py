"""AXL schema version negotiation: pick the best version a cluster accepts, and remember it."""

from __future__ import annotations

import json
import logging
import re
import threading
from pathlib import Path

from cucm_spark.errors import MalformedAnswer, VersionRefused
from cucm_spark.paths import private_dir, replace_private

log = logging.getLogger("cucm_spark.axl")

# "14.0", "9.1": what goes on the wire in the namespace and SOAPAction. ASCII digits only
# (an HTTP header cannot carry others), and short ones: no schema version has more.
_VERSION = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}", re.ASCII)
_OLDEST = (8, 0)


def is_version(text: object) -> bool:
    """Whether ``text`` is an AXL schema version such as 14.0 (not any digits a cluster or a file may hold)."""
    return isinstance(text, str) and _VERSION.fullmatch(text) is not None


def version_key(version: str) -> tuple[int, ...]:
    """(major, minor) for ordering; MalformedAnswer for anything that is not a schema version."""
    if not is_version(version):
        raise MalformedAnswer(f"not an AXL schema version: {str(version)[:40]!r}")
    return tuple(int(part) for part in version.split("."))


def best_version(supported: tuple[str, ...], refused: str) -> str:
    """The newest version the cluster lists; VersionRefused again when it lists nothing usable."""
    candidates = sorted(
        (v for v in supported if v != refused and is_version(v) and version_key(v) >= _OLDEST), key=version_key
    )
    if not candidates:
        raise VersionRefused(f"the cluster refused AXL {refused} and named no version to use instead")
    return candidates[-1]


class VersionCache:
    """Negotiated versions per cluster URL, in a small JSON file in the state directory.

    Several clusters may be audited at once: writes are serialised within the process and
    each goes through its own temporary file, so a concurrent writer never sees half a file.
    What the file holds is checked on reading: a hand-edited or damaged entry is ignored
    and negotiated again, never sent to a cluster.
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
            try:
                private_dir(self.path.parent)
                replace_private(self.path, json.dumps(known, indent=2, sort_keys=True))
            except OSError as exc:  # only a cache: the next run negotiates again
                log.warning("cannot remember the AXL version in %s: %s", self.path, exc.strerror or exc)

    def _read(self) -> dict[str, str]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {url: version for url, version in data.items() if is_version(version)}
