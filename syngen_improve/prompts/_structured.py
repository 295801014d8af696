"""Structured answers: an example described by its structure instead of the text grammar.

The model would otherwise write the ``tool_call:`` / ``arguments:`` / ``Result:`` grammar as
JSON inside a string inside JSON, with the tools' parameter schemas only as advice. Here the
answer is ``{"turns": [...]}``: a user or system turn is its text; an assistant turn is its
parts in order, each a text or a call with the tool's name, its context object (the run's
convention: each field a non-empty string, ids under their patterns), the tool's own
arguments under the tool's real JSON Schema, and its Result. One schema serves every
request of a run (the union of the catalogue's tools, told apart by name), so the tools
block stays identical and cacheable. The library renders the grammar from an answer
(:func:`render_answer`), so a grammar error cannot happen, and a schema error is visible to
the model as a schema error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from ..context._convention import ContextConvention
from ..dialects import Call, Conversation, Turn, read_text, write_text
from ..validate import ToolRegistry

__all__ = ["answer_schema", "render_answer", "to_structured"]

_TEXT: Final = {
    "type": "object",
    "properties": {"text": {"type": "string"}},
    "required": ["text"],
    "additionalProperties": False,
}
_RESULT: Final = {
    "type": "object",
    "description": "What the tool returned: realistic data shaped by the tool's purpose.",
}

_RESULT_TEXT: Final = {
    "type": "string",
    "description": "What the tool returned, as JSON text (an object with realistic data "
    "shaped by the tool's purpose).",
}


def _context_schema(context: ContextConvention) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in context.fields:
        spec: dict[str, Any] = {"type": "string", "minLength": 1}
        if name in context.patterns:
            spec["pattern"] = f"^(?:{context.patterns[name]})$"
        if name in context.descriptions:
            spec["description"] = context.descriptions[name]
        fields[name] = spec
    return {
        "type": "object",
        "properties": fields,
        "required": list(context.fields),
        "additionalProperties": False,
    }


def _call_schema(
    name: str | None,
    parameters: Mapping[str, Any] | None,
    context: ContextConvention,
    description: str = "",
) -> dict[str, Any]:
    """A call of tool ``name`` (``None``: any tool) with its own arguments' schema."""
    arguments: dict[str, Any] = {"type": "object"}
    if parameters is not None:
        own = {k: v for k, v in (parameters.get("properties") or {}).items() if k != context.key}
        required = [r for r in parameters.get("required") or [] if r != context.key]
        arguments = {**parameters, "type": "object", "properties": own}
        arguments.pop("required", None)
        if required:
            arguments["required"] = required
    props: dict[str, Any] = {
        "tool": {"const": name} if name is not None else {"type": "string", "minLength": 1},
        "arguments": arguments,
        "result": _RESULT,
    }
    required_keys = ["tool", "arguments", "result"]
    if context.active:
        props["context"] = {"$ref": "#/$defs/context"}  # one definition for every tool
        required_keys.insert(1, "context")
    out: dict[str, Any] = {
        "type": "object",
        "properties": props,
        "required": required_keys,
        "additionalProperties": False,
    }
    if description:
        out["description"] = f"A call of {name}: {description}"
    return out


def answer_schema(
    catalogue: ToolRegistry | None, context: ContextConvention, *, result_as_text: bool = False
) -> dict[str, Any]:
    """The input schema of the structured submit tool: the same for every request of a run
    (``catalogue``: the run's tools, each call told apart by its ``tool`` name; ``None``:
    any tool, arguments checked after the answer by the gate). ``result_as_text``: each
    call's result is JSON text (strict tool use cannot express a free-form object)."""
    if catalogue is not None and len(catalogue):
        calls = [
            _call_schema(n, catalogue[n].parameters, context, catalogue[n].description)
            for n in sorted(catalogue)
        ]
    else:
        calls = [_call_schema(None, None, context)]
    if result_as_text:
        for call in calls:
            call["properties"]["result"] = _RESULT_TEXT
    part = {"anyOf": [_TEXT, *calls]}
    plain = {
        "type": "object",
        "properties": {"role": {"enum": ["user", "system"]}, "text": {"type": "string"}},
        "required": ["role", "text"],
        "additionalProperties": False,
    }
    assistant = {
        "type": "object",
        "properties": {
            "role": {"const": "assistant"},
            "parts": {"type": "array", "items": part, "minItems": 1},
        },
        "required": ["role", "parts"],
        "additionalProperties": False,
    }
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "turns": {
                "type": "array",
                "items": {"anyOf": [plain, assistant]},
                "description": "Every turn of the improved example, in order.",
            }
        },
        "required": ["turns"],
        "additionalProperties": False,
    }
    if context.active:
        schema["$defs"] = {"context": _context_schema(context)}
    return schema


def to_structured(example: Mapping[str, Any], context: ContextConvention) -> dict[str, Any]:
    """A text-grammar example as a structured answer (what :func:`render_answer` reads)."""
    turns: list[dict[str, Any]] = []
    for turn in read_text(example).turns:
        if turn.role != "assistant":
            turns.append({"role": turn.role, "text": turn.text})
            continue
        parts: list[dict[str, Any]] = []
        for part in turn.parts:
            if isinstance(part, str):
                parts.append({"text": part})
                continue
            args = dict(part.arguments) if isinstance(part.arguments, dict) else {}
            entry: dict[str, Any] = {"tool": part.name}
            if context.active:
                entry["context"] = args.pop(context.key, {})
            entry["arguments"] = args
            if part.has_result:
                entry["result"] = part.result
            parts.append(entry)
        turns.append({"role": "assistant", "parts": parts})
    return {"turns": turns}


def render_answer(
    answer: Mapping[str, Any], context: ContextConvention
) -> tuple[dict[str, Any] | None, str | None]:
    """``({"conversations": [...]}, None)`` in the text grammar from a structured answer,
    the context object first in each call's arguments; ``(None, why)`` when its shape is
    not one (the gate's schema errors say more)."""
    turns = answer.get("turns")
    if not isinstance(turns, list) or not turns:
        return None, "the answer has no 'turns' list"
    out: list[Turn] = []
    for n, turn in enumerate(turns, 1):
        role = turn.get("role") if isinstance(turn, Mapping) else None
        if role in ("user", "system") and isinstance(turn.get("text"), str):
            out.append(Turn.of(role, [turn["text"]]))
            continue
        parts = turn.get("parts") if isinstance(turn, Mapping) else None
        if role != "assistant" or not isinstance(parts, list):
            return None, f"turn {n} is not a user, system or assistant turn of this shape"
        built: list[str | Call] = []
        for part in parts:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                built.append(part["text"])
            elif isinstance(part, Mapping) and isinstance(part.get("tool"), str):
                args = part.get("arguments")
                args = dict(args) if isinstance(args, Mapping) else {}
                if context.active:
                    args = {context.key: part.get("context"), **args}
                result = _result(part.get("result"))
                built.append(Call(part["tool"], args, result, "result" in part))
            else:
                return None, f"turn {n} has a part that is neither a text nor a tool call"
        out.append(Turn.of("assistant", built))
    return {"conversations": write_text(Conversation(tuple(out)))}, None


def _result(value: Any) -> Any:
    """A call's result as the data it stands for: a string holding a JSON object or list
    (how strict tool use writes it, see :mod:`._strict`) is that object; any other string
    is a plain-text result."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        if isinstance(parsed, dict | list):
            return parsed
    return value
