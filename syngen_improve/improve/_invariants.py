"""What an improvement must keep of its original, and must change.

The system prompt asks the model to keep the conversation's turns and the user's intent and
to fix what is wrong; these checks enforce that in code, because an answer that breaks them
teaches the trainer the wrong thing:

- **the same turns**: the same roles in the same order (an appended turn, even a harmless
  looking one, is rejected: ``turns_changed``);
- **the user's request**: a user turn that is a natural request keeps at least
  :data:`MIN_REQUEST_KEPT` of its content words (words of three or more letters outside a
  short stopword list), so it may be polished but not replaced (``request_changed``). A user
  turn that is not a natural request (a pasted ``Result:``, raw JSON, a tool call, command
  syntax: what the prompt-naturalness issue flags) may be rewritten freely, never to an
  empty turn. In the 200 real improved pairs every natural request is kept verbatim and the
  32 unnatural ones are rewritten;
- **a change**: an answer equal to the original once whitespace is collapsed and every
  tool call's arguments and result are written with sorted keys is rejected (``unchanged``):
  it would put the same text in the file as both desirable and undesirable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import orjson

from .._grammar import shared_tool_calls
from ..analyze import is_natural_request

__all__ = ["MIN_REQUEST_KEPT", "request_problems", "turns_problem", "unchanged"]

#: The share of a natural request's content words an improved user turn must keep.
MIN_REQUEST_KEPT: Final = 0.6
_WORD_RE: Final = re.compile(r"[a-z0-9][a-z0-9'_./-]*[a-z0-9]|[a-z0-9]")
_STOPWORDS: Final = frozenset(
    {
        "the",
        "and",
        "for",
        "with",
        "from",
        "that",
        "this",
        "you",
        "can",
        "could",
        "would",
        "please",
        "will",
        "into",
        "onto",
        "about",
        "what",
        "which",
        "your",
        "mine",
        "are",
        "was",
        "were",
        "have",
        "has",
        "had",
        "all",
        "any",
        "its",
        "our",
        "their",
        "them",
        "then",
    }
)


def _turns(example: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    turns = example.get("conversations")
    return [t for t in turns if isinstance(t, Mapping)] if isinstance(turns, list) else []


def _text(turn: Mapping[str, Any]) -> str:
    content = turn.get("content")
    return content if isinstance(content, str) else ""


def turns_problem(original: Mapping[str, Any], answer: Mapping[str, Any]) -> str | None:
    """Why the answer's turns are not the original's (roles, number, order), or None."""
    before = [t.get("role") for t in _turns(original)]
    after = [t.get("role") for t in _turns(answer)]
    if before == after:
        return None
    return (
        f"keep the conversation's turns: {len(before)} turns with roles {before}, in that "
        f"order; the answer has {len(after)}: {after}"
    )


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD_RE.findall(text.lower()) if len(w) >= 3 and w not in _STOPWORDS}


def request_problems(original: Mapping[str, Any], answer: Mapping[str, Any]) -> list[str]:
    """The user turns whose request the answer lost or emptied (call after
    :func:`turns_problem` found none)."""
    problems: list[str] = []
    for n, (old, new) in enumerate(zip(_turns(original), _turns(answer), strict=False), 1):
        if old.get("role") != "user":
            continue
        before, after = _text(old), _text(new)
        if not after.strip():
            problems.append(f"turn {n} (user) is empty: keep the user's request")
            continue
        if after == before:  # kept whole (most answers)
            continue
        if not is_natural_request(before):
            continue  # pasted data or a command: the model may write a real request
        words = _content_words(before)
        if not words:
            continue
        kept = len(words & _content_words(after)) / len(words)
        if kept < MIN_REQUEST_KEPT:
            problems.append(
                f"turn {n} (user) must keep the user's request: it keeps {kept:.0%} of the "
                f"request's words (at least {MIN_REQUEST_KEPT:.0%}); improve the assistant's "
                "turns, not what the user asked"
            )
    return problems


def _canonical_text(text: str) -> str:
    """``text`` with every decodable tool-call arguments/result JSON written with sorted
    keys, and runs of whitespace collapsed."""
    pieces: list[str] = []
    pos = 0
    spans: list[tuple[tuple[int, int], Any]] = []
    for call in shared_tool_calls(text):
        if call.arguments_span is not None and call.arguments_error is None:
            spans.append((call.arguments_span, call.arguments))
        if call.result_span is not None and call.result_error is None:
            spans.append((call.result_span, call.result))
    for (start, end), value in sorted(spans, key=lambda item: item[0]):
        pieces.append(text[pos:start])
        pieces.append(orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())
        pos = end
    pieces.append(text[pos:])
    return " ".join("".join(pieces).split())


def unchanged(original: Mapping[str, Any], answer: Mapping[str, Any]) -> bool:
    """Whether the answer's conversation is the original's up to whitespace and JSON key
    order (turn by turn, stopping at the first that differs: an improvement rarely gets
    past its second turn)."""
    mine, theirs = _turns(original), _turns(answer)
    return len(mine) == len(theirs) and all(
        a.get("role") == b.get("role") and _same_text(_text(a), _text(b))
        for a, b in zip(mine, theirs, strict=True)
    )


def _same_text(before: str, after: str) -> bool:
    """Whether two turn texts are the same up to whitespace and JSON key order. Calls whose
    decoded arguments or results differ (Python's ``==``, which key order does not affect)
    settle it at once; only texts that may be the same are put in canonical form."""
    if before == after:
        return True
    old, new = shared_tool_calls(before), shared_tool_calls(after)
    if len(old) == len(new) and any(
        a.arguments != b.arguments or a.result != b.result for a, b in zip(old, new, strict=True)
    ):
        return False
    return _canonical_text(before) == _canonical_text(after)
