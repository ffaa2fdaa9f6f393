"""Shared pytest setup for the cucm-spark test suite."""

import os
import sys
from pathlib import Path

# --import-mode=importlib leaves sys.path alone; put tests/ on it so that helper
# modules import as `from support.official_schema import validate_body`.
_TESTS_DIR = str(Path(__file__).parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)


import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402
from support.lab import running_lab  # noqa: E402

# The fuzz tests: a bounded run that is the same every time ("ci", the default), or a long
# random search with HYPOTHESIS_PROFILE=long.
settings.register_profile("ci", max_examples=500, deadline=None, derandomize=True, database=None)
settings.register_profile("long", max_examples=5000, deadline=None, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def lab():
    """The bundled edge-case cluster, served over HTTP for one test."""
    with running_lab() as server:
        yield server
