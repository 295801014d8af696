"""Joining the output folders of a sharded run into one.

``improve --shard I/N`` makes each process take input lines I, I+N, I+2N, ... so N
machines can split one input; ``merge`` checks that no input line appears in two
folders, concatenates the outputs, sums the analysis and the runs, rebuilds the
interleaved file and writes one report with a section per shard.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import orjson

from ._jsonl import replace_bytes
from ._lock import FolderLock
from ._reviewed import rebuild_kto
from .analyze._sum import AnalysisSum
from .errors import InputNotFound, InvalidInput, OutputExists, UsageError, option
from .interleave import DEFAULT_GAP
from .outputs import Layout, source_lines
from .report import Report, write_report

__all__ = ["merge_outputs"]


def merge_outputs(dirs: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str]) -> Report:
    """Merge shard folders ``dirs`` into ``out``; returns the merged report."""
    if len(dirs) < 2:
        raise UsageError("merge needs at least two output folders")
    shards = [Layout(Path(d)) for d in dirs]
    for layout in shards:
        if not layout.state.is_dir():
            raise InputNotFound(f"{layout.root} is not an improve output folder (no state/)")
    target = Layout(Path(out))
    for layout in shards:
        if target.root.resolve() == layout.root.resolve():
            raise UsageError(
                f"{option('--out', repr('out'))} {target.root} is also one of the folders to merge"
            )
    if target.has_results():
        raise OutputExists(f"{target.root} already holds results; merge into an empty folder")
    owner: dict[int, Path] = {}
    for layout in shards:
        mine = set().union(*(source_lines(path) for path in layout.data_files().values()))
        for line in mine:
            if line in owner:
                raise InvalidInput(
                    f"input line {line} is in both {owner[line]} and {layout.root}: "
                    "the folders overlap (same shard twice, or not shards of one input)"
                )
        owner.update(dict.fromkeys(mine, layout.root))
    with FolderLock(target.lock, folder=target.root):
        if target.has_results():
            raise OutputExists(f"{target.root} already holds results; merge into an empty folder")
        return _write_merged(shards, target)


def _write_merged(shards: list[Layout], target: Layout) -> Report:
    """Concatenate the shards' files into ``target``, sum the analysis, interleave, report."""

    def concatenated(layout: Layout) -> list[Path]:
        return [*layout.data_files().values(), layout.ledger, layout.runs]

    for i, target_path in enumerate(concatenated(target)):
        with open(target_path, "wb") as sink:
            for layout in shards:
                source = concatenated(layout)[i]
                if source.exists():
                    with open(source, "rb") as fh:
                        shutil.copyfileobj(fh, sink)
    merged = AnalysisSum()
    for layout in shards:
        merged.add(layout.read_json(layout.analysis) or {})
    replace_bytes(target.analysis, orjson.dumps(merged.result(), option=orjson.OPT_INDENT_2))
    summaries = []
    for layout in shards:
        report = Report.from_dict(layout.read_json(layout.report_json) or {})
        summaries.append(
            {
                "dir": str(layout.root),
                "counts": dataclasses.asdict(report.counts),
                "cost_usd": report.cost_usd,
                "requests": report.requests.total,
            }
        )
    replace_bytes(target.shards, orjson.dumps(summaries, option=orjson.OPT_INDENT_2))
    reviews = [layout.review for layout in shards if layout.review.exists()]
    if reviews:  # each shard's decisions, kept whole
        with open(target.review, "wb") as sink:
            for path in reviews:
                sink.write(path.read_bytes())
    rebuild_kto(target, prompt_gap=DEFAULT_GAP)
    return write_report(target.root)
