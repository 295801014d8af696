"""The source: read the input once and route every line.

A malformed line goes to quarantine (so does, with ``dedupe``, a line whose content
repeats an earlier one's; duplicates are counted either way), a good one passes (to the
desirable side with ``include_good``), a poor one is written as the undesirable original
and, unless an earlier run finished it, handed on to be improved. The profile of the
input (the report's analysis) is built on the way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._conventions import iter_tool_calls
from .._jsonl import Malformed, read_jsonl
from .._progress import Progress
from ..analyze import ProfileBuilder, shape_problem
from ..config import ImproveConfig
from ..context import SEVEN_FIELDS
from ..dialects import FileDialect
from ..outputs import Prior
from ._manifest import InputLines
from ._sinks import Row, Sinks

__all__ = ["Source", "Work"]


@dataclass(frozen=True, slots=True)
class Work:
    """A poor example to improve: its input line and content key, the example (the text
    grammar) and its issue kinds, and the input row as read with its dialect (the rows
    written from it keep its form)."""

    line: int
    key: str
    example: dict[str, Any]
    issues: frozenset[str]
    row: Row


class Source:
    """The input file of a run, routed line by line (see the module docstring)."""

    def __init__(self, path: Path, config: ImproveConfig) -> None:
        self.path = path
        self.config = config
        self.profile = ProfileBuilder(policy=config.policy, context=config.context or SEVEN_FIELDS)
        self.good_included = 0
        self.invalid = 0
        self.duplicates = 0
        self._first: dict[str, int] = {}  # content key -> first line with that content
        self.no_calls = 0  # rows without a tool call (nothing for the gate to keep)
        self.no_calls_lines: list[int] = []  # the first 20 of them
        self.dialect = FileDialect(config.dialect)

    async def work(
        self, sinks: Sinks, bar: Progress, prior: Prior, lines: InputLines
    ) -> AsyncIterator[Work]:
        """The poor examples left to improve (``prior``: what earlier runs finished);
        everything else is routed on the way. Every line is checked against what earlier
        runs read (``lines``) before it is used."""
        cfg = self.config
        counted = 0  # lines the bar counts (those of this shard)
        for n, item in enumerate(read_jsonl(self.path), 1):
            if cfg.limit is not None and n > cfg.limit:
                break
            key = lines.check(item)
            if cfg.shard is not None and (item.line - cfg.shard[0]) % cfg.shard[1]:
                continue
            counted += 1
            if counted % 4096 == 0:
                bar.at_least(counted)
            if isinstance(item, Malformed):
                self.profile.add_malformed(item)
                if item.line not in prior.quarantined:
                    await sinks.quarantined(item, key)
                bar.advance("quarantined")
                continue
            line = item.line
            # Any dialect is read as the text grammar (the sinks write rows back in its form).
            example, found = self.dialect.read_in(item.data, line)
            row = Row(item.data, found)
            first = self._first.setdefault(key, line)
            if first != line:
                self.duplicates += 1
                if cfg.dedupe:
                    if line not in prior.quarantined:
                        await sinks.invalid(line, key, item.data, f"duplicate of line {first}")
                    bar.advance("quarantined")
                    continue
            problem = shape_problem(example)
            if problem is not None:
                self.invalid += 1
                if line not in prior.quarantined:
                    await sinks.invalid(line, key, item.data, problem)
                bar.advance("quarantined")
                continue
            if not any(iter_tool_calls(example)):
                self.no_calls += 1
                if len(self.no_calls_lines) < 20:
                    self.no_calls_lines.append(line)
            poor, kinds = self.profile.add_with_issues(example)
            if not poor:
                if cfg.include_good:
                    self.good_included += 1
                    if line not in prior.good:
                        await sinks.good(line, key, row)
                bar.advance("good")
                continue
            if line not in prior.poor:
                await sinks.poor(line, key, row)
            if line in prior.finished:  # as the earlier run left it
                bar.advance("improved" if line in prior.improved else
                            "failed" if line in prior.failed else "good")  # fmt: skip
                continue
            yield Work(line, key, example, kinds, row)
        else:
            lines.finish()
        bar.refine(counted)

    def analysis(self, *, complete: bool) -> dict[str, Any]:
        """``state/analysis.json``: the input's profile as far as it was read."""
        profile = self.profile.build()
        deduped = self.duplicates if self.config.dedupe else 0
        return {
            "input": profile.total + len(profile.malformed) + self.invalid + deduped,
            "malformed": len(profile.malformed),
            "invalid": self.invalid,
            "good": profile.good,
            "poor": profile.poor,
            "good_included": self.good_included,
            "duplicates": self.duplicates,
            "deduped": self.duplicates if self.config.dedupe else 0,
            "issues_structural": profile.issues_structural,
            "issues_notes": profile.issues_notes,
            "means_poor": profile.means_poor,
            "tools": profile.tools,
            "agents": profile.agents,
            **self.dialect.report(),
            "context": (self.config.context or SEVEN_FIELDS).to_dict(),
            "no_tool_call": self.no_calls,
            "no_tool_call_lines": list(self.no_calls_lines),
            "complete": complete,
        }
