"""What a trainer of the output should know before training: the report's warnings (also
printed by the command line), and how a label shortcut is marked and what to do about it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ._model import Report

__all__ = ["SHORTCUT_ADVICE", "shortcut_mark", "warnings_of"]


def warnings_of(report: Report, analysis: Mapping[str, Any]) -> list[str]:
    """What a trainer of the KTO file should know before training (also printed by the
    command line)."""
    out: list[str] = []
    il = report.interleaving
    if il:
        d, u = il.desirable, il.undesirable
        bound = -(-max(d, u) // min(d, u)) if min(d, u) else max(d, u)
        if il.longest_run > bound:
            out.append(
                f"the KTO file has a run of {il.longest_run} rows with one label "
                f"(the ratio allows {bound})"
            )
        if il.batches_lacking_a_label:
            out.append(
                f"{il.batches_lacking_a_label} batches of {il.batch_size} in the "
                "KTO file hold one label only"
            )
        if il.close_prompts:
            out.append(
                f"{il.close_prompts} rows of the KTO file are within {il.prompt_gap} rows of "
                "a row with the same prompt (TRL's KL pairs would share it)"
            )
    if report.cache.reason:
        out.append(f"prompt caching is off: {report.cache.reason}")
    tool = report.answer_tool or {}
    if tool.get("strict_refusals"):
        out.append(f"strict tool use is off: {tool['reason']}")
    if (report.thinking or {}).get("switched"):
        out.append(f"thinking settings changed: {report.thinking['switched']}")  # type: ignore[index]
    shortcuts = report.label_shortcuts or {}
    leaks = _leaks(shortcuts)
    if leaks:
        aucs = ", ".join(f"{n} (AUC {shortcuts['features'][n]['auc']:.2f})" for n in leaks)
        one = len(leaks) == 1
        out.append(
            f"label shortcuts: {aucs} alone {'tells' if one else 'tell'} the labels apart and "
            f"no fix of the run accounts for {'it' if one else 'them'}: a model can learn "
            f"{'it' if one else 'them'} instead of the quality. {SHORTCUT_ADVICE} (see report.md)"
        )
    return out + _input_warnings(analysis)


#: What to do about a label shortcut no fix accounts for (the warning's and report.md's).
SHORTCUT_ADVICE: Final = (
    "Add good rows as desirable ones (--include-good), balance the feature, and evaluate "
    "on a split grouped by source (export --eval-fraction) where it does not hold"
)


def _leaks(shortcuts: Mapping[str, Any]) -> list[str]:
    """The flagged features not marked intended (report.json of any version)."""
    leaks = shortcuts.get("leaks")
    if isinstance(leaks, list):
        return [str(n) for n in leaks]
    return [str(n) for n in shortcuts.get("flagged", [])]


def _input_warnings(analysis: Mapping[str, Any]) -> list[str]:
    """What the analysis of the input says a trainer should know."""
    out = []
    if analysis.get("other_dialect"):
        out.append(
            f"{analysis['other_dialect']} input rows are not in the file's dialect "
            f"({analysis.get('dialect')}), lines {analysis.get('other_dialect_lines')}: each "
            "was read in its own"
        )
    if analysis.get("no_tool_call"):
        out.append(
            f"{analysis['no_tool_call']} input rows have no tool call in any assistant turn "
            f"(lines {analysis.get('no_tool_call_lines')}, the first 20): an improvement of "
            "them teaches no tool use"
        )
    return out


def shortcut_mark(feature: dict[str, Any]) -> str:
    """A feature's cell in the "shortcut" column: ``yes``, ``intended (kind)`` or empty."""
    if not feature.get("flagged"):
        return ""
    by = feature.get("intended_by")
    return f"intended ({by})" if by else "yes"
