"""Release parsing and ordering, and the Spark-RD support table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cucm_spark.errors import ConfigError
from cucm_spark.releases import Confidence, Release, ReleaseTable, parse_release


@pytest.fixture(scope="module")
def table() -> ReleaseTable:
    return ReleaseTable.load(None)


def test_both_notations_parse_to_the_same_release() -> None:
    axl = parse_release("11.5.1.13900(52)")
    cli = parse_release("11.5.1.13900-52")
    assert axl == cli == Release(11, 5, 1, 13900, 52)
    assert str(axl) == "11.5.1.13900-52"
    assert axl.axl_form == "11.5.1.13900(52)"
    assert axl.train == "11.5"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.5.1", Release(12, 5, 1, 0, 0)),
        ("12.5", Release(12, 5, 0, 0, 0)),
        ("14.0.1.11900", Release(14, 0, 1, 11900, 0)),
        ("  10.0.1.10000-24 ", Release(10, 0, 1, 10000, 24)),
    ],
)
def test_short_forms_fill_missing_fields_with_zero(text: str, expected: Release) -> None:
    assert parse_release(text) == expected


def test_train_of_a_dot_zero_release() -> None:
    assert parse_release("12.0.1.10000-10").train == "12.0"


@pytest.mark.parametrize(
    "text",
    [
        "", "12", "abc", "11.5.x", "v12.5",
        "11.5.1.13900(52", "11.5.1.13900-52)", "11.5.1.13900(52)-3",
    ],
)
def test_anything_else_is_a_config_error_naming_the_string(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_release(text)
    assert repr(text) in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("11.5.1.13900-52", "11.5.1.13901-3"),  # SU3 before SU3a
        ("10.5.2.9999-1", "10.5.2.15900-8"),  # numbers, not text
        ("9.1.2.10000-28", "10.0.1.10000-24"),
        ("12.5", "12.5.1.10000-22"),
        ("11.5.1.13900(51)", "11.5.1.13900-52"),
    ],
)
def test_releases_compare_numerically_field_by_field(lower: str, higher: str) -> None:
    assert parse_release(lower) < parse_release(higher)


@pytest.mark.parametrize(
    ("version", "minimum"),
    [
        ("10.5.2.10000-5", "10.5.2.15900-8"),
        ("11.0.1.21900-11", "11.0.1.23900-5"),
        ("11.5.1.10000-6", "11.5.1.13900-52"),
        ("12.0.1.10000-10", "12.0.1.10000-10"),
        ("12.5.1.11900-146", "12.0.1.10000-10"),  # 12.0 and later
        ("15.0.1.10000-32", "12.0.1.10000-10"),
    ],
)
def test_minimum_per_train(table: ReleaseTable, version: str, minimum: str) -> None:
    assert table.spark_rd_minimum(parse_release(version)) == parse_release(minimum)


@pytest.mark.parametrize("version", ["9.1.2.10000-28", "10.0.1.10000-24", "8.6"])
def test_trains_before_10_5_have_no_minimum(table: ReleaseTable, version: str) -> None:
    assert table.spark_rd_minimum(parse_release(version)) is None
    assert not table.supports_spark_rd(parse_release(version))


@pytest.mark.parametrize(
    ("version", "supported"),
    [
        ("10.5.2.15900-8", True),
        ("10.5.2.14900-16", False),
        ("11.0.1.23900-5", True),
        ("11.0.1.22900-14", False),
        ("11.5.1.13900(52)", True),
        ("11.5.1.13901-3", True),
        ("11.5.1.12900-21", False),
        ("12.0.1.10000-10", True),
        ("12.5.1.10000-22", True),
        ("14.0.1.11900-132", True),
    ],
)
def test_supports_spark_rd(table: ReleaseTable, version: str, supported: bool) -> None:
    assert table.supports_spark_rd(parse_release(version)) is supported


@pytest.mark.parametrize(
    ("version", "target"),
    [
        ("10.0.1.10000-24", "10.5.2.15900-8"),  # nearest newer train
        ("9.1.2.10000-28", "10.5.2.15900-8"),
        ("10.5.2.14900-16", "10.5.2.15900-8"),  # own train first
        ("11.5.1.12900-21", "11.5.1.13900-52"),
        ("11.0.1.21900-11", "11.0.1.23900-5"),
    ],
)
def test_upgrade_target(table: ReleaseTable, version: str, target: str) -> None:
    assert table.upgrade_target(parse_release(version)) == parse_release(target)


def test_no_upgrade_target_when_already_supported(table: ReleaseTable) -> None:
    assert table.upgrade_target(parse_release("12.5.1.11900-146")) is None


def test_rows_carry_display_name_and_confidence(table: ReleaseTable) -> None:
    rows = {row.train: row for row in table.minimums}
    assert [row.train for row in table.minimums] == ["10.5", "11.0", "11.5", "12.0"]
    assert (rows["10.5"].name, rows["10.5"].confidence) == ("10.5(2)SU5", Confidence.LIKELY)
    assert (rows["11.0"].name, rows["11.0"].confidence) == ("11.0(1a)SU3", Confidence.UNCONFIRMED)
    assert (rows["11.5"].name, rows["11.5"].confidence) == ("11.5(1)SU3", Confidence.LIKELY)
    assert (rows["12.0"].name, rows["12.0"].confidence) == ("12.0(1)", Confidence.CONFIRMED)
    rule = table.rule_for(parse_release("14.0.1.10000-20"))
    assert rule is not None and rule.train == "12.0"


@pytest.mark.parametrize(
    ("version", "name"),
    [
        ("12.5.1.11900(146)", "12.5(1)SU1"),
        ("12.5.1.10000-22", "12.5(1)"),
        ("14.0.1.10000-20", "14"),
        ("14.0.1.11900-132", "14SU1"),
        ("15.0.1.10000-32", "15"),
        ("10.5.2.15900-8", "10.5(2)SU5"),
        ("11.5.1.13901-3", "11.5(1)SU3a"),
        ("12.5.1.12900-115", "12.5.1.12900-115"),
    ],
)
def test_describe_names_known_builds(table: ReleaseTable, version: str, name: str) -> None:
    assert table.describe(parse_release(version)) == name


def _write(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_user_table_replaces_the_bundled_one(tmp_path: Path) -> None:
    document = {
        "spark_rd_minimum": [
            {"train": "12.0", "minimum": "12.0.1.10000-10", "name": "12.0(1)",
             "confidence": "confirmed"},
            {"train": "10.5", "minimum": "10.5.2.16900-1", "name": "10.5(2)SU6",
             "confidence": "confirmed"},
        ]
    }
    table = ReleaseTable.load(_write(tmp_path / "releases.json", document))
    assert not table.supports_spark_rd(parse_release("10.5.2.15900-8"))
    # 11.x is not listed any more: unsupported, and the next listed train is the target.
    assert not table.supports_spark_rd(parse_release("11.5.1.13900-52"))
    target = table.upgrade_target(parse_release("11.5.1.13900-52"))
    assert target == parse_release("12.0.1.10000-10")
    assert table.describe(parse_release("10.5.2.16900-1")) == "10.5(2)SU6"


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ([], "spark_rd_minimum"),
        ({"spark_rd_minimum": []}, "empty"),
        ({"spark_rd_minimum": [{"train": "10.5"}]}, "lacks"),
        ({"spark_rd_minimum": [{"train": "11.5", "minimum": "10.5.2.15900-8", "name": "x",
                                "confidence": "likely"}]}, "not in train"),
        ({"spark_rd_minimum": [{"train": "10.5", "minimum": "10.5.2.15900-8", "name": "x",
                                "confidence": "sure"}]}, "confidence"),
        ({"spark_rd_minimum": [{"train": "10.5", "minimum": "10.5.2.15900-8", "name": "x",
                                "confidence": "likely"}] * 2}, "twice"),
        ({"spark_rd_minimum": [{"train": "10.5", "minimum": "10.5.2.15900-8", "name": "x",
                                "confidence": "likely"}], "named_builds": [{"build": "1"}]},
         "named_builds"),
    ],
)
def test_bad_user_tables_are_config_errors(
    tmp_path: Path, document: object, fragment: str
) -> None:
    with pytest.raises(ConfigError, match=fragment):
        ReleaseTable.load(_write(tmp_path / "releases.json", document))


def test_unreadable_or_non_json_table_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        ReleaseTable.load(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="not JSON"):
        ReleaseTable.load(broken)
