"""An outage is not the examples' fault: what the service failed is retried by a resume,
never kept in failed.jsonl for good; what the model could not fix stays failed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import httpx2
import pytest

from syngen_improve import Record, improve_dataset, read_jsonl, sample_path
from syngen_improve.llm import (
    AnthropicBackend,
    BackendError,
    BreakerPolicy,
    Reply,
    Request,
    RetryPolicy,
    ServiceUnavailable,
)
from syngen_improve.testing import FakeAnthropic, FakeConfig
from tests.helpers import fake_server_process

FAST = RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.002)


async def improve(out: Path, config: FakeConfig, **options: Any) -> tuple[Any, FakeAnthropic]:
    fake = FakeAnthropic(config)
    client = httpx2.AsyncClient(transport=fake.transport())
    options = {"retry": FAST, **options}
    async with AnthropicBackend(api_key="sk", base_url="http://fake", http_client=client) as b:
        result = await improve_dataset(sample_path(), out, backend=b, progress=False,
                                       limit=60, **options)  # fmt: skip
    return result, fake


def fake_requests(out: Path) -> int:
    runs = (out / "state" / "runs.jsonl").read_text().splitlines()
    return sum(json.loads(r)["requests"]["total"] for r in runs)


def failed(out: Path) -> list[dict[str, Any]]:
    return [r.data for r in read_jsonl(out / "failed.jsonl") if isinstance(r, Record)]


async def test_an_outage_is_retried_by_a_plain_resume(tmp_path: Path) -> None:
    # The breaker kept shut, so every example reaches the end of its retries.
    never_open = BreakerPolicy(threshold=10_000)
    down, _ = await improve(tmp_path, FakeConfig(fault_rates={"529": 1.0}), breaker=never_open)
    poor = down.counts.poor
    assert down.counts.failed == down.counts.retryable == poor > 0
    assert all(r["transient"] is True and r["reason"] == "request_failed" for r in failed(tmp_path))
    up, fake = await improve(tmp_path, FakeConfig(), resume=True)
    assert fake.counters.requests == poor  # each example asked once more, nothing else
    assert up.counts.improved == poor
    assert up.counts.failed == up.counts.retryable == 0
    assert failed(tmp_path) == []  # rewritten: no stale failure left
    lines = [r.data["_source_line"] for r in read_jsonl(tmp_path / "improved_examples.jsonl")
             if isinstance(r, Record)]  # fmt: skip
    assert len(lines) == len(set(lines)) == poor


async def test_content_failures_stay_unless_asked(tmp_path: Path) -> None:
    never = FakeConfig(bad_output_rates={"broken_rules": 1.0})
    first, _ = await improve(tmp_path, never, answers=1)
    assert first.counts.failed == first.counts.poor
    assert first.counts.retryable == 0
    assert all("transient" not in r for r in failed(tmp_path))
    again, fake = await improve(tmp_path, FakeConfig(), resume=True)
    assert fake.counters.requests == 0  # permanent failures are not retried by default
    assert again.counts.failed == first.counts.failed
    retried, fake = await improve(tmp_path, FakeConfig(), resume=True, retry_failed=True)
    assert fake.counters.requests == first.counts.poor
    assert retried.counts.improved == first.counts.poor
    assert retried.counts.failed == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["counts"]["retryable"] == 0


async def test_a_400_on_every_request_stops_the_run_and_loses_nothing(tmp_path: Path) -> None:
    """A proxy that refuses every request (400) is not 60 examples' fault."""
    with pytest.raises(ServiceUnavailable, match="all refused as invalid"):
        await improve(tmp_path, FakeConfig(fault_rates={"400": 1.0}), concurrency=4)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["complete"] is False
    assert all(r["transient"] is True for r in failed(tmp_path))  # none lost for good
    assert fake_requests(tmp_path) <= 20 + 4  # stopped at the threshold, not after 60
    up, _ = await improve(tmp_path, FakeConfig(), resume=True)
    assert up.counts.improved == up.counts.poor
    assert up.counts.failed == 0


async def test_a_400_that_one_example_gets_is_that_examples_failure(tmp_path: Path) -> None:
    # One at a time, so every refusal comes right after a success (or before the first).
    result, fake = await improve(tmp_path, FakeConfig(fault_rates={"400": 0.1}, seed=3),
                                 concurrency=1, answers=1)  # fmt: skip
    assert result.counts.failed == fake.counters.faults["400"] >= 2
    kept = [r for r in failed(tmp_path) if "transient" not in r]
    assert kept  # permanent: the service answered the requests around it
    assert all("400" in r["errors"][0] for r in failed(tmp_path))
    again, fake = await improve(tmp_path, FakeConfig(), resume=True)
    assert fake.counters.requests == result.counts.retryable  # only those retried
    assert again.counts.failed == len(kept)


async def test_a_short_outage_is_waited_out(tmp_path: Path) -> None:
    """Retries outlast the failures before the breaker opens; probes cost no attempt."""
    waits = BreakerPolicy(threshold=5, patience=30, probe_min=0.05, probe_max=0.2)
    retry = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)
    result, fake = await improve(tmp_path, FakeConfig(outage=0.5), breaker=waits,
                                 concurrency=4, retry=retry)  # fmt: skip
    assert fake.counters.faults["outage"] >= 5
    assert result.counts.improved == result.counts.poor
    assert result.counts.failed == 0


@pytest.mark.slow
def test_a_10_s_outage_at_the_start_of_a_200_line_run(tmp_path: Path) -> None:
    """The acceptance scenario, over real HTTP with the default retry and breaker: the run
    waits the outage out (patience is 5 minutes), and a plain --resume finds nothing left."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "syngen_improve", "improve", str(sample_path()), "--out",
           str(out), "--no-progress", "--concurrency", "16"]  # fmt: skip
    with fake_server_process("--outage", "10", "--latency", "0.02") as url:
        env = {**os.environ, "ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": "sk-outage"}
        first = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        assert first.returncode == 0, first.stderr
        again = subprocess.run([*cmd, "--resume"], env=env, capture_output=True, text=True,
                               check=False)  # fmt: skip
        assert again.returncode == 0, again.stderr
        with urllib.request.urlopen(url + "/_fake/counters") as resp:
            counters = json.loads(resp.read())
    assert counters["faults"]["outage"] >= 20  # the outage happened
    report = json.loads((out / "report.json").read_text())
    assert report["counts"]["improved"] == report["counts"]["poor"] == 120
    assert report["counts"]["failed"] == report["counts"]["retryable"] == 0
    improved = [r.data["_source_line"] for r in read_jsonl(out / "improved_examples.jsonl")
                if isinstance(r, Record)]  # fmt: skip
    assert len(improved) == len(set(improved)) == 120


async def test_output_files_whose_final_newline_was_dropped_lose_nothing(tmp_path: Path) -> None:
    """A user opened the results in an editor that saves without the final newline."""
    half = FakeConfig(bad_output_rates={"broken_rules": 0.5}, seed=4)
    first, _ = await improve(tmp_path, half, answers=1)
    assert first.counts.failed > 0
    assert first.counts.improved > 0
    for name in ("failed.jsonl", "improved_examples.jsonl", "poor_examples.jsonl"):
        path = tmp_path / name
        path.write_bytes(path.read_bytes().rstrip(b"\n"))
    again, fake = await improve(tmp_path, FakeConfig(), resume=True)
    assert fake.counters.requests == 0  # nothing was lost, so nothing is asked again
    assert again.counts.failed == first.counts.failed
    assert again.counts.improved == first.counts.improved
    assert again.counts.poor_written == first.counts.poor_written


class RefusesOneLine:
    """A backend that refuses (400, prompt too long) every request for one input line:
    the first line it is asked about, unless told which."""

    def __init__(self, inner: AnthropicBackend, line: str | None = None) -> None:
        self.inner, self.model, self.line = inner, inner.model, line

    async def send(self, request: Request) -> Reply:
        line = (request.key or "").split("-")[0]
        self.line = self.line or line
        if line == self.line:
            raise BackendError("prompt is too long", status=400, error_type="invalid_request_error")
        return await self.inner.send(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_refusal_first_in_two_runs_is_the_examples_own(tmp_path: Path) -> None:
    """Before any success a 400 cannot be blamed on the example, so a resume asks again;
    refused again, it is that example's failure for good, not retried forever."""

    async def run(line: str | None, **options: Any) -> tuple[Any, RefusesOneLine]:
        client = httpx2.AsyncClient(transport=FakeAnthropic().transport())
        inner = AnthropicBackend(api_key="sk", base_url="http://fake", http_client=client)
        backend = RefusesOneLine(inner, line)
        try:
            result = await improve_dataset(sample_path(), tmp_path, backend=backend, retry=FAST,
                                           progress=False, limit=60, concurrency=1,
                                           **options)  # fmt: skip
        finally:
            await backend.aclose()
        return result, backend

    first, backend = await run(None)
    assert first.counts.failed == first.counts.retryable == 1  # before any success
    [record] = failed(tmp_path)
    assert record["http_status"] == 400
    assert record["transient"] is True
    second, _ = await run(backend.line, resume=True)
    assert second.counts.failed == 1
    assert second.counts.retryable == 0  # refused again: its own
    assert "transient" not in failed(tmp_path)[0]
    assert second.counts.improved == first.counts.improved
