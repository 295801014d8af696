"""The engine: one call to :meth:`Engine.complete` is one request made reliable.

It waits for the rate limiter, sends through the backend with a per-attempt
timeout, retries by the :class:`RetryPolicy` (never sooner than a ``retry-after``),
pauses every worker when a 429's headers say the account's bucket is empty (any other
429 backs off its own request only), and accounts requests, tokens and cost in
:class:`EngineStats`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from ..errors import SyngenError, UsageError
from ._backend import Backend, BackendError, Reply, Request
from ._breaker import CircuitBreaker, is_service_failure
from ._budget import Budget
from ._limits import RateLimiter, RateLimits, exhausted_for
from ._pricing import Pricing, Usage, price_for
from ._retry import MAX_RETRY_AFTER, RetryPolicy

__all__ = ["Engine", "EngineStats", "RequestFailed", "estimate_input_tokens"]

#: Statuses that will fail the same way for every request of the run (bad key,
#: no permission, unknown model): the run stops instead of failing each example.
FATAL_STATUSES = frozenset({401, 403, 404})
#: Replies the adaptive timeout learns from (the most recent), and how many it needs first.
_LATENCY_WINDOW = 512
_MIN_SAMPLES = 32
#: Statuses that say the service, not the request, failed: the request may succeed later.
TRANSIENT_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))


def estimate_input_tokens(body_size: int) -> int:
    """A cautious input-token estimate from the request's JSON size in bytes.

    Anthropic tokenizers average 3.5-4 bytes a token on English and JSON; 3.5 keeps
    the estimate on the high side so the input bucket is not overdrawn.
    """
    return max(1, math.ceil(body_size / 3.5))


class RequestFailed(SyngenError):
    """A request that did not succeed within the retry policy.

    ``transient`` says the service, not the request, failed, so the same request may
    succeed later: no response, a timeout, a 5xx, 408/409/429, a retry-after too long to
    wait, or a refusal (400) that other requests got too (see the circuit breaker).
    ``strict_refused``: a 400 for a request with a strict tool whose message is about its
    schema or grammar (the same request without ``strict`` may pass).
    """

    def __init__(
        self,
        error: BackendError,
        *,
        attempts: int,
        transient: bool = False,
        strict_refused: bool = False,
    ) -> None:
        super().__init__(f"gave up after {attempts} attempt(s): {error}")
        self.error = error
        self.attempts = attempts
        self.transient = transient
        self.strict_refused = strict_refused

    @property
    def status(self) -> int | None:
        return self.error.status

    @property
    def fatal(self) -> bool:
        """True when every other request would fail the same way (401, 403, 404)."""
        return self.error.status in FATAL_STATUSES


@dataclass
class EngineStats:
    """Running totals of a run (all attempts, not just the last)."""

    requests: int = 0
    succeeded: int = 0
    failed: int = 0
    retried: int = 0
    rate_limited: int = 0
    timeouts: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0

    def absorb(self, other: EngineStats) -> None:
        """Add ``other``'s totals (a second engine of the same run, e.g. online re-asks)."""
        for name in ("requests", "succeeded", "failed", "retried", "rate_limited", "timeouts"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.by_status.update(other.by_status)
        self.usage = self.usage + other.usage
        self.cost_usd += other.cost_usd

    def to_dict(self) -> dict[str, Any]:
        """The report's ``requests`` / ``tokens`` / ``cost_usd`` figures."""
        u = self.usage
        return {
            "requests": {
                "total": self.requests,
                "succeeded": self.succeeded,
                "failed": self.failed,
                "retried": self.retried,
                "rate_limited": self.rate_limited,
                "timeouts": self.timeouts,
                "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            },
            "tokens": {
                "input": u.input,
                "output": u.output,
                "cache_read": u.cache_read,
                "cache_creation": u.cache_creation,
            },
            "cost_usd": round(self.cost_usd, 6),
        }


class Engine:
    """Reliable, rate-limited requests over a :class:`Backend`.

    ``pricing`` defaults to the table entry of the backend's model (no cost is
    counted for a model the table does not know); ``batch`` prices at the batch rate.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        limits: RateLimits | RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        pricing: Pricing | None = None,
        batch: bool = False,
        rng: random.Random | None = None,
        breaker: CircuitBreaker | None = None,
        concurrency: int | None = None,
        budget: Budget | None = None,
    ) -> None:
        if concurrency is not None and concurrency < 1:
            raise UsageError(f"'concurrency' must be > 0, got {concurrency}")
        self.backend = backend
        # Attempts in flight at once (None: as many as callers make); a caller waiting out
        # a back-off holds none.
        self._slots = asyncio.Semaphore(concurrency) if concurrency is not None else None
        self.limiter = limits if isinstance(limits, RateLimiter) else RateLimiter(limits)
        self.retry = retry or RetryPolicy()
        self.pricing = pricing if pricing is not None else price_for(backend.model)
        self.batch = batch or bool(getattr(backend, "batch", False))
        # A batch backend's answer can take hours: its minimum outranks the policy's.
        floor = float(getattr(backend, "min_attempt_timeout", 0))
        self._timeout = max(self.retry.timeout, floor)
        self._adapt = self.retry.adaptive and not floor
        self._latencies: deque[float] = deque(maxlen=_LATENCY_WINDOW)
        self._adapted: float | None = None
        self._seen = 0
        # Attempts in flight: their timeout, when they were sent (loop time), their cuts.
        self._inflight: dict[asyncio.Timeout, tuple[float, int]] = {}
        self.stats = EngineStats()
        self._rng = rng or random.Random()
        self.breaker = breaker if breaker is not None else CircuitBreaker()
        if budget is not None and self.pricing is None:
            raise UsageError(f"a spending cap needs the price of {backend.model!r}, which is "
                             "not known")  # fmt: skip
        self.budget = budget

    async def _reserve_worst(self, request: Request, estimate: int) -> float:
        """What the request may cost at most, reserved from the budget (0 without one):
        its input, its prefix written to the cache, ``max_tokens`` of output."""
        if self.budget is None or self.pricing is None:
            return 0.0
        prefix = estimate_input_tokens(request.prefix_size()) if request.cache_system else 0
        worst = Usage(input=estimate, output=request.max_tokens, cache_creation=prefix)
        cost = self.pricing.cost(worst, batch=self.batch)
        await self.budget.reserve(cost)
        return cost

    async def _settle(self, worst: float, actual: float) -> None:
        if self.budget is not None and worst:
            await self.budget.settle(worst, actual)

    @property
    def attempt_timeout(self) -> float:
        """Seconds the next attempt may take: the policy's timeout, or once enough replies
        were seen (and the policy is adaptive), a multiple of their 99th percentile."""
        return self._adapted if self._adapted is not None else self._timeout

    def _observe_latency(self, seconds: float) -> None:
        if not self._adapt:
            return
        self._latencies.append(seconds)
        self._seen += 1
        if self._seen >= _MIN_SAMPLES and self._seen % 16 == 0:  # a sort every 16 replies
            ordered = sorted(self._latencies)
            p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
            policy = self.retry
            adapted = min(policy.timeout, max(policy.min_timeout, p99 * policy.timeout_factor))
            # Only a big change is worth moving every deadline in flight (the first limit
            # learned replaces the ceiling; later ones drift by a few percent).
            if self._adapted is None or adapted < 0.5 * self._adapted:
                self._shorten_inflight(adapted)
            self._adapted = adapted

    def _shorten_inflight(self, limit: float) -> None:
        """Bring in the deadlines of the attempts in flight to a new, shorter limit: the
        first wave of a run is sent before any latency is known, and a hung request in it
        would otherwise hold its worker for the whole ceiling."""
        now = asyncio.get_running_loop().time()
        for cm, (sent, cuts) in self._inflight.items():
            deadline = sent + min(limit * 2**cuts, self._timeout)
            current = cm.when()
            if current is None or deadline < current:
                cm.reschedule(max(deadline, now))

    async def _attempt(self, request: Request, cuts: int) -> Reply:
        """One attempt within its time limit (doubled for each earlier cut of this request:
        a long reply still lands), holding a slot; its latency is learned from."""
        loop = asyncio.get_running_loop()
        async with self._slots if self._slots is not None else contextlib.nullcontext():
            limit = min(self.attempt_timeout * 2**cuts, self._timeout)
            started = loop.time()
            try:
                async with asyncio.timeout(limit) as cm:
                    self._inflight[cm] = (started, cuts)
                    try:
                        reply = await self.backend.send(request)
                    finally:
                        del self._inflight[cm]
            except TimeoutError:
                raise _Cut((cm.when() or started + limit) - started) from None
        self._observe_latency(loop.time() - started)
        return reply

    async def complete(self, request: Request, *, body_size: int | None = None) -> Reply:
        """Send ``request`` until it succeeds or the policy gives up (:class:`RequestFailed`).

        ``body_size`` (bytes of the request JSON) overrides the input-token estimate's
        own measure of the request (system blocks, messages and tools as JSON).
        """
        size = body_size if body_size is not None else _rough_size(request)
        estimate = estimate_input_tokens(size)
        stats = self.stats
        attempt = cuts = 0
        while True:
            attempt += 1
            probe = await self.breaker.admit()
            worst = await self._reserve_worst(request, estimate)
            try:
                reserved = await self.limiter.acquire(estimate, request.max_tokens)
            except BaseException:
                await self._settle(worst, 0.0)
                raise
            stats.requests += 1
            if attempt > 1:
                stats.retried += 1
            try:
                reply = await self._attempt(request, cuts)
            except _Cut as cut:
                await self._settle(worst, 0.0)
                stats.timeouts += 1
                cuts += 1
                error = BackendError(f"no reply within {cut.waited:.3g} s", error_type="timeout")
            except BackendError as exc:
                await self._settle(worst, 0.0)
                error = exc
            except BaseException:
                await self._settle(worst, 0.0)
                raise
            else:
                self.breaker.success()
                self.limiter.settle(reserved, reply.usage)
                self.limiter.observe(reply.rate_limits)
                stats.by_status[200] += 1
                stats.succeeded += 1
                stats.usage = stats.usage + reply.usage
                cost = 0.0 if self.pricing is None else self.pricing.cost(
                    reply.usage, batch=self.batch)  # fmt: skip
                stats.cost_usd += cost
                await self._settle(worst, cost)
                return reply
            self.limiter.settle(reserved, None)
            self.limiter.observe(error.rate_limits)
            transient = error.status is None or error.status in TRANSIENT_STATUSES
            # A strict tool's grammar refused: neither the service's failure nor the
            # example's (not a refusal for the breaker); the caller drops strict.
            strict = error.status == 400 and _strict_refusal(request, error)
            if is_service_failure(error.status):
                self.breaker.failure(str(error))
                if probe:  # the service is still down, which is not this request's fault
                    attempt -= 1
            elif error.status == 400:
                if not strict:
                    transient = self.breaker.refusal(str(error))
            elif error.status != 429:
                self.breaker.success()  # the service answered: it is up
            if error.status is not None:
                stats.by_status[error.status] += 1
            # A server that says to come back in a minute or more (a day, inf): this
            # request gives up now as a service failure (a resume retries it) instead of
            # holding a worker, or everyone, that long.
            too_long = error.retry_after is not None and error.retry_after >= MAX_RETRY_AFTER
            if error.status == 429:
                stats.rate_limited += 1
                need = {"requests": 1.0, "input": estimate, "output": request.max_tokens}
                empty = exhausted_for(error.rate_limits, need=need)
                if empty is not None and not too_long:  # the account's bucket: everyone waits
                    self.limiter.pause(min(max(empty, error.retry_after or 0.0), MAX_RETRY_AFTER))
            if too_long or not self.retry.should_retry(attempt, error.status):
                stats.failed += 1
                raise RequestFailed(error, attempts=attempt, transient=transient or too_long,
                                    strict_refused=strict)  # fmt: skip
            await asyncio.sleep(
                self.retry.delay(max(1, attempt), retry_after=error.retry_after, rng=self._rng)
            )


def _strict_refusal(request: Request, error: BackendError) -> bool:
    """A 400 for a request with a strict tool that is about its schema or grammar (the
    API compiles strict schemas into a grammar and refuses one too large)."""
    if not any(t.get("strict") is True for t in request.tools):
        return False
    text = str(error).lower()
    return any(word in text for word in ("grammar", "strict", "schema"))


class _Cut(Exception):
    """An attempt that hit its time limit (``waited`` seconds)."""

    def __init__(self, waited: float) -> None:
        super().__init__(waited)
        self.waited = waited


def _rough_size(request: Request) -> int:
    """Bytes of what counts against the input-tokens-per-minute limit: the messages, the
    per-request system block, and the tools and shared system blocks unless they are marked
    for caching (cache reads do not count; the first request's cache write is settled from
    its reply's usage)."""
    return request.own_size() + (0 if request.cache_system else request.prefix_size())
