from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from syngen_improve.validate import ToolRegistry
from syngen_improve.validate._schemas import _type_to_schema


def test_default_registry_has_the_47_tools() -> None:
    reg = ToolRegistry.default()
    assert len(reg) == 47
    assert reg is ToolRegistry.default()  # loaded once
    open_note = reg["vaultManager_openNote"]
    assert open_note.required == ("path",)
    assert open_note.agent == "vaultManager"
    assert open_note.properties["mode"] == {"enum": ["tab", "split", "window", "current"]}
    assert reg["get_tools"].properties["managers"]["type"] == "array"


def test_every_bundled_schema_compiles() -> None:
    for tool in ToolRegistry.default().values():
        assert tool.validator is tool.validator


@pytest.mark.parametrize(
    ("text", "schema"),
    [
        ("string", {"type": "string"}),
        ("string[]", {"type": "array", "items": {"type": "string"}}),
        ("'asc' | 'desc'", {"enum": ["asc", "desc"]}),
        ("WorkspaceContext | string", {}),
        ("AspectRatio", {}),
        ("MemoryType[]", {"type": "array"}),
        ("any", {}),
        ("string | number", {"anyOf": [{"type": "string"}, {"type": "number"}]}),
    ],
)
def test_type_translation(text: str, schema: dict[str, Any]) -> None:
    assert _type_to_schema(text) == schema


PARAMS = {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}


@pytest.mark.parametrize(
    "data",
    [
        {"open_note": PARAMS},
        [{"type": "function", "function": {"name": "open_note", "parameters": PARAMS}}],
        [{"name": "open_note", "description": "d", "input_schema": PARAMS}],
        {"tools": [{"name": "open_note", "inputSchema": PARAMS}]},
        [{"name": "open_note", "inputSchema": PARAMS}],
        {
            "open_note": {
                "parameters": [{"name": "path", "optional": False, "type": "string"}],
                "required_params": ["path"],
            }
        },
    ],
    ids=["json-schema-map", "openai", "anthropic", "mcp", "mcp-list", "dataset"],
)
def test_formats_are_detected(tmp_path: Path, data: Any) -> None:
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(data))
    reg = ToolRegistry.load(path)
    assert list(reg) == ["open_note"]
    assert reg["open_note"].required == ("path",)
    assert reg["open_note"].properties["path"]["type"] == "string"


def test_unknown_format_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unrecognised tool schema format"):
        ToolRegistry.from_any([1, 2])


def test_exports_and_pickling() -> None:
    reg = ToolRegistry.default()
    tools = reg.to_anthropic_tools(["vaultManager_openNote"])
    assert tools[0]["name"] == "vaultManager_openNote"
    assert tools[0]["input_schema"]["required"] == ["path"]
    assert len(reg.to_json_schemas()) == 47
    tool = reg["vaultManager_openNote"]
    _ = tool.validator
    copy = pickle.loads(pickle.dumps(tool))
    assert copy == tool
    assert repr(reg) == "ToolRegistry(47 tools)"
