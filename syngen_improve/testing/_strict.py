"""Strict tool use as the API checks it: a request whose tool has ``strict: true`` has its
input schema compiled into a grammar, which takes a subset of JSON Schema and has limits.

Written from the API's documented rules, not from the library's own conversion (a fake
that shares the client's code shares its blind spots): every object closed with
``additionalProperties: false``; no string length, number or array-length bounds beyond
``minItems`` 0/1; no ``oneOf``, ``not`` or conditionals; at most 24 optional properties
and 16 union-typed properties over a request's strict tools; and a grammar too large
refused. The size limit is not documented: here it is the schema's JSON size in bytes
(``FakeConfig.strict_grammar_limit``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

__all__ = ["GRAMMAR_TOO_LARGE", "strict_problem", "strict_tool"]

GRAMMAR_TOO_LARGE: Final = (
    "The compiled grammar is too large, which would cause performance issues. Simplify "
    "your tool schemas or reduce the number of strict tools."
)
_REFUSED: Final = frozenset(
    {
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "maxItems",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "patternProperties",
    }
)


def strict_tool(payload: Mapping[str, Any], name: str | None) -> Mapping[str, Any] | None:
    """The tool ``name`` of the request when it is strict."""
    for tool in payload.get("tools") or ():
        if isinstance(tool, Mapping) and tool.get("name") == name and tool.get("strict") is True:
            return tool
    return None


def strict_problem(payload: Mapping[str, Any], grammar_limit: int | None) -> str | None:
    """Why the API would refuse the request's strict tools (``None``: it would not)."""
    counts = {"optional": 0, "unions": 0}
    size = 0
    for i, tool in enumerate(payload.get("tools") or ()):
        if not isinstance(tool, Mapping) or tool.get("strict") is not True:
            continue
        schema = tool.get("input_schema")
        size += len(orjson.dumps(schema))
        stack: list[tuple[str, Any]] = [(f"tools.{i}.input_schema", schema)]
        while stack:
            where, node = stack.pop()
            if isinstance(node, list):
                stack.extend((f"{where}.{n}", v) for n, v in enumerate(node))
            elif isinstance(node, Mapping):
                problem = _node_problem(where, node, counts)
                if problem is not None:
                    return problem
                for key, value in node.items():
                    if key in ("properties", "$defs", "definitions") and isinstance(value, Mapping):
                        stack.extend((f"{where}.{key}.{k}", v) for k, v in value.items())
                    elif isinstance(value, Mapping | list):
                        stack.append((f"{where}.{key}", value))
    optional, unions = counts["optional"], counts["unions"]
    if optional > 24:
        return f"strict tools have {optional} optional parameters in all; at most 24 are allowed"
    if unions > 16:
        return f"strict tools have {unions} union-typed parameters in all; at most 16 are allowed"
    if grammar_limit is not None and size > grammar_limit:
        return GRAMMAR_TOO_LARGE
    return None


def _node_problem(where: str, node: Mapping[str, Any], counts: dict[str, int]) -> str | None:
    """What one schema node breaks of the strict rules; counts its optional and
    union-typed parameters."""
    for key in _REFUSED & node.keys():
        return f"{where}: '{key}' is not supported with strict tool use"
    if node.get("minItems", 0) > 1:
        return f"{where}: minItems above 1 is not supported with strict tool use"
    if node.get("type") == "object" or "properties" in node:
        if node.get("additionalProperties") is not False:
            return (
                f"{where}: additionalProperties must be set to false for every "
                "object with strict tool use"
            )
        required = set(node.get("required") or ())
        counts["optional"] += sum(1 for k in node.get("properties") or {} if k not in required)
    if "anyOf" in node or isinstance(node.get("type"), list):
        counts["unions"] += 1
    return None
