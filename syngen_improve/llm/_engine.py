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
import time
import warnings
from collections import deque
from typing import Any, Literal

import orjson

from ..errors import ModelWarning, UsageError, option
from ._backend import SENDING, Backend, BackendError, Reply, Request, Sending
from ._breaker import CircuitBreaker, is_service_failure
from ._budget import Budget
from ._claims import check_usage, heed_headers
from ._limits import RateLimiter, RateLimits, exhausted_for
from ._models import estimated_tokens, model_info
from ._observe import CacheObserver
from ._pricing import Pricing, Usage
from ._retry import RetryPolicy
from ._stats import TRANSIENT_STATUSES, EngineStats, RequestFailed, strict_refusal
from ._thinking import RequestShape, Thinking

__all__ = ["Engine", "estimate_input_tokens"]

#: Replies the adaptive timeout learns from (the most recent), and how many it needs first.
_LATENCY_WINDOW = 512
_MIN_SAMPLES = 32
#: A 429's ``retry-after`` from this many seconds up is a rate-limit window (a low tier
#: counting per minute): every worker waits it out, and no request gives up for it.
LONG_RETRY_AFTER = 10.0


def estimate_input_tokens(body_size: int, factor: float = 1.0) -> int:
    """A cautious input-token estimate from the request's JSON size in bytes, times the
    model's tokenizer ``factor`` (1.3 for the newer tokenizer of 5.x models).

    Haiku 4.5's tokenizer averages 3.5-4 bytes a token on English and JSON; 3.5 keeps
    the estimate on the high side so the input bucket is not overdrawn.
    """
    return max(1, math.ceil(body_size * factor / 3.5))


class Engine:
    """Reliable, rate-limited requests over a :class:`Backend`.

    ``pricing`` defaults to the capability table's entry for the backend's model (a model
    it does not know has an unknown cost, never $0); ``batch`` prices at the batch rate
    and marks the cache for an hour. ``thinking`` is the run's thinking and effort (see
    :class:`RequestShape`).
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
        thinking: Thinking | None = None,
    ) -> None:
        if concurrency is not None and concurrency < 1:
            raise UsageError(f"'concurrency' must be > 0, got {concurrency}")
        self.backend = backend
        # Attempts in flight at once (None: as many as callers make); a caller waiting out
        # a back-off holds none.
        self._slots = asyncio.Semaphore(concurrency) if concurrency is not None else None
        self.limiter = limits if isinstance(limits, RateLimiter) else RateLimiter(limits)
        self.retry = retry or RetryPolicy()
        self.info = model_info(backend.model)
        self.pricing = pricing if pricing is not None else self.info.pricing
        self.batch = batch or bool(getattr(backend, "batch", False))
        # A batch takes minutes to hours: its cache mark lasts an hour (the batch docs).
        self.ttl: Literal["5m", "1h"] = "1h" if self.batch else "5m"
        # A model the table does not know may refuse a forced tool (it may think by
        # default): its first request goes alone. Not with batches: they wait together, so
        # one at a time would be one batch at a time.
        probe = not self.batch and not self.info.known
        self.shape = RequestShape(self.info, thinking, probe=probe, ttl=self.ttl)
        self.cache = CacheObserver()
        # A batch backend's answer can take hours: its minimum outranks the policy's.
        floor = float(getattr(backend, "min_attempt_timeout", 0))
        self._timeout = max(self.retry.timeout, floor)
        # Whether the backend says when a request's bytes went out (see ``_count``).
        self._reports_sent = bool(getattr(backend, "reports_sent", False))
        self._adapt = self.retry.adaptive and not floor
        self._latencies: deque[float] = deque(maxlen=_LATENCY_WINDOW)
        self._adapted: float | None = None
        self._seen = 0
        # Attempts in flight: their timeout, when they were sent (loop time), their cuts.
        self._inflight: dict[asyncio.Timeout, tuple[float, int]] = {}
        self.stats = EngineStats(priced=self.pricing is not None)
        self._rng = rng or random.Random()
        self.breaker = breaker if breaker is not None else CircuitBreaker()
        if budget is not None and self.pricing is None:
            how = option("--price IN,OUT", "price='IN,OUT'")
            raise UsageError(f"a spending cap needs the price of {backend.model!r}, which is "
                             f"not known: give it with {how}")  # fmt: skip
        self.budget = budget
        self._warn_unknown(backend.model)

    def _warn_unknown(self, model: str) -> None:
        """Say what is assumed for a model the capability table does not know, and that a
        cost without a price is unknown (never $0)."""
        said = []
        if not self.info.known and model.startswith("claude-"):
            said.append("it is not in the capability table: no thinking parameter is sent (a "
                        "refusal of the forced tool switches to tool choice auto), local token "
                        "counts use the newer tokenizer's factor")  # fmt: skip
        if self.pricing is None:
            how = option("--price IN,OUT", "price='IN,OUT'")
            said.append(f"it has no known price: the cost is reported as unknown ({how})")
        if said:
            warnings.warn(f"{model}: " + "; ".join(said), ModelWarning, stacklevel=4)

    async def _reserve_worst(self, request: Request, estimate: int) -> int:
        """What the request may cost at most in picodollars, reserved from the budget (0
        without one): its input, its prefix written to the cache, ``max_tokens`` of output
        (thinking included), at the long-prompt price when its prompt may be long."""
        if self.budget is None or self.pricing is None:
            return 0
        factor = self.info.token_factor
        prefix = estimate_input_tokens(request.prefix_size(), factor) if request.cache_system else 0
        worst = Usage(input=estimate, output=request.max_tokens, cache_creation=prefix)
        cost = max(1, self.pricing.picos(worst, batch=self.batch, ttl=self.ttl))
        await self.budget.reserve(cost)
        return cost

    async def _settle(self, worst: int, actual: int) -> None:
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
            self.breaker.check_stopped()  # stopped while this request waited for its slot
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
        check_usage(request, reply, self.info, self.backend.model)
        return reply

    async def complete(self, request: Request, *, body_size: int | None = None) -> Reply:
        """Send ``request`` until it succeeds or the policy gives up (:class:`RequestFailed`).

        ``body_size`` (bytes of the request JSON) overrides the input-token estimate's
        own measure of the request (system blocks, messages and tools as JSON). The
        request goes as the run's :class:`RequestShape` says (thinking, effort, tool
        choice, the thinking budget added to ``max_tokens``).
        """
        size = body_size if body_size is not None else _rough_size(request)
        estimate = estimate_input_tokens(size, self.info.token_factor)
        async with self.shape.turn():
            return await self._complete(request, estimate)

    async def _complete(self, original: Request, estimate: int) -> Reply:
        stats = self.stats
        attempt = cuts = 0
        waited = 0.0  # seconds this request spent held for the account's rate limit
        while True:
            attempt += 1
            request = self.shape.apply(original)
            probe = await self.breaker.admit()
            worst = await self._reserve_worst(request, estimate)
            try:
                reserved = await self.limiter.acquire(estimate, request.max_tokens)
            except BaseException:
                await self._settle(worst, 0)
                raise
            if attempt > 1:
                stats.retried += 1
            sending = Sending()
            token = SENDING.set(sending)
            try:
                reply = await self._attempt(request, cuts)
            except _Cut as cut:
                await self._settle(worst, 0)
                self._count(sending, ended=True)
                stats.timeouts += 1
                cuts += 1
                error = BackendError(f"no reply within {cut.waited:.3g} s", error_type="timeout")
            except BackendError as exc:
                await self._settle(worst, 0)
                self._count(sending, ended=True)
                error = exc
            except BaseException:
                await self._settle(worst, 0)
                self._count(sending, ended=False)
                raise
            else:
                self._count(sending, ended=True)
                await self._succeeded(request, reply, reserved, worst)
                heed_headers(reply.rate_limits, self._need(request, estimate),
                             limiter=self.limiter, breaker=self.breaker, stats=stats)  # fmt: skip
                return reply
            finally:
                SENDING.reset(token)
            self.limiter.settle(reserved, None)
            self.limiter.observe(error.rate_limits, need=self._need(request, estimate))
            if error.status is not None:
                stats.by_status[error.status] += 1
            if error.status == 400 and self.shape.refused(error, request):
                attempt -= 1  # the run's settings, not this request: the same, reshaped
                continue
            if error.status == 429:
                stats.rate_limited += 1
                hold = self._rate_limit_hold(error, request, estimate)
                if hold is not None:
                    if waited + hold > self.breaker.policy.patience:
                        stats.failed += 1  # longer than the run waits: a resume retries it
                        raise RequestFailed(error, attempts=max(attempt, 1), transient=True)
                    waited += hold
                    self.limiter.pause(hold)
                    stats.held_until = max(stats.held_until, time.monotonic() + hold)
                    attempt -= 1  # waiting out the account's window fails nothing
                    await self.limiter.wait_pause()
                    continue
            strict = error.status == 400 and strict_refusal(request, error)
            transient, give_up = self._judge_failure(error, attempt, strict=strict)
            if give_up:
                stats.failed += 1
                raise RequestFailed(error, attempts=max(attempt, 1), transient=transient,
                                    strict_refused=strict)  # fmt: skip
            if probe and is_service_failure(error.status):
                attempt -= 1  # the service is still down, which is not this request's fault
            await asyncio.sleep(
                self.retry.delay(max(1, attempt), retry_after=error.retry_after, rng=self._rng)
            )

    def _count(self, sending: Sending, *, ended: bool) -> None:
        """Count an attempt in ``requests`` once its bytes went out (a backend that cannot
        tell: once it ended), else in ``cancelled`` (stopped before it was sent)."""
        if sending.sent or (ended and not self._reports_sent):
            self.stats.requests += 1
        elif not ended:
            self.stats.cancelled += 1

    async def _succeeded(
        self, request: Request, reply: Reply, reserved: tuple[float, float], worst: int
    ) -> None:
        """Account one answered request: breaker, limits, tokens, cost, budget."""
        stats = self.stats
        self.breaker.success()
        self.limiter.settle(reserved, reply.usage)
        stats.by_status[200] += 1
        stats.succeeded += 1
        stats.usage = stats.usage + reply.usage
        cost = 0 if self.pricing is None else self.pricing.picos(
            reply.usage, batch=self.batch, ttl=self.ttl)  # fmt: skip
        stats.cost_picos += cost
        self.cache.observe(reply.usage, marked=self._cacheable(request))
        if any(b.get("type") == "thinking" for b in reply.content):
            rest = [b for b in reply.content if b.get("type") != "thinking"]
            answer = estimated_tokens(len(orjson.dumps(rest)), self.info.token_factor)
            stats.thinking_replies += 1
            stats.thinking_tokens += max(0, reply.usage.output - answer)
        await self._settle(worst, cost)

    @staticmethod
    def _need(request: Request, estimate: int) -> dict[str, float]:
        """What one request takes of each rate-limit bucket."""
        return {"requests": 1.0, "input": float(estimate), "output": float(request.max_tokens)}

    def _rate_limit_hold(
        self, error: BackendError, request: Request, estimate: int
    ) -> float | None:
        """Seconds every worker is held for a 429 that says the account's bucket is empty
        (its headers), or whose ``retry-after`` is a window's length (a low tier that
        counts per minute); ``None`` for any other 429 (it backs off its own request)."""
        empty = exhausted_for(error.rate_limits, need=self._need(request, estimate))
        after = error.retry_after or 0.0
        if empty is None and after < LONG_RETRY_AFTER:
            return None
        return max(empty or 0.0, after, 1.0)

    def thinking_report(self) -> dict[str, Any]:
        """report.json's ``thinking``: what the run sent, what it assumed, what it saw."""
        s = self.stats
        measured = round(s.thinking_tokens / s.thinking_replies) if s.thinking_replies else 0
        per_request = round(s.usage.output / s.succeeded) if s.succeeded else None
        return {**self.shape.to_dict(), "measured_thinking_tokens": measured,
                "answers_with_thinking": s.thinking_replies,
                "output_tokens_per_request": per_request}  # fmt: skip

    def _cacheable(self, request: Request) -> bool:
        """Whether ``request`` marks a prefix the model's floor lets the API cache (by our
        count): one that cannot be cached is no news when it is not."""
        if not request.cache_system or not request.system:
            return False
        if not getattr(self.backend, "marks_cache", True):
            return False
        size = estimate_input_tokens(request.prefix_size(), self.info.token_factor)
        return size >= self.info.cache_floor

    def _judge_failure(
        self, error: BackendError, attempt: int, *, strict: bool
    ) -> tuple[bool, bool]:
        """(transient, give up now) for a failed attempt, telling the breaker; ``strict``:
        a 400 that refused the strict tool's grammar."""
        transient = error.status is None or error.status in TRANSIENT_STATUSES
        if is_service_failure(error.status):
            self.breaker.failure(str(error))
        elif error.status == 400:
            # A strict tool's grammar refused is neither the service's failure nor the
            # example's (not a refusal for the breaker); the caller drops strict.
            if not strict:
                transient = self.breaker.refusal(str(error))
        elif error.status != 429:
            self.breaker.success()  # the service answered: it is up
        # A server that says to come back later than the run would wait (a day, inf): this
        # request gives up now as a service failure (a resume retries it).
        if (error.retry_after or 0.0) > self.breaker.policy.patience:
            return True, True
        return transient, not self.retry.should_retry(attempt, error.status)


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
