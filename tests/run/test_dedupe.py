"""Exact-duplicate inputs: counted by default, quarantined with --dedupe, never lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2

from syngen_improve import Record, improve_dataset, read_jsonl, sample_path
from syngen_improve.llm import AnthropicBackend
from syngen_improve.testing import FakeAnthropic


async def improve(src: Path, out: Path, **options: Any) -> Any:
    client = httpx2.AsyncClient(transport=FakeAnthropic().transport())
    async with AnthropicBackend(api_key="sk", base_url="http://fake", http_client=client) as b:
        return await improve_dataset(src, out, backend=b, progress=False, **options)


def with_duplicates(tmp_path: Path) -> tuple[Path, list[bytes]]:
    lines = sample_path().read_bytes().splitlines(keepends=True)[:60]
    # Lines 61-70 repeat lines 1-10; line 71 repeats line 5 with its keys reordered.
    again = json.loads(lines[4])
    reordered = json.dumps(dict(reversed(list(again.items())))).encode() + b"\n"
    src = tmp_path / "in.jsonl"
    all_lines = [*lines, *lines[:10], reordered]
    src.write_bytes(b"".join(all_lines))
    return src, all_lines


async def test_duplicates_are_counted_and_processed_by_default(tmp_path: Path) -> None:
    src, lines = with_duplicates(tmp_path)
    result = await improve(src, tmp_path / "out")
    assert result.counts.duplicates == 11
    assert result.counts.deduped == 0
    assert result.counts.input == len(lines)


async def test_dedupe_keeps_the_first_and_quarantines_the_rest(tmp_path: Path) -> None:
    src, lines = with_duplicates(tmp_path)
    out = tmp_path / "out"
    result = await improve(src, out, dedupe=True)
    assert result.counts.duplicates == result.counts.deduped == 11
    assert result.counts.input == len(lines)
    records = [r.data for r in read_jsonl(out / "quarantine.jsonl") if isinstance(r, Record)]
    quarantined = {r["_source_line"]: r["error"] for r in records}
    assert quarantined[71] == "duplicate of line 5"
    assert {line for line, e in quarantined.items() if e.startswith("duplicate")} == set(
        range(61, 72)
    )
    seen = set()
    for name in ("improved_examples.jsonl", "poor_examples.jsonl"):
        seen |= {r.data["_source_line"] for r in read_jsonl(out / name) if isinstance(r, Record)}
    assert not seen & set(range(61, 72))  # no duplicate was processed
    # Every line is accounted for once: quarantined, good, or poor.
    assert result.counts.quarantined + result.counts.good + result.counts.poor == len(lines)
