"""The one local token measure: bytes of UTF-8 JSON or text, times the model's tokenizer
factor. Rate limits, the spending cap, the estimate and the cache floor all count with it.

Haiku 4.5's tokenizer averages 3.5-4 bytes a token on English and JSON; 3.5 keeps counts
on the high side, so an input bucket or a budget is not overdrawn. The newer tokenizer
of 5.x models takes about 30% more tokens for the same text (``token_factor`` 1.3 in the
capability table). Where it matters, ``estimate`` calibrates this count on a sample the
API counts itself (``count_tokens``).
"""

from __future__ import annotations

import math
from typing import Final

__all__ = ["BYTES_PER_TOKEN", "tokens"]

BYTES_PER_TOKEN: Final = 3.5


def tokens(size: int, factor: float = 1.0) -> int:
    """Tokens of ``size`` bytes for a model whose tokenizer ``factor`` is given."""
    return math.ceil(size * factor / BYTES_PER_TOKEN)
