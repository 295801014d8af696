"""The shape of every record a run writes, in one place: the sinks of a run and the
workers of a Ray run (:mod:`syngen_improve.ray`) build them here.

Rows are written in the input's form: the originals are the input rows as read with only
``label`` and the stamp set; an improvement is written in its input row's dialect and
style (:func:`~syngen_improve.dialects.restyle`). The stamp names the input line twice
(``_source_line``, ``_source_key``) and carries ``_provenance``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from .._jsonl import Malformed
from ..analyze._route import Routed
from ..dialects import Dialect, restyle
from ..improve import Outcome

__all__ = ["Placed", "Records", "Row"]


@dataclass(frozen=True, slots=True)
class Row:
    """An input row as read (``data``) and the dialect it was read in."""

    data: dict[str, Any]
    dialect: Dialect | None


@dataclass(frozen=True, slots=True)
class Placed:
    """Where a routed line's record goes before anything is improved: ``quarantine``
    (malformed, invalid, a duplicate), ``improved`` (a good one, with ``include_good``;
    with its ``ledger`` entry) or ``poor`` (a poor one's original)."""

    file: Literal["quarantine", "improved", "poor"]
    record: dict[str, Any]
    ledger: dict[str, Any] | None = None


@dataclass(frozen=True)
class Records:
    """The records of one run (``provenance``: the run, model, templates and schemas)."""

    provenance: Mapping[str, str]

    def stamp(self, line: int, key: str) -> dict[str, Any]:
        return {"_source_line": line, "_source_key": key, "_provenance": dict(self.provenance)}

    def place(self, routed: Routed, *, include_good: bool) -> Placed | None:
        """The record of a routed line and its file (``None``: a good line left out). The
        one decision for a run's source and a Ray worker alike."""
        line, key = routed.line, routed.key
        if isinstance(routed.item, Malformed):
            return Placed("quarantine", self.quarantined(routed.item, key))
        if routed.route in ("duplicate", "invalid"):
            return Placed("quarantine", self.invalid(line, key, routed.data, routed.problem or ""))
        row = Row(routed.data, routed.dialect)
        if routed.route == "poor":
            return Placed("poor", self.original(row, False, line, key))
        if include_good:
            ledger = {"line": line, "status": "good"}
            return Placed("improved", self.original(row, True, line, key), ledger)
        return None

    def original(self, row: Row, label: bool, line: int, key: str) -> dict[str, Any]:
        """The input row as read, labelled and stamped."""
        return {**row.data, "label": label, **self.stamp(line, key)}

    def improved(self, outcome: Outcome, row: Row, key: str) -> dict[str, Any]:
        """An improvement, in its input row's dialect and style."""
        assert outcome.record is not None
        return restyle(row.data, {**outcome.record, **self.stamp(outcome.key, key)}, row.dialect)

    def failed(self, outcome: Outcome, row: Row, key: str, *, transient: bool) -> dict[str, Any]:
        """A failed example: why, and its input row as read."""
        status = outcome.http_status
        return (
            {
                **self.stamp(outcome.key, key),
                "reason": outcome.reason,
                "attempts": outcome.attempts,
                "errors": list(outcome.errors),
                "original": row.data,
            }
            | ({"http_status": status} if status is not None else {})
            | ({"transient": True} if transient else {})
            | ({"last_answer": outcome.answer} if outcome.answer is not None else {})
        )

    @staticmethod
    def ledger(outcome: Outcome) -> dict[str, Any]:
        """How an improved or failed example ended (with its issue kinds, for the review)."""
        return {
            "line": outcome.key,
            "status": outcome.status,
            "attempts": outcome.attempts,
            "rejections": list(outcome.rejections),
            "issues": sorted(outcome.issues),
        }

    @staticmethod
    def quarantined(item: Malformed, key: str) -> dict[str, Any]:
        """A line that is not a JSON object."""
        return {
            "_source_line": item.line,
            "_source_key": key,
            "error": item.error,
            "raw": item.raw.decode("utf-8", errors="replace"),
        }

    @staticmethod
    def invalid(line: int, key: str, example: Mapping[str, Any], problem: str) -> dict[str, Any]:
        """A JSON object of the wrong shape, with the reason."""
        return {
            "_source_line": line,
            "_source_key": key,
            "error": problem,
            "raw": orjson.dumps(example).decode(),
        }
