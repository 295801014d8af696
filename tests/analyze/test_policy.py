from __future__ import annotations

import pytest

from syngen_improve import SeedPolicy


def _scores(overall: float, memory: int = 3) -> dict[str, object]:
    return {"quality_scores": {"overall_quality": overall, "sessionMemory_quality": memory}}


@pytest.mark.parametrize(
    ("example", "poor"),
    [
        (_scores(2.9), True),
        (_scores(3.0), False),
        (_scores(4.5, memory=1), True),
        (_scores(4.5, memory=2), False),
        ({"quality_scores": {"overall_quality": 2.0}}, True),
        ({"quality_scores": {"sessionMemory_quality": 1}}, True),
        ({"quality_scores": {"notes": "x"}, "label": True}, False),
        ({"label": False}, True),
        ({"label": True}, False),
        ({}, False),
        ({"quality_scores": {"overall_quality": True}, "label": False}, True),  # bool is no score
    ],
)
def test_seed_policy(example: dict[str, object], poor: bool) -> None:
    assert SeedPolicy()(example) is poor


def test_thresholds_are_configurable_and_validated() -> None:
    assert SeedPolicy(overall_below=3.5)(_scores(3.2))
    assert not SeedPolicy(memory_at_most=0)(_scores(4.0, memory=1))
    with pytest.raises(ValueError, match="'overall_below' must be"):
        SeedPolicy(overall_below=0)
    with pytest.raises(ValueError, match="'memory_at_most' must be"):
        SeedPolicy(memory_at_most=-1)
