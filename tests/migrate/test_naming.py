"""Spark-RD names: the template, CUCM's device-name rule, and collisions resolved the same way every time."""

from __future__ import annotations

import pytest

from cucm_spark.errors import ConfigError
from cucm_spark.migrate.naming import NameTemplate


def test_default_template_upper_cases_the_userid() -> None:
    assert NameTemplate().name_for("jsmith") == "SPARKJSMITH"


def test_characters_outside_the_rule_are_dropped() -> None:
    assert NameTemplate().name_for("j.o'brien+x") == "SPARKJ.OBRIENX"
    assert NameTemplate().name_for("anne marie") == "SPARKANNEMARIE"


def test_long_userids_are_cut_to_fifteen_characters() -> None:
    name = NameTemplate().name_for("christina.vandenberg")
    assert name == "SPARKCHRISTINA."
    assert len(name) == 15


def test_a_taken_name_gets_a_counter_within_the_limit() -> None:
    taken = {"sparkcvandenber", "sparkcvandenbe1"}
    assert NameTemplate().name_for("cvandenberg", taken) == "SPARKCVANDENBE2"
    assert NameTemplate().name_for("pwalker", {"sparkpwalker"}) == "SPARKPWALKER1"


def test_collisions_ignore_case_and_are_deterministic() -> None:
    taken = {"sparkjsmith"}
    first = NameTemplate().name_for("JSmith", taken)
    assert first == NameTemplate().name_for("jsmith", taken) == "SPARKJSMITH1"


def test_counter_grows_past_nine() -> None:
    taken = {"sparkab"} | {f"sparkab{n}" for n in range(1, 10)}
    assert NameTemplate().name_for("ab", taken) == "SPARKAB10"


def test_length_and_characters_are_settings() -> None:
    template = NameTemplate("WX-{userid}", max_length=8, allowed="A-Z0-9-")
    assert template.name_for("a.b_c1234") == "WX-ABC12"
    assert template.is_valid("WX-ABC12")
    assert not template.is_valid("WX-AB.C")


def test_a_userid_with_nothing_usable_has_no_name() -> None:
    assert NameTemplate().name_for("+++") is None


@pytest.mark.parametrize("bad", [
    {"template": "SPARK"},
    {"template": "{userid}{userid}"},
    {"template": "SP ARK{userid}"},
    {"allowed": "a-z["},
    {"allowed": "A-Z"},
    {"template": "VERYLONGPREFIX{userid}"},
])
def test_bad_settings_are_refused(bad: dict) -> None:
    with pytest.raises(ConfigError):
        NameTemplate(**bad)
