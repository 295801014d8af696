"""What the library knows of each model: one capability table (:data:`MODELS`).

A request must be valid for the model it goes to, and a run's money and tokens must be
counted as that model bills them. Each :class:`ModelInfo` says how the model thinks
(none, extended with a budget, adaptive with effort levels; on by default or not; at
which efforts it can be turned off), its output and context limits, how many tokens it
counts for a text (relative to Claude Haiku 4.5's tokenizer), the shortest prefix the
API will cache, its prices and whether it takes strict tool use.

Sources (platform docs, read 2026-12): "What's new in Claude Haiku 5.5" and its
overview page (adaptive thinking on by default at effort ``medium``, disabled only at
low/medium/high, manual ``budget_tokens`` a 400, 1M context, 128K output, ~30% more
tokens than Haiku 4.5, $0.10 / $0.50 per MTok up to 100K-token prompts and $0.50 / $2.50
above, 5-minute cache writes $0.125, 1-hour $0.20, reads 0.1x, batches -50%); the
models overview's comparison (Sonnet 5.5 $2 / $10 adaptive at ``high``; Opus 5.5 $4 /
$20 adaptive, always on); the prompt-caching page (4,096-token floor for Haiku 4.5 and
Opus 4.5/4.6, 1,024 for Sonnet 4.5/4.6); strict tool use for the 4.5/4.6 models.
Where a page gives no figure the entry says what is assumed (``cache_floor_documented``,
the 5.x Sonnet's efforts that can turn thinking off). A model not in the table gets
:func:`model_info`'s defaults: nothing about thinking is sent, its price is unknown
(``--price`` gives one), local token counts use the newer tokenizer's factor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, TypeVar

from ._pricing import Pricing

__all__ = [
    "CACHE_MARGIN",
    "DEFAULT_CACHE_FLOOR",
    "EFFORTS",
    "MODELS",
    "PRICES",
    "STRICT_MAX_OPTIONAL",
    "STRICT_MAX_UNIONS",
    "THINKING_BUDGETS",
    "ModelInfo",
    "by_alias",
    "cache_floor",
    "model_info",
    "price_for",
    "strict_tools_supported",
]

T = TypeVar("T")
ThinkingKind = Literal["none", "extended", "adaptive"]

#: The effort levels of ``output_config.effort``, lowest first.
EFFORTS: Final = ("low", "medium", "high", "xhigh", "max")
#: Output tokens a request sets aside for thinking at each effort (added to the answer's
#: ``max_tokens``; also the extended-thinking ``budget_tokens``). Adaptive thinking decides
#: its own length: these are ceilings we reserve, not what a request usually spends.
THINKING_BUDGETS: Final[Mapping[str, int]] = {
    "low": 2048,
    "medium": 8192,
    "high": 16384,
    "xhigh": 32768,
    "max": 65536,
}
#: Thinking tokens a request is assumed to spend on average at each effort (the estimate
#: states this assumption; report.json gives the measured figure beside it).
THINKING_ASSUMED: Final[Mapping[str, int]] = {
    "low": 300,
    "medium": 1000,
    "high": 2500,
    "xhigh": 5000,
    "max": 10000,
}
#: The floor assumed for a model whose minimum cacheable length is not documented.
DEFAULT_CACHE_FLOOR: Final = 4096
#: How far above the floor a prefix is built (estimated tokens / floor).
CACHE_MARGIN: Final = 1.2
#: Documented limits over a request's strict tools: optional properties, and properties
#: whose type is a union (``anyOf`` or a list of types).
STRICT_MAX_OPTIONAL: Final = 24
STRICT_MAX_UNIONS: Final = 16
#: Tokens per Haiku 4.5 token for the newer tokenizer (Claude 4.7 and later).
NEW_TOKENIZER: Final = 1.3


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One model's capabilities (see the module docstring). ``known`` is false for a model
    the table does not have (defaults apply)."""

    model: str
    known: bool = True
    thinking: ThinkingKind = "none"
    thinks_by_default: bool = False
    disable_efforts: frozenset[str] = frozenset()
    efforts: tuple[str, ...] = ()
    default_effort: str | None = None
    max_output: int = 64_000
    context: int = 200_000
    token_factor: float = 1.0
    cache_floor: int = DEFAULT_CACHE_FLOOR
    cache_floor_documented: bool = False
    pricing: Pricing | None = None
    strict_tools: bool = False

    def more_room(self, max_tokens: int) -> int:
        """The output budget for asking again after an answer was cut at ``max_tokens``:
        twice as much, up to the model's maximum output."""
        return min(2 * max_tokens, max(self.max_output, max_tokens))

    def can_disable_thinking(self, effort: str | None) -> bool:
        """Whether ``thinking: {"type": "disabled"}`` is valid at ``effort`` (the model's
        default when ``None``)."""
        if self.thinking != "adaptive":
            return True
        return (effort or self.default_effort or "") in self.disable_efforts


_LOW_TO_HIGH: Final = frozenset({"low", "medium", "high"})
_HAIKU_5_5_LONG: Final = Pricing(
    0.50, 2.50, cache_write_5m_per_mtok=0.625, cache_write_1h_per_mtok=1.00
)

#: The capability table. Dated ids (``claude-haiku-4-5-20251001``) match their alias.
MODELS: Final[Mapping[str, ModelInfo]] = {
    info.model: info
    for info in (
        ModelInfo(
            "claude-haiku-5-5",
            thinking="adaptive",
            thinks_by_default=True,
            disable_efforts=_LOW_TO_HIGH,
            efforts=EFFORTS,
            default_effort="medium",
            max_output=128_000,
            context=1_000_000,
            token_factor=NEW_TOKENIZER,
            pricing=Pricing(
                0.10,
                0.50,
                cache_write_5m_per_mtok=0.125,
                cache_write_1h_per_mtok=0.20,
                long=_HAIKU_5_5_LONG,
            ),
        ),
        ModelInfo(
            "claude-sonnet-5-5",
            thinking="adaptive",
            thinks_by_default=True,
            disable_efforts=_LOW_TO_HIGH,
            efforts=EFFORTS,
            default_effort="high",
            max_output=128_000,
            context=1_000_000,
            token_factor=NEW_TOKENIZER,
            pricing=Pricing(2.00, 10.00),
        ),
        ModelInfo(
            "claude-opus-5-5",
            thinking="adaptive",
            thinks_by_default=True,
            efforts=EFFORTS,
            default_effort="medium",  # always on: never disabled
            max_output=128_000,
            context=1_000_000,
            token_factor=NEW_TOKENIZER,
            pricing=Pricing(4.00, 20.00),
        ),
        ModelInfo(
            "claude-haiku-4-5",
            thinking="extended",
            cache_floor_documented=True,
            pricing=Pricing(1.00, 5.00),
            strict_tools=True,
        ),
        ModelInfo(
            "claude-sonnet-4-5",
            thinking="extended",
            cache_floor=1024,
            cache_floor_documented=True,
            pricing=Pricing(3.00, 15.00),
            strict_tools=True,
        ),
        ModelInfo(
            "claude-opus-4-5",
            thinking="extended",
            cache_floor_documented=True,
            pricing=Pricing(5.00, 25.00),
            strict_tools=True,
        ),
        ModelInfo(
            "claude-sonnet-4-6",
            thinking="adaptive",
            disable_efforts=frozenset(EFFORTS),
            efforts=("low", "medium", "high", "max"),
            default_effort="high",
            cache_floor=1024,
            cache_floor_documented=True,
            pricing=Pricing(3.00, 15.00),
            strict_tools=True,
        ),
        ModelInfo(
            "claude-opus-4-6",
            thinking="adaptive",
            disable_efforts=frozenset(EFFORTS),
            efforts=("low", "medium", "high", "max"),
            default_effort="high",
            max_output=128_000,
            cache_floor_documented=True,
            pricing=Pricing(5.00, 25.00),
            strict_tools=True,
        ),
    )
}


def by_alias(model: str, table: Mapping[str, T]) -> T | None:
    """``table``'s entry for a model id; a dated id (``claude-haiku-4-5-20251001``)
    matches its alias. ``None`` when the table has neither."""
    if model in table:
        return table[model]
    for alias, value in table.items():
        if model.startswith(alias + "-") and model[len(alias) + 1 :].isdigit():
            return value
    return None


def model_info(model: str) -> ModelInfo:
    """The table's entry for ``model``, or the defaults for a model it does not know:
    no thinking parameter sent, price unknown, the newer tokenizer's factor (counts on the
    high side), the default cache floor."""
    info = by_alias(model, MODELS)
    if info is not None:
        return info
    return ModelInfo(model, known=False, max_output=32_000, token_factor=NEW_TOKENIZER)


#: The table's prices, by model id.
PRICES: Final[Mapping[str, Pricing]] = {
    m: i.pricing for m, i in MODELS.items() if i.pricing is not None
}


def price_for(model: str) -> Pricing | None:
    """The pricing of a model id (dated ids such as ``claude-haiku-4-5-20251001`` match
    their alias), or ``None`` when unknown."""
    return model_info(model).pricing


def cache_floor(model: str) -> tuple[int, bool]:
    """The model's minimum cacheable prefix in tokens, and whether it is documented
    (``False``: :data:`DEFAULT_CACHE_FLOOR` is assumed)."""
    info = model_info(model)
    return info.cache_floor, info.cache_floor_documented


def strict_tools_supported(model: str) -> bool:
    """Whether ``model`` is documented to take strict tool use."""
    return model_info(model).strict_tools
