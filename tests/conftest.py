"""Shared fixtures: the real data in ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The real data folder; the test is skipped when it is absent."""
    if not (SHARED_DATA / "scored_sample.jsonl").exists():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


pytest_plugins = ["syngen_improve.testing.pytest_plugin"]
