"""The fake's own reading of the models' documentation: how each thinks, what a request
may say about thinking and effort, how many tokens it counts for a text, and the
shortest prefix it caches.

Written from the platform docs, independently of the package's capability table
(``syngen_improve.llm._models``), which this module never imports: if both read the docs
the same wrong way, nothing can tell, but if either drifts, a test fails.

- Claude 5.x ids (``claude-<family>-5-...`` and later): adaptive thinking, **on by
  default**; ``output_config.effort`` low / medium / high / xhigh / max;
  ``thinking: {"type": "disabled"}`` only at low, medium or high (Opus: never, it always
  thinks); ``{"type": "enabled", "budget_tokens": N}`` is a 400 ("use adaptive"); the
  newer tokenizer counts ~1.3x Haiku 4.5's tokens; up to 128K output.
- Claude 4.5 ids: extended thinking (``enabled`` with ``budget_tokens`` >= 1,024 and below
  ``max_tokens``), off by default, no effort parameter; 4.6 ids also take ``adaptive``
  and effort, off by default. The prompt-caching page's floors: 4,096 tokens for Haiku
  4.5 and the Opus models, 1,024 for the Sonnets.
- Thinking tokens count toward ``max_tokens`` and are billed as output.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["EFFORT_THINKING", "Rules", "effort_of", "rules_for", "thinking_problem", "thinks"]

_ALL_EFFORTS: Final = ("low", "medium", "high", "xhigh", "max")
#: Thinking tokens the fake spends at each effort (times 0.5-1.5, drawn per request).
EFFORT_THINKING: Final = {"low": 150, "medium": 600, "high": 1500, "xhigh": 3000, "max": 6000}


@dataclass(frozen=True, slots=True)
class Rules:
    """What one model takes and does (see the module docstring)."""

    thinking: str  # "none", "extended" or "adaptive"
    thinks_by_default: bool
    always_thinks: bool
    efforts: tuple[str, ...]
    default_effort: str | None
    token_factor: float
    cache_floor: int
    max_output: int


_ID: Final = re.compile(r"^claude-(?P<family>[a-z]+)-(?P<major>\d+)(?:-(?P<minor>\d+))?")


def rules_for(model: str) -> Rules:
    """The rules of a model id (by its family and version; unknown ids: no thinking)."""
    m = _ID.match(model)
    if m is None:
        return Rules("none", False, False, (), None, 1.0, 4096, 64_000)
    family, major = m["family"], int(m["major"])
    minor = int(m["minor"]) if m["minor"] and len(m["minor"]) < 3 else 0
    floor = 1024 if family == "sonnet" and major == 4 else 4096
    if major >= 5:
        default = "high" if family in ("sonnet", "fable") else "medium"
        return Rules(
            "adaptive", True, family in ("opus", "fable"), _ALL_EFFORTS, default, 1.3, 4096, 128_000
        )
    if major == 4 and minor >= 6:
        return Rules(
            "adaptive", False, False, ("low", "medium", "high", "max"), "high", 1.0, floor, 64_000
        )
    if major == 4:
        return Rules("extended", False, False, (), None, 1.0, floor, 64_000)
    return Rules("none", False, False, (), None, 1.0, 2048, 8192)


def thinking_problem(payload: dict[str, Any], rules: Rules, *, forced_refused: bool) -> str | None:
    """What the API says to a request's ``thinking`` / ``output_config`` / forced tool
    (``forced_refused``: the extended-thinking pages' reading, where a forced tool with
    thinking on is a 400), or ``None`` when it takes them."""
    if payload["max_tokens"] > rules.max_output:
        return (
            f"max_tokens: {payload['max_tokens']} > {rules.max_output}, the maximum for this model"
        )
    problem = _effort_problem(payload.get("output_config"), rules)
    if problem is None:
        problem = _thinking_type_problem(payload, rules)
    if problem is not None:
        return problem
    choice = payload.get("tool_choice")
    forced = isinstance(choice, dict) and choice.get("type") in ("tool", "any")
    if forced and forced_refused and thinks(payload, rules):
        return "Thinking may not be enabled when tool_choice forces tool use."
    return None


def _effort_problem(config: Any, rules: Rules) -> str | None:
    if config is None:
        return None
    if not isinstance(config, dict):
        return "output_config: must be an object"
    effort = config.get("effort")
    if effort is None or effort in rules.efforts:
        return None
    if not rules.efforts:
        return "output_config.effort: this model does not support the effort parameter"
    return f"output_config.effort: must be one of {', '.join(rules.efforts)}"


def _thinking_type_problem(payload: dict[str, Any], rules: Rules) -> str | None:
    thinking = payload.get("thinking")
    if thinking is None:
        return None
    kind = thinking.get("type") if isinstance(thinking, dict) else None
    if kind not in ("adaptive", "enabled", "disabled"):
        return "thinking.type: must be 'adaptive', 'enabled' or 'disabled'"
    if kind != "disabled" and rules.thinking == "none":
        return "thinking: this model does not support thinking"
    if kind == "enabled":
        if rules.thinking == "adaptive" and rules.thinks_by_default:
            return (
                "thinking.type.enabled is not supported for this model; use "
                "thinking.type.adaptive and output_config.effort"
            )
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or budget < 1024 or budget >= payload["max_tokens"]:
            return "thinking.budget_tokens: must be >= 1024 and less than max_tokens"
    if kind == "adaptive" and rules.thinking != "adaptive":
        return "thinking.type.adaptive is not supported for this model"
    level = effort_of(payload, rules)
    if kind == "disabled" and rules.thinking == "adaptive":
        if rules.always_thinks:
            return "thinking.type.disabled is not supported for this model: it always thinks"
        if level in ("xhigh", "max"):
            return f"thinking.type.disabled is not supported with effort {level}"
    return None


def thinks(payload: Mapping[str, Any], rules: Rules) -> bool:
    """Whether the model thinks on this request (asked, or on by default)."""
    thinking = payload.get("thinking")
    kind = thinking.get("type") if isinstance(thinking, dict) else None
    if kind in ("adaptive", "enabled"):
        return True
    if kind == "disabled":
        return False
    return rules.thinks_by_default


def effort_of(payload: Mapping[str, Any], rules: Rules) -> str:
    config = payload.get("output_config")
    effort = config.get("effort") if isinstance(config, dict) else None
    return str(effort or rules.default_effort or "medium")
