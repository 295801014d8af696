"""The engine against the fake over real HTTP: concurrency, faults, pauses, timeouts."""

from __future__ import annotations

import asyncio
import gc
import json
import time
from typing import Any

import pytest

from syngen_improve._pool import run_pool
from syngen_improve.llm import (
    AnthropicBackend,
    BackendError,
    Engine,
    RateLimiter,
    RateLimits,
    Request,
    RequestFailed,
    RetryPolicy,
)
from syngen_improve.testing import FakeAnthropicServer, FakeConfig
from tests.helpers import make_example

TOOL = {"name": "submit_improved_example", "input_schema": {"type": "object"}}
FAST = RetryPolicy(base_delay=0.001, max_delay=0.01, timeout=5)


def request(n: int = 0, *, cache_system: bool = True) -> Request:
    ex = make_example(user=f"Please tidy project folder number {n} before the review")
    return Request(
        messages=[{"role": "user", "content": json.dumps(ex)}],
        system="Improve the example.",
        tools=[TOOL],
        tool_choice="submit_improved_example",
        key=str(n),
        cache_system=cache_system,
        thinking={"type": "disabled"},  # as the engine sends it (tests send some directly)
    )


def engine(server: FakeAnthropicServer, **kwargs: Any) -> Engine:
    kwargs.setdefault("retry", FAST)
    return Engine(AnthropicBackend(api_key="sk-test", base_url=server.url), **kwargs)


async def test_concurrency_never_exceeds_the_pool_size() -> None:
    async with FakeAnthropicServer(config=FakeConfig(latency=0.02)) as server:
        eng = engine(server)

        seen: list[int] = []  # the panel's "in flight": requests, as the server counts them

        async def handle(n: int) -> None:
            seen.append(eng.stats.in_flight)
            await eng.complete(request(n))

        await run_pool(range(40), handle, concurrency=7)
        await eng.backend.aclose()
    assert server.counters.max_in_flight == 7
    assert 1 <= max(seen) <= 6  # at most the other six when one starts: requests
    assert eng.stats.in_flight == 0
    assert server.counters.by_status[200] == 40
    assert eng.stats.succeeded == 40
    assert eng.stats.usage.output > 0
    assert eng.stats.cost_usd > 0


@pytest.mark.parametrize("fault", ["429", "529", "500", "drop", "hang"])
async def test_each_fault_is_retried_then_succeeds(fault: str) -> None:
    config = FakeConfig(first_faults=[fault], retry_after=0.01, hang_seconds=30)
    retry = RetryPolicy(base_delay=0.001, max_delay=0.01, timeout=0.3)
    async with FakeAnthropicServer(config=config) as server:
        eng = engine(server, retry=retry)
        reply = await eng.complete(request())
        await eng.backend.aclose()
    assert reply.tool_use("submit_improved_example") is not None
    assert eng.stats.requests == 2
    assert eng.stats.retried == 1
    assert server.counters.faults[fault] == 1
    assert server.counters.by_status[200] == 1
    if fault == "hang":
        assert eng.stats.timeouts == 1
    if fault == "429":
        assert eng.stats.rate_limited == 1


async def test_sdk_retries_are_off_so_attempts_never_multiply() -> None:
    config = FakeConfig(first_faults=["529", "529", "529"])
    async with FakeAnthropicServer(config=config) as server:
        eng = engine(server, retry=RetryPolicy(max_attempts=2, base_delay=0.001))
        with pytest.raises(RequestFailed) as info:
            await eng.complete(request())
        await eng.backend.aclose()
    assert server.counters.requests == 2
    assert info.value.attempts == 2
    assert info.value.status == 529
    assert not info.value.fatal


async def test_a_bare_429_backs_off_only_its_own_request() -> None:
    """A 429 with no rate-limit headers (a random one, a proxy's) says nothing about the
    account's bucket: the request that got it waits its retry-after, nobody else does."""
    pause = 0.25
    config = FakeConfig(first_faults=["429"], retry_after=pause)
    async with FakeAnthropicServer(config=config) as server:
        eng = engine(server)
        other = request(2)
        # Spend the other example's injected 429 up front, so its next request succeeds.
        with pytest.raises(BackendError, match="429"):
            await eng.backend.send(other)
        first = asyncio.create_task(eng.complete(request(1)))
        while eng.stats.rate_limited == 0:
            await asyncio.sleep(0.001)
        limited_at = server.counters.started[-1]
        await eng.complete(other)  # a different worker goes at once
        other_at = server.counters.started[-1]
        await first
        retried_at = server.counters.started[-1]
        await eng.backend.aclose()
    assert other_at - limited_at < pause / 2
    assert retried_at - limited_at >= pause * 0.95  # its own retry-after is honoured
    assert eng.limiter.pauses == 0


async def test_a_429_that_says_the_bucket_is_empty_pauses_every_worker() -> None:
    """The server's requests bucket (2 a minute) is empty: its headers say remaining 0 and
    when it resets, so every worker waits, not only the one that was told."""
    async with FakeAnthropicServer(config=FakeConfig(rpm=2)) as server:
        # Not learning the limit from the headers, so the third request reaches the server.
        eng = engine(server, limits=RateLimiter(adaptive=False))
        await eng.complete(request(1))
        await eng.complete(request(2))
        third = asyncio.create_task(eng.complete(request(3)))
        while eng.stats.rate_limited == 0:
            await asyncio.sleep(0.001)
        limited_at = server.counters.started[-1]
        fourth = asyncio.create_task(eng.complete(request(4)))
        await asyncio.sleep(0.3)
        assert server.counters.started[-1] == limited_at  # the fourth is held too
        assert eng.limiter.pauses == 1
        third.cancel()
        fourth.cancel()
        await asyncio.gather(third, fourth, return_exceptions=True)
        await eng.backend.aclose()


async def test_401_fails_fast_and_never_shows_the_key() -> None:
    secret = "sk-ant-secret-0123456789abcdef"
    async with FakeAnthropicServer(config=FakeConfig(api_key="the-right-key")) as server:
        eng = Engine(AnthropicBackend(api_key=secret, base_url=server.url), retry=FAST)

        async def handle(n: int) -> None:
            await eng.complete(request(n))

        with pytest.raises(RequestFailed) as info:
            await run_pool(range(50), handle, concurrency=4)
        await eng.backend.aclose()
    error = info.value
    assert error.fatal
    assert error.attempts == 1
    assert "401" in str(error)
    assert "api_key" in str(error)
    seen = [
        str(error),
        repr(error),
        str(error.error),
        repr(error.__cause__),
        repr(error.__context__),
    ]
    assert not any(secret in s or secret[-12:] in s for s in seen)
    assert server.counters.requests <= 4  # the run stopped instead of failing 50 times


async def test_limits_are_learned_from_the_headers() -> None:
    async with FakeAnthropicServer(config=FakeConfig(rpm=50, output_tpm=90_000)) as server:
        eng = engine(server)
        assert eng.limiter.limit("requests") is None
        await eng.complete(request())
        await eng.backend.aclose()
    assert eng.limiter.limit("requests") == 50
    assert eng.limiter.limit("output") == 90_000


async def test_client_rpm_below_server_rpm_gets_no_429() -> None:
    async with FakeAnthropicServer(config=FakeConfig(rpm=12)) as server:
        eng = engine(server, limits=RateLimits(rpm=12, burst=1.0))

        async def handle(n: int) -> None:
            await eng.complete(request(n))

        await run_pool(range(12), handle, concurrency=12)  # the whole first minute's burst
        await eng.backend.aclose()
    assert server.counters.rate_limited == 0
    assert not eng.limiter._buckets["requests"].has_capacity()


def test_input_estimate_counts_what_the_input_limit_counts() -> None:
    """Everything the request sends, but for a prefix marked for caching: cache reads do
    not count against the input-tokens-per-minute limit."""
    from syngen_improve.llm._engine import _rough_size

    plain = request(cache_system=False)
    extra = Request(
        messages=plain.messages, system=plain.system, system_extra="S" * 3500,
        tools=plain.tools, tool_choice=plain.tool_choice, cache_system=False,
    )  # fmt: skip
    assert _rough_size(extra) - _rough_size(plain) == 3500  # the per-request system block
    assert _rough_size(plain) >= len(json.dumps(plain.messages[0]["content"]))
    no_tools = Request(messages=plain.messages, system=plain.system, cache_system=False)
    assert _rough_size(plain) - _rough_size(no_tools) == len(
        json.dumps([TOOL], separators=(",", ":"))
    )
    cached = Request(messages=plain.messages, system="R" * 20000, tools=plain.tools,
                     tool_choice=plain.tool_choice)  # fmt: skip
    assert _rough_size(cached) == _rough_size(no_tools) - len(str(plain.system))


async def test_the_attempt_timeout_adapts_to_the_latencies_seen() -> None:
    """After 32 replies at ~20 ms, an attempt is cut at 4x their 99th percentile (here the
    0.5 s floor), not at the 30 s ceiling: a hung request costs a fraction of a second.
    (The p99 of 32 replies is their slowest: the client is warmed up first, and the floor
    leaves room for a reply slowed by a busy machine.)"""
    retry = RetryPolicy(base_delay=0.001, max_delay=0.01, max_timeout=30, min_timeout=0.5)
    config = FakeConfig(latency=0.02, hang_seconds=30)
    async with FakeAnthropicServer(config=config) as server:
        eng = engine(server, retry=retry)
        await eng.backend.send(request(999))  # the client's first request sets it up
        gc.collect()  # not a full collection of earlier tests' garbage in the middle
        assert eng.attempt_timeout == 30  # nothing seen yet: the ceiling
        for n in range(32):
            await eng.complete(request(n))
        assert eng.attempt_timeout == pytest.approx(0.5)  # 4 x ~0.02 s is below the floor
        # From now on the server hangs on each example's first request.
        hanging = FakeConfig(latency=0.02, hang_seconds=30, first_faults=["hang"])
        server.fake.config = server.fake.answers.config = hanging
        reply = await eng.complete(request(100))
        await eng.backend.aclose()
    assert reply.tool_use("submit_improved_example") is not None
    assert eng.stats.timeouts == 1


async def test_a_cut_request_gets_twice_the_time_on_its_next_attempt() -> None:
    """A reply slower than the adapted limit (but not hung) arrives after one cut: the
    second attempt may take 2x as long. The ceiling still bounds it."""
    retry = RetryPolicy(base_delay=0.001, max_delay=0.002, max_timeout=30, min_timeout=0.5)
    async with FakeAnthropicServer(config=FakeConfig(latency=0.01)) as server:
        eng = engine(server, retry=retry)
        await eng.backend.send(request(999))  # the client's first request sets it up
        gc.collect()  # not a full collection of earlier tests' garbage in the middle
        for n in range(32):
            await eng.complete(request(n))
        assert eng.attempt_timeout == pytest.approx(0.5)
        # Now every reply takes 0.7 s: cut at 0.5 s, then allowed 1.0 s.
        slow = FakeConfig(latency=0.7)
        server.fake.config = server.fake.answers.config = slow
        reply = await eng.complete(request(200))
        await eng.backend.aclose()
    assert reply.tool_use("submit_improved_example") is not None
    assert eng.stats.timeouts == 1
    assert eng.stats.retried == 1


async def test_a_request_hung_in_the_first_wave_is_cut_once_the_limit_is_learned() -> None:
    """The first requests leave before any latency is known (the limit is the 30 s
    ceiling); when the limit is learned, the hung ones among them are held to it."""
    retry = RetryPolicy(base_delay=0.001, max_delay=0.002, max_timeout=30, min_timeout=0.2)
    config = FakeConfig(latency=0.01, fault_rates={"hang": 0.05}, hang_seconds=60, seed=3)
    async with FakeAnthropicServer(config=config) as server:
        eng = engine(server, retry=retry)
        started = time.monotonic()
        async with asyncio.TaskGroup() as tg:
            for n in range(64):  # one wave: all sent before the first reply
                tg.create_task(eng.complete(request(n)))
        elapsed = time.monotonic() - started
        hung = server.counters.faults["hang"]
        await eng.backend.aclose()
    assert hung >= 1
    assert eng.stats.timeouts == hung
    assert eng.stats.succeeded == 64
    assert elapsed < 15  # not the 30 s ceiling, nor the 60 s hang


def test_a_timeout_set_by_the_user_is_not_adapted() -> None:
    from syngen_improve import ImproveConfig
    from syngen_improve.cli import build_parser
    from syngen_improve.cli._options import IMPROVE, config_from_args

    assert ImproveConfig().retry.adaptive
    assert not ImproveConfig.of(timeout=45).retry.adaptive
    assert ImproveConfig.of(timeout=45).retry.timeout == 45
    args = build_parser().parse_args(["improve", "x.jsonl", "--out", "o", "--timeout", "45"])
    assert not config_from_args(args, IMPROVE).retry.adaptive
    args = build_parser().parse_args(["improve", "x.jsonl", "--out", "o"])
    assert config_from_args(args, IMPROVE).retry.adaptive
