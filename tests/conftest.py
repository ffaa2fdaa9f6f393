"""Shared pytest setup for the cucm-spark test suite."""

import sys
from pathlib import Path

# --import-mode=importlib leaves sys.path alone; put tests/ on it so that helper
# modules import as `from support.official_schema import validate_body`.
_TESTS_DIR = str(Path(__file__).parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)


import pytest  # noqa: E402
from support.lab import running_lab  # noqa: E402


@pytest.fixture
def lab():
    """The bundled edge-case cluster, served over HTTP for one test."""
    with running_lab() as server:
        yield server
