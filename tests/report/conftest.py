"""A judged run of the bundled sample, shared by the report's tests (one per module)."""

from __future__ import annotations

from pathlib import Path

import pytest

from syngen_improve import sample_path
from syngen_improve.cli import main


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of ``improve --judge`` on the bundled sample with the fake."""
    out = tmp_path_factory.mktemp("judged") / "out"
    assert main(["improve", str(sample_path()), "--out", str(out), "--backend", "fake",
                 "--judge", "--no-progress"]) == 0  # fmt: skip
    return out
