"""Deciding about the rows of one output folder, from Python or from the review page:
accept or reject (one row or a whole selection), edit an improvement (the edit goes
through the same acceptance gate as a model's answer), and apply the decisions to the
KTO file and the report.

A decision is about an input line's pair (its improvement and its original), named by the
original's ``_source_key``. The folder's files are never rewritten by a decision: the
decisions are kept in ``review.jsonl`` and honoured wherever training data leaves the
folder (the KTO file rebuilt by :meth:`Review.apply` or by a resumed run, ``export``,
``interleave``, ``merge``, ``to_datasets()``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final, Literal

from .._decisions import Decision, Decisions
from .._jsonl import read_records
from .._lock import FolderLock
from .._reviewed import rebuild_kto
from ..dialects import FileDialect, restyle
from ..errors import InputNotFound, UsageError
from ..improve import check_candidate
from ..outputs import Layout
from ..report import Report, run_context, write_report
from ..validate import ToolRegistry

__all__ = ["EditRefused", "Review"]

#: What the run adds to an input row in its output files (taken off to read it again).
_STAMPED: Final = ("label", "_source_line", "_source_key", "_provenance")


class EditRefused(UsageError):
    """An edit the acceptance gate refuses; ``errors`` are the gate's messages."""

    def __init__(self, reason: str | None, errors: list[str]) -> None:
        super().__init__(f"the edit is refused ({reason}): " + "; ".join(errors))
        self.reason = reason
        self.errors = errors


class Review:
    """The review of the output folder ``folder`` (see the module docstring). ``schemas``:
    the tool schemas an edit is validated against (default: the bundled ones)."""

    def __init__(
        self, folder: str | os.PathLike[str], *, schemas: ToolRegistry | None = None
    ) -> None:
        self.layout = Layout(Path(folder))
        if not self.layout.state.is_dir():
            raise InputNotFound(f"{self.layout.root} is not an improve output folder (no state/)")
        self.decisions = Decisions.load(self.layout.review)
        self.schemas = schemas if schemas is not None else ToolRegistry.default()
        self.context = run_context(self.layout.read_json(self.layout.analysis) or {})
        settings = (self.layout.read_json(self.layout.manifest) or {}).get("settings", {})
        self.require_result = str(settings.get("require_result", "True")) != "False"

    def decide(
        self,
        keys: Iterable[str] | Mapping[str, int | None],
        decision: Literal["accept", "reject"],
        *,
        note: str | None = None,
    ) -> int:
        """Accept or reject the rows ``keys`` (``_source_key``s; a mapping gives each its
        input line too), in one append; how many."""
        lines = keys if isinstance(keys, Mapping) else dict.fromkeys(keys)
        if decision not in ("accept", "reject"):
            raise UsageError(f"'decision' must be 'accept' or 'reject', got {decision!r}")
        return self.decisions.append(
            Decision(key, decision, line=line, note=note) for key, line in lines.items()
        )

    def edit(
        self,
        key: str,
        conversations: list[dict[str, Any]],
        *,
        note: str | None = None,
        original: Mapping[str, Any] | None = None,
        improved: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Replace the improvement of ``key`` by ``conversations`` (its turns in the text
        grammar, as :meth:`turns` gives them), once the acceptance gate accepts them
        (:class:`EditRefused` with the gate's messages otherwise); returns the row as the
        folder writes it. ``original`` / ``improved``: the pair's rows, when the caller
        has them (else they are looked up)."""
        original = original if original is not None else self._find(self.layout.poor, key)
        improved = improved if improved is not None else self._find(self.layout.improved, key)
        if original is None:
            raise UsageError(f"no original with _source_key {key!r} in {self.layout.poor}")
        line = original.get("_source_line")
        source = {k: v for k, v in original.items() if k not in _STAMPED}
        example, dialect = FileDialect().read_in(source, line if isinstance(line, int) else 0)
        verdict = check_candidate(
            {"conversations": conversations},
            example,
            schemas=self.schemas,
            require_result=self.require_result,
            context=self.context,
        )
        if verdict.record is None:
            raise EditRefused(verdict.reason, verdict.errors)
        stamp = {k: v for k, v in (improved or original).items() if k in _STAMPED[1:]}
        row = restyle(source, {**verdict.record, **stamp}, dialect)
        at = line if isinstance(line, int) else None
        self.decisions.append([Decision(key, "edit", line=at, note=note, row=row)])
        return row

    @staticmethod
    def turns(row: Mapping[str, Any]) -> list[dict[str, Any]]:
        """A row's turns in the text grammar (what :meth:`edit` takes back)."""
        line = row.get("_source_line")
        source = {k: v for k, v in row.items() if k not in _STAMPED}
        read = FileDialect().rows(source, line if isinstance(line, int) else 0)
        turns = read.get("conversations")
        return [dict(t) for t in turns] if isinstance(turns, list) else []

    def _find(self, path: Path, key: str) -> dict[str, Any] | None:
        for row in read_records(path):
            if row.get("_source_key") == key:
                return row
        return None

    def apply(self) -> Report:
        """Rebuild the folder's KTO file with the decisions (a rejected improvement left
        out, its original unpaired; an edited one as edited; the order arranged again)
        and its report, under the folder's lock."""
        with FolderLock(self.layout.lock, folder=self.layout.root):
            self.decisions.refresh()
            rebuild_kto(self.layout, decisions=self.decisions)
            return write_report(self.layout.root)
