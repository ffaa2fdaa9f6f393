"""The release the lab pretends to be, and the AXL schema versions that release accepts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cucm_spark.lab.catalog import AXL_SCHEMA_VERSIONS, SPARK_RD_EVERY_BUILD_FROM_MAJOR, SPARK_RD_MINIMUM

# ASCII digits, nine at most: int() takes any Unicode digit and refuses 4,300 of them.
_RELEASE = re.compile(r"([0-9]{1,9})\.([0-9]{1,9})\.([0-9]{1,9})\.([0-9]{1,9})(?:-([0-9]{1,9})|\(([0-9]{1,9})\))")


class UnknownRelease(ValueError):
    """The release string is not a CUCM build, or no AXL schema is known for its major."""


@dataclass(frozen=True)
class LabRelease:
    """A full CUCM build number such as 11.5.1.13900-52."""

    major: int
    minor: int
    maintenance: int
    build: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> LabRelease:
        match = _RELEASE.fullmatch(text.strip()) if isinstance(text, str) else None
        if not match:
            raise UnknownRelease(
                f"unknown release {text!r}: expected a full build such as 11.5.1.13900-52"
            )
        major, minor, maintenance, build = (int(g) for g in match.groups()[:4])
        patch = int(match.group(5) or match.group(6))
        release = cls(major, minor, maintenance, build, patch)
        if not release.accepted_axl_versions():
            raise UnknownRelease(f"unknown release {text!r}: no AXL schema for CUCM {major}")
        return release

    @property
    def axl_form(self) -> str:
        """The form getCCMVersion reports: 11.5.1.13900(52)."""
        return f"{self.major}.{self.minor}.{self.maintenance}.{self.build}({self.patch})"

    @property
    def supports_spark_rd(self) -> bool:
        """Whether this build has the Cisco Spark Remote Device product (addPhone refuses it otherwise)."""
        if self.major >= SPARK_RD_EVERY_BUILD_FROM_MAJOR:
            return True
        minimum = SPARK_RD_MINIMUM.get((self.major, self.minor))
        build = (self.major, self.minor, self.maintenance, self.build, self.patch)
        return minimum is not None and build >= minimum

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.maintenance}.{self.build}-{self.patch}"

    def accepted_axl_versions(self) -> tuple[str, ...]:
        """Schema versions of this major up to its own minor, and of the two majors before."""
        majors = [major for major, _ in AXL_SCHEMA_VERSIONS]
        if self.major not in majors:
            return ()
        position = majors.index(self.major)
        own = f"{self.major}.{self.minor}"
        accepted: list[str] = []
        for major, versions in AXL_SCHEMA_VERSIONS[max(0, position - 2) : position + 1]:
            for version in versions:
                if major == self.major and _as_tuple(version) > _as_tuple(own):
                    continue
                accepted.append(version)
        return tuple(accepted)


def _as_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
