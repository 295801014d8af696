"""Before and after, for report.html: a sample of improved examples beside their originals,
per issue kind, with what changed highlighted word by word.

The originals are the poor file's rows, the improvements the improved file's, paired by
the input line they came from (``_source_line``). For each pair the page shows every text
that changed, in full: a user turn, each context field of each call, the call's own
arguments and its Result. Each file is read once and only the sample is kept: a few per
issue kind, in input order.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Final

from .._jsonl import read_records
from ..analyze import issue_kinds
from ..context import ContextConvention, detect_convention
from ..dialects import Call, Conversation, as_text_grammar, read_text

__all__ = ["Change", "Pair", "diff_html", "sample_pairs"]

_TOKENS: Final = re.compile(r"\s+|\w+|[^\w\s]")
#: Poor examples looked at for the sample, at most (the report of a big run stays quick).
_SCAN: Final = 2000


@dataclass(frozen=True)
class Change:
    """One text that changed: where (``"turn 2, call 1"``), what (``"sessionMemory"``,
    ``"Result"``, ``"user"``), and the full text before and after."""

    where: str
    what: str
    before: str
    after: str


@dataclass(frozen=True)
class Pair:
    """An improved example beside its original: the input line, the issue kinds found in
    the original, and every text that changed."""

    line: int
    issues: tuple[str, ...]
    changes: tuple[Change, ...]


def diff_html(before: str, after: str) -> tuple[str, str]:
    """``before`` with what was removed in ``<del>`` and ``after`` with what was added in
    ``<ins>``, word by word; both escaped."""
    a, b = _TOKENS.findall(before), _TOKENS.findall(after)
    old: list[str] = []
    new: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        left, right = escape("".join(a[i1:i2])), escape("".join(b[j1:j2]))
        if op == "equal":
            old.append(left)
            new.append(right)
            continue
        if left:
            old.append(f"<del>{left}</del>")
        if right:
            new.append(f"<ins>{right}</ins>")
    return "".join(old), "".join(new)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=1)


def _conversation(row: dict[str, Any]) -> Conversation:
    return read_text(as_text_grammar(row))


def _call_changes(where: str, key: str, before: Call, after: Call) -> Iterator[Change]:
    b_args = before.arguments if isinstance(before.arguments, dict) else {}
    a_args = after.arguments if isinstance(after.arguments, dict) else {}
    b_ctx, a_ctx = b_args.get(key), a_args.get(key)
    if isinstance(b_ctx, dict) or isinstance(a_ctx, dict):
        b_ctx = b_ctx if isinstance(b_ctx, dict) else {}
        a_ctx = a_ctx if isinstance(a_ctx, dict) else {}
        for field in dict.fromkeys([*b_ctx, *a_ctx]):
            old, new = _text(b_ctx.get(field)), _text(a_ctx.get(field))
            if old != new:
                yield Change(where, field, old, new)
    own_b = {k: v for k, v in b_args.items() if k != key}
    own_a = {k: v for k, v in a_args.items() if k != key}
    if own_b != own_a:
        yield Change(where, "arguments", _text(own_b), _text(own_a))
    old = _text(before.result) if before.has_result else "(no Result)"
    new = _text(after.result) if after.has_result else "(no Result)"
    if old != new:
        yield Change(where, "Result", old, new)


def changes(original: dict[str, Any], improved: dict[str, Any], key: str) -> list[Change]:
    """Every text that differs between an original and its improvement (``key``: the
    argument that holds a call's context object)."""
    out: list[Change] = []
    before, after = _conversation(original), _conversation(improved)
    for n, (b, a) in enumerate(zip(before.turns, after.turns, strict=False), 1):
        if b.role != "assistant":
            if b.text != a.text:
                out.append(Change(f"turn {n}", b.role, b.text, a.text))
            continue
        for c, (bc, ac) in enumerate(zip(b.calls, a.calls, strict=False), 1):
            out.extend(_call_changes(f"turn {n}, call {c}", key, bc, ac))
    return out


def sample_pairs(
    poor: Path,
    improved: Path,
    *,
    context: ContextConvention | None = None,
    per_kind: int = 3,
    limit: int = 12,
) -> list[Pair]:
    """Up to ``per_kind`` improved examples for each issue kind (an example counts for every
    kind it has), ``limit`` in all, in input order. Memory stays bounded: the originals are
    picked from the poor file first (a few more than needed, for improvements that are not
    there), then only their improvements are kept from the improved file. The issue kinds
    are the run's: found in each original as read in its dialect, under ``context`` (the
    run's convention; ``None``: detected in each row)."""
    picked: dict[int, tuple[dict[str, Any], tuple[str, ...], str]] = {}
    shown: dict[str, int] = {}
    for n, original in enumerate(read_records(poor)):
        if n >= _SCAN:
            break
        line = original.get("_source_line")
        if not isinstance(line, int):
            continue
        parsed = as_text_grammar(original)  # the detectors read the text grammar
        convention = context or detect_convention([parsed])
        kinds = tuple(sorted(issue_kinds(parsed, context=convention)))
        if kinds and all(shown.get(k, 0) >= 2 * per_kind for k in kinds):
            continue
        for kind in kinds:
            shown[kind] = shown.get(kind, 0) + 1
        picked[line] = (original, kinds, convention.key or "context")
        if len(picked) >= 3 * limit:
            break
    after: dict[int, dict[str, Any]] = {}
    for row in read_records(improved):
        line = row.get("_source_line")
        if isinstance(line, int) and line in picked:
            after[line] = row
            if len(after) == len(picked):
                break
    counted: dict[str, int] = {}
    pairs: list[Pair] = []
    for line in sorted(after):
        original, kinds, key = picked[line]
        if kinds and all(counted.get(k, 0) >= per_kind for k in kinds):
            continue
        found = changes(original, after[line], key)
        if not found:
            continue
        for kind in kinds:
            counted[kind] = counted.get(kind, 0) + 1
        pairs.append(Pair(line, kinds, tuple(found)))
        if len(pairs) >= limit:
            break
    return pairs
