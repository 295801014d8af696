from __future__ import annotations

import pytest

from syngen_improve.llm import Pricing, Usage, price_for


def test_haiku_prices() -> None:
    usage = Usage(input=1_000_000, output=1_000_000)
    assert price_for("claude-haiku-5-5").cost(usage) == pytest.approx(0.60)  # type: ignore[union-attr]
    assert price_for("claude-haiku-4-5").cost(usage) == pytest.approx(6.00)  # type: ignore[union-attr]


def test_cache_and_batch_factors() -> None:
    p = Pricing(1.0, 5.0)
    assert p.cost(Usage(cache_read=1_000_000)) == pytest.approx(0.10)
    assert p.cost(Usage(cache_creation=1_000_000)) == pytest.approx(1.25)
    usage = Usage(input=2_000_000, output=400_000, cache_read=1_000_000, cache_creation=100_000)
    full = 2.0 + 2.0 + 0.1 + 0.125
    assert p.cost(usage) == pytest.approx(full)
    assert p.cost(usage, batch=True) == pytest.approx(full / 2)


def test_usage_adds_up() -> None:
    assert Usage(1, 2, 3, 4) + Usage(10, 20, 30, 40) == Usage(11, 22, 33, 44)


def test_model_ids() -> None:
    assert price_for("claude-haiku-4-5-20251001") == price_for("claude-haiku-4-5")
    assert price_for("claude-haiku-4-5-preview") is None
    assert price_for("some-local-model") is None


def test_negative_price_is_rejected() -> None:
    with pytest.raises(ValueError, match="'input_per_mtok' must be >= 0"):
        Pricing(-1, 1)
