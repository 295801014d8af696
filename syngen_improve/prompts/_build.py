"""Building the improve conversation: first request, and the re-ask after a rejection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from .._conventions import iter_tool_calls
from ..analyze._notes import judge_notes
from ..dialects import canonical
from ..llm import Reply, Request
from ..llm._backend import SharedTool
from ..validate import ToolRegistry
from ._templates import Templates

__all__ = [
    "IMPROVE_TOOL",
    "build_request",
    "first_message",
    "improve_tool",
    "reask_messages",
    "tool_schemas_text",
]

IMPROVE_TOOL: Final = "submit_improved_example"
#: The first line of the block that gives the schemas of the tools an example calls.
SCHEMAS_HEADER: Final = "Parameter schemas (JSON Schema) of the tools this example calls:"

_EXAMPLE_SCHEMA: Final = {
    "type": "object",
    "properties": {
        "conversations": {
            "type": "array",
            "description": "All turns of the improved example, in order.",
            "items": {
                "type": "object",
                "properties": {
                    "role": {"type": "string", "enum": ["system", "user", "assistant"]},
                    "content": {"type": "string"},
                },
                "required": ["role", "content"],
            },
        },
    },
    "required": ["conversations"],
}


def improve_tool(
    input_schema: Mapping[str, Any] | None = None, *, strict: bool = False
) -> Mapping[str, Any]:
    """The forced tool whose input is the improved example: structured, under
    ``input_schema`` (an answer schema, see ``_structured``), or else the example's
    ``conversations`` in the text grammar. ``strict``: the API constrains the input to
    the schema (strict tool use). A structured tool is a ``SharedTool``,
    encoded once for all requests."""
    if input_schema is None:
        return {
            "name": IMPROVE_TOOL,
            "description": "Submit the complete improved example (all of its conversations).",
            "input_schema": _EXAMPLE_SCHEMA,
        }
    tool: dict[str, Any] = {
        "name": IMPROVE_TOOL,
        "description": (
            "Submit the complete improved example, every turn in order: a user turn as its "
            "text, an assistant turn as its parts (texts and tool calls, each call with its "
            "tool, context, arguments and result). The dataset's format is written from it."
        ),
        "input_schema": dict(input_schema),
    }
    if strict:
        tool["strict"] = True
    return SharedTool(tool)


def tool_schemas_text(
    example: Mapping[str, Any], schemas: ToolRegistry, *, shown: ToolRegistry | None = None
) -> str:
    """The JSON schemas of the tools ``example`` calls (those the registry knows; a tool's
    description as the schema's own), but for those the catalogue (``shown``) already
    gives as they are."""
    names = list(dict.fromkeys(call.name for _, call in iter_tool_calls(example) if call.name))
    known = {
        n: _described(schemas[n].parameters, schemas[n].description)
        for n in names
        if n in schemas
        and not (shown is not None and n in shown and shown[n].parameters == schemas[n].parameters)
    }
    if not known:
        return ""
    body = orjson.dumps(known, option=orjson.OPT_INDENT_2).decode()
    return f"{SCHEMAS_HEADER}\n{body}"


def _described(parameters: Mapping[str, Any], description: str) -> Mapping[str, Any]:
    if not description or "description" in parameters:
        return parameters
    return {"description": description, **parameters}


def first_message(
    example: Mapping[str, Any], issues: set[str] | frozenset[str], templates: Templates
) -> dict[str, Any]:
    """The user turn: the instruction blocks of the issues to fix, the reviewer's notes on
    the example, then the example as the last JSON object of the message (DESIGN.md §3):
    its ``conversations`` in their canonical rendering (the same for the same example in
    any dialect or spacing), never its label, scores or tool definitions (the schemas of
    the tools it calls are sent once, beside the system prompt)."""
    parts = ["Improve this training example."]
    blocks = templates.instructions(issues)
    if blocks:
        parts.append("Problems found in it:\n\n" + "\n\n".join(b.strip() for b in blocks))
    notes = judge_notes(example)
    if notes:
        parts.append(f"A reviewer's notes on it (fix what they point out):\n{notes}")
    shown = {"conversations": canonical(example)["conversations"]}
    parts.append("The example:\n" + orjson.dumps(shown).decode())
    return {"role": "user", "content": "\n\n".join(parts)}


def build_request(
    messages: Sequence[Mapping[str, Any]],
    *,
    system: str,
    schemas_text: str,
    max_tokens: int,
    key: str,
    cache: bool = True,
    tool: Mapping[str, Any] | None = None,
) -> Request:
    """An improve request: the run's shared ``system`` prompt (marked for caching unless
    ``cache`` is false: a prefix below the model's floor), the schemas of this example's
    tools outside its catalogue after it, the forced submit ``tool`` (by default the
    one that takes ``conversations``)."""
    return Request(
        messages=messages,
        system=system,
        cache_system=cache,
        system_extra=schemas_text,
        tools=[tool if tool is not None else improve_tool()],
        tool_choice=IMPROVE_TOOL,
        max_tokens=max_tokens,
        key=key,
    )


def reask_messages(
    messages: Sequence[Mapping[str, Any]], reply: Reply, errors: list[str], templates: Templates
) -> list[Mapping[str, Any]]:
    """The conversation continued with the model's answer and the errors: a
    ``tool_result`` with ``is_error`` for each tool call, or plain text when the answer
    had none."""
    text = templates.reask_text(errors)
    uses = [b for b in reply.content if b.get("type") == "tool_use"]
    content: Any
    if uses:
        content = [
            {
                "type": "tool_result",
                "tool_use_id": b.get("id", ""),
                "is_error": True,
                "content": text,
            }
            for b in uses
        ]
    else:
        content = text
    assistant = reply.content or [{"type": "text", "text": "(no answer)"}]
    return [
        *messages,
        {"role": "assistant", "content": assistant},
        {"role": "user", "content": content},
    ]
