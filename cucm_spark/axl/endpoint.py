"""Where a cluster's AXL service lives: from a host name, host:port, or a whole URL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from cucm_spark.errors import ConfigError

DEFAULT_PORT = 8443
_HOST = re.compile(r"^(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>\d{1,5}))?$")


@dataclass(frozen=True)
class Endpoint:
    """The AXL URL of one cluster, e.g. https://cucm-a.example.com:8443/axl/."""

    url: str

    @classmethod
    def parse(cls, target: str) -> Endpoint:
        """``cucm.example.com``, ``cucm.example.com:8443`` or ``http://127.0.0.1:8080/axl/``."""
        target = target.strip()
        if "://" in target:
            parts = urlsplit(target)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError(f"--host {target!r}: expected an http:// or https:// URL with a host")
            try:
                parts.port  # noqa: B018 - validates the port
            except ValueError as exc:
                raise ConfigError(f"--host {target!r}: {exc}") from exc
            path = parts.path if parts.path not in ("", "/") else "/axl/"
            return cls(f"{parts.scheme}://{parts.netloc}{path}")
        match = _HOST.match(target)
        if not match or (match.group("port") and not 0 < int(match.group("port")) < 65536):
            raise ConfigError(f"--host {target!r}: expected HOST, HOST:PORT or a URL")
        port = match.group("port") or DEFAULT_PORT
        return cls(f"https://{match.group('host')}:{port}/axl/")

    @property
    def is_tls(self) -> bool:
        return self.url.startswith("https://")
