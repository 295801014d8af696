"""``finish DIR``: the outcome rows a Ray run wrote to ``DIR/parts`` made into the usual
output folder (the run's files, the analysis, the run record, the KTO file, the report).

The parts are read one row at a time, in file-name order. A line found twice (a write
Ray retried after a worker died) is written once, the first time it is read. Each file
is written whole under a temporary name and renamed, so finishing again gives the same
folder. No Ray is needed here: any machine that sees the folder can finish it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import orjson

from .._jsonl import _temp_beside
from .._lock import FolderLock
from ..analyze._sum import AnalysisSum
from ..errors import InputNotFound, InvalidInput
from ..llm import EngineStats
from ..outputs import Layout
from ..report import Report
from ._finish import finish

__all__ = ["PARTS", "finish_folder"]

#: The folder of a Ray run's outcome rows, inside its output folder.
PARTS = "parts"
_FILES = ("improved", "poor", "failed", "quarantine", "ledger")


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of one part: JSON lines (Ray's ``write_json``) or Parquet."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq  # only for Parquet parts (Ray brings pyarrow)

        for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
            yield from batch.to_pylist()
        return
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                row = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise InvalidInput(f"{path}, line {n}: not an outcome row ({exc})") from None
            if not isinstance(row, dict) or not isinstance(row.get("line"), int):
                raise InvalidInput(f"{path}, line {n}: not an outcome row (no 'line')")
            yield row


def _parts(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise InputNotFound(
            f"{folder} does not exist: write the outcome rows of syngen_improve.ray.improve "
            f"there first (outcomes.write_json('{folder}'))"
        )
    found = sorted(
        p for p in folder.iterdir() if p.suffix in (".json", ".jsonl", ".parquet") and p.is_file()
    )
    if not found:
        raise InputNotFound(f"{folder} holds no .json, .jsonl or .parquet part")
    return found


class _Seen:
    """Input lines already written: one bit a line number."""

    def __init__(self) -> None:
        self.bits = bytearray()

    def first(self, line: int) -> bool:
        """Mark ``line``; whether it was not marked before."""
        byte, bit = divmod(line, 8)
        if byte >= len(self.bits):
            self.bits.extend(bytes(byte - len(self.bits) + 1 + len(self.bits) // 2))
        if self.bits[byte] >> bit & 1:
            return False
        self.bits[byte] |= 1 << bit
        return True


def finish_folder(output_dir: str | os.PathLike[str]) -> Report:
    """Make the output folder of a Ray run from its parts (see the module docstring);
    returns its report."""
    layout = Layout(Path(output_dir))
    state = layout.read_json(layout.state / "ray.json")
    if not isinstance(state, dict):
        raise InputNotFound(
            f"{layout.root} is not the folder of a Ray run (no state/ray.json): "
            "syngen_improve.ray.improve(ds, DIR) makes one"
        )
    parts = _parts(layout.root / PARTS)
    with FolderLock(layout.lock, folder=layout.root):
        analysis, run = _write_files(layout, parts, state)
        return finish(layout, analysis, run)


def _write_files(
    layout: Layout, parts: list[Path], state: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    targets = {name: getattr(layout, name) for name in _FILES}
    seen, analysis = _Seen(), AnalysisSum()
    totals: dict[str, tuple[int, dict[str, Any]]] = {}  # worker -> its latest totals
    rows = duplicates = 0
    with ExitStack() as stack:
        out: dict[str, IO[bytes]] = {
            name: stack.enter_context(open(_temp_beside(path), "wb"))
            for name, path in targets.items()
        }
        for part in parts:
            for row in _rows(part):
                if not seen.first(row["line"]):
                    duplicates += 1
                    continue
                rows += 1
                if row.get("batch"):  # a batch's first row: its analysis, its worker's totals
                    facts = orjson.loads(row["batch"])
                    analysis.add(facts["analysis"])
                    if facts["seq"] > totals.get(facts["worker"], (0, {}))[0]:
                        totals[facts["worker"]] = (facts["seq"], facts)
                for name in _FILES:
                    if row.get(name) is not None:
                        out[name].write(row[name].encode() + b"\n")
    for path in targets.values():
        os.replace(_temp_beside(path), path)
    return analysis.result(), _run_record(state, totals, rows=rows, duplicates=duplicates)


def _run_record(
    state: dict[str, Any],
    totals: dict[str, tuple[int, dict[str, Any]]],
    *,
    rows: int,
    duplicates: int,
) -> dict[str, Any]:
    """The run's record: the workers' totals summed, and what the Ray run did."""
    stats = EngineStats()
    facts: dict[str, Any] = {}
    for _, worker in totals.values():
        stats.absorb(EngineStats.from_state(worker["stats"]))
        facts = facts or worker
    return {
        "run": state["run"],
        **stats.to_dict(),
        "model": facts.get("model", state.get("model")),
        "prompt_gap": state.get("prompt_gap"),
        **facts.get("request_facts", {}),
        **({"answer_tool": facts["answer_tool"]} if "answer_tool" in facts else {}),
        "ray": {"workers": len(totals), "rows": rows, "duplicates_dropped": duplicates},
        "interrupted": False,
    }
