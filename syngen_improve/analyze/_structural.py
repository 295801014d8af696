"""Issue detection from the example itself (no judge needed).

Every detector looks at the parsed tool calls and turns of one example and
returns a short reason when it finds its issue. One line per heuristic:

- empty_session_memory: sessionMemory missing, not a string, blank, or a placeholder ("None").
- generic_tool_context: toolContext not a string, under 5 words, restating the tool name or the
  request ("User wants to ..."), or without a word of purpose ("to", "because", "before", ...).
- missing_result: a tool call with no ``Result:`` object after its arguments.
- weak_goals: a goal blank, both identical, one inside the other, sharing >= 60% of their
  content words, or a subgoal that names the tool.
- unnatural_prompt: a user turn that is a pasted ``Result:`` or JSON, a ``tool_call:``, or
  command syntax (``agent_mode``, ``/cmd``, ``--flag``, ``key=value``, ``call(...)``).
- missing_context: arguments without a context object, context not first, or a field missing.
- malformed_ids: sessionId / workspaceId not ``session_<13 digits>_<9 [a-z0-9]>`` /
  ``ws_<13 digits>_<9 [a-z0-9]>`` (any field that breaks its pattern, in another convention).
- malformed_tool_call: an assistant turn without a tool call, or arguments not a JSON object.

The context detectors follow the context convention: none of them with ``none``; with a
user's own, the object, its fields and patterns, and the three content detectors for the
fields named sessionMemory, toolContext, primaryGoal/subgoal when it has them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from .._conventions import iter_tool_calls
from .._grammar import ToolCall
from ..context._convention import SEVEN_FIELDS, ContextConvention

__all__ = ["STRUCTURAL_KINDS", "detect_structural", "is_natural_request"]

STRUCTURAL_KINDS: Final = (
    "empty_session_memory",
    "generic_tool_context",
    "missing_result",
    "weak_goals",
    "unnatural_prompt",
    "missing_context",
    "malformed_ids",
    "malformed_tool_call",
)

_PLACEHOLDERS: Final = frozenset(
    {
        "",
        "none",
        "null",
        "nil",
        "n/a",
        "na",
        "-",
        "--",
        "...",
        "tbd",
        "todo",
        "empty",
        "nothing",
        "placeholder",
        "user working",
        "no prior context",
        "no previous context",
        "no context",
        "no memory",
        "no history",
        "first call",
        "new session",
        "start",
    }
)
_PURPOSE_WORDS: Final = frozenset(
    {
        "to",
        "so",
        "because",
        "before",
        "after",
        "since",
        "need",
        "needs",
        "needed",
        "ensure",
        "avoid",
        "for",
        "then",
        "why",
        "order",
        "instead",
        "prevent",
        "verify",
        "confirm",
        "keep",
        "requires",
        "required",
        "without",
        "while",
        "once",
    }
)
_STOPWORDS: Final = frozenset(
    {"the", "a", "an", "and", "or", "of", "to", "for", "in", "on", "with"}
)
_RESTATED_RE: Final = re.compile(
    r"\s*(?:the\s+)?user\s+(?:wants|needs|asked|asks|is\s+asking|would\s+like|requested)\b",
    re.IGNORECASE,
)
_WORD_RE: Final = re.compile(r"[a-z0-9']+")
_COMMAND_RE: Final = re.compile(
    r"""^\s*(?:
        [a-z][a-zA-Z0-9]*_[a-zA-Z0-9]+\b        # agent_mode
      | [/!][a-zA-Z]                           # /command
      | \S+\s+--?[a-zA-Z]                      # cmd --flag
      | [a-zA-Z_]+\s*=\s*\S                    # key=value
      | [a-zA-Z_][\w.]*\(.*\)\s*$              # call(...)
    )""",
    re.VERBOSE | re.DOTALL,
)


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


def _memory_issue(value: Any) -> str | None:
    if value is None:
        return "sessionMemory is missing"
    if not isinstance(value, str):
        return f"sessionMemory is a {type(value).__name__}, not a string"
    if value.strip().strip(".!").lower() in _PLACEHOLDERS:
        return "sessionMemory is empty or a placeholder"
    return None


def _tool_context_issue(value: Any, tool: str) -> str | None:
    if value is None:
        return "toolContext is missing"
    if not isinstance(value, str):
        return f"toolContext is a {type(value).__name__}, not a string"
    words = _words(value)
    if len(words) < 5:
        return "toolContext is too short to explain why the tool is called"
    mode = tool.rsplit("_", 1)[-1].lower()
    if mode and (tool.lower() in value.lower() or mode in words) and len(words) < 8:
        return "toolContext restates the tool name"
    if _RESTATED_RE.match(value):
        return "toolContext restates the user's request"
    if _PURPOSE_WORDS.isdisjoint(words):
        return "toolContext says what, not why"
    return None


def _goals_issue(primary: Any, sub: Any, tool: str) -> str | None:
    if not isinstance(primary, str) or not primary.strip():
        return "primaryGoal is missing or blank"
    if not isinstance(sub, str) or not sub.strip():
        return "subgoal is missing or blank"
    p, s = primary.strip().lower(), sub.strip().lower()
    if p == s:
        return "primaryGoal and subgoal are identical"
    if p in s or s in p:
        return "one goal contains the other"
    agent = tool.split("_", 1)[0].lower()
    if tool and (tool.lower() in s or (len(agent) > 3 and agent in s)):
        return "subgoal names the tool instead of a step of the plan"
    pw = set(_words(p)) - _STOPWORDS
    sw = set(_words(s)) - _STOPWORDS
    if pw and sw and len(pw & sw) / len(pw | sw) >= 0.6:
        return "primaryGoal and subgoal are near-identical"
    return None


def is_natural_request(text: str) -> bool:
    """Whether a user turn reads as a request in words, not a pasted ``Result:``, raw
    JSON, a tool call or command syntax (the prompt-naturalness issue's rule)."""
    return _prompt_issue(text) is None


def _prompt_issue(text: str) -> str | None:
    stripped = text.lstrip()
    if stripped.startswith("Result:"):
        return "user turn is a pasted Result object"
    if stripped.startswith(("{", "[")):
        return "user turn is raw JSON"
    if stripped.startswith("tool_call:"):
        return "user turn is a tool call"
    if _COMMAND_RE.match(stripped):
        return "user turn is command syntax"
    return None


def _context_issues(call: ToolCall, found: dict[str, str], conv: ContextConvention) -> None:
    args, key = call.arguments, conv.key
    ctx = args.get(key)
    if not isinstance(ctx, dict):
        found.setdefault("missing_context", f"call {call.index + 1} ({call.name}) has no {key}")
        return
    if conv.first and next(iter(args)) != key:
        found.setdefault("missing_context", f"call {call.index + 1}: {key} is not the first key")
    missing = [f for f in conv.fields if f not in ctx]
    if missing:
        found.setdefault("missing_context", f"{key} lacks {', '.join(missing)}")
    bad = next((n for n in conv.patterns if conv.mismatch(n, ctx.get(n))), None)
    if bad is not None:
        found.setdefault("malformed_ids", f"{bad} {ctx.get(bad)!r} does not match the pattern")
    has = conv.fields
    memory, tool_context = ctx.get("sessionMemory"), ctx.get("toolContext")
    checks = (
        ("empty_session_memory", "sessionMemory" in has and _memory_issue(memory)),
        (
            "generic_tool_context",
            "toolContext" in has and _tool_context_issue(tool_context, call.name),
        ),
        (
            "weak_goals",
            "primaryGoal" in has
            and "subgoal" in has
            and _goals_issue(ctx.get("primaryGoal"), ctx.get("subgoal"), call.name),
        ),
    )
    for kind, reason in checks:
        if reason:
            found.setdefault(kind, reason)


def detect_structural(
    example: Mapping[str, Any],
    *,
    calls: Sequence[tuple[int, ToolCall]] | None = None,
    context: ContextConvention = SEVEN_FIELDS,
) -> dict[str, str]:
    """Map each issue kind found in ``example`` to the first reason for it.

    ``calls`` is the example's ``iter_tool_calls`` output when the caller has
    parsed it already; ``context`` the context convention of its dataset.
    """
    found: dict[str, str] = {}
    convs = example.get("conversations")
    if isinstance(convs, list):
        for msg in convs:
            if isinstance(msg, dict) and msg.get("role") == "user":
                content = msg.get("content")
                reason = _prompt_issue(content) if isinstance(content, str) else None
                if reason is not None:
                    found.setdefault("unnatural_prompt", reason)
    if calls is None:
        calls = list(iter_tool_calls(example))
    for _turn, call in calls:
        if not isinstance(call.arguments, dict):
            found.setdefault("malformed_tool_call", call.arguments_error or "bad arguments")
        elif context.active:
            _context_issues(call, found, context)
        if not call.has_result:
            found.setdefault("missing_result", f"call {call.index + 1} ({call.name}) has no Result")
    if not calls:
        found.setdefault("malformed_tool_call", "no tool call in any assistant turn")
    return found
