"""Structured answers in the fake: the shape a submit tool that takes ``turns`` asks for,
results as JSON text where a strict schema wants text, and schema slips: one argument of
the first call moved off its tool's schema, the way a model slips without strict tool use
(an enum value that is not in the enum, a number written as a string, a required
parameter left out, a text written as a number)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .._grammar import ToolCall, parse_tool_calls

__all__ = ["call_schemas", "results_as_text", "slip", "structured", "structured_schema"]


def call_schemas(schema: Mapping[str, Any]) -> dict[str | None, Mapping[str, Any]]:
    """The call branches of a structured answer schema by tool name (``None``: the branch
    for any tool)."""
    out: dict[str | None, Mapping[str, Any]] = {}
    turns = schema.get("properties", {}).get("turns", {}).get("items", {})
    for turn in turns.get("anyOf") or ():
        parts = turn.get("properties", {}).get("parts", {}).get("items", {})
        for branch in parts.get("anyOf") or ():
            tool = branch.get("properties", {}).get("tool")
            if isinstance(tool, Mapping) and "const" in tool:
                out[tool["const"]] = branch
            elif isinstance(tool, Mapping):
                out[None] = branch
    return out


def slip(answer: dict[str, Any], schema: Mapping[str, Any]) -> bool:
    """Move one argument of the answer's first call off its tool's schema; ``False`` when
    the schema gives nothing to slip on (a tool without typed parameters)."""
    calls = call_schemas(schema)
    for turn in answer.get("turns") or ():
        for part in turn.get("parts") or ():
            if "tool" not in part:
                continue
            spec = calls.get(part["tool"], {}).get("properties", {}).get("arguments", {})
            return _slip_arguments(part.setdefault("arguments", {}), spec)
    return False


def _slip_arguments(arguments: dict[str, Any], spec: Mapping[str, Any]) -> bool:
    props: Mapping[str, Any] = spec.get("properties") or {}
    for name, prop in props.items():  # an enum value that is not in the enum
        if name in arguments and isinstance(prop.get("enum"), list) and prop["enum"]:
            arguments[name] = f"{prop['enum'][0]}-mode"
            return True
    for name, prop in props.items():  # a number or a flag written as a string
        if name in arguments and prop.get("type") in ("number", "integer", "boolean"):
            arguments[name] = str(arguments[name]).lower()
            return True
    for name in spec.get("required") or ():  # a required parameter left out
        if name in arguments:
            del arguments[name]
            return True
    for name, prop in props.items():  # a text written as a number
        if name in arguments and prop.get("type") == "string":
            arguments[name] = 15
            return True
    return False


def structured_schema(payload: Mapping[str, Any], forced: str | None) -> dict[str, Any] | None:
    """The forced tool's input schema when it takes a structured answer (``turns``), not
    ``conversations``."""
    for tool in payload.get("tools") or ():
        if isinstance(tool, dict) and tool.get("name") == forced:
            schema = tool.get("input_schema")
            props = schema.get("properties") if isinstance(schema, dict) else None
            return schema if isinstance(props, dict) and "turns" in props else None
    return None


def structured(result: dict[str, Any]) -> dict[str, Any]:
    """The answer in the structured form: calls carrying a ``context`` object give it as the
    call's context (a model follows the tool's schema)."""
    seven = any(
        isinstance(c.arguments, dict) and isinstance(c.arguments.get("context"), dict)
        for t in result.get("conversations") or ()
        if isinstance(t, dict)
        for c in parse_tool_calls(str(t.get("content", "")))
    )
    turns: list[dict[str, Any]] = []
    for turn in result.get("conversations") or ():
        role, content = turn.get("role"), turn.get("content")
        if not isinstance(role, str) or not isinstance(content, str):
            continue
        if role == "assistant":
            turns.append({"role": role, "parts": _parts(content, seven=seven)})
        else:
            turns.append({"role": role, "text": content.strip()})
    return {"turns": turns}


def _parts(content: str, *, seven: bool) -> list[dict[str, Any]]:
    """An assistant content as the submit tool's parts: texts and calls in order, each
    call's context apart from its arguments when the answer has one (as the tool's
    schema describes it)."""
    parts: list[dict[str, Any]] = []
    pos = 0
    for call in parse_tool_calls(content):
        start, end = call.span
        if content[pos:start].strip():
            parts.append({"text": content[pos:start].strip()})
        parts.append(_call_part(call, seven=seven))
        pos = end
    if content[pos:].strip():
        parts.append({"text": content[pos:].strip()})
    return parts


def _call_part(call: ToolCall, *, seven: bool) -> dict[str, Any]:
    args = dict(call.arguments) if isinstance(call.arguments, dict) else {}
    part: dict[str, Any] = {"tool": call.name}
    if seven:
        part["context"] = args.pop("context", {})
    part["arguments"] = args
    if call.has_result:
        part["result"] = call.result
    return part


def results_as_text(answer: dict[str, Any], schema: Mapping[str, Any]) -> None:
    """Each call's result as JSON text where its tool's schema says ``result`` is a
    string."""
    calls = call_schemas(schema)
    for turn in answer["turns"]:
        for part in turn.get("parts") or ():
            spec = calls.get(part.get("tool"), calls.get(None, {}))
            wants = spec.get("properties", {}).get("result", {}).get("type")
            if "result" in part and wants == "string" and not isinstance(part["result"], str):
                part["result"] = json.dumps(part["result"], ensure_ascii=False)
