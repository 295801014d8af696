"""improve_dataset end to end against the fake over real HTTP."""

from __future__ import annotations

import asyncio
import collections
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from syngen_improve import Record, improve_dataset, improve_dataset_sync, read_jsonl, sample_path
from syngen_improve.errors import OutputExists, ServiceRefused
from syngen_improve.llm import AnthropicBackend, RetryPolicy
from syngen_improve.outputs import count_lines
from syngen_improve.testing import FakeAnthropic, FakeAnthropicServer, FakeConfig, FakeModel
from syngen_improve.validate import validate_file
from tests.helpers import plain_text

FAST = RetryPolicy(base_delay=0.005, max_delay=0.05, timeout=2)
OUTPUTS = ("improved_examples.jsonl", "poor_examples.jsonl", "failed.jsonl")


def source_lines(path: Path) -> list[int]:
    if not path.exists():
        return []
    return [r.data["_source_line"] for r in read_jsonl(path) if isinstance(r, Record)]


def labels(path: Path) -> list[bool]:
    return [r.data["label"] for r in read_jsonl(path) if isinstance(r, Record)]


@pytest.fixture
async def server() -> AsyncIterator[FakeAnthropicServer]:
    async with FakeAnthropicServer(config=FakeConfig(latency=0.001)) as srv:
        yield srv


async def improve(src: Path, out: Path, srv: FakeAnthropicServer, **kw: Any) -> Any:
    backend = AnthropicBackend(api_key=kw.pop("api_key", "sk-test"), base_url=srv.url)
    kw.setdefault("retry", FAST)
    kw.setdefault("progress", False)
    kw.setdefault("concurrency", 32)
    try:
        return await improve_dataset(src, out, backend=backend, **kw)
    finally:
        await backend.aclose()


async def test_real_slice_end_to_end(
    shared_data: Path, tmp_path: Path, server: FakeAnthropicServer
) -> None:
    result = await improve(shared_data / "scored_sample.jsonl", tmp_path, server)
    c = result.counts
    assert (c.input, c.malformed, c.poor, c.good) == (900, 1, 568, 331)
    improved, failed = source_lines(tmp_path / OUTPUTS[0]), source_lines(tmp_path / OUTPUTS[2])
    assert len(improved) + len(failed) == 568
    assert c.improved == len(improved) == count_lines(tmp_path / OUTPUTS[0])
    assert c.failed == len(failed)
    assert c.poor_written == count_lines(tmp_path / OUTPUTS[1]) == 568
    assert c.quarantined == 1
    strict = validate_file(tmp_path / OUTPUTS[0], profile="strict")
    assert strict.ok
    assert strict.passed == len(improved)
    assert labels(tmp_path / "improved_interleaved.jsonl") == [True, False] * 568
    report = json.loads((tmp_path / "report.json").read_text())
    assert report == result.report.to_dict()
    assert {"counts", "issues", "validation", "requests", "tokens", "cost_usd", "elapsed_s",
            "model", "version"} <= report.keys()  # fmt: skip
    assert report["tokens"]["cache_read"] > 0
    assert "| improved | 568 |" in (tmp_path / "report.md").read_text()
    poor = [r.data for r in read_jsonl(tmp_path / OUTPUTS[1]) if isinstance(r, Record)]
    assert all(p["label"] is False for p in poor)


@pytest.mark.slow
async def test_fault_soak_loses_nothing(shared_data: Path, tmp_path: Path) -> None:
    config = FakeConfig(
        latency=0.002,
        fault_rates={"429": 0.05, "529": 0.03, "500": 0.02, "drop": 0.01, "hang": 0.005},
        bad_output_rates={"truncated_json": 0.05, "broken_rules": 0.05},
        retry_after=0.05,
        seed=7,
    )
    retry = RetryPolicy(base_delay=0.005, max_delay=0.05, timeout=0.5)
    async with FakeAnthropicServer(config=config) as srv:
        result = await improve(
            shared_data / "scored_sample.jsonl", tmp_path, srv, answers=4, retry=retry
        )
        counters = srv.counters
    improved, failed = source_lines(tmp_path / OUTPUTS[0]), source_lines(tmp_path / OUTPUTS[2])
    everything = improved + failed
    assert len(everything) == len(set(everything)) == 568  # nothing lost, nothing twice
    assert len(improved) >= 0.99 * 568
    assert sum(counters.faults.values()) > 30
    assert sum(counters.bad_outputs.values()) > 30
    assert result.report.requests.retried > 0
    assert result.report.validation.failed > 0  # re-asks happened


async def test_resume_finishes_without_repeating(
    tmp_path: Path, server: FakeAnthropicServer
) -> None:
    first = await improve(sample_path(), tmp_path, server, limit=60)
    assert not first.report.complete or first.counts.input == 60
    done = set(source_lines(tmp_path / OUTPUTS[0]))
    requests_before = server.counters.requests
    second = await improve(sample_path(), tmp_path, server, resume=True)
    assert second.counts.improved == 120
    assert server.counters.requests - requests_before == 120 - len(done)
    for name in OUTPUTS[:2]:
        lines = source_lines(tmp_path / name)
        assert len(lines) == len(set(lines)) == 120
    assert second.report.runs == 2
    again = await improve(sample_path(), tmp_path, server, resume=True)
    assert again.counts == second.counts
    with pytest.raises(FileExistsError, match="resume"):
        await improve(sample_path(), tmp_path, server)  # resume is off by default


async def test_options_are_checked_before_any_work(tmp_path: Path) -> None:
    backend = AnthropicBackend(api_key="k", base_url="http://127.0.0.1:9")
    for bad in ({"concurrency": 0}, {"answers": 0}, {"rpm": -1}, {"rpm": 0.5}, {"limit": 0}):
        with pytest.raises(ValueError, match=r"must be a whole number >= 1|must be at least 1"):
            await improve_dataset(sample_path(), tmp_path, backend=backend, **bad)
    with pytest.raises(FileNotFoundError, match="input file not found"):
        await improve_dataset(tmp_path / "nope.jsonl", tmp_path / "o", backend=backend)
    with pytest.raises(ValueError, match="'backend' must be 'anthropic', 'sdk', 'batch', 'openai'"):
        await improve_dataset(sample_path(), tmp_path, backend="gpt")  # type: ignore[arg-type]
    await backend.aclose()
    assert not (tmp_path / "state").exists()


async def test_include_good_puts_good_examples_on_the_desirable_side(
    tmp_path: Path, server: FakeAnthropicServer
) -> None:
    result = await improve(sample_path(), tmp_path, server, include_good=True)
    assert result.counts.good_included == 79
    assert result.counts.improved == 120
    assert count_lines(tmp_path / OUTPUTS[0]) == 199
    assert server.counters.requests == 120  # good examples cost nothing


def test_sync_wrapper_works_inside_a_running_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeAnthropicServer() as srv:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")

        async def notebook_cell() -> Any:
            return improve_dataset_sync(sample_path(), tmp_path, progress=False, limit=20)

        result = asyncio.run(notebook_cell())
    assert result.counts.input == 20
    assert result.ok


async def test_cancelled_run_reports_and_resumes(tmp_path: Path) -> None:
    async with FakeAnthropicServer(config=FakeConfig(latency=0.05)) as srv:
        task = asyncio.create_task(improve(sample_path(), tmp_path, srv, concurrency=4))
        while count_lines(tmp_path / OUTPUTS[0]) < 8:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        report = json.loads((tmp_path / "report.json").read_text())
        assert report["interrupted"] is True
        assert report["complete"] is False
        assert 8 <= report["counts"]["improved"] < 120
        finished = await improve(sample_path(), tmp_path, srv, resume=True)
    assert finished.report.complete
    lines = source_lines(tmp_path / OUTPUTS[0])
    assert len(lines) == len(set(lines)) == 120


async def test_bad_key_stops_the_run_and_never_leaks(tmp_path: Path, capsys: Any) -> None:
    sentinel = "sk-ant-SENTINEL-9f8e7d6c5b4a3210"
    async with FakeAnthropicServer(config=FakeConfig(api_key="something-else")) as srv:
        with pytest.raises(ServiceRefused) as info:
            await improve(sample_path(), tmp_path, srv, api_key=sentinel)
    assert info.value.__cause__ is None  # one line, no chained traceback
    assert info.value.status == 401
    assert (tmp_path / "report.json").exists()
    texts = [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
    out = capsys.readouterr()
    texts += [out.out, out.err, str(info.value), repr(info.value)]
    assert not any(sentinel in t or sentinel[-12:] in t for t in texts)


async def test_a_run_refused_at_its_first_request_can_simply_run_again(tmp_path: Path) -> None:
    """A bad key stops the run before any example ends: the same call, with the key fixed,
    starts afresh (no --resume, no --accept-changes), nothing written twice."""
    async with FakeAnthropicServer(config=FakeConfig(api_key="right")) as srv:
        with pytest.raises(ServiceRefused):
            await improve(sample_path(), tmp_path, srv, api_key="wrong")
        result = await improve(sample_path(), tmp_path, srv, api_key="right")
    assert (result.counts.improved, result.counts.failed) == (120, 0)
    lines = source_lines(tmp_path / "poor_examples.jsonl")
    assert len(lines) == len(set(lines)) == 120
    assert result.report.runs == 1  # the refused run's record went with its leftovers
    # Once an example has ended, the folder holds results: a plain rerun is refused.
    async with FakeAnthropicServer() as srv:
        with pytest.raises(OutputExists, match="holds results"):
            await improve(sample_path(), tmp_path, srv)


async def test_a_good_key_never_reaches_any_file(tmp_path: Path) -> None:
    sentinel = "sk-ant-SENTINEL-0a1b2c3d4e5f6789"
    async with FakeAnthropicServer(config=FakeConfig(api_key=sentinel)) as srv:
        result = await improve(sample_path(), tmp_path, srv, api_key=sentinel)
    assert result.ok
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert sentinel.encode() not in path.read_bytes(), path


def relaxed_poor_lines(out: Path) -> set[int]:
    return {r.data["_source_line"] for r in read_jsonl(out / "poor_examples.jsonl")
            if isinstance(r, Record)}  # fmt: skip


def _echoed_or_emptied(pair: dict[str, Any]) -> str | None:
    """Why the gate must turn down a real pair: the "improvement" is the original again
    (up to whitespace and JSON formatting), or it empties a user turn."""
    before, after = pair["original"]["conversations"], pair["improved"]["conversations"]
    if any(t["role"] == "user" and not t["content"].strip() for t in after):
        return "request_changed"
    if [plain_text(t["content"]) for t in before] == [plain_text(t["content"]) for t in after]:
        return "unchanged"
    return None


async def test_replayed_real_improvements_fail_only_for_missing_results(
    shared_data: Path, tmp_path: Path
) -> None:
    """The 200 real pairs: a genuine improvement passes every invariant of the gate; the
    only ones turned down send the original back unchanged (10 of the poor: 8 byte for byte,
    2 re-indented or re-escaped) or empty a pasted-Result user turn (2), which the gate
    must refuse."""
    pairs = shared_data / "improved_pairs_sample.jsonl"
    originals = tmp_path / "originals.jsonl"
    rows = [json.loads(line) for line in pairs.read_text().splitlines()]
    originals.write_text("".join(json.dumps(r["original"]) + "\n" for r in rows))
    fake = FakeAnthropic(model=FakeModel.from_pairs(pairs))
    async with FakeAnthropicServer(fake) as srv:
        # Every pair's answer replayed (no response cache: repeated originals ask again).
        strict = await improve(originals, tmp_path / "strict", srv, answers=1, cache=False)
        relaxed = await improve(
            originals, tmp_path / "relaxed", srv, answers=1, require_result=False, cache=False
        )
    poor = strict.counts.poor
    assert fake.model.replayed == 2 * poor
    # Those real answers follow a later spec without `Result:`; R402 is the only reason
    # besides the invariants.
    assert strict.counts.improved == 0
    failed = [r.data for r in read_jsonl(tmp_path / "strict" / OUTPUTS[2]) if isinstance(r, Record)]
    codes = collections.Counter(e.split()[0] for f in failed for e in f["errors"]
                                if f["reason"] == "invalid")  # fmt: skip
    assert set(codes) == {"R402"}
    expected = collections.Counter(
        why for line, r in enumerate(rows, 1)
        if (why := _echoed_or_emptied(r)) and line in relaxed_poor_lines(tmp_path / "relaxed")
    )  # fmt: skip
    assert expected == {"unchanged": 10, "request_changed": 2}
    turned_down = [r.data for r in read_jsonl(tmp_path / "relaxed" / OUTPUTS[2])
                   if isinstance(r, Record)]  # fmt: skip
    assert collections.Counter(f["reason"] for f in turned_down) == expected
    assert relaxed.counts.improved == poor - 12


async def test_the_progress_total_ends_at_the_lines_read(
    server: FakeAnthropicServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bar starts from an estimate (the input is not read once just to count it) and
    ends at the lines actually read, here a limit and a shard of them."""
    backend = AnthropicBackend(api_key="sk-test", base_url=server.url)
    async with backend:
        await improve_dataset(sample_path(), tmp_path / "a", backend=backend, retry=FAST,
                              progress=True, limit=90, shard=(1, 3))  # fmt: skip
    err = capsys.readouterr().err
    assert "30/30" in err


def test_a_file_without_tool_calls_is_refused_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A chat file with no tool call in any supported dialect: exit 2 with the reason, and
    not one Messages request."""
    from syngen_improve.cli import main
    from syngen_improve.testing import FakeAnthropicServer

    chat = tmp_path / "chat.jsonl"
    chat.write_text("".join(
        json.dumps({"messages": [{"role": "user", "content": f"Tell me a fact about {n}"},
                                 {"role": "assistant", "content": f"{n} is a number."}],
                    "label": False}) + "\n" for n in range(30)))  # fmt: skip
    with FakeAnthropicServer() as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
        code = main(["improve", str(chat), "--out", str(tmp_path / "out"), "--no-progress"])
        assert server.counters.requests == 0
    assert code == 2
    assert "no line has a tool call among its first 200 lines" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


async def test_rows_without_a_call_are_reported_by_line(tmp_path: Path) -> None:
    from syngen_improve.llm import DirectBackend
    from syngen_improve.testing import FakeAnthropicServer

    rows = [json.loads(x) for x in sample_path().read_text().splitlines()[:40] if x.endswith("}")]
    rows = [r for r in rows if isinstance(r, dict)][:30]
    rows[4] = {
        "conversations": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
        ],
        "label": False,
    }
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    async with (
        FakeAnthropicServer() as server,
        DirectBackend(api_key="sk-t", base_url=server.url) as backend,
    ):
        result = await improve_dataset(src, tmp_path / "out", backend=backend, progress=False)
    warnings = result.report.to_dict()["warnings"]
    assert any(w.startswith("1 input rows have no tool call") and "[5]" in w for w in warnings)
