"""The tool definitions an export writes: the schemas' own, with every argument the
exported calls use declared, so a model trained on the file sees no argument its tools do
not declare (the context object every call of a seven-field dataset carries; an argument
a tool whose schema lists no parameters is called with).

A first pass over the file finds, per tool, the arguments its calls use and a schema for
each from their values (the type; an object's fields, each with theirs; calls that
disagree on a type leave it open). Each row's definitions then get the arguments their
schema lacks: the same for every row, so the ``tools`` column keeps one type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from ._conventions import iter_tool_calls
from .validate import ToolRegistry, ToolSchema

__all__ = ["UsedArguments", "tool_definitions"]


def _schema_of(value: Any) -> dict[str, Any]:
    """A JSON Schema for one value: its type, and an object's fields with theirs."""
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        return {"type": "array"}
    if isinstance(value, Mapping):
        return {"type": "object", "properties": {str(k): _schema_of(v) for k, v in value.items()}}
    return {}


def _merged(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """One schema for two calls' values (a type they disagree on is left open)."""
    if a.get("type") != b.get("type"):
        return {}
    if a.get("type") != "object":
        return a
    fields = dict(a["properties"])
    for key, schema in b["properties"].items():
        fields[key] = _merged(fields[key], schema) if key in fields else schema
    return {"type": "object", "properties": fields}


class UsedArguments:
    """Per tool, the arguments its calls use, each with a schema merged over the calls;
    and, as definitions get them (:meth:`declare`), what was added to which tool."""

    def __init__(self) -> None:
        self.by_tool: dict[str, dict[str, dict[str, Any]]] = {}
        #: Arguments added to each tool's definition (what the export reports).
        self.added: dict[str, set[str]] = {}

    def add(self, example: Mapping[str, Any]) -> None:
        """Count the calls of one example (text grammar)."""
        for _, call in iter_tool_calls(example):
            if not call.name or not isinstance(call.arguments, Mapping):
                continue
            used = self.by_tool.setdefault(call.name, {})
            for key, value in call.arguments.items():
                schema = _schema_of(value)
                used[key] = _merged(used[key], schema) if key in used else schema

    def declare(self, definitions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """``definitions`` (OpenAI or Anthropic form) with the arguments their schemas
        lack added to their properties (not to ``required``)."""
        return [self._declared(d) for d in definitions]

    def _declared(self, definition: dict[str, Any]) -> dict[str, Any]:
        inner = definition.get("function")
        openai = isinstance(inner, dict)
        body: dict[str, Any] = inner if openai else definition  # type: ignore[assignment]
        name = body.get("name")
        used = self.by_tool.get(name) if isinstance(name, str) else None
        params = body.get("parameters" if openai else "input_schema")
        params = params if isinstance(params, dict) else {}
        props = params.get("properties")
        props = props if isinstance(props, dict) else {}
        missing = {k: v for k, v in (used or {}).items() if k not in props}
        if not missing or not isinstance(name, str):
            return definition
        self.added.setdefault(name, set()).update(missing)
        schema = {**params, "type": "object", "properties": {**props, **missing}}
        body = {**body, "parameters" if openai else "input_schema": schema}
        return {**definition, "function": body} if openai else body

    def report(self) -> dict[str, list[str]]:
        """Arguments added, by tool (sorted)."""
        return {name: sorted(args) for name, args in sorted(self.added.items())}


def tool_definitions(
    example: Mapping[str, Any],
    schemas: ToolRegistry,
    tools_format: Literal["openai", "anthropic"],
    used: UsedArguments | None,
) -> list[dict[str, Any]]:
    """The definitions of the tools ``example`` calls (its own ``tools`` winning), with
    the arguments its file's calls use declared (``used``); a tool without a schema is
    then defined by them alone (without ``used`` it is left out)."""
    registry = schemas.with_row_tools(example["tools"]) if "tools" in example else schemas
    names = list(dict.fromkeys(c.name for _, c in iter_tool_calls(example) if c.name))
    if used is None:
        names = [n for n in names if n in registry]
    bare = {"type": "object", "properties": {}}
    unknown = ToolRegistry([ToolSchema(n, bare) for n in names if n not in registry])
    definitions = []
    for name in names:
        source = registry if name in registry else unknown
        if tools_format == "anthropic":
            definitions += source.to_anthropic_tools([name])
        else:
            definitions += source.to_openai_tools([name])
    return definitions if used is None else used.declare(definitions)
