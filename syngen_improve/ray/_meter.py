"""One rate limiter and spending cap for every worker of a cluster.

:class:`Meter` is a Ray actor that holds the run's :class:`~syngen_improve.llm.RateLimiter`
and :class:`~syngen_improve.llm.Budget`; each worker's engine is given proxies of them
(:class:`RemoteLimiter`, :class:`RemoteBudget`) that ask it, so N workers together stay
within ``--rpm``/``--tpm``, the limits the server's headers teach any of them, a pause a
429 asks for, and ``--max-cost``. A worker that dies with requests in flight leaves their
holds on the budget; the worker Ray starts in its place gives them back
(:meth:`Meter.release`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from ..llm import Budget, BudgetReached, RateLimiter, RateLimits, Usage

__all__ = ["Meter", "RemoteBudget", "RemoteLimiter"]


class Meter:
    """The cluster's limiter and budget (run as a Ray actor: ``ray.remote(Meter)``)."""

    def __init__(self, limits: RateLimits, max_usd: float | None, *, adaptive: bool) -> None:
        self._limits, self._max_usd, self._adaptive = limits, max_usd, adaptive
        self._limiter: RateLimiter | None = None
        self._budget: Budget | None = None
        self._held: dict[str, Counter[int]] = {}
        self.requests = 0

    def _meters(self) -> tuple[RateLimiter, Budget | None]:
        """Made on the actor's event loop, on first use (the buckets keep its time)."""
        if self._limiter is None:
            self._limiter = RateLimiter(self._limits, adaptive=self._adaptive)
            if self._max_usd is not None:
                self._budget = Budget(self._max_usd)
        return self._limiter, self._budget

    async def acquire(self, input_tokens: float, max_tokens: float) -> tuple[float, float]:
        self.requests += 1
        return await self._meters()[0].acquire(input_tokens, max_tokens)

    async def settle(self, reserved: tuple[float, float], usage: Usage | None) -> None:
        self._meters()[0].settle(reserved, usage)

    async def observe(self, headers: dict[str, str], need: dict[str, float] | None) -> None:
        self._meters()[0].observe(headers, need=need)

    async def pause(self, seconds: float) -> None:
        self._meters()[0].pause(seconds)

    async def wait_pause(self) -> None:
        await self._meters()[0].wait_pause()

    async def reserve(self, holder: str, worst: int) -> str | None:
        """Hold ``worst`` picodollars for ``holder``'s request; the reason it cannot be
        (the cap is reached), else ``None``."""
        budget = self._meters()[1]
        assert budget is not None
        try:
            await budget.reserve(worst)
        except BudgetReached as exc:
            return str(exc)
        self._held.setdefault(holder, Counter())[worst] += 1
        return None

    async def spend(self, holder: str, worst: int, actual: int) -> None:
        """Settle a hold of ``holder``'s at its real cost."""
        held = self._held.get(holder)
        if held is None or not held[worst]:
            return  # released already: its worker was replaced
        held[worst] -= 1
        budget = self._meters()[1]
        assert budget is not None
        await budget.settle(worst, actual)

    async def release(self, holder: str) -> int:
        """Give back every hold of ``holder`` (a worker that died and was replaced: what it
        had in flight is no longer in flight); how many were given back."""
        held = self._held.pop(holder, Counter())
        budget = self._meters()[1]
        if budget is not None:
            for worst, count in held.items():
                for _ in range(count):
                    await budget.settle(worst, 0)
        return sum(held.values())

    async def totals(self) -> dict[str, Any]:
        """Requests admitted, and the budget's spend (picodollars) and holds."""
        limiter, budget = self._meters()
        out: dict[str, Any] = {"admitted": self.requests, "pauses": limiter.pauses}
        if budget is not None:
            out.update(spent=budget.spent, reserved=budget.reserved, holds=budget.holds)
        return out


class RemoteLimiter(RateLimiter):
    """A worker's view of the :class:`Meter`'s limiter (``meter``: the actor's handle)."""

    def __init__(self, meter: Any, *, adaptive: bool = True) -> None:
        super().__init__(None, adaptive=adaptive)
        self._meter = meter

    async def acquire(self, input_tokens: float, max_tokens: float) -> tuple[float, float]:
        taken_in, taken_out = await self._meter.acquire.remote(input_tokens, max_tokens)
        return float(taken_in), float(taken_out)

    def settle(self, reserved: tuple[float, float], usage: Usage | None) -> None:
        self._meter.settle.remote(reserved, usage)

    def observe(
        self, headers: Mapping[str, str], *, need: Mapping[str, float] | None = None
    ) -> None:
        if self.adaptive and headers:
            plain = {str(k).lower(): str(v) for k, v in headers.items()}
            self._meter.observe.remote(plain, dict(need) if need is not None else None)

    def pause(self, seconds: float) -> None:
        self.pauses += 1
        self._meter.pause.remote(seconds)

    async def wait_pause(self) -> None:
        await self._meter.wait_pause.remote()


class RemoteBudget(Budget):
    """A worker's view of the :class:`Meter`'s spending cap; ``holder`` names the worker
    (its holds are given back if it dies)."""

    def __init__(self, meter: Any, max_usd: float, *, holder: str) -> None:
        super().__init__(max_usd)
        self._meter, self._holder = meter, holder

    async def reserve(self, worst: int) -> None:
        refused = await self._meter.reserve.remote(self._holder, worst)
        if refused is not None:
            raise BudgetReached(refused)

    async def settle(self, worst: int, actual: int) -> None:
        await self._meter.spend.remote(self._holder, worst, actual)
