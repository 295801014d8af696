"""A file to export as the review leaves it (see :mod:`._decisions`): the rows a decision
left out gone, the edited ones replaced, and a KTO file arranged again so that its
guarantees (labels alternating, rows sharing a prompt apart) hold without them."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import orjson

from ._decisions import Decisions, review_of, reviewed_file, write_reviewed
from .interleave import DEFAULT_GAP, interleave_files
from .outputs import Layout

__all__ = ["folder_prompt_gap", "rebuild_kto", "reviewed_copy", "reviewed_source"]


def folder_prompt_gap(layout: Layout) -> int:
    """The prompt gap the folder's last run arranged its KTO file with."""
    if not layout.runs.exists():
        return DEFAULT_GAP
    lines = [x for x in layout.runs.read_bytes().splitlines() if x.strip()]
    try:
        return int(orjson.loads(lines[-1]).get("prompt_gap", DEFAULT_GAP)) if lines else DEFAULT_GAP
    except (orjson.JSONDecodeError, TypeError, ValueError, AttributeError):
        return DEFAULT_GAP


def rebuild_kto(
    layout: Layout,
    *,
    prompt_gap: int | None = None,
    decisions: Decisions | None = None,
    out: Path | None = None,
    spill: Path | None = None,
) -> None:
    """The folder's KTO file rebuilt from its improved and poor files, as its review's
    ``decisions`` leave them (default: its ``review.jsonl``), at ``prompt_gap`` (default:
    the last run's), into ``out`` (default: the folder's own), scratch files under
    ``spill`` (default: ``state/``). Nothing to do without both files."""
    if not (layout.improved.exists() and layout.poor.exists()):
        return
    review = decisions if decisions is not None else Decisions.load(layout.review)
    gap = prompt_gap if prompt_gap is not None else folder_prompt_gap(layout)
    scratch = spill if spill is not None else layout.state
    with reviewed_file(layout.improved, review, scratch) as desirable:
        interleave_files(
            desirable,
            layout.poor,
            out if out is not None else layout.interleaved,
            policy="kto",
            prompt_gap=gap,
            spill=scratch,
        )


def reviewed_source(
    source: Path, review: str | os.PathLike[str] | Literal[False] | None, tmp: Path
) -> tuple[Path, int]:
    """``source`` as the review ``review`` leaves it (``None``: its output folder's
    review, if any; ``False``: none), written under ``tmp`` when it differs, and how many
    rows the review left out or replaced. The folder's own KTO file is rebuilt from the
    folder's files, as the run rebuilds it; another file with both labels is arranged
    again from its own rows."""
    decisions = review_of(source, review)
    if decisions is None or not decisions.changes_training:
        return source, 0
    filtered = tmp / "reviewed.jsonl"
    changed = write_reviewed(source, decisions, filtered)
    if not changed:
        return source, 0
    arranged = tmp / "arranged.jsonl"
    layout = Layout(source.resolve().parent)
    if layout.state.is_dir() and source.resolve() == layout.interleaved.resolve():
        rebuild_kto(layout, decisions=decisions, out=arranged, spill=tmp)
        return arranged, changed
    sides = (tmp / "desirable.jsonl", tmp / "undesirable.jsonl")
    labels = {True: 0, False: 0, None: 0}
    with open(filtered, "rb") as rows, open(sides[0], "wb") as good, open(sides[1], "wb") as bad:
        for raw in rows:
            if not raw.strip():
                continue
            label = _label(raw)
            labels[label] += 1
            (bad if label is False else good).write(raw)
    if labels[None] or not (labels[True] and labels[False]):  # not a KTO file: as it was
        return filtered, changed
    interleave_files(*sides, arranged, policy="kto", spill=tmp)
    return arranged, changed


def _label(raw: bytes) -> bool | None:
    """A line's ``label`` (``None``: none, or not a row)."""
    try:
        row = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    label = row.get("label") if isinstance(row, dict) else None
    return label if isinstance(label, bool) else None


@contextmanager
def reviewed_copy(
    source: str | os.PathLike[str], review: str | os.PathLike[str] | Literal[False] | None = None
) -> Iterator[tuple[Path, int]]:
    """For the block: the file ``source`` as ``review`` leaves it (see
    :func:`reviewed_source`; ``None``: its output folder's review), and how many rows the
    review left out or replaced. With a named log or ``False`` (none) the file given is
    outside any output folder, so that the folder's own review is not applied on top
    (``export_file`` honours the folder's)."""
    path = Path(source)
    with tempfile.TemporaryDirectory(prefix="syngen-review-") as name:
        tmp = Path(name)
        found, changed = reviewed_source(path, review, tmp)
        if review is not None and found == path and review_of(path) is not None:
            found = tmp / path.name
            shutil.copyfile(path, found)
        yield found, changed
