"""The improve stage without files: one example, a stream, and the same outcomes as a file run."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from syngen_improve import Improver, Record, improve_dataset, read_jsonl, sample_path
from syngen_improve.errors import UsageError
from syngen_improve.llm import RetryPolicy
from syngen_improve.testing import DEMO_CONFIG, FakeBackend, FakeConfig
from tests.helpers import make_example

FAST = RetryPolicy(base_delay=0.001, max_delay=0.005)


def in_process(config: FakeConfig = DEMO_CONFIG) -> tuple[FakeBackend, FakeBackend]:
    """The fake on a local server behind the default (direct) backend."""
    backend = FakeBackend(config)
    return backend, backend


def sample() -> list[tuple[int, dict[str, Any]]]:
    return [(r.line, r.data) for r in read_jsonl(sample_path()) if isinstance(r, Record)]


async def test_a_stream_gives_the_outcomes_of_a_file_run(tmp_path: Path) -> None:
    rows = sample()

    async def examples() -> AsyncIterator[dict[str, Any]]:  # an async generator, as a tool has
        for _, example in rows:
            yield example

    _, backend = in_process()
    async with backend, Improver(backend=backend, retry=FAST) as improver:
        outcomes = [o async for o in improver.stream(examples(), examples_in_flight=32)]
    assert sorted(o.key for o in outcomes) == list(range(len(rows)))
    streamed = {rows[o.key][0]: (o.status, json.dumps(o.record, sort_keys=True)) for o in outcomes}

    _, backend = in_process()
    async with backend:
        await improve_dataset(sample_path(), tmp_path, backend=backend, retry=FAST,
                              progress=False)  # fmt: skip
    from_file: dict[int, tuple[str, str]] = {}
    for r in read_jsonl(tmp_path / "improved_examples.jsonl"):
        assert isinstance(r, Record)
        stamp = ("_source_line", "_source_key", "_provenance")  # the run's, not the improver's
        record = {k: v for k, v in r.data.items() if k not in stamp}
        from_file[r.data["_source_line"]] = ("improved", json.dumps(record, sort_keys=True))
    for r in read_jsonl(tmp_path / "failed.jsonl"):
        assert isinstance(r, Record)
        from_file[r.data["_source_line"]] = ("failed", "null")
    assert {line: v for line, v in streamed.items() if v[0] != "good"} == from_file
    assert sum(v[0] == "good" for v in streamed.values()) == 79


async def test_improve_one_example_and_its_outcome() -> None:
    fake, backend = in_process(FakeConfig(first_bad_outputs=["broken_rules"]))
    poor = make_example(sessionMemory="", toolContext="")
    async with backend, Improver(backend=backend, retry=FAST) as improver:
        outcome = await improver.improve(poor, key=7)
        assert improver.stats.requests == 2
    assert outcome.status == "improved"
    assert outcome.key == 7
    assert outcome.attempts == 2
    assert outcome.rejections == ("invalid",)
    assert outcome.record is not None
    assert outcome.record["label"] is True
    assert outcome.reason is None
    assert "empty_session_memory" in outcome.issues
    assert fake.counters.requests == 2


async def test_an_example_that_never_passes_fails_with_its_errors() -> None:
    _, backend = in_process(FakeConfig(bad_output_rates={"broken_rules": 1.0}))
    async with backend, Improver(backend=backend, retry=FAST, answers=2) as improver:
        outcome = await improver.improve(make_example(sessionMemory=""))
    assert outcome.status == "failed"
    assert outcome.reason == "invalid"
    assert outcome.attempts == 2
    assert outcome.errors


async def test_a_consumer_that_stops_early_leaves_nothing_running() -> None:
    fake, backend = in_process(FakeConfig(latency=0.01))
    poor = {"overall_quality": 2.0, "sessionMemory_quality": 1}
    examples = [make_example(sessionMemory="", scores=poor) for _ in range(50)]
    async with backend, Improver(backend=backend, retry=FAST) as improver:
        stream = improver.stream(examples, examples_in_flight=4)
        async for outcome in stream:
            assert outcome.status == "improved"
            break
        await stream.aclose()
    assert fake.counters.requests < 50
    assert fake.counters.in_flight == 0


async def test_a_non_dict_is_named_by_its_position() -> None:
    _, backend = in_process()
    async with backend, Improver(backend=backend) as improver:
        with pytest.raises(UsageError, match="example 1 is a str"):
            async for _ in improver.stream([make_example(), "oops"]):  # type: ignore[list-item]
                pass


def test_an_improver_must_be_opened() -> None:
    with pytest.raises(RuntimeError, match="async with"):
        _ = Improver().engine


async def test_backend_fake_is_a_name_in_python_as_on_the_command_line() -> None:
    """``backend="fake"``: the built-in fake on a local server, made and closed by the
    improver (the same as ``--backend fake``)."""
    example = make_example(sessionMemory="")
    async with Improver(backend="fake", retry=FAST) as improver:
        outcome = await improver.improve(example)
        server = improver.engine.backend.server  # type: ignore[attr-defined]
        assert server.counters.requests == 1
    assert outcome.status == "improved"
    assert server._runner is None  # stopped with the improver
    with pytest.raises(UsageError, match="'fake' or a Backend"):
        Improver(backend="fakes")  # type: ignore[arg-type]


@pytest.mark.parametrize("example", [None, "text", ["a", "list"]])
async def test_improve_validates_its_example_like_stream(example: Any) -> None:
    """``improve(None)`` is the same one-line UsageError as ``stream([None])``, before any
    request."""
    from syngen_improve.testing import FakeBackend

    async with FakeBackend() as backend, Improver(backend=backend, retry=FAST) as improver:
        with pytest.raises(UsageError, match="not a dict of one example"):
            await improver.improve(example)
        with pytest.raises(UsageError, match=r"example 0 is a .* not a dict"):
            async for _ in improver.stream([example]):
                pass
        assert backend.counters.requests == 0
