"""The system prompt of an improve request: the part every request of a run shares, built
to be cached by the API.

The API caches the tools and the system blocks up to the cache mark, and only when they
are at least the model's minimum cacheable length (4,096 tokens for Claude Haiku 4.5;
shorter prefixes are silently not cached). So everything that is the same for every
request belongs here: the rules and rubric (the system template with the context
convention's section), the catalogue of the run's tools with their parameter schemas, and
worked before/after examples. What changes per example (its issues, the example itself,
the schemas of tools outside the catalogue) comes after the mark.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

import orjson

from ..context._convention import SEVEN_FIELDS, ContextConvention
from ..dialects import Call, Conversation, Turn, read_text, write_text
from ..llm._backend import prefix_size
from ..llm._models import CACHE_MARGIN, model_info
from ..llm._tokens import tokens
from ..validate import ToolRegistry
from ._structured import to_structured
from ._templates import Templates

__all__ = ["CacheCheck", "check_cache", "examples_text", "system_prompt"]

#: Example kinds whose point does not depend on a context object (kept for any convention).
_PLAIN_KINDS: Final = frozenset({"missing_result", "unnatural_prompt"})
_TITLES: Final = {
    "empty_session_memory": "sessionMemory, toolContext and goals written to the rubric",
    "generic_tool_context": "A toolContext that gives the reason, not the tool's name",
    "unnatural_prompt": "A pasted Result as the user's turn becomes a request",
    "missing_result": "A realistic Result for every call",
    "missing_context": "The context object repaired",
}


@cache
def _examples() -> tuple[dict[str, Any], ...]:
    text = (resources.files(__package__) / "templates" / "examples.jsonl").read_text("utf-8")
    return tuple(json.loads(line) for line in text.splitlines() if line.strip())


def _without_context(turns: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The turns with every call's ``context`` argument removed."""
    conversation = read_text({"conversations": turns})
    out = []
    for turn in conversation.turns:
        parts = [
            p
            if not isinstance(p, Call) or not isinstance(p.arguments, dict)
            else Call(
                p.name,
                {k: v for k, v in p.arguments.items() if k != "context"},
                p.result,
                p.has_result,
            )
            for p in turn.parts
        ]
        out.append(Turn(turn.role, tuple(parts)))
    return write_text(Conversation(tuple(out)))


def examples_text(context: ContextConvention) -> str:
    """The worked examples for data of ``context``: all of them for the seven-field
    convention; for any other, those whose point does not need a context object, with the
    context taken out of their calls."""
    seven = context == SEVEN_FIELDS
    parts = [
        "## Worked examples",
        "Examples from a real tool-calling dataset, before and after a good rewrite: the "
        "example as you are given it, then the rewrite as the input of the submit tool, the "
        "form your answer takes. They show the standard to meet; do not copy their names or "
        "values into your answer.",
    ]
    shown = 0
    for example in _examples():
        if not seven and example["kind"] not in _PLAIN_KINDS:
            continue
        before, after = example["before"], example["after"]
        if not seven:
            before, after = _without_context(before), _without_context(after)
        shown += 1
        parts += [
            f"### {shown}. {_TITLES.get(example['kind'], example['kind'])}",
            f"What changed: {example['note']}",
            "Before:\n" + orjson.dumps({"conversations": before}).decode(),
            "After, as the submit tool's input:\n"
            + orjson.dumps(to_structured({"conversations": after}, context)).decode(),
        ]
    return "\n\n".join(parts) if shown else ""


def _catalogue_text(catalogue: ToolRegistry, *, schemas: bool) -> str:
    """Every tool with its description; with ``schemas``, its parameters' JSON Schema too
    (else the submit tool's schema has them)."""
    where = (
        "with the JSON Schema of its parameters"
        if schemas
        else "(the JSON Schema of each one's parameters is in the submit tool's schema)"
    )
    lines = [
        "## The tools",
        f"Every tool of this dataset {where}. A call's arguments must match its tool's "
        "schema; a Result should be what that tool would plausibly return, shaped by "
        "what the tool does.",
    ]
    for name in sorted(catalogue):
        tool = catalogue[name]
        about = f": {tool.description}" if tool.description else ""
        if schemas:
            about = f"{' (' + tool.description + ')' if tool.description else ''}: " + (
                orjson.dumps(tool.parameters).decode()
            )
        lines.append(f"- {name}{about}")
    return "\n\n".join(lines[:2]) + "\n\n" + "\n".join(lines[2:])


def system_prompt(
    templates: Templates,
    context: ContextConvention,
    catalogue: ToolRegistry | None,
    *,
    schemas: bool = True,
) -> str:
    """The shared system prompt: the template for ``context``, the tool ``catalogue``
    (``None``: none; ``schemas=False``: without the parameter schemas, which a structured
    submit tool carries), the worked examples."""
    parts = [templates.system_for(context).strip()]
    if catalogue is not None and len(catalogue):
        parts.append(_catalogue_text(catalogue, schemas=schemas))
    examples = examples_text(context)
    if examples:
        parts.append(examples)
    return "\n\n".join(parts) + "\n"


@dataclass(frozen=True)
class CacheCheck:
    """Whether a run's cached prefix clears the model's minimum cacheable length:
    ``status`` is ``active`` (with the margin to spare), ``uncertain`` (above the floor by
    less than the margin: a real tokenizer may count fewer tokens) or ``inactive``."""

    model: str
    prefix_tokens: int
    floor: int
    floor_documented: bool

    @property
    def status(self) -> str:
        if self.prefix_tokens >= self.floor * CACHE_MARGIN:
            return "active"
        return "uncertain" if self.prefix_tokens >= self.floor else "inactive"

    @property
    def reason(self) -> str | None:
        """Why caching may not happen (``None`` when it will)."""
        if self.status == "active":
            return None
        whose = "its documented" if self.floor_documented else "an assumed (undocumented)"
        return (
            f"the cached prefix (tools and system prompt) is about {self.prefix_tokens:,} "
            f"tokens, {'below' if self.status == 'inactive' else 'within 20% of'} "
            f"{whose} minimum of {self.floor:,} for {self.model}: the API caches nothing "
            "shorter"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "prefix_tokens": self.prefix_tokens,
            "floor": self.floor,
            "floor_documented": self.floor_documented,
            "reason": self.reason,
        }


def check_cache(model: str, system: str, tools: list[Mapping[str, Any]]) -> CacheCheck:
    """The cache check of a prefix made of ``tools`` and ``system`` for ``model``."""
    info = model_info(model)  # the floor is in the model's tokens: its tokenizer's count
    size = tokens(prefix_size(system, tools), info.token_factor)
    return CacheCheck(model, size, info.cache_floor, info.cache_floor_documented)
