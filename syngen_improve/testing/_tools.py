"""Tool parameter schemas as the fake reads them: ``{tool: JSON Schema}`` (what a request's
schemas block gives), or the dataset's own format (the bundled ``tool_schemas.json``:
``parameters: [{name, type, optional}]`` with TypeScript-like types). The fake's own
reading, so a mistake in the package's registry is not repeated here."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from importlib import resources
from typing import Any, Final, NamedTuple

from jsonschema import Draft202012Validator

__all__ = ["ToolSpec", "bundled_tools", "tool_specs"]

_SIMPLE: Final = {"string", "number", "boolean", "object", "array", "integer"}
_LITERAL: Final = re.compile(r"^'([^']*)'$")


class ToolSpec(NamedTuple):
    """One tool's parameters: their schemas, the required names, a validator."""

    properties: Mapping[str, Any]
    required: tuple[str, ...]
    validator: Draft202012Validator


def _spec(schema: Mapping[str, Any]) -> ToolSpec:
    return ToolSpec(
        dict(schema.get("properties") or {}),
        tuple(schema.get("required") or ()),
        Draft202012Validator(dict(schema)),
    )


def _type(text: str) -> dict[str, Any]:
    """``'a' | 'b'`` is an enum, ``T[]`` an array, a plain JSON type itself, any other
    named type anything."""
    options = [p.strip() for p in text.split("|")]
    literals = [m[1] for m in map(_LITERAL.match, options) if m]
    if literals and len(literals) == len(options):
        return {"type": "string", "enum": literals}
    if len(options) == 1 and text.endswith("[]"):
        return {"type": "array"}
    return {"type": text} if text in _SIMPLE else {}


def _from_dataset(entry: Mapping[str, Any]) -> dict[str, Any]:
    params = [p for p in entry.get("parameters") or () if isinstance(p, Mapping)]
    return {
        "type": "object",
        "properties": {p["name"]: _type(str(p.get("type", ""))) for p in params},
        "required": [p["name"] for p in params if not p.get("optional")],
    }


def tool_specs(data: Any) -> dict[str, ToolSpec]:
    """Specs from ``{tool: JSON Schema}``, the dataset's format, or an object with
    ``to_json_schemas()`` (such as a ``ToolRegistry``)."""
    if hasattr(data, "to_json_schemas"):
        data = data.to_json_schemas()
    out: dict[str, ToolSpec] = {}
    for name, entry in data.items():
        schema = _from_dataset(entry) if "parameters" in entry else entry
        out[name] = _spec(schema)
    return out


@functools.cache
def bundled_tools() -> Mapping[str, ToolSpec]:
    """The dataset's 47 tools, read from the package's data file."""
    text = resources.files("syngen_improve").joinpath("data/tool_schemas.json").read_text()
    return tool_specs(json.loads(text))
