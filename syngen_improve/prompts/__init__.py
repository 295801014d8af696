"""Prompts: the bundled templates (package data) and the requests built from them.

Improve and judge both read their texts from here, so a templates folder given by a
user overrides them in one place.
"""

from __future__ import annotations

from ._build import (
    IMPROVE_TOOL,
    build_request,
    first_message,
    improve_tool,
    reask_messages,
    tool_schemas_text,
)
from ._templates import ISSUE_BLOCKS, Templates, judge_system_prompt

__all__ = [
    "IMPROVE_TOOL",
    "ISSUE_BLOCKS",
    "Templates",
    "build_request",
    "first_message",
    "improve_tool",
    "judge_system_prompt",
    "reask_messages",
    "tool_schemas_text",
]
