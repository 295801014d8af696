"""The fake's own quality rules: what it rewrites and how it scores, taken from the job's
description (seed report, "Quality Standards Applied") rather than from the package's
detectors, so a detector that drifts is caught by the tests instead of being copied here.

- sessionMemory: never empty; meaningful prior context, so a few words are not enough.
- toolContext: workflow reasoning that says why the tool is called.
- goals: a strategic primary goal and a tactical subgoal, not overlapping, the subgoal a
  step of the plan rather than the tool's name.
- prompts: natural requests, never a pasted ``Result:``, JSON, a tool call or command syntax.
- every call carries the seven-field context with well-formed ids and a ``Result:``.

The rules are deliberately stricter than the package's detectors: what the fake keeps must
be good by any reasonable measure, so what the package flags after a run is the package's
finding, not the fake's leniency.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from .._grammar import parse_tool_calls
from .._model import CONTEXT_FIELDS, SESSION_ID_RE, WORKSPACE_ID_RE

__all__ = ["findings", "poor_goals", "poor_memory", "poor_prompt", "poor_tool_context"]

_WORDS: Final = re.compile(r"[a-z0-9']+")
_WHY: Final = frozenset({"to", "so", "because", "before", "after", "need", "needs", "ensure"})
_TECHNICAL: Final = re.compile(
    r"\s*(?:Result:|tool_call:|[{\[/!]|\w+_\w+\b|\S+\s+--?\w|\w+\s*=|[\w.]+\(.*\)\s*$)", re.DOTALL
)
_FILLER: Final = frozenset({"the", "a", "an", "and", "or", "of", "to", "for", "in", "on"})


def _words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def poor_memory(value: Any) -> bool:
    """Not a string, or too short to say what happened earlier in the session."""
    return not isinstance(value, str) or len(_words(value)) < 6


def poor_tool_context(value: Any, tool: str) -> bool:
    """Not a string, short, opening with "the user wants", naming the tool, or not saying
    why."""
    if not isinstance(value, str):
        return True
    words = _words(value)
    return (
        len(words) < 8
        or value.lower().lstrip().startswith(("user ", "the user "))
        or tool.lower() in value.lower()
        or _WHY.isdisjoint(words)
    )


def poor_goals(primary: Any, sub: Any, tool: str) -> bool:
    """Either goal blank, one inside the other, the subgoal naming the tool or its agent, or
    the two sharing half their content words."""
    if not (isinstance(primary, str) and primary.strip() and isinstance(sub, str) and sub.strip()):
        return True
    p, s = primary.strip().lower(), sub.strip().lower()
    agent = tool.split("_", 1)[0].lower()
    if p in s or s in p or tool.lower() in s or (len(agent) > 3 and agent in s):
        return True
    pw, sw = set(_words(p)) - _FILLER, set(_words(s)) - _FILLER
    return bool(pw and sw) and len(pw & sw) / len(pw | sw) >= 0.5


def poor_prompt(text: str) -> bool:
    """A user turn that is not a request in words."""
    return _TECHNICAL.match(text) is not None


def _context_findings(ctx: Any, tool: str, found: dict[str, str]) -> None:
    if not isinstance(ctx, dict) or any(f not in ctx for f in CONTEXT_FIELDS):
        found.setdefault("context", f"{tool}: the context lacks fields")
        return
    ids = (SESSION_ID_RE, ctx.get("sessionId")), (WORKSPACE_ID_RE, ctx.get("workspaceId"))
    if any(not (isinstance(v, str) and rx.fullmatch(v)) for rx, v in ids):
        found.setdefault("context", f"{tool}: malformed ids")
    if poor_memory(ctx.get("sessionMemory")):
        found.setdefault("memory", "sessionMemory says nothing about earlier steps")
    if poor_tool_context(ctx.get("toolContext"), tool):
        found.setdefault("tool_context", "toolContext does not say why")
    if poor_goals(ctx.get("primaryGoal"), ctx.get("subgoal"), tool):
        found.setdefault("goals", "the goals overlap")


def findings(example: Mapping[str, Any]) -> dict[str, str]:
    """What the fake finds wrong with ``example``, by the rubric dimension it costs. The
    context rules apply when any call carries a ``context`` object (data without one has
    no context to judge)."""
    found: dict[str, str] = {}
    turns = [t for t in example.get("conversations") or () if isinstance(t, dict)]
    calls = [
        c
        for t in turns
        if t.get("role") == "assistant"
        for c in parse_tool_calls(str(t.get("content", "")))
    ]
    if any(t.get("role") == "user" and poor_prompt(str(t.get("content"))) for t in turns):
        found["prompt"] = "a user turn is not a request in words"
    seven = any(isinstance(c.arguments, dict) and "context" in c.arguments for c in calls)
    for call in calls:
        if not isinstance(call.arguments, dict):
            found.setdefault("broken", f"{call.name}: arguments are not an object")
        elif seven:
            _context_findings(call.arguments.get("context"), call.name, found)
        if not call.has_result:
            found.setdefault("result", f"{call.name} has no Result")
    if not calls:
        found["broken"] = "no tool call"
    return found
