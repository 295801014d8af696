"""Admission: what a request takes before it is sent, given back on every way out.

One attempt first passes the circuit breaker, then reserves its worst-case cost from the
spending cap and its size from the rate limiter (as aiometer's meters do: reserve, then
settle at the real figures). The :class:`Ticket` it gets settles both when the attempt
ends, whether it was answered, failed or was cancelled.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from ._backend import Request
from ._breaker import CircuitBreaker
from ._budget import Budget
from ._limits import RateLimiter
from ._pricing import CacheTTL, Pricing, Usage
from ._tokens import tokens

__all__ = ["Admission", "Meters", "Ticket"]


@dataclass(frozen=True)
class Meters:
    """A rate limiter and spending cap given to a run instead of its own (one for many
    processes: :mod:`syngen_improve.ray` shares them across a cluster). ``budget`` ``None``:
    the run's own ``max_cost``, if any."""

    limiter: RateLimiter
    budget: Budget | None = None


@dataclass
class Ticket:
    """One admitted attempt: whether it is the breaker's probe, what it reserved, and once
    answered its usage and cost (picodollars), which settle the reservations."""

    probe: bool
    reserved: tuple[float, float]
    worst: int
    usage: Usage | None = None
    cost: int = 0


@dataclass(frozen=True)
class Admission:
    """The run's breaker, limiter and (optional) budget, entered together per attempt."""

    breaker: CircuitBreaker
    limiter: RateLimiter
    budget: Budget | None
    pricing: Pricing | None
    batch: bool
    ttl: CacheTTL
    token_factor: float

    @contextlib.asynccontextmanager
    async def admit(self, request: Request, estimate: int) -> AsyncIterator[Ticket]:
        """Wait until ``request`` (``estimate`` input tokens) may go; settle on exit."""
        probe = await self.breaker.admit(gated=not self.batch)
        try:
            worst = await self._reserve_worst(request, estimate)
            ticket = Ticket(probe, (0.0, 0.0), worst)
            try:
                ticket.reserved = await self.limiter.acquire(estimate, request.max_tokens)
                yield ticket
            finally:
                self.limiter.settle(ticket.reserved, ticket.usage)
                if self.budget is not None and worst:
                    await self.budget.settle(worst, ticket.cost)
        finally:
            self.breaker.leave()

    async def _reserve_worst(self, request: Request, estimate: int) -> int:
        """What the request may cost at most in picodollars, reserved from the budget (0
        without one): its input, its prefix written to the cache, ``max_tokens`` of output
        (thinking included), at the long-prompt price when its prompt may be long."""
        if self.budget is None or self.pricing is None:
            return 0
        size = request.prefix_size() if request.cache_system else 0
        worst = Usage(
            input=estimate,
            output=request.max_tokens,
            cache_creation=tokens(size, self.token_factor),
        )
        cost = max(1, self.pricing.picos(worst, batch=self.batch, ttl=self.ttl))
        await self.budget.reserve(cost)
        return cost

    def price(self, usage: Usage) -> int:
        """What ``usage`` cost in picodollars (0 when the price is unknown)."""
        if self.pricing is None:
            return 0
        return self.pricing.picos(usage, batch=self.batch, ttl=self.ttl)
