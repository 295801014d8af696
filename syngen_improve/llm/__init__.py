"""The LLM engine: backends, rate limits, retries, pricing.

``Engine.complete(request)`` is one request made reliable: it waits for the
``RateLimiter``, sends through a ``Backend`` (``AnthropicBackend`` or your own) with a
per-attempt timeout, retries by the ``RetryPolicy`` and accounts tokens and cost.
"""

from __future__ import annotations

from ..errors import ThinkingWarning
from ._admit import Meters
from ._anthropic import AnthropicBackend
from ._backend import Backend, BackendError, Reply, Request
from ._batch import BatchBackend, BatchPacing, BatchStopped
from ._breaker import BreakerPolicy, CircuitBreaker, ServiceUnavailable
from ._budget import Budget, BudgetReached
from ._direct import DirectBackend
from ._engine import Engine
from ._limits import RateLimiter, RateLimits
from ._messages import DEFAULT_MODEL
from ._models import PRICES, price_for
from ._openai import OpenAIBackend
from ._pricing import Pricing, Usage
from ._responses import ResponseCache, default_cache_dir, fresh_answers
from ._retry import RetryPolicy, parse_retry_after
from ._stats import EngineStats, RequestFailed
from ._thinking import Thinking

__all__ = [
    "AnthropicBackend",
    "Backend",
    "BackendError",
    "BatchBackend",
    "BatchPacing",
    "BatchStopped",
    "BreakerPolicy",
    "Budget",
    "BudgetReached",
    "CircuitBreaker",
    "DEFAULT_MODEL",
    "DirectBackend",
    "Engine",
    "EngineStats",
    "Meters",
    "OpenAIBackend",
    "PRICES",
    "Pricing",
    "RateLimiter",
    "RateLimits",
    "Reply",
    "Request",
    "RequestFailed",
    "ResponseCache",
    "RetryPolicy",
    "ServiceUnavailable",
    "Thinking",
    "ThinkingWarning",
    "Usage",
    "default_cache_dir",
    "fresh_answers",
    "parse_retry_after",
    "price_for",
]
