from __future__ import annotations

import pytest

from syngen_improve.llm import Pricing, Usage, price_for


def test_haiku_prices() -> None:
    short = Usage(input=100_000, output=100_000)  # a prompt of 100K tokens: the short price
    assert price_for("claude-haiku-5-5").cost(short) == pytest.approx(0.06)  # type: ignore[union-attr]
    assert price_for("claude-haiku-4-5").cost(short) == pytest.approx(0.60)  # type: ignore[union-attr]


def test_a_long_prompt_is_priced_at_the_long_rate_by_the_whole_prompt() -> None:
    haiku = price_for("claude-haiku-5-5")
    assert haiku is not None
    # 60K input + 50K read from the cache: a 110K-token prompt, every part at the long rate.
    usage = Usage(input=60_000, output=1_000, cache_read=50_000)
    assert haiku.cost(usage) == pytest.approx(60_000 * 0.5e-6 + 1_000 * 2.5e-6 + 50_000 * 0.05e-6)
    assert haiku.cost(Usage(input=99_000, output=1_000)) == pytest.approx(
        99_000 * 0.1e-6 + 1_000 * 0.5e-6
    )
    # Haiku 4.5 has no long price: the same rate at any length.
    h45 = price_for("claude-haiku-4-5")
    assert h45 is not None
    assert h45.cost(usage) == pytest.approx(0.06 + 0.005 + 0.005)


def test_cache_writes_at_the_ttl_price() -> None:
    haiku = price_for("claude-haiku-5-5")
    assert haiku is not None
    write = Usage(cache_creation=1_000_000 // 20)  # 50K: short
    assert haiku.cost(write) == pytest.approx(50_000 * 0.125e-6)
    assert haiku.cost(write, ttl="1h") == pytest.approx(50_000 * 0.20e-6)
    assert Pricing(1.0, 5.0).cost(write, ttl="1h") == pytest.approx(50_000 * 2e-6)


def test_money_is_whole_picodollars_and_adds_up_exactly() -> None:
    haiku = price_for("claude-haiku-5-5")
    assert haiku is not None
    one = haiku.picos(Usage(input=569, output=240, cache_read=10_841))
    assert isinstance(one, int)
    assert one == 569 * 100_000 + 240 * 500_000 + 10_841 * 10_000
    assert sum([one] * 1000) - 1000 * one == 0
    assert haiku.picos(Usage(input=1), batch=True) == 50_000


def test_a_price_from_the_command_line() -> None:
    assert Pricing.parse("0.10,0.50") == Pricing(0.10, 0.50)
    with pytest.raises(ValueError, match="IN,OUT in USD per million tokens"):
        Pricing.parse("cheap")


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
