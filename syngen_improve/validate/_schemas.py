"""The tool schema registry: what each tool's parameters are, as JSON Schema.

Loads the dataset's own format (bundled as the default), a plain
``{name: JSON Schema}`` map, an OpenAI or Anthropic ``tools`` list, or an MCP
``tools/list`` result, and compiles each schema once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import orjson

from .._resources import tool_schemas_path
from ..errors import InvalidInput
from ._quick import Check, compile_check

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

__all__ = ["ToolRegistry", "ToolSchema"]

_PRIMITIVES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "number": {"type": "number"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "object": {"type": "object"},
    "array": {"type": "array"},
    "any": {},
}
_LITERAL_RE = re.compile(r"""^(['"])(.*)\1$""")


def _type_to_schema(type_text: str) -> dict[str, Any]:
    """Translate a TypeScript-like type of the dataset's format to JSON Schema.

    ``'a' | 'b'`` becomes an enum, ``string[]`` an array of strings, and named
    types the format does not define (``AspectRatio``) accept anything.
    """
    parts = [p.strip() for p in type_text.split("|")]
    literals: list[str] = []
    options: list[dict[str, Any]] = []
    for part in parts:
        m = _LITERAL_RE.match(part)
        if m:
            literals.append(m.group(2))
        elif part.endswith("[]"):
            item = _type_to_schema(part[:-2])
            options.append({"type": "array", "items": item} if item else {"type": "array"})
        elif part in _PRIMITIVES:
            options.append(_PRIMITIVES[part])
        else:
            return {}  # an unknown named type: anything goes
    if literals:
        options.append({"enum": literals})
    if any(not o for o in options):
        return {}
    return options[0] if len(options) == 1 else {"anyOf": options}


@dataclass(frozen=True)
class ToolSchema:
    """One tool: its name, parameters schema (JSON Schema object), and its agent."""

    name: str
    parameters: dict[str, Any]
    agent: str | None = None
    description: str = ""
    _validator: Draft202012Validator | None = field(default=None, repr=False, compare=False)
    _quick: tuple[Check | None] | None = field(default=None, repr=False, compare=False)

    def __reduce__(self) -> tuple[Any, ...]:
        # The compiled validator is rebuilt where it is needed, never pickled.
        return (ToolSchema, (self.name, self.parameters, self.agent, self.description))

    @property
    def properties(self) -> Mapping[str, Any]:
        props = self.parameters.get("properties")
        return props if isinstance(props, Mapping) else {}

    @property
    def required(self) -> tuple[str, ...]:
        req = self.parameters.get("required")
        return tuple(req) if isinstance(req, list) else ()

    def surely_valid(self, params: Any) -> bool:
        """True when ``params`` certainly passes :attr:`validator` apart from the schema's
        top-level ``required`` (a compiled check, see :mod:`._quick`); False means "ask
        the validator", which names the problem if there is one."""
        quick = self._quick
        if quick is None:
            quick = (compile_check(self.parameters),)
            object.__setattr__(self, "_quick", quick)
        check = quick[0]
        return check is not None and check(params)

    @property
    def validator(self) -> Draft202012Validator:
        """The compiled validator (built on first use, then kept)."""
        v = self._validator
        if v is None:
            from jsonschema import Draft202012Validator  # only the strict profile needs it

            Draft202012Validator.check_schema(self.parameters)
            v = Draft202012Validator(self.parameters)
            object.__setattr__(self, "_validator", v)
        return v


def _from_dataset_entry(name: str, entry: Mapping[str, Any]) -> ToolSchema:
    props: dict[str, Any] = {}
    required: list[str] = []
    for param in entry.get("parameters") or []:
        pname = param["name"]
        schema = _type_to_schema(str(param.get("type", "any")))
        if param.get("description"):
            schema = {**schema, "description": param["description"]}
        props[pname] = schema
        if not param.get("optional", False):
            required.append(pname)
    for pname in entry.get("required_params") or []:
        if pname not in required:
            required.append(pname)
    parameters = {"type": "object", "properties": props, "required": required}
    return ToolSchema(name, parameters, agent=entry.get("agent"))


class ToolRegistry(Mapping[str, ToolSchema]):
    """A read-only ``{tool name: ToolSchema}`` map with loaders for common formats."""

    def __init__(self, tools: Iterable[ToolSchema]) -> None:
        self._tools = {t.name: t for t in tools}
        self._with: dict[bytes, ToolRegistry] = {}  # merged with rows' own tools

    def __getitem__(self, name: str) -> ToolSchema:
        return self._tools[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tools)

    def __len__(self) -> int:
        return len(self._tools)

    def __repr__(self) -> str:
        return f"ToolRegistry({len(self)} tools)"

    # -- loaders ---------------------------------------------------------------

    @classmethod
    def from_dataset_format(cls, data: Mapping[str, Any]) -> ToolRegistry:
        """``{tool: {agent, parameters: [{name, optional, type}], required_params}}``."""
        return cls(_from_dataset_entry(name, entry) for name, entry in data.items())

    @classmethod
    def from_json_schemas(cls, data: Mapping[str, Mapping[str, Any]]) -> ToolRegistry:
        """A plain ``{tool name: JSON Schema of its parameters}`` map."""
        return cls(ToolSchema(name, dict(schema)) for name, schema in data.items())

    @classmethod
    def _from_list(cls, tools: Iterable[Mapping[str, Any]], schema_key: str) -> ToolRegistry:
        return cls(
            ToolSchema(t["name"], dict(t.get(schema_key) or {}), None, t.get("description", ""))
            for t in tools
        )

    @classmethod
    def from_openai_tools(cls, tools: Iterable[Mapping[str, Any]]) -> ToolRegistry:
        """OpenAI ``tools``: ``[{"type": "function", "function": {name, parameters}}]``."""
        return cls._from_list((t.get("function", t) for t in tools), "parameters")

    @classmethod
    def from_anthropic_tools(cls, tools: Iterable[Mapping[str, Any]]) -> ToolRegistry:
        """Anthropic ``tools``: ``[{name, description, input_schema}]``."""
        return cls._from_list(tools, "input_schema")

    @classmethod
    def from_mcp(cls, result: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> ToolRegistry:
        """An MCP ``tools/list`` result: ``{"tools": [{name, description, inputSchema}]}``."""
        tools = result.get("tools", []) if isinstance(result, Mapping) else result
        return cls._from_list(tools, "inputSchema")

    @classmethod
    def from_any(cls, data: Any) -> ToolRegistry:
        """Detect the format of decoded JSON and load it."""
        if isinstance(data, Mapping):
            if "tools" in data and isinstance(data["tools"], list):
                return cls.from_any(data["tools"])
            values = list(data.values())
            if values and all(isinstance(v, Mapping) and "required_params" in v for v in values):
                return cls.from_dataset_format(data)
            if all(isinstance(v, Mapping) for v in values):
                return cls.from_json_schemas(data)
        if isinstance(data, list) and all(isinstance(t, Mapping) for t in data):
            if all("function" in t for t in data):
                return cls.from_openai_tools(data)
            if all("name" in t and "parameters" in t for t in data):  # ShareGPT rows' tools
                return cls._from_list(data, "parameters")
            if all("inputSchema" in t for t in data):
                return cls.from_mcp(data)
            if all("input_schema" in t for t in data):
                return cls.from_anthropic_tools(data)
        raise InvalidInput(
            "unrecognised tool schema format: expected the dataset's format, a {name: JSON Schema} "
            "map, an OpenAI or Anthropic tools list, or an MCP tools/list result"
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ToolRegistry:
        """Read a JSON file in any supported format; :class:`InvalidInput` names the file
        when its content is not JSON or not tool schemas."""
        with open(path, "rb") as fh:
            raw = fh.read()
        try:
            return cls.from_any(orjson.loads(raw))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidInput(f"{os.fspath(path)}: not usable tool schemas: {exc}") from None

    def with_row_tools(self, tools: Any) -> ToolRegistry:
        """This registry and the tools a row carries (OpenAI rows often do; a JSON string
        is decoded), the row's own definition winning; ``self`` when the row has none or
        they are not in a format :meth:`from_any` knows. Remembered per list of tools."""
        if isinstance(tools, str):
            try:
                tools = orjson.loads(tools)
            except orjson.JSONDecodeError:
                return self
        if not tools:
            return self
        key = orjson.dumps(tools, option=orjson.OPT_SORT_KEYS)
        merged = self._with.get(key)
        if merged is None:
            try:
                own = ToolRegistry.from_any(tools)
            except (InvalidInput, KeyError, TypeError):
                return self
            merged = ToolRegistry([*self.values(), *own.values()])
            if len(self._with) >= 64:
                self._with.clear()
            self._with[key] = merged
        return merged

    @classmethod
    def default(cls) -> ToolRegistry:
        """The bundled schemas of the dataset's 47 tools (loaded once per process)."""
        return _default_registry()

    # -- exports ---------------------------------------------------------------

    def to_json_schemas(self) -> dict[str, dict[str, Any]]:
        """``{tool name: JSON Schema}``."""
        return {name: t.parameters for name, t in self._tools.items()}

    def to_openai_tools(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """An OpenAI ``tools`` list, what chat templates take (all tools, or those in
        ``names``); an empty description is left out."""
        picked = self._tools.values() if names is None else [self._tools[n] for n in names]
        return [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    **({"description": t.description} if t.description else {}),
                    "parameters": t.parameters,
                },
            }
            for t in picked
        ]

    def to_anthropic_tools(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """An Anthropic ``tools`` list (all tools, or those in ``names``)."""
        picked = self._tools.values() if names is None else [self._tools[n] for n in names]
        return [
            {"name": t.name, "description": t.description, "input_schema": t.parameters}
            for t in picked
        ]


@cache
def _default_registry() -> ToolRegistry:
    return ToolRegistry.load(tool_schemas_path())
