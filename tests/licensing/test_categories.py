"""The model -> licence category map, bundled and overridden."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cucm_spark.errors import ConfigError
from cucm_spark.licensing.categories import Category, CategoryMap


@pytest.fixture(scope="module")
def bundled() -> CategoryMap:
    return CategoryMap.load(None)


@pytest.mark.parametrize(
    ("model", "category"),
    [
        ("Analog Phone", Category.ESSENTIAL),
        ("Cisco ATA 191", Category.ESSENTIAL),
        ("Cisco ATA 187", Category.ESSENTIAL),
        ("Cisco 3905", Category.ESSENTIAL),
        ("Cisco 6901", Category.ESSENTIAL),
        ("Cisco 6911", Category.BASIC),
        ("Cisco 6921", Category.BASIC),
        ("cisco  6921", Category.BASIC),
        ("Cisco 6941", Category.ENHANCED),
        ("Cisco 8841", Category.ENHANCED),
        ("CTI Remote Device", Category.ENHANCED),
        ("Cisco Spark Remote Device", Category.ENHANCED),
        ("Cisco Unified Client Services Framework", Category.ENHANCED),
        ("Something Cisco has not made yet", Category.ENHANCED),
    ],
)
def test_bundled_categories(bundled: CategoryMap, model: str, category: Category) -> None:
    assert bundled.category(model) is category


def _write(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_override_is_laid_over_the_bundled_map(tmp_path: Path) -> None:
    override = CategoryMap.load(_write(tmp_path / "c.json", {"Cisco 8841": "basic"}))
    assert override.category("Cisco 8841") is Category.BASIC
    assert override.category("Cisco 3905") is Category.ESSENTIAL  # bundled entry kept
    assert override.category("Cisco 8851") is Category.ENHANCED


def test_override_can_change_the_default(tmp_path: Path) -> None:
    override = CategoryMap.load(
        _write(tmp_path / "c.json", {"default": "basic", "Cisco 6921": "enhanced"})
    )
    assert override.category("Cisco 8851") is Category.BASIC
    assert override.category("Cisco 6921") is Category.ENHANCED


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        (["Cisco 8841"], "expected an object"),
        ({"Cisco 8841": "premium"}, "premium"),
        ({"default": "cuwl_standard"}, "cuwl_standard"),
        ({"Cisco 8841": ["basic"]}, "Cisco 8841"),
    ],
)
def test_bad_overrides_are_config_errors(tmp_path: Path, document: object, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        CategoryMap.load(_write(tmp_path / "c.json", document))


def test_unreadable_override_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        CategoryMap.load(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{'x': 1}", encoding="utf-8")
    with pytest.raises(ConfigError, match="not JSON"):
        CategoryMap.load(broken)
