"""What a run will cost, before it costs anything: ``estimate_cost`` and
``syngen-improve estimate``.

The input is read as a run reads it (dialect, context convention, relabel policy), and the
first request of every poor example is built exactly as the run would build it, so the
prompt side is the real one. Its tokens are counted locally (4 bytes of JSON a token, as
the built-in fake counts), or, given a backend that can (``DirectBackend.count_tokens``,
the API's free ``count_tokens`` endpoint), the local count is calibrated on a sample of the
requests. The answer side is an estimate: an improvement rewrites the whole example, with
full-sentence context fields and a Result per call, about 1.5 times the example's own
tokens (:data:`OUTPUT_FACTOR`). Re-asks (a share of the examples, 10% by default) resend the
conversation with the answer. A prefix that clears the model's cache floor is one cache
write and then cache reads; one that does not is plain input. Local counts are in Haiku
4.5 tokens times the model's tokenizer factor (1.3 for 5.x models). Where the run's
requests think (``thinking``/``effort``, see ``llm/_thinking.py``), each request is assumed
to spend the capability table's tokens for its effort as output (``thinking_tokens``
says how many; report.json gives the measured figure beside it). Each request is priced
on its own (a prompt over 100K tokens at the long rate); batches at half price, their
cache marked for an hour. No Messages request is sent.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

import orjson

from ._input import check_input
from ._preflight import preflight
from .analyze._route import Router
from .config import ImproveConfig
from .errors import UsageError
from .improve import Improver
from .improve._improver import READS
from .llm import Pricing, Request, Usage
from .llm._models import model_info
from .llm._pricing import CacheTTL, usd
from .llm._thinking import RequestShape
from .llm._tokens import tokens

__all__ = ["Estimate", "TokenCounter", "estimate_cost"]

#: Output tokens of an answer per token of the example it rewrites (measured: 1.54 for the
#: built-in fake's answers on the real slice, which add a Result to every call; 1.17 for
#: the 200 real improved pairs, which add none).
OUTPUT_FACTOR: Final = 1.5
#: Requests whose tokens are counted by the API to calibrate the local count.
COUNT_SAMPLE: Final = 20


class TokenCounter(Protocol):
    """A backend that counts a request's input tokens the API's way."""

    async def count_tokens(self, request: Request, /) -> int: ...


@dataclass(frozen=True)
class Estimate:
    """A run's expected requests, tokens and cost (``cost_usd`` online, ``batch_cost_usd``
    with Message Batches; ``None`` when the model's price is unknown)."""

    model: str
    examples: int
    requests: int
    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    output_tokens: int
    cost_usd: float | None
    batch_cost_usd: float | None
    counted_by_api: bool
    cache: Mapping[str, Any]
    reask_share: float
    thinking_tokens: int = 0
    thinking: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``syngen-improve estimate --json``."""
        return {
            "model": self.model,
            "examples": self.examples,
            "requests": self.requests,
            "input_tokens": self.input_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": None if self.cost_usd is None else round(self.cost_usd, 4),
            "batch_cost_usd": None
            if self.batch_cost_usd is None
            else round(self.batch_cost_usd, 4),
            "counted_by_api": self.counted_by_api,
            "cache": dict(self.cache),
            "reask_share": self.reask_share,
            "thinking_tokens_per_request": self.thinking_tokens,
            "thinking": dict(self.thinking or {}),
        }

    def summary(self) -> str:
        """One line for people."""
        cost = (
            "unknown (no price for this model)"
            if self.cost_usd is None
            else (f"${self.cost_usd:.2f} online, ${self.batch_cost_usd or 0:.2f} with batches")
        )
        thinking = (
            f" (assumed {self.thinking_tokens:,} thinking tokens a request, billed as output)"
            if self.thinking_tokens
            else ""
        )
        return (
            f"{self.examples} poor examples, about {self.requests} requests: "
            f"{self.input_tokens:,} input + {self.cache_read_tokens:,} cache-read + "
            f"{self.output_tokens:,} output tokens{thinking} with {self.model}; "
            f"cost {cost}"
        )


async def estimate_cost(
    input: str | os.PathLike[str],
    config: ImproveConfig | None = None,
    *,
    counter: TokenCounter | None = None,
    reask_share: float = 0.1,
    **options: Any,
) -> Estimate:
    """The expected cost of improving ``input`` with ``config`` (see the module docstring).
    ``counter`` (e.g. a ``DirectBackend`` with a key) counts a sample of the requests the
    API's way; without it the count is local."""
    if not 0 <= reask_share <= 1:
        raise UsageError(f"'reask_share' must be between 0 and 1, got {reask_share}")
    cfg = ImproveConfig.of(config, **options)
    path = Path(input)
    check_input(path)
    cfg = preflight(path, cfg)
    improver = Improver(cfg.keep(READS))
    info = model_info(improver.model)
    shape = RequestShape(info, cfg.thinking_options)  # refuses what the model cannot do
    factor = info.token_factor
    own = output = examples = 0
    shared = 0
    sample: list[tuple[Request, int]] = []
    for routed in Router.of(path, cfg):
        if routed.route != "poor" or routed.example is None:
            continue
        examples += 1
        example = routed.example
        request = improver.first_request(example, issues=routed.issues, key=routed.line)
        mine = tokens(request.own_size(), factor)
        shared = tokens(request.prefix_size(), factor)
        own += mine
        turns = orjson.dumps({"conversations": example.get("conversations")})
        output += round(OUTPUT_FACTOR * tokens(len(turns), factor))
        if counter is not None and len(sample) < COUNT_SAMPLE:
            sample.append((request, mine + shared))
    scale = 1.0
    if sample and counter is not None:
        counted = [await counter.count_tokens(request) for request, _ in sample]
        scale = sum(counted) / max(1, sum(local for _, local in sample))
    check = improver.cache_check
    cached = check is not None and check.status != "inactive"
    first_requests = examples
    reasks = round(examples * reask_share)
    requests = first_requests + reasks
    # A re-ask resends the example's conversation with the answer and the errors.
    own_tokens = round(scale * own * (1 + reask_share)) + round(output * reask_share)
    prefix = round(scale * shared)
    thinking = shape.assumed_thinking_tokens
    answer_tokens = round(output * (1 + reask_share)) + thinking * requests
    pricing = cfg.price or info.pricing
    if pricing is None:
        warnings.warn(
            f"no price is known for model {improver.model!r}: the cost is unknown "
            "(the token counts stand; --price IN,OUT gives one)",
            UserWarning,
            stacklevel=2,
        )
    run = _Run(
        requests, own_tokens, answer_tokens, prefix if cached else 0, 0 if cached else prefix
    )
    usage = run.total()
    return Estimate(
        model=improver.model,
        examples=examples,
        requests=requests,
        input_tokens=usage.input,
        cache_read_tokens=usage.cache_read,
        cache_write_tokens=usage.cache_creation,
        output_tokens=usage.output,
        cost_usd=None if pricing is None else usd(run.picos(pricing, batch=False)),
        batch_cost_usd=None if pricing is None else usd(run.picos(pricing, batch=True)),
        counted_by_api=bool(sample and counter is not None),
        cache=check.to_dict() if check is not None else {"status": None},
        reask_share=reask_share,
        thinking_tokens=thinking,
        thinking=shape.to_dict(),
    )


@dataclass(frozen=True)
class _Run:
    """The estimated run as requests: ``requests`` of them sharing ``own`` input and
    ``output`` tokens, each with a prefix of ``cached`` tokens (the first writes it, the
    others read it) or ``uncached`` tokens of plain input."""

    requests: int
    own: int
    output: int
    cached: int
    uncached: int

    def _request(self, first: bool) -> Usage:
        """One average request (the first writes the cache, the others read it)."""
        n = max(1, self.requests)
        return Usage(
            input=round(self.own / n) + self.uncached,
            output=round(self.output / n),
            cache_read=0 if first else self.cached,
            cache_creation=self.cached if first else 0,
        )

    def total(self) -> Usage:
        if not self.requests:
            return Usage()
        return Usage(
            input=self.own + self.uncached * self.requests,
            output=self.output,
            cache_read=self.cached * (self.requests - 1),
            cache_creation=self.cached,
        )

    def picos(self, pricing: Pricing, *, batch: bool) -> int:
        """The cost, each request priced on its own (the long-prompt rate is per request)."""
        if not self.requests:
            return 0
        ttl: CacheTTL = "1h" if batch else "5m"
        first = pricing.picos(self._request(True), batch=batch, ttl=ttl)
        rest = pricing.picos(self._request(False), batch=batch, ttl=ttl)
        return first + rest * (self.requests - 1)
