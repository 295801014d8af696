"""Builders for hand-made examples in the dataset's format."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

GOOD_CONTEXT: dict[str, str] = {
    "sessionId": "session_1731398400000_a1b2c3d4e",
    "workspaceId": "ws_1731398400000_f5g6h7i8j",
    "sessionDescription": "Reorganizing the research notes",
    "sessionMemory": "Listed Projects/ (23 files), searched 'async' in core/ (12 matches)",
    "toolContext": "Need the folder listing before moving notes so no file is overwritten",
    "primaryGoal": "Reorganize research notes by year",
    "subgoal": "Inventory the 2024 folder",
}


def call_text(
    tool: str = "vaultManager_listDirectory",
    *,
    context: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None,
) -> str:
    """One tool call in the dataset's grammar."""
    args = {"context": dict(GOOD_CONTEXT) if context is None else context, **(params or {})}
    text = f"tool_call: {tool}\narguments: {json.dumps(args)}"
    if result is not None:
        text += f"\n\nResult: {json.dumps(result)}"
    return text


def make_example(
    *,
    user: str = "Can you show me what's in the 2024 research folder?",
    assistant: str | None = None,
    scores: dict[str, Any] | None = None,
    **context_changes: Any,
) -> dict[str, Any]:
    """A well-formed example; keyword arguments replace context fields."""
    context = {**GOOD_CONTEXT, **context_changes}
    if assistant is None:
        assistant = call_text(
            context=context,
            params={"path": "Research/2024"},
            result={"success": True, "data": {"files": 12}},
        )
    example: dict[str, Any] = {
        "conversations": [
            {"role": "user", "content": user},
            {"role": "assistant", "content": assistant},
        ],
        "label": True,
    }
    if scores is not None:
        example["quality_scores"] = scores
    return example


@contextlib.contextmanager
def fake_server_process(*flags: str) -> Iterator[str]:
    """``python -m syngen_improve.testing FLAGS`` in its own process; yields its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "syngen_improve.testing", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    try:
        yield proc.stdout.readline().split()[-1]
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def plain_text(text: str) -> str:
    """``text`` with the JSON after each ``arguments:`` / ``Result:`` re-written with sorted
    keys, and whitespace collapsed (written apart from the gate's own normalisation)."""
    decoder = json.JSONDecoder(strict=False)
    out, pos = [], 0
    for mark in re.finditer(r"(arguments|Result):\s*", text):
        if mark.start() < pos:
            continue
        try:
            value, end = decoder.raw_decode(text, mark.end())
        except json.JSONDecodeError:
            continue
        out += [text[pos : mark.end()], json.dumps(value, sort_keys=True)]
        pos = end
    return " ".join(("".join(out) + text[pos:]).split())
