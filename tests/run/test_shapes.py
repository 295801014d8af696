"""JSON objects of the wrong shape are quarantined with a reason, never routed as good or poor."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2

from syngen_improve import Record, improve_dataset, read_jsonl, sample_path
from syngen_improve.export import export_file
from syngen_improve.llm import AnthropicBackend
from syngen_improve.testing import FakeAnthropic
from tests.helpers import make_example


async def test_wrong_shapes_are_quarantined_and_exports_still_load(tmp_path: Path) -> None:
    lines = sample_path().read_bytes().splitlines(keepends=True)[:20]
    string_scores = make_example(scores={"overall_quality": "2.0", "sessionMemory_quality": "1"})
    not_a_list = {"conversations": "not a list", "label": False}
    lines += [json.dumps(string_scores).encode() + b"\n", json.dumps(not_a_list).encode() + b"\n"]
    src, out = tmp_path / "in.jsonl", tmp_path / "out"
    src.write_bytes(b"".join(lines))
    client = httpx2.AsyncClient(transport=FakeAnthropic().transport())
    async with AnthropicBackend(api_key="sk", base_url="http://fake", http_client=client) as b:
        result = await improve_dataset(src, out, backend=b, progress=False)
    assert result.counts.invalid == 2
    assert result.counts.input == 22
    quarantined = [r.data for r in read_jsonl(out / "quarantine.jsonl") if isinstance(r, Record)]
    reasons = {q["_source_line"]: q["error"] for q in quarantined}
    assert "not a number" in reasons[21]
    assert "'conversations' is not a list" in reasons[22]
    stats = export_file(out / "improved_interleaved.jsonl", tmp_path / "kto.jsonl", fmt="kto")
    assert stats.skipped == 0
    assert stats.written == result.counts.interleaved
