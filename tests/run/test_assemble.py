"""finish DIR (run/_assemble.py) on parts written by hand in the outcome rows' shape:
duplicates written once, JSON lines and Parquet alike, errors that name the folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from syngen_improve.errors import InputNotFound, InvalidInput
from syngen_improve.llm import EngineStats, Usage
from syngen_improve.run._assemble import PARTS, finish_folder

ANALYSIS = {"input": 2, "good": 1, "poor": 1, "means_poor": {"overall": 4.0}, "complete": True}


def _folder(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    (out / "state").mkdir(parents=True)
    state = {"run": "r1", "model": "claude-haiku-5-5", "prompt_gap": 8}
    (out / "state" / "ray.json").write_bytes(orjson.dumps(state))
    (out / PARTS).mkdir()
    return out


def _rows(worker: str = "w1") -> list[dict[str, Any]]:
    stats = EngineStats(requests=1, succeeded=1, usage=Usage(10, 20), cost_picos=5)
    facts = {
        "worker": worker,
        "seq": 1,
        "analysis": ANALYSIS,
        "stats": stats.to_state(),
        "model": "claude-haiku-5-5",
        "request_facts": {},
    }
    original = {"conversations": [], "label": False, "_source_line": 2}
    improved = {"conversations": [], "label": True, "_source_line": 2}
    return [
        {"line": 1, "key": "a", "status": "good", "batch": orjson.dumps(facts).decode()},
        {
            "line": 2,
            "key": "b",
            "status": "improved",
            "improved": orjson.dumps(improved).decode(),
            "poor": orjson.dumps(original).decode(),
            "ledger": orjson.dumps({"line": 2, "status": "improved", "attempts": 1}).decode(),
        },
    ]


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))


def test_a_batch_written_twice_is_read_once(tmp_path: Path) -> None:
    out = _folder(tmp_path)
    _write(out / PARTS / "a_000000.json", _rows())
    _write(out / PARTS / "a_000001.json", _rows())  # Ray's retry wrote the batch again
    report = finish_folder(out)
    assert len((out / "improved_examples.jsonl").read_bytes().splitlines()) == 1
    assert len((out / "poor_examples.jsonl").read_bytes().splitlines()) == 1
    assert report.counts.input == 2
    assert report.counts.improved == 1
    assert report.requests.total == 1
    runs = [orjson.loads(x) for x in (out / "state" / "runs.jsonl").read_bytes().splitlines()]
    assert runs[-1]["ray"] == {"workers": 1, "rows": 2, "duplicates_dropped": 2}
    before = (out / "improved_examples.jsonl").read_bytes()
    finish_folder(out)  # again: the same files
    assert (out / "improved_examples.jsonl").read_bytes() == before


def test_parquet_parts_give_the_same_rows(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    jsonl, parquet = _folder(tmp_path / "j"), _folder(tmp_path / "p")
    rows = _rows()
    _write(jsonl / PARTS / "part.json", rows)
    names = ["line", "key", "status", "improved", "poor", "failed", "quarantine", "ledger", "batch"]
    table = pa.Table.from_pylist([{n: r.get(n) for n in names} for r in rows])
    pq.write_table(table, parquet / PARTS / "part.parquet")
    finish_folder(jsonl)
    finish_folder(parquet)
    for name in ("improved_examples.jsonl", "poor_examples.jsonl"):
        assert (jsonl / name).read_bytes() == (parquet / name).read_bytes()


def test_errors_name_the_folder_and_the_line(tmp_path: Path) -> None:
    with pytest.raises(InputNotFound, match="not the folder of a Ray run"):
        finish_folder(tmp_path)
    out = _folder(tmp_path)
    with pytest.raises(InputNotFound, match=r"no \.json, \.jsonl or \.parquet part"):
        finish_folder(out)
    (out / PARTS / "bad.json").write_bytes(b'{"line": 1}\n{oops\n')
    with pytest.raises(InvalidInput, match=r"bad.json, line 2: not an outcome row"):
        finish_folder(out)
