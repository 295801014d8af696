"""The engine: one call to :meth:`Engine.complete` is one request made reliable.

Each attempt is admitted (breaker, spending cap, rate limiter: :mod:`._admit`), sent
through the backend within its time limit (:mod:`._timeout`), and then either accounted
(requests, tokens, cost in :class:`EngineStats`) or classified: retried by the
:class:`RetryPolicy` (never sooner than a ``retry-after``), reshaped when the run's
thinking settings were refused, or held with every worker when a 429's headers say the
account's bucket is empty (any other 429 backs off its own request only).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from ..errors import ModelWarning, UsageError, option
from ._admit import Admission, Ticket
from ._backend import SENDING, Backend, BackendError, Reply, Request, Sending
from ._breaker import CircuitBreaker, is_service_failure
from ._budget import Budget
from ._claims import check_usage, heed_headers
from ._limits import RateLimiter, RateLimits, exhausted_for
from ._models import model_info
from ._observe import CacheObserver
from ._pricing import Pricing
from ._responses import FRESH, ResponseCache
from ._retry import RetryPolicy
from ._said import CONNECT
from ._stats import TRANSIENT_STATUSES, EngineStats, RequestFailed, strict_refusal
from ._thinking import RequestShape, Thinking
from ._timeout import AttemptTimer, Cut
from ._tokens import tokens

__all__ = ["Engine"]

#: A 429's ``retry-after`` from this many seconds up is a rate-limit window (a low tier
#: counting per minute): every worker waits it out, and no request gives up for it.
LONG_RETRY_AFTER = 10.0
_NO_SLOTS = contextlib.nullcontext()


@dataclass
class _Tries:
    """One request's attempts so far (those that count against the policy), the cuts of
    its time limit, and the seconds it was held for the account's rate limit."""

    attempt: int = 0
    cuts: int = 0
    waited: float = 0.0


class Engine:
    """Reliable, rate-limited requests over a :class:`Backend`.

    ``pricing`` defaults to the capability table's entry for the backend's model (a model
    it does not know has an unknown cost, never $0); a batch backend (its ``batch``) prices
    at the batch rate and marks the cache for an hour. ``thinking`` is the run's thinking
    and effort (see :class:`RequestShape`). ``responses``: the response cache (answers
    kept across runs), for a backend with a ``cache_scope``.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        limits: RateLimits | RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        pricing: Pricing | None = None,
        rng: random.Random | None = None,
        breaker: CircuitBreaker | None = None,
        concurrency: int | None = None,
        budget: Budget | None = None,
        thinking: Thinking | None = None,
        responses: ResponseCache | None = None,
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
        self.batch = bool(getattr(backend, "batch", False))
        # A batch takes minutes to hours: its cache mark lasts an hour (the batch docs).
        self.ttl: Literal["5m", "1h"] = "1h" if self.batch else "5m"
        # A model the table does not know may refuse a forced tool (it may think by
        # default): its first request goes alone. Not with batches: they wait together, so
        # one at a time would be one batch at a time.
        probe = not self.batch and not self.info.known
        sends = bool(getattr(backend, "sends_thinking", True))
        self.shape = RequestShape(
            self.info, thinking, probe=probe, ttl=self.ttl, sends_thinking=sends
        )
        self.cache = CacheObserver()
        # A batch backend's answer can take hours: its minimum outranks the policy's.
        self.timer = AttemptTimer(
            self.retry, floor=float(getattr(backend, "min_attempt_timeout", 0))
        )
        # Whether the backend says when a request's bytes went out (see ``_count``).
        self._reports_sent = bool(getattr(backend, "reports_sent", False))
        self.stats = EngineStats(priced=self.pricing is not None)
        self._rng = rng or random.Random()
        self.breaker = breaker if breaker is not None else CircuitBreaker()
        if budget is not None and self.pricing is None:
            how = option("--price IN,OUT", "price='IN,OUT'")
            raise UsageError(
                f"a spending cap needs the price of {backend.model!r}, which is "
                f"not known: give it with {how}"
            )
        self.admission = Admission(
            self.breaker,
            self.limiter,
            budget,
            self.pricing,
            self.batch,
            self.ttl,
            self.info.token_factor,
        )
        # Answers kept across runs, for a backend that says what it speaks to.
        self._scope = ResponseCache.scope_of(backend)
        self.responses = responses if self._scope is not None else None
        self._warn_unknown(backend.model)

    def _warn_unknown(self, model: str) -> None:
        """Say what is assumed for a model the capability table does not know, and that a
        cost without a price is unknown (never $0)."""
        said = []
        if not self.info.known and model.startswith("claude-"):
            said.append(
                "it is not in the capability table: no thinking parameter is sent (a "
                "refusal of the forced tool switches to tool choice auto), local token "
                "counts use the newer tokenizer's factor"
            )
        if self.pricing is None:
            how = option("--price IN,OUT", "price='IN,OUT'")
            said.append(f"it has no known price: the cost is reported as unknown ({how})")
        if said:
            warnings.warn(f"{model}: " + "; ".join(said), ModelWarning, stacklevel=4)

    @property
    def attempt_timeout(self) -> float:
        """Seconds the next attempt may take (see :class:`AttemptTimer`)."""
        return self.timer.current

    async def complete(self, request: Request, *, body_size: int | None = None) -> Reply:
        """Send ``request`` until it succeeds or the policy gives up (:class:`RequestFailed`).

        ``body_size`` (bytes of the request JSON) overrides the input-token estimate's
        own measure of the request (system blocks, messages and tools as JSON). The
        request goes as the run's :class:`RequestShape` says (thinking, effort, tool
        choice, the thinking budget added to ``max_tokens``).
        """
        size = body_size if body_size is not None else _rough_size(request)
        estimate = max(1, tokens(size, self.info.token_factor))
        async with self.shape.turn():
            return await self._complete(request, estimate)

    async def _complete(self, original: Request, estimate: int) -> Reply:
        if self.responses is not None and not FRESH.get():
            kept = self.responses.get(self._key(self.shape.apply(original)))
            if kept is not None:
                self.stats.cached += 1
                return kept
        tries = _Tries()
        while True:
            tries.attempt += 1
            request = self.shape.apply(original)
            async with self.admission.admit(request, estimate) as ticket:
                if tries.attempt > 1:
                    self.stats.retried += 1
                self.stats.in_flight += 1
                try:
                    outcome = await self._send(request, tries, ticket)
                finally:
                    self.stats.in_flight -= 1
            need = self._need(request, estimate)
            if isinstance(outcome, Reply):
                heed_headers(
                    outcome.rate_limits,
                    need,
                    limiter=self.limiter,
                    breaker=self.breaker,
                    stats=self.stats,
                )
                if self.responses is not None:
                    self.responses.put(self._key(request), outcome)
                return outcome
            delay = await self._after_failure(outcome, request, need, tries, probe=ticket.probe)
            if delay:
                await asyncio.sleep(delay)

    async def _send(self, request: Request, tries: _Tries, ticket: Ticket) -> Reply | BackendError:
        """One attempt: its reply (accounted, which settles ``ticket``) or its error."""
        sending = Sending()
        token = SENDING.set(sending)
        try:
            outcome: Reply | Exception = await self._attempt(request, tries.cuts)
        except (Cut, BackendError) as exc:
            outcome = exc
        except BaseException:
            self._count(sending, ended=False)
            raise
        finally:
            SENDING.reset(token)
        self._count(sending, ended=True)
        if isinstance(outcome, Cut):
            self.stats.timeouts += 1
            tries.cuts += 1
            return BackendError(f"no reply within {outcome.waited:.3g} s", error_type="timeout")
        if isinstance(outcome, BackendError):
            return outcome
        assert isinstance(outcome, Reply)
        ticket.usage, ticket.cost = outcome.usage, self._account(request, outcome)
        return outcome

    async def _attempt(self, request: Request, cuts: int) -> Reply:
        """One attempt within its time limit, holding a slot; a usage no real answer can
        have is a bad reply."""
        async with self._slots if self._slots is not None else _NO_SLOTS:
            self.breaker.check_stopped()  # stopped while this request waited for its slot
            async with self.timer.limit(cuts):
                reply = await self.backend.send(request)
        check_usage(request, reply, self.info, self.backend.model)
        return reply

    async def _after_failure(
        self,
        error: BackendError,
        request: Request,
        need: dict[str, float],
        tries: _Tries,
        *,
        probe: bool,
    ) -> float:
        """What a failed attempt leads to: seconds to wait before the next one (0: at once),
        or :class:`RequestFailed` when the request gives up."""
        stats = self.stats
        self.limiter.observe(error.rate_limits, need=need)
        if error.status is not None:
            stats.by_status[error.status] += 1
        if error.status == 400 and self.shape.refused(error, request):
            tries.attempt -= 1  # the run's settings, not this request: the same, reshaped
            return 0.0
        if error.status == 429:
            stats.rate_limited += 1
            if await self._held(error, need, tries):
                tries.attempt -= 1  # waiting out the account's window fails nothing
                return 0.0
        strict = error.status == 400 and strict_refusal(request, error)
        transient, give_up = self._judge_failure(error, tries.attempt, strict=strict)
        if give_up:
            raise self._failed(error, tries, transient=transient, strict_refused=strict)
        if probe and is_service_failure(error.status):
            tries.attempt -= 1  # the service is still down, which is not this request's fault
        return self.retry.delay(max(1, tries.attempt), retry_after=error.retry_after, rng=self._rng)

    async def _held(self, error: BackendError, need: dict[str, float], tries: _Tries) -> bool:
        """Hold every worker for a 429 that says the account's bucket is empty (its
        headers), or whose ``retry-after`` is a window's length (a low tier that counts per
        minute); False for any other 429 (it backs off its own request). A hold longer than
        the run waits fails the request as transient (a resume retries it)."""
        empty = exhausted_for(error.rate_limits, need=need)
        after = error.retry_after or 0.0
        if empty is None and after < LONG_RETRY_AFTER:
            return False
        hold = max(empty or 0.0, after, 1.0)
        if tries.waited + hold > self.breaker.policy.patience:
            raise self._failed(error, tries, transient=True)
        tries.waited += hold
        self.limiter.pause(hold)
        self.stats.held_until = max(self.stats.held_until, time.monotonic() + hold)
        await self.limiter.wait_pause()
        return True

    def _failed(self, error: BackendError, tries: _Tries, **how: bool) -> RequestFailed:
        self.stats.failed += 1
        return RequestFailed(error, attempts=max(tries.attempt, 1), **how)

    def _count(self, sending: Sending, *, ended: bool) -> None:
        """Count an attempt in ``requests`` once its bytes went out (a backend that cannot
        tell: once it ended), else in ``cancelled`` (stopped before it was sent)."""
        if sending.sent or (ended and not self._reports_sent):
            self.stats.requests += 1
        elif not ended:
            self.stats.cancelled += 1

    def _account(self, request: Request, reply: Reply) -> int:
        """Account one answered request (breaker, tokens, cost, cache, thinking); its cost
        in picodollars."""
        stats = self.stats
        self.breaker.success()
        stats.by_status[200] += 1
        stats.succeeded += 1
        stats.usage = stats.usage + reply.usage
        cost = self.admission.price(reply.usage)
        stats.cost_picos += cost
        self.cache.observe(reply.usage, marked=self._cacheable(request))
        if any(b.get("type") == "thinking" for b in reply.content):
            rest = [b for b in reply.content if b.get("type") != "thinking"]
            answer = tokens(len(orjson.dumps(rest)), self.info.token_factor)
            stats.thinking_replies += 1
            stats.thinking_tokens += max(0, reply.usage.output - answer)
        return cost

    def _key(self, request: Request) -> bytes:
        """The response cache's key of ``request`` as this engine sends it."""
        assert self._scope is not None
        return ResponseCache.key(self._scope, request.digest(self.backend.model))

    @staticmethod
    def _need(request: Request, estimate: int) -> dict[str, float]:
        """What one request takes of each rate-limit bucket."""
        return {"requests": 1.0, "input": float(estimate), "output": float(request.max_tokens)}

    def thinking_report(self) -> dict[str, Any]:
        """report.json's ``thinking``: what the run sent, what it assumed, what it saw."""
        s = self.stats
        measured = round(s.thinking_tokens / s.thinking_replies) if s.thinking_replies else 0
        per_request = round(s.usage.output / s.succeeded) if s.succeeded else None
        return {
            **self.shape.to_dict(),
            "measured_thinking_tokens": measured,
            "answers_with_thinking": s.thinking_replies,
            "output_tokens_per_request": per_request,
        }

    def _cacheable(self, request: Request) -> bool:
        """Whether ``request`` marks a prefix the model's floor lets the API cache (by our
        count): one that cannot be cached is no news when it is not."""
        if not request.cache_system or not request.system:
            return False
        if not getattr(self.backend, "marks_cache", True):
            return False
        return tokens(request.prefix_size(), self.info.token_factor) >= self.info.cache_floor

    def _judge_failure(
        self, error: BackendError, attempt: int, *, strict: bool
    ) -> tuple[bool, bool]:
        """(transient, give up now) for a failed attempt, telling the breaker; ``strict``:
        a 400 that refused the strict tool's grammar."""
        transient = error.status is None or error.status in TRANSIENT_STATUSES
        if is_service_failure(error.status):
            self.breaker.failure(str(error), unreachable=error.error_type == CONNECT)
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


def _rough_size(request: Request) -> int:
    """Bytes of what counts against the input-tokens-per-minute limit: the messages, the
    per-request system block, and the tools and shared system blocks unless they are marked
    for caching (cache reads do not count; the first request's cache write is settled from
    its reply's usage)."""
    return request.own_size() + (0 if request.cache_system else request.prefix_size())
