"""Names for new Spark-RDs: a template such as ``SPARK{userid}``, kept to CUCM's device-name rules.

CUCM shows device names in upper case and limits CTI and Spark remote device names to
15 characters of letters, digits, ``.``, ``_`` and ``-`` (domain.md section 4, marked
[unconfirmed]), so both the length and the characters are settings. The userid is
upper-cased and stripped of characters the rule refuses; when the result is too long
the userid part is cut. A name already used by a device (compared without regard to
case, as CUCM does) is resolved deterministically: cut the userid part a little more
and append 1, 2, 3, … until the name is free (``SPARKCVANDENBE1``).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from cucm_spark.errors import ConfigError

DEFAULT_TEMPLATE = "SPARK{userid}"
DEFAULT_MAX_LENGTH = 15
DEFAULT_ALLOWED = "A-Za-z0-9._-"
PLACEHOLDER = "{userid}"
MAX_COUNTER = 9999


@dataclass(frozen=True)
class NameTemplate:
    """How a Spark-RD is named: ``template`` with one ``{userid}``, a length cap, a character class."""

    template: str = DEFAULT_TEMPLATE
    max_length: int = DEFAULT_MAX_LENGTH
    allowed: str = DEFAULT_ALLOWED  # the inside of a regex character class

    def __post_init__(self) -> None:
        if self.template.count(PLACEHOLDER) != 1:
            raise ConfigError(f"name template {self.template!r} must hold {PLACEHOLDER} exactly once")
        if self.max_length < 2:
            raise ConfigError(f"device name length {self.max_length} is too short")
        try:
            allowed = re.compile(f"^[{self.allowed}]*$")
        except re.error as exc:
            raise ConfigError(f"device name characters [{self.allowed}] are not a character class: {exc}") from exc
        prefix, suffix = self.parts
        if not allowed.match(prefix + suffix):
            raise ConfigError(f"name template {self.template!r} has characters outside [{self.allowed}]")
        if not allowed.match("0123456789"):
            raise ConfigError(f"device name characters [{self.allowed}] must allow digits (collision counters)")
        if len(prefix) + len(suffix) + 2 > self.max_length:
            raise ConfigError(f"name template {self.template!r} leaves no room under {self.max_length} characters")

    @property
    def parts(self) -> tuple[str, str]:
        """The template's text before and after ``{userid}``."""
        prefix, _, suffix = self.template.partition(PLACEHOLDER)
        return prefix, suffix

    def userid_part(self, userid: str) -> str:
        """The userid as it goes into a name: upper case, refused characters dropped."""
        return re.sub(f"[^{self.allowed}]", "", userid.upper())

    def is_valid(self, name: str) -> bool:
        """Whether a device name keeps the rule (length and characters)."""
        return 0 < len(name) <= self.max_length and re.fullmatch(f"[{self.allowed}]+", name) is not None

    def name_for(self, userid: str, taken: Collection[str] = ()) -> str | None:
        """The Spark-RD name for ``userid``, free of every name in ``taken`` (lower-cased names).

        None when the userid leaves nothing usable, or no counter up to 9999 frees a name.
        """
        prefix, suffix = self.parts
        core = self.userid_part(userid)
        if not core:
            return None
        room = self.max_length - len(prefix) - len(suffix)
        name = prefix + core[:room] + suffix
        if name.lower() not in taken:
            return name
        for counter in range(1, MAX_COUNTER + 1):
            digits = str(counter)
            cut = room - len(digits)
            if cut < 1:
                return None
            candidate = prefix + core[:cut] + suffix + digits
            if candidate.lower() not in taken:
                return candidate
        return None
