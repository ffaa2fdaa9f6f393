"""Fuzzing the version parsers: every input ends in a result or a typed error, never a traceback.

CUCM releases ("11.5.1.13900(52)", "14.0.1.10000-20") come from clusters, the command
line, the release table and lab datasets; AXL schema versions ("14.0") come from a
cluster's HTTP 599 text and from the version cache in the state directory. Each parser
is fed arbitrary text and text shaped almost like what it expects: Unicode digits,
thousands of digits, stray separators, wrong types.

The run is bounded and reproducible (the "ci" profile in tests/conftest.py);
HYPOTHESIS_PROFILE=long searches far longer.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict

from cucm_spark.axl.transport import check_status
from cucm_spark.axl.versions import VersionCache, best_version, is_version, version_key
from cucm_spark.data import load_json
from cucm_spark.errors import ConfigError, CucmSparkError, MalformedAnswer, VersionRefused
from cucm_spark.lab.release import LabRelease, UnknownRelease
from cucm_spark.releases import Release, ReleaseTable, parse_release

T = TypeVar("T")
URL = "https://cucm-pub.example.com:8443/axl/"
BUNDLED_TABLE = load_json("releases.json", None, "release table")

DIGITS = st.one_of(
    st.integers(0, 99999).map(str),
    st.text("0123456789", min_size=1, max_size=12),
    st.text(st.sampled_from("0123456789٣٤²①"), min_size=1, max_size=4),  # Unicode digits, and "digits" int() refuses
    st.sampled_from(["9" * 4301, "0" * 50]),
)
SEPARATORS = st.sampled_from([".", ".", ".", "-", "(", ")", "", " ", "\n", "..", "_", "+", "\x00"])


@st.composite
def release_like(draw: st.DrawFn) -> str:
    """Text shaped almost like a release: number fields with separators, valid now and then."""
    fields = draw(st.lists(DIGITS, min_size=1, max_size=6))
    text = "".join(field + draw(SEPARATORS) for field in fields)
    return draw(st.sampled_from([text, f" {text}\t", text.rstrip(".-(")]))


ANY_VALUE = st.one_of(st.text(), release_like(), st.none(), st.integers(), st.floats(), st.binary(max_size=20),
                      st.lists(st.text(max_size=5), max_size=3))
JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12),
                              release_like()),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.sampled_from(["train", "minimum", "name", "confidence", "build", "spark_rd_minimum",
                                         "named_builds"]) | st.text(max_size=6), inner, max_size=5),
                    max_leaves=20)
RELEASES = st.builds(Release, *(st.integers(0, 999_999_999) for _ in range(5)))


def ends_well(call: Callable[[], T]) -> T | None:
    """The call's result, or None when it raised a typed error; any other exception fails the test."""
    try:
        return call()
    except CucmSparkError as error:
        assert "\n" not in str(error), "an error is one line"
        assert len(str(error)) < 600, "an error names the bad value, not all of it"
        return None


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for every example's file (each example overwrites it)."""
    return tmp_path_factory.mktemp("fuzz")


# -- CUCM releases ---------------------------------------------------------------------------------

@given(ANY_VALUE)
def test_any_value_is_a_release_or_a_config_error(value: object) -> None:
    try:
        release = parse_release(value)  # type: ignore[arg-type]
    except ConfigError as error:
        assert "\n" not in str(error) and len(str(error)) < 300
        return
    assert parse_release(str(release)) == release == parse_release(release.axl_form)


@given(RELEASES)
def test_both_written_forms_read_back_to_the_same_release(release: Release) -> None:
    assert parse_release(str(release)) == release
    assert parse_release(release.axl_form) == release


@given(RELEASES, RELEASES)
def test_releases_order_as_their_numbers(first: Release, second: Release) -> None:
    as_numbers = (first.major, first.minor, first.maintenance, first.build, first.patch)
    other = (second.major, second.minor, second.maintenance, second.build, second.patch)
    assert (parse_release(str(first)) < parse_release(str(second))) == (as_numbers < other)


@st.composite
def mutated_table(draw: st.DrawFn) -> object:
    """The bundled release table with one to three values anywhere in it replaced by any JSON."""
    document = copy.deepcopy(BUNDLED_TABLE)
    for _ in range(draw(st.integers(1, 3))):
        parent, key = None, None
        node = document
        while isinstance(node, (dict, list)) and node and draw(st.booleans()):
            keys = sorted(node) if isinstance(node, dict) else range(len(node))
            parent, key = node, draw(st.sampled_from(list(keys)))
            node = node[key]
        if parent is None:
            return draw(JSON)
        parent[key] = draw(JSON)
    return document


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(mutated_table(), mutated_table(), JSON), st.one_of(RELEASES, release_like()))
def test_a_release_table_document_loads_or_is_a_config_error(document: object, asked: object) -> None:
    table = ends_well(lambda: ReleaseTable.from_document(document))
    release = asked if isinstance(asked, Release) else ends_well(lambda: parse_release(asked))
    if table is not None and release is not None:
        table.upgrade_target(release)
        table.describe(release)
        assert table.supports_spark_rd(release) in (True, False)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=200), st.builds(lambda doc: json.dumps(doc).encode(), mutated_table()),
                 st.integers(1, 20_000).map(lambda depth: b"[" * depth + b"]" * depth)))
def test_a_release_table_file_loads_or_is_a_config_error(scratch: Path, content: bytes) -> None:
    path = scratch / "releases.json"
    path.write_bytes(content)

    ends_well(lambda: ReleaseTable.load(path))


@given(ANY_VALUE)
def test_the_lab_takes_a_release_or_says_it_is_unknown(value: object) -> None:
    """The lab imports nothing of the product: its typed error is its own UnknownRelease."""
    try:
        release = LabRelease.parse(value)  # type: ignore[arg-type]
    except UnknownRelease:
        return
    assert LabRelease.parse(str(release)) == release


# -- AXL schema versions ----------------------------------------------------------------------------

VERSION_LIKE = st.one_of(st.builds("{}.{}".format, DIGITS, DIGITS),
                         st.sampled_from(["14.0", "9.1", "12.5", "8.0", "7.1", "15.0"]), st.text(max_size=8))


@given(st.one_of(VERSION_LIKE, ANY_VALUE))
def test_a_version_key_or_a_malformed_answer(text: object) -> None:
    try:
        key = version_key(text)  # type: ignore[arg-type]
    except MalformedAnswer:
        assert not is_version(text)
        return
    assert is_version(text) and key == tuple(int(part) for part in str(text).split("."))


@given(st.lists(VERSION_LIKE, max_size=8), VERSION_LIKE)
def test_the_best_version_is_one_the_cluster_listed_or_version_refused(supported: list[str], refused: str) -> None:
    usable = [version for version in supported if is_version(version) and version != refused]
    try:
        chosen = best_version(tuple(supported), refused)
    except VersionRefused:
        assert all(version_key(version) < (8, 0) for version in usable)
        return
    assert chosen in usable and all(version_key(chosen) >= version_key(version) for version in usable)
    chosen.encode("ascii")  # it goes into the SOAPAction header


def _answer(status: int, body: bytes, content_type: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers = CaseInsensitiveDict({"Content-Type": content_type})
    response._content = body
    response.encoding = "utf-8"
    return response


REFUSAL_TEXT = st.builds(
    "Incorrect axl version. Supported axl versions are {}".format,
    st.lists(VERSION_LIKE, max_size=8).map(", ".join),
).map(str.encode)


@given(st.one_of(REFUSAL_TEXT, st.binary(max_size=300)), st.sampled_from(["14.0", "11.5"]))
def test_a_599_ends_in_version_refused_and_a_usable_version_or_none(body: bytes, asked: str) -> None:
    with pytest.raises(VersionRefused) as refused:
        check_status(_answer(599, body, "text/plain"), URL)

    chosen = ends_well(lambda: best_version(refused.value.supported, asked))
    assert chosen is None or is_version(chosen)


@given(st.sampled_from([200, 500, 401, 403, 404, 503, 302, 599]), st.binary(max_size=600),
       st.sampled_from(["text/xml; charset=utf-8", "text/html", "", "application/octet-stream"]))
def test_any_http_answer_is_soap_or_a_typed_error(status: int, body: bytes, content_type: str) -> None:
    ends_well(lambda: check_status(_answer(status, body, content_type), URL))


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=200), st.builds(lambda doc: json.dumps(doc).encode(),
                                                     st.dictionaries(st.text(max_size=20), JSON, max_size=4))))
def test_a_damaged_version_cache_yields_only_versions(scratch: Path, content: bytes) -> None:
    path = scratch / "axl-versions.json"
    path.write_bytes(content)
    cache = VersionCache(path)

    remembered = cache.get(URL)
    assert remembered is None or is_version(remembered)
    cache.put(URL, "12.5")
    assert VersionCache(path).get(URL) == "12.5"


def test_the_bundled_table_reads(tmp_path: Path) -> None:
    path = tmp_path / "releases.json"
    path.write_text(json.dumps(BUNDLED_TABLE))
    assert ReleaseTable.load(path) == ReleaseTable.load()
