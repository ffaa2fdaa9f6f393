"""AXL version negotiation: choosing among the versions a 599 lists, and remembering the choice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cucm_spark.axl.versions import VersionCache, best_version, version_key
from cucm_spark.errors import VersionRefused


def test_best_version_compares_numerically_not_as_text() -> None:
    assert best_version(("9.1", "10.0", "10.5", "11.0", "11.5"), "14.0") == "11.5"
    assert best_version(("12.5", "9.1", "12.0"), "15.0") == "12.5"


def test_best_version_never_picks_the_version_just_refused() -> None:
    assert best_version(("11.5", "14.0"), "14.0") == "11.5"


def test_best_version_raises_when_the_cluster_lists_nothing_usable() -> None:
    with pytest.raises(VersionRefused, match="named no version"):
        best_version((), "14.0")
    with pytest.raises(VersionRefused):
        best_version(("14.0",), "14.0")


def test_version_key_orders_fields_as_numbers() -> None:
    assert sorted(["10.5", "9.1", "11.0", "10.0"], key=version_key) == ["9.1", "10.0", "10.5", "11.0"]


def test_cache_remembers_a_version_per_cluster_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "state" / "axl-versions.json"
    VersionCache(path).put("https://a:8443/axl/", "11.5")
    VersionCache(path).put("https://b:8443/axl/", "12.5")

    again = VersionCache(path)
    assert again.get("https://a:8443/axl/") == "11.5"
    assert again.get("https://b:8443/axl/") == "12.5"
    assert again.get("https://c:8443/axl/") is None
    assert json.loads(path.read_text()) == {"https://a:8443/axl/": "11.5", "https://b:8443/axl/": "12.5"}
    assert not list(path.parent.glob("*.tmp"))


def test_cache_replaces_a_stale_version(tmp_path: Path) -> None:
    cache = VersionCache(tmp_path / "axl-versions.json")
    cache.put("https://a:8443/axl/", "11.5")
    cache.put("https://a:8443/axl/", "14.0")
    assert cache.get("https://a:8443/axl/") == "14.0"


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", ""])
def test_a_damaged_cache_file_is_ignored_and_then_rewritten(tmp_path: Path, content: str) -> None:
    path = tmp_path / "axl-versions.json"
    path.write_text(content)
    cache = VersionCache(path)

    assert cache.get("https://a:8443/axl/") is None
    cache.put("https://a:8443/axl/", "11.5")
    assert VersionCache(path).get("https://a:8443/axl/") == "11.5"


def test_cache_without_a_path_remembers_nothing_and_writes_nothing(tmp_path: Path) -> None:
    cache = VersionCache(None)
    cache.put("https://a:8443/axl/", "11.5")
    assert cache.get("https://a:8443/axl/") is None
    assert not list(tmp_path.iterdir())
