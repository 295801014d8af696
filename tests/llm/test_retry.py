from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from syngen_improve.llm import RetryPolicy, parse_retry_after


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529, None])
def test_retryable(status: int | None) -> None:
    policy = RetryPolicy(max_attempts=3)
    assert policy.should_retry(1, status)
    assert policy.should_retry(2, status)
    assert not policy.should_retry(3, status)  # max_attempts counts the first try


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_client_errors_fail_fast(status: int) -> None:
    assert not RetryPolicy().should_retry(1, status)


def test_full_jitter_grows_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    rng = random.Random(7)
    for attempt, cap in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        waits = [policy.delay(attempt, rng=rng) for _ in range(300)]
        assert all(0 <= w <= cap for w in waits)
        assert max(waits) > 0.9 * cap  # spread over the whole range, not a fixed pause
        assert min(waits) < 0.1 * cap


def test_retry_after_is_a_floor() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=1.0)
    assert policy.delay(1, retry_after=12.5, rng=random.Random(1)) == 12.5
    assert policy.delay(1, retry_after=0.0, rng=random.Random(1)) >= 0.0


def test_parse_retry_after() -> None:
    assert parse_retry_after({"Retry-After": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after-ms": "x", "retry-after": "2"}) == 2.0
    now = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
    date = {"retry-after": "Tue, 24 Nov 2026 12:00:30 GMT"}
    assert parse_retry_after(date, now=now) == 30.0
    assert parse_retry_after({"retry-after": "-5"}) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_attempts": 0}, "'max_attempts' must be >= 1"),
        ({"timeout": 0}, "'timeout' must be a number > 0, got 0"),
        ({"max_timeout": "1"}, "'max_timeout' must be a number > 0"),
        ({"base_delay": 2.0, "max_delay": 1.0}, "'max_delay' must be >= 'base_delay'"),
    ],
)
def test_validation(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'attempt' must be >= 1"):
        RetryPolicy().delay(0)


def test_a_timeout_set_is_fixed_and_without_one_it_adapts_up_to_max_timeout() -> None:
    """One rule, in the policy itself: however the policy is made, ``timeout`` fixes the
    seconds per attempt and its absence adapts them (up to ``max_timeout``)."""
    assert RetryPolicy().adaptive
    assert RetryPolicy().ceiling == RetryPolicy().max_timeout == 120
    fixed = RetryPolicy(timeout=30)
    assert (fixed.adaptive, fixed.ceiling) == (False, 30)
    assert RetryPolicy(max_timeout=30).adaptive
