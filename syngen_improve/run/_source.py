"""The source: the router's lines handed to the sinks, and the poor ones left to improve.

A malformed line goes to quarantine (so does, with ``dedupe``, a duplicate), an invalid
one too; a good one passes (to the desirable side with ``include_good``), a poor one is
written as the undesirable original and, unless an earlier run finished it, handed on to
be improved. Routing itself is :class:`~syngen_improve._route.Router`'s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._progress import Progress
from ..analyze._route import Routed, Router
from ..config import ImproveConfig
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

    def __init__(self, path: Path, config: ImproveConfig, *, spill: Path | None = None) -> None:
        self.path = path
        self.config = config
        self.router = Router.of(path, config, spill=spill)
        self.good_included = 0

    async def work(
        self, sinks: Sinks, bar: Progress, prior: Prior, lines: InputLines
    ) -> AsyncIterator[Work]:
        """The poor examples left to improve (``prior``: what earlier runs finished);
        everything else goes to its sink on the way. Every line is checked against what
        earlier runs read (``lines``) before it is used."""
        router = self.router
        router.witness = lines.check
        include_good = self.config.include_good
        for routed in router:
            if router.read % 4096 == 0:
                bar.at_least(router.read)
            placed = sinks.records.place(routed, include_good=include_good)
            if placed is not None:
                self.good_included += placed.file == "improved"
                if routed.line not in prior.written(placed.file):
                    await sinks.place(placed)
            if routed.route != "poor":
                bar.advance("good" if routed.route == "good" else "quarantined")
                continue
            finished = prior.status(routed.line)
            if finished is not None:  # as the earlier run left it
                bar.advance(finished)
                continue
            assert routed.example is not None
            yield Work(routed.line, routed.key, routed.example, routed.issues, _row(routed))
        if router.complete:
            lines.finish()
        bar.refine(router.read)

    def analysis(self, *, complete: bool) -> dict[str, Any]:
        """``state/analysis.json``: the input's profile as far as it was read."""
        return self.router.analysis(complete=complete, good_included=self.good_included)


def _row(routed: Routed) -> Row:
    return Row(routed.data, routed.dialect)
