"""The rate limiter: paced start, give-back, header adaptation, pauses."""

from __future__ import annotations

import asyncio

import pytest

from syngen_improve.llm import RateLimiter, RateLimits, Usage


async def test_buckets_start_full_when_asked() -> None:
    limiter = RateLimiter(RateLimits(rpm=50, input_tpm=10_000, output_tpm=5_000, burst=1.0))
    loop = asyncio.get_running_loop()
    start = loop.time()
    for _ in range(5):
        await limiter.acquire(1_000, 1_000)
    assert loop.time() - start < 0.5  # five requests go at once, no waiting
    assert not limiter._buckets["output"].has_capacity(1)
    assert not limiter._buckets["input"].has_capacity(5_001)


async def test_a_set_rpm_starts_with_a_tenth_then_paces() -> None:
    """rpm=600: 60 requests at once, then 10 a second (not 600 at once, then a stall)."""
    limiter = RateLimiter(RateLimits(rpm=600, input_tpm=50_000))
    bucket = limiter._buckets["requests"]
    assert bucket.has_capacity(59)
    assert not bucket.has_capacity(61)
    assert limiter._buckets["input"].has_capacity(50_000)  # token limits start full
    loop = asyncio.get_running_loop()
    start = loop.time()
    for _ in range(60):
        await limiter.acquire(10, 10)
    assert loop.time() - start < 0.05
    await limiter.acquire(10, 10)  # the 61st waits for the refill (0.1 s at 10 a second)
    assert 0.05 < loop.time() - start < 0.5
    with pytest.raises(ValueError, match="'burst' must be in"):
        RateLimits(rpm=10, burst=0)


async def test_unused_output_is_given_back_and_input_settled() -> None:
    limiter = RateLimiter(RateLimits(input_tpm=10_000, output_tpm=4_000))
    reserved = await limiter.acquire(3_000, 4_000)
    assert reserved == (3_000, 4_000)
    assert not limiter._buckets["output"].has_capacity(1)
    limiter.settle(reserved, Usage(input=500, output=1_000, cache_read=9_000))
    assert limiter._buckets["output"].has_capacity(3_000)
    assert not limiter._buckets["output"].has_capacity(3_001)
    assert limiter._buckets["input"].has_capacity(9_500)  # cache reads do not count
    reserved = await limiter.acquire(100, 100)
    limiter.settle(reserved, Usage(input=2_000, output=100))  # more than estimated
    assert not limiter._buckets["input"].has_capacity(8_000)


async def test_failed_requests_give_tokens_back() -> None:
    limiter = RateLimiter(RateLimits(rpm=10, output_tpm=1_000, burst=1.0))
    reserved = await limiter.acquire(10, 1_000)
    limiter.settle(reserved, None)
    assert limiter._buckets["output"].has_capacity(1_000)
    assert limiter._buckets["requests"].has_capacity(9)
    assert not limiter._buckets["requests"].has_capacity(10)  # the attempt still counts


async def test_a_request_larger_than_the_bucket_is_capped() -> None:
    limiter = RateLimiter(RateLimits(output_tpm=100))
    assert await limiter.acquire(1, 4096) == (0.0, 100)


async def test_headers_tighten_and_teach_the_buckets() -> None:
    limiter = RateLimiter(RateLimits(rpm=100, burst=1.0))
    limiter.observe(
        {
            "anthropic-ratelimit-requests-limit": "60",
            "anthropic-ratelimit-requests-remaining": "3",
            "anthropic-ratelimit-input-tokens-limit": "20000",
            "anthropic-ratelimit-input-tokens-remaining": "20000",
        }
    )
    assert limiter.limit("requests") == 60
    assert limiter._buckets["requests"].has_capacity(3)
    assert not limiter._buckets["requests"].has_capacity(4)
    assert limiter.limit("input") == 20_000
    assert limiter.limit("output") is None
    fixed = RateLimiter(RateLimits(rpm=100), adaptive=False)
    fixed.observe({"anthropic-ratelimit-requests-limit": "1"})
    assert fixed.limit("requests") == 100


async def test_pause_holds_acquire_for_everyone() -> None:
    limiter = RateLimiter()
    loop = asyncio.get_running_loop()
    limiter.pause(0.05)
    limiter.pause(0.01)  # a shorter pause never cuts a longer one
    start = loop.time()
    await asyncio.gather(*(limiter.acquire(1, 1) for _ in range(3)))
    assert loop.time() - start >= 0.045
    assert limiter.pauses == 1


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="'rpm' must be at least 1"):
        RateLimits(rpm=0)


def test_a_429_says_the_bucket_is_empty_only_through_its_headers() -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    from syngen_improve.llm._limits import exhausted_for

    need = {"requests": 1.0, "input": 5_000.0, "output": 1_000.0}
    soon = datetime.now(UTC) + timedelta(seconds=20)
    assert exhausted_for({}, need=need) is None  # a bare 429: nothing about the account
    assert exhausted_for({"retry-after": "3"}, need=need) is None
    plenty = {"anthropic-ratelimit-requests-remaining": "40",
              "anthropic-ratelimit-input-tokens-remaining": "90000"}  # fmt: skip
    assert exhausted_for(plenty, need=need) is None  # a random 429: back off alone
    rfc3339 = soon.isoformat().replace("+00:00", "Z")
    empty = {"anthropic-ratelimit-requests-remaining": "0",
             "anthropic-ratelimit-requests-reset": rfc3339}  # fmt: skip
    assert 18 < (exhausted_for(empty, need=need) or 0) <= 20
    http_date = format_datetime(soon, usegmt=True)
    short = {"anthropic-ratelimit-input-tokens-remaining": "4000",
             "anthropic-ratelimit-input-tokens-reset": http_date}  # fmt: skip
    assert 18 < (exhausted_for(short, need=need) or 0) <= 20  # fewer tokens than needed
    no_time = {"anthropic-ratelimit-output-tokens-remaining": "0"}
    assert exhausted_for(no_time, need=need) == 0.0
    lying = {"anthropic-ratelimit-requests-remaining": "-5"}  # ignored, like every bad value
    assert exhausted_for(lying, need=need) is None
