"""Plain, frozen records of what a cluster holds: the inventory every pure rule works on."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class DeviceKind(str, Enum):
    """What a device is, as far as Hybrid Call and licensing care."""

    CTI_RD = "cti_rd"
    SPARK_RD = "spark_rd"
    JABBER = "jabber"
    DESK_PHONE = "desk_phone"
    OTHER = "other"


@dataclass(frozen=True)
class Line:
    """A directory number on a device, at a line index."""

    index: int
    pattern: str
    partition: str | None = None
    label: str | None = None
    display: str | None = None
    display_ascii: str | None = None
    e164_mask: str | None = None


@dataclass(frozen=True)
class RemoteDestination:
    """A remote destination and the CTI-RD or Spark-RD it rings through."""

    destination: str
    name: str | None = None
    owner: str | None = None
    device: str | None = None


@dataclass(frozen=True)
class Device:
    """A phone-class device: its kind, owner, lines and remote destinations.

    ``hybrid`` is meaningful for CTI-RDs only: True when one of its remote
    destinations is in a cloud call domain (Hybrid Call Service Connect), False
    for Extend and Connect or no destination at all.
    """

    name: str
    model: str
    kind: DeviceKind
    owner: str | None = None
    description: str | None = None
    lines: tuple[Line, ...] = ()
    remote_destinations: tuple[RemoteDestination, ...] = ()
    hybrid: bool = False


@dataclass(frozen=True)
class User:
    """An end user and the devices they control (the userdevice association)."""

    userid: str
    first_name: str | None = None
    last_name: str | None = None
    associated_devices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Inventory:
    """Everything an audit reads from one cluster."""

    version: str
    users: tuple[User, ...] = ()
    devices: tuple[Device, ...] = field(default_factory=tuple)

