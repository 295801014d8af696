"""Admission: an attempt reserves its budget and rate-limit share on the way in and
settles both on every way out (answered, failed, cancelled)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from syngen_improve.llm import (
    Budget,
    CircuitBreaker,
    Pricing,
    RateLimiter,
    RateLimits,
    Request,
    Usage,
)
from syngen_improve.llm._admit import Admission


def admission(budget: Budget) -> Admission:
    limiter = RateLimiter(RateLimits(input_tpm=6000, output_tpm=6000))
    return Admission(CircuitBreaker(), limiter, budget, Pricing(1.0, 5.0), False, "5m", 1.0)


def levels(adm: Admission) -> tuple[float, float]:
    buckets = adm.limiter._buckets
    return buckets["input"]._level, buckets["output"]._level


@pytest.mark.parametrize("ending", ["answered", "failed", "cancelled"])
async def test_every_way_out_settles_the_budget_and_the_limiter(ending: str) -> None:
    budget = Budget(1.0)
    adm = admission(budget)
    before = levels(adm)
    request = Request(messages=[{"role": "user", "content": "hi"}], max_tokens=1000)

    async def attempt() -> None:
        async with adm.admit(request, 100) as ticket:
            assert budget.holds == 1
            assert budget.reserved > 0
            assert levels(adm)[1] >= before[1] + 1000  # max_tokens held from output
            if ending == "answered":
                ticket.usage, ticket.cost = Usage(input=100, output=10), 12345
            elif ending == "failed":
                raise RuntimeError("no answer")
            else:
                await asyncio.sleep(3600)

    task = asyncio.create_task(attempt())
    await asyncio.sleep(0.01)
    if ending == "cancelled":
        task.cancel()
    expected = {"answered": None, "failed": RuntimeError, "cancelled": asyncio.CancelledError}
    kind = expected[ending]
    with pytest.raises(kind) if kind else contextlib.nullcontext():
        await task
    assert (budget.holds, budget.reserved) == (0, 0)
    assert budget.spent == (12345 if ending == "answered" else 0)
    after = levels(adm)
    if ending == "answered":  # the real usage stays taken, the rest is given back
        assert after[1] == pytest.approx(before[1] + 10, abs=5)
    else:
        assert after[1] == pytest.approx(before[1], abs=5)
