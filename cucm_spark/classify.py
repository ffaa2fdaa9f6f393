"""Classify what the cluster reports: a device model's kind, and whether a URI is Webex cloud.

Only CTI-RDs whose remote destination is a cloud call URI belong to Hybrid Call
Service Connect; the rest (Jabber Extend and Connect) must be left alone, so the
cloud domains are data (``data/cloud_domains.json``) that a user may replace.

Pattern rule: ``*.x`` matches any subdomain of ``x`` at any depth
(``acme.call.ciscospark.com``, ``a.b.calls.webex.com``) but not ``x`` itself, as
TLS wildcards do: Webex call URIs always carry an organisation label in front of the
call domain, and a bare ``ciscospark.com`` address is not a call URI. A pattern
without ``*.`` matches exactly that host.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cucm_spark.data import load_json
from cucm_spark.errors import ConfigError
from cucm_spark.inventory.model import DeviceKind

_BUNDLED = "cloud_domains.json"
_PATTERN = re.compile(r"^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$")

_CTI_RD_MODELS = frozenset({"cti remote device"})
# Later Cisco prose renames the Spark-RD; AXL keeps the old product name through
# 14.0, but a cluster might one day report the new one.
_SPARK_RD_MODELS = frozenset({"cisco spark remote device", "cisco webex remote device"})
_JABBER_MODELS = frozenset(
    {
        "cisco unified client services framework",  # CSF: Jabber for Windows and Mac
        "cisco dual mode for iphone",  # TCT
        "cisco dual mode for android",  # BOT
        "cisco jabber for tablet",  # TAB
    }
)
# Numbered Cisco phones ("Cisco 8841", "Cisco 8865NR", "Cisco 3905"), ATAs and the
# analog ports of gateways: physical endpoints a user sits at.
_DESK_PHONE = re.compile(
    r"^(cisco \d{3,4}[a-z]*|cisco ata \d+[a-z]*|analog phone|cisco vgc phone|cisco vg248 phone)$"
)


def normalise_model(model: str) -> str:
    """A model name folded for lookups: case and runs of blanks do not matter."""
    return " ".join(model.split()).casefold()


def device_kind(model: str) -> DeviceKind:
    """The kind of device a CUCM product/model name denotes."""
    key = normalise_model(model)
    if key in _CTI_RD_MODELS:
        return DeviceKind.CTI_RD
    if key in _SPARK_RD_MODELS:
        return DeviceKind.SPARK_RD
    if key in _JABBER_MODELS:
        return DeviceKind.JABBER
    if _DESK_PHONE.match(key):
        return DeviceKind.DESK_PHONE
    return DeviceKind.OTHER


def destination_host(destination: str) -> str:
    """The host of a remote destination: ``sip:Ann@Acme.call.ciscospark.com;x=y`` -> the host.

    Without an ``@`` the whole string is taken as the host; a phone number then never
    matches a domain, which is what we want.
    """
    text = destination.strip().lstrip("<")
    if text[:5].casefold() == "sips:":
        text = text[5:]
    elif text[:4].casefold() == "sip:":
        text = text[4:]
    text = re.split(r"[;?>]", text, maxsplit=1)[0]
    host = text.rpartition("@")[2].split(":", 1)[0]
    return host.rstrip(".").casefold()


@dataclass(frozen=True)
class CloudDomains:
    """The host patterns of Webex cloud call URIs, lower-cased."""

    patterns: tuple[str, ...]

    @classmethod
    def from_patterns(cls, patterns: Iterable[str]) -> CloudDomains:
        """Check and normalise patterns; raise ConfigError naming a bad one."""
        cleaned: list[str] = []
        for pattern in patterns:
            text = pattern.strip().casefold() if isinstance(pattern, str) else ""
            if not _PATTERN.match(text):
                raise ConfigError(
                    f"not a cloud domain pattern: {pattern!r} (expected e.g. *.calls.webex.com)"
                )
            cleaned.append(text)
        if not cleaned:
            raise ConfigError("no cloud domain patterns: every CTI-RD would look non-hybrid")
        return cls(tuple(cleaned))

    @classmethod
    def load(cls, path: Path | None = None) -> CloudDomains:
        """The bundled patterns, or a user's JSON file ``{"patterns": [...]}``."""
        document = _load(path)
        if not isinstance(document, dict) or not isinstance(document.get("patterns"), list):
            raise ConfigError(f"cloud domains {path or _BUNDLED}: expected a 'patterns' list")
        return cls.from_patterns(document["patterns"])

    def is_cloud(self, destination: str) -> bool:
        """Whether a remote destination is a Webex cloud call URI."""
        host = destination_host(destination)
        for pattern in self.patterns:
            if pattern.startswith("*."):
                if host.endswith(pattern[1:]):
                    return True
            elif host == pattern:
                return True
        return False


def is_hybrid(kind: DeviceKind, destinations: Iterable[str], domains: CloudDomains) -> bool:
    """Whether a device is a Hybrid Call CTI-RD: a CTI-RD with a cloud remote destination."""
    return kind is DeviceKind.CTI_RD and any(domains.is_cloud(d) for d in destinations)


def _load(path: Path | None) -> object:
    return load_json(_BUNDLED, path, "cloud domains")
