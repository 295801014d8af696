"""The LLM engine: pricing and the retry policy (the backends follow)."""

from __future__ import annotations

from ._pricing import PRICES, Pricing, Usage, price_for
from ._retry import RetryPolicy, parse_retry_after

__all__ = ["PRICES", "Pricing", "RetryPolicy", "Usage", "parse_retry_after", "price_for"]
