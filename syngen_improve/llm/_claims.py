"""What a server claims, checked before it is believed: the usage of an answer and the
rate limits its headers state.

A reply's usage is what the run's cost is computed from, and its headers pace every
worker: a server (or a gateway) that claims 10^15 tokens, or a limit of one token a
minute until tomorrow, must neither cost a fortune nor hold the run silently for good.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from ..errors import option
from ._backend import BackendError, Reply, Request
from ._breaker import CircuitBreaker
from ._limits import RateLimiter, starved
from ._models import ModelInfo
from ._stats import EngineStats

__all__ = ["check_usage", "heed_headers"]


def check_usage(request: Request, reply: Reply, info: ModelInfo, model: str) -> None:
    """A reply whose usage no real answer can have (more output than the request's
    ``max_tokens`` or the model's maximum, more input than twice its context window: room
    for a gateway's own counting) is a :class:`BackendError` (a bad reply, retried)."""
    usage = reply.usage
    most_out = max(request.max_tokens, info.max_output)
    given_in = usage.input + usage.cache_read + usage.cache_creation
    if usage.output <= most_out and given_in <= 2 * info.context:
        return
    raise BackendError(
        f"the reply claims {given_in:,} input and {usage.output:,} output tokens, more than "
        f"a request of {request.max_tokens:,} max_tokens to {model} can use (at most "
        f"{most_out:,} output, {info.context:,} context)",
        error_type="bad_response",
    )


def heed_headers(
    headers: Mapping[str, str],
    need: Mapping[str, float],
    *,
    limiter: RateLimiter,
    breaker: CircuitBreaker,
    stats: EngineStats,
) -> None:
    """What an answer's rate-limit headers say of the next requests (``need``: what one
    takes of each bucket): learned by the limiter's buckets; a bucket that cannot serve
    one request until a reset beyond the patience stops the run (resumable, saying why:
    never a silent wait); one whose limit is below a request's need holds every worker
    until its reset."""
    limiter.observe(headers, need=need)
    found = starved(headers, need=need)
    if not found:
        return
    worst = max(found, key=lambda s: s.wait)
    patience = breaker.policy.patience
    if worst.wait > patience:
        breaker.stop(
            f"the server's rate-limit headers say {worst.describe()} for {worst.wait:,.0f} s "
            f"({worst.wait / 3600:.1f} h), longer than the run waits "
            f"({option('--patience', 'patience')} {patience:g} s): stopped; rerun with "
            f"{option('--resume', 'resume=True')} once the limit has reset"
        )
    elif worst.below_need:
        limiter.pause(worst.wait)
        stats.held_until = max(stats.held_until, time.monotonic() + worst.wait)
