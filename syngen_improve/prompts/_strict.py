"""Strict tool use: the answer schema in the subset of JSON Schema the API compiles into a
grammar, or the reason it cannot be.

With ``strict: true`` on a tool the API constrains the model's input to the tool's schema
by compiling the schema into a grammar. It takes a subset of JSON Schema: every object
closed (``additionalProperties: false``), no length or number bounds, ``minItems`` 0 or 1,
no ``oneOf``, ``not`` or conditionals, and at most so many optional properties and unions
over a request's strict tools; a grammar that still comes out too large is refused with a
400 when the request is made (the run then goes on without strict, see the improver).
Here the answer schema is brought into that subset: bounds are dropped (the gate checks
the answer against the tools' full schemas anyway), a ``oneOf`` becomes an ``anyOf``.
What cannot be expressed (a parameter that is an object with no properties: strict would
force it empty) or passes the limits makes strict use impossible, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ..llm._models import STRICT_MAX_OPTIONAL, STRICT_MAX_UNIONS

__all__ = ["strict_schema"]

#: Keywords strict tool use does not take that only narrow what is valid: dropped.
_BOUNDS: Final = frozenset(
    {
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
    }
)
#: Keywords it does not take that change what is valid: strict is not possible.
_UNSUPPORTED: Final = (
    "not",
    "if",
    "then",
    "else",
    "patternProperties",
    "propertyNames",
    "dependentRequired",
    "dependentSchemas",
    "contains",
    "prefixItems",
    "unevaluatedProperties",
)
_FORMATS: Final = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"}
)


class _Inexpressible(Exception):
    pass


@dataclass
class _Counts:
    optional: int = 0
    unions: int = 0


def strict_schema(schema: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """``(schema in the strict subset, None)``, or ``(None, why strict tool use cannot
    take it)``."""
    counts = _Counts()
    try:
        out = _convert(schema, "the answer", counts)
    except _Inexpressible as exc:
        return None, str(exc)
    if counts.optional > STRICT_MAX_OPTIONAL:
        return None, (
            f"the answer schema has {counts.optional} optional parameters; strict "
            f"tool use takes at most {STRICT_MAX_OPTIONAL}"
        )
    if counts.unions > STRICT_MAX_UNIONS:
        return None, (
            f"the answer schema has {counts.unions} parameters with a union of "
            f"types; strict tool use takes at most {STRICT_MAX_UNIONS}"
        )
    assert isinstance(out, dict)
    return out, None


def _convert(node: Any, where: str, counts: _Counts) -> Any:
    if isinstance(node, list):
        return [_convert(item, where, counts) for item in node]
    if not isinstance(node, Mapping):
        return node
    for key in _UNSUPPORTED:
        if key in node:
            raise _Inexpressible(f"{where} uses {key!r}, which strict tool use does not take")
    ref = node.get("$ref")
    if isinstance(ref, str) and not ref.startswith("#"):
        raise _Inexpressible(f"{where} refers to another document ({ref})")
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _BOUNDS or (key == "format" and value not in _FORMATS):
            continue
        if key == "minItems":
            out[key] = min(int(value), 1)
        elif key in ("oneOf", "anyOf"):
            out["anyOf"] = [_convert(v, _where(v, where), counts) for v in value]
        elif key in ("properties", "$defs", "definitions"):
            out[key] = {
                k: _convert(v, _inside(where, k) if key == "properties" else k, counts)
                for k, v in value.items()
            }
        else:
            out[key] = _convert(value, where, counts)
    if "anyOf" in out or isinstance(out.get("type"), list):
        counts.unions += 1
    if out.get("type") == "object" or "properties" in out:
        if not out.get("properties"):
            raise _Inexpressible(
                f"{where} is an object with no properties (strict tool use would force it empty)"
            )
        required = set(out.get("required") or ())
        counts.optional += sum(1 for k in out["properties"] if k not in required)
        out["additionalProperties"] = False
    return out


def _where(node: Any, where: str) -> str:
    """A union's branch named for a reader: a call by its tool's name."""
    tool = node.get("properties", {}).get("tool") if isinstance(node, Mapping) else None
    if isinstance(tool, Mapping):
        if isinstance(tool.get("const"), str):
            return f"a call of {tool['const']}:"
        return "a call of any tool (the run has no tool schemas):"
    return where


def _inside(where: str, key: str) -> str:
    return f"{where} {key}" if where.endswith(":") else f"{where}.{key}"
