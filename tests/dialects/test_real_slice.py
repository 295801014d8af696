"""The acceptance of the dialects on the real 900-line slice: converted to each dialect by
the tests' own converters, ``improve --backend fake`` improves the same examples as on the
original grammar, writes them in the input's dialect, and they pass validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from syngen_improve import improve_dataset, validate_file
from syngen_improve.dialects import detect_dialect
from tests.dialects.test_dialects import to_hermes, to_openai, to_sharegpt
from tests.dialects.test_stages import write_converted


@pytest.mark.parametrize(("dialect", "convert"), [
    ("openai", to_openai), ("sharegpt", to_sharegpt), ("hermes", to_hermes),
])  # fmt: skip
async def test_the_real_slice_improves_alike_in_every_dialect(
    shared_data: Path, tmp_path: Path, dialect: str, convert: Any
) -> None:
    from syngen_improve.llm import DirectBackend
    from syngen_improve.testing import FakeAnthropicServer

    src = shared_data / "scored_sample.jsonl"
    converted = write_converted(src, tmp_path / "in.jsonl", convert)
    reports, bodies = {}, {}
    for name, path in (("text", src), (dialect, converted)):
        recorded = tmp_path / f"{name}.requests.jsonl"
        async with (
            FakeAnthropicServer(record=recorded) as server,
            DirectBackend(api_key="sk-t", base_url=server.url) as backend,
        ):
            result = await improve_dataset(path, tmp_path / name, backend=backend,
                                           progress=False, concurrency=32)  # fmt: skip
        reports[name] = result.report
        bodies[name] = sorted(recorded.read_bytes().splitlines())
    # The model was shown the same prompts, byte for byte (system, tools, the example)
    assert bodies[dialect] == bodies["text"]
    text, other = reports["text"], reports[dialect]
    assert other.counts.poor == text.counts.poor > 500
    assert other.counts.improved == text.counts.improved
    assert other.counts.failed == text.counts.failed
    assert other.to_dict()["issues"] == text.to_dict()["issues"]
    improved = tmp_path / dialect / "improved_examples.jsonl"
    rows = [orjson.loads(x) for x in improved.read_bytes().splitlines()]
    assert {detect_dialect(r) for r in rows} == {dialect}
    assert validate_file(improved, profile="strict", workers=1).failed == 0
