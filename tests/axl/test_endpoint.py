"""Endpoint.parse: what --host accepts, and the AXL URL each form becomes."""

from __future__ import annotations

import pytest

from cucm_spark.axl.endpoint import Endpoint
from cucm_spark.errors import ConfigError


@pytest.mark.parametrize(
    ("target", "url"),
    [
        ("cucm-pub.example.com", "https://cucm-pub.example.com:8443/axl/"),
        ("  cucm-pub.example.com  ", "https://cucm-pub.example.com:8443/axl/"),
        ("10.1.1.10", "https://10.1.1.10:8443/axl/"),
        ("cucm-pub", "https://cucm-pub:8443/axl/"),
        ("[2001:db8::10]", "https://[2001:db8::10]:8443/axl/"),
    ],
)
def test_a_host_name_becomes_https_on_port_8443(target: str, url: str) -> None:
    assert Endpoint.parse(target).url == url


@pytest.mark.parametrize(
    ("target", "url"),
    [
        ("cucm-pub.example.com:9443", "https://cucm-pub.example.com:9443/axl/"),
        ("127.0.0.1:1", "https://127.0.0.1:1/axl/"),
        ("[2001:db8::10]:8444", "https://[2001:db8::10]:8444/axl/"),
    ],
)
def test_host_and_port_keep_the_port(target: str, url: str) -> None:
    assert Endpoint.parse(target).url == url


@pytest.mark.parametrize(
    ("target", "url"),
    [
        ("http://127.0.0.1:8080/axl/", "http://127.0.0.1:8080/axl/"),
        ("https://cucm-pub.example.com:8443/axl/", "https://cucm-pub.example.com:8443/axl/"),
        ("https://cucm-pub.example.com/custom/axl", "https://cucm-pub.example.com/custom/axl"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/axl/"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/axl/"),
    ],
)
def test_a_url_is_kept_with_axl_as_the_default_path(target: str, url: str) -> None:
    assert Endpoint.parse(target).url == url


def test_is_tls_follows_the_scheme() -> None:
    assert Endpoint.parse("cucm-pub").is_tls
    assert not Endpoint.parse("http://127.0.0.1:8080/axl/").is_tls


@pytest.mark.parametrize(
    "target",
    [
        "",
        "   ",
        "cucm pub",
        "cucm-pub:0",
        "cucm-pub:65536",
        "cucm-pub:http",
        "ftp://cucm-pub/axl/",
        "https://",
        "https://cucm-pub:99999/axl/",
        "user@cucm-pub",
        "cucm-pub/axl",
    ],
)
def test_bad_input_raises_config_error_naming_the_option(target: str) -> None:
    with pytest.raises(ConfigError, match="--host"):
        Endpoint.parse(target)
