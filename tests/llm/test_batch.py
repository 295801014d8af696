"""The Message Batches backend against the fake: results, re-asks, re-attach after a kill."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx2
import orjson
import pytest

import syngen_improve.llm._batch
from syngen_improve import Record, improve_dataset, read_jsonl, sample_path
from syngen_improve.errors import ModelWarning, ThinkingWarning
from syngen_improve.llm import (
    BackendError,
    BatchBackend,
    BatchPacing,
    BatchStopped,
    DirectBackend,
    Request,
    RetryPolicy,
    price_for,
)
from syngen_improve.llm._pricing import Usage
from syngen_improve.testing import FakeAnthropic, FakeAnthropicServer, FakeConfig
from syngen_improve.validate import validate_file
from tests.helpers import fake_server_process, make_example

FAST = RetryPolicy(base_delay=0.01, max_delay=0.05)


def backend(url: str, max_requests: int = 100_000, **kw: Any) -> BatchBackend:
    pacing = BatchPacing(flush_after=0.05, poll_min=0.05, max_requests=max_requests)
    return BatchBackend(api_key="sk-test", base_url=url, pacing=pacing, **kw)


async def test_batch_run_improves_everything_at_half_price(tmp_path: Path) -> None:
    config = FakeConfig(batch_delay=0.1, bad_output_rates={"broken_rules": 0.05},
                        fault_rates={"500": 0.03}, batch_expire_rate=0.02, seed=3)  # fmt: skip
    async with FakeAnthropicServer(config=config) as server:
        b = backend(server.url)
        result = await improve_dataset(sample_path(), tmp_path, backend=b, retry=FAST,
                                       progress=False, answers=4)  # fmt: skip
        await b.aclose()
        counters = server.counters.snapshot()
    improved = [r.data["_source_line"] for r in read_jsonl(tmp_path / "improved_examples.jsonl")
                if isinstance(r, Record)]  # fmt: skip
    failed = [r.data["_source_line"] for r in read_jsonl(tmp_path / "failed.jsonl")
              if isinstance(r, Record)]  # fmt: skip
    assert len(improved) + len(failed) == len(set(improved + failed)) == 120
    assert validate_file(tmp_path / "improved_examples.jsonl", profile="strict").ok
    assert counters["batches_created"] >= 2  # re-asks and retries went in follow-up batches
    assert counters["max_per_custom_id"] == 1  # no custom_id was ever submitted twice
    t = result.report.tokens
    usage = Usage(t.input, t.output, t.cache_read, t.cache_creation)
    pricing = price_for("claude-haiku-5-5")
    assert pricing is not None
    # Every request's prompt is short (the long price is per request, not per run), and a
    # batch marks its cache for an hour (written at the 1-hour price).
    short = dataclasses.replace(pricing, long=None)
    assert result.report.cost_usd == pytest.approx(short.cost(usage, ttl="1h") / 2, rel=1e-3)
    assert result.report.requests.retried > 0  # errored and expired results


async def test_reask_online_sends_only_the_first_answers_as_a_batch(tmp_path: Path) -> None:
    config = FakeConfig(batch_delay=0.05, first_bad_outputs=["broken_rules"])
    async with FakeAnthropicServer(config=config) as server:
        b = backend(server.url)
        result = await improve_dataset(sample_path(), tmp_path, backend=b, reask_online=True,
                                       progress=False, limit=30)  # fmt: skip
        await b.aclose()
        counters = server.counters.snapshot()
    poor = result.counts.poor
    assert result.counts.improved == poor
    assert counters["batch_requests"] == poor
    assert counters["batches_created"] == 1  # the re-asks did not make a follow-up batch
    assert result.report.requests.total == 2 * poor  # the online re-asks are counted too
    assert server.counters.per_example.total() == 2 * poor  # each answered twice: batch, online


async def test_reask_online_goes_the_way_of_an_online_run() -> None:
    b = backend("http://127.0.0.1:9")
    online = b.online()
    assert type(online) is DirectBackend  # not the SDK: one online path
    assert (online.base_url, online.model) == (b.base_url, b.model)
    await online.aclose()
    await b.aclose()


async def test_batches_are_split_at_max_requests(tmp_path: Path) -> None:
    async with FakeAnthropicServer(config=FakeConfig(batch_delay=0.05)) as server:
        b = backend(server.url, max_requests=50)
        result = await improve_dataset(sample_path(), tmp_path, backend=b, progress=False)
        await b.aclose()
    assert result.counts.improved == 120
    assert server.counters.batches_created == 3  # 50 + 50 + 20
    assert len((tmp_path / "state" / "batch" / "batches.jsonl").read_text().splitlines()) == 3


def test_custom_ids_are_stable_and_retries_get_a_suffix(tmp_path: Path) -> None:
    b = BatchBackend(api_key="k", base_url="http://127.0.0.1:9", state_dir=tmp_path)
    req = Request(messages=[{"role": "user", "content": "x"}], key="l12-a1")
    assert [b._custom_id(req) for _ in range(3)] == ["l12-a1", "l12-a1-r1", "l12-a1-r2"]
    odd = Request(messages=[{"role": "user", "content": "x"}], key="line 5/a:1")
    assert b._custom_id(odd) == "line_5_a_1"


async def test_answers_already_on_disk_need_no_request(tmp_path: Path) -> None:
    fake = FakeAnthropic()
    message = {"content": [{"type": "text", "text": "hi"}], "usage": {"input_tokens": 3,
               "output_tokens": 1}, "model": "m", "stop_reason": "end_turn"}  # fmt: skip
    (tmp_path / "results").mkdir()
    (tmp_path / "batches.jsonl").write_text(
        json.dumps({"batch_id": "msgbatch_1", "custom_ids": ["l1-a1", "l2-a1", "l3-a1"]}) + "\n"
    )
    lines = [{"custom_id": "l1-a1", "result": {"type": "succeeded", "message": message}},
             {"custom_id": "l2-a1", "result": {"type": "errored", "error": {"type": "error",
              "error": {"type": "overloaded_error", "message": "busy"}}}},
             {"custom_id": "l3-a1", "result": {"type": "expired"}}]  # fmt: skip
    (tmp_path / "results" / "msgbatch_1.jsonl").write_bytes(
        b"".join(orjson.dumps(x) + b"\n" for x in lines)
    )
    client = httpx2.AsyncClient(transport=fake.transport())
    b = BatchBackend(api_key="k", base_url="http://fake", state_dir=tmp_path, http_client=client)

    def req(key: str) -> Request:
        return Request(messages=[{"role": "user", "content": "x"}], key=key)

    assert (await b.send(req("l1-a1"))).text == "hi"
    with pytest.raises(BackendError) as busy:
        await b.send(req("l2-a1"))
    assert (busy.value.status, busy.value.error_type) == (529, "overloaded_error")
    with pytest.raises(BackendError) as expired:
        await b.send(req("l3-a1"))
    assert expired.value.status is None  # retryable
    await b.aclose()
    assert fake.counters.requests == 0


async def test_fake_batch_endpoints() -> None:
    fake = FakeAnthropic(FakeConfig(batch_delay=3600))
    headers = {"x-api-key": "k", "anthropic-version": "2026-10-21"}
    params = {"model": "m", "max_tokens": 10,
              "messages": [{"role": "user", "content": json.dumps(make_example())}]}  # fmt: skip
    async with httpx2.AsyncClient(transport=fake.transport(), base_url="http://fake") as c:
        bad = await c.post("/v1/messages/batches", headers=headers,
                           json={"requests": [{"custom_id": "a b", "params": params}]})  # fmt: skip
        assert bad.status_code == 400
        dup = await c.post(
            "/v1/messages/batches",
            headers=headers,
            json={
                "requests": [
                    {"custom_id": "a", "params": params},
                    {"custom_id": "a", "params": params},
                ]
            },
        )
        assert "duplicate custom_id" in dup.json()["error"]["message"]
        made = (
            await c.post(
                "/v1/messages/batches",
                headers=headers,
                json={"requests": [{"custom_id": "a", "params": params}]},
            )
        ).json()
        assert made["processing_status"] == "in_progress"
        assert made["request_counts"]["processing"] == 1
        early = await c.get(f"/v1/messages/batches/{made['id']}/results", headers=headers)
        assert early.status_code == 400
        listed = (await c.get("/v1/messages/batches", headers=headers)).json()
        assert [b["id"] for b in listed["data"]] == [made["id"]]
        canceled = (await c.post(f"/v1/messages/batches/{made['id']}/cancel",
                                 headers=headers)).json()  # fmt: skip
        assert canceled["processing_status"] == "ended"
        assert canceled["request_counts"]["canceled"] == 1
        path = urlparse(canceled["results_url"]).path
        lines = (await c.get(path, headers=headers)).text
    assert json.loads(lines)["result"] == {"type": "canceled"}


@pytest.fixture
def slow_batches() -> Iterator[str]:
    with fake_server_process("--batch-delay", "3") as url:
        yield url


def counters(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "/_fake/counters") as resp:
        result: dict[str, Any] = json.loads(resp.read())
        return result


@pytest.mark.slow
def test_sigkill_while_polling_then_resume_reattaches(tmp_path: Path, slow_batches: str) -> None:
    env = {**os.environ, "ANTHROPIC_BASE_URL": slow_batches, "ANTHROPIC_API_KEY": "sk-b"}
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "syngen_improve", "improve", str(sample_path()), "--out",
           str(out), "--backend", "batch", "--resume", "--no-progress"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ledger = out / "state" / "batch" / "batches.jsonl"
    deadline = time.monotonic() + 60
    while not ledger.exists():
        assert proc.poll() is None
        assert time.monotonic() < deadline
        time.sleep(0.01)  # polling a real process
    time.sleep(0.5)  # it is now polling a batch that ends in 3 s
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = counters(slow_batches)
    assert before["batches_created"] == 1
    assert not (out / "improved_examples.jsonl").read_bytes()  # nothing answered yet
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    after = counters(slow_batches)
    assert after["batches_created"] == 1  # re-attached: no new batch for the same work
    assert after["max_per_custom_id"] == 1
    assert "improved 120, failed 0" in done.stdout


async def test_a_failing_background_task_fails_every_waiting_request_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch ledger cannot be written (disk full): the run stops with that cause at
    once instead of every request waiting for its 26-hour timeout."""

    def disk_full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(syngen_improve.llm._batch, "JsonlWriter", disk_full)
    async with FakeAnthropicServer(config=FakeConfig()) as server:
        async with backend(server.url) as b:
            started = time.monotonic()
            with pytest.raises(BatchStopped) as info:
                await improve_dataset(sample_path(), tmp_path, backend=b, progress=False,
                                      limit=30, retry=FAST)  # fmt: skip
            assert time.monotonic() - started < 10
            assert isinstance(info.value.__cause__, OSError)
            assert info.value.__cause__.errno == errno.ENOSPC
            with pytest.raises(BatchStopped):  # and so does every later request
                await b.send(Request(messages=[{"role": "user", "content": "hi"}], key="x"))
        assert server.counters.batches_created == 1  # the API accepted it; the ledger failed
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["complete"] is False


async def test_a_batch_of_a_model_the_table_does_not_know_switches_once(tmp_path: Path) -> None:
    """A new 5.x id refuses the forced tool in the batch (errored results): the requests go
    again in the next batch with tool choice auto; every example improves; the cache is
    marked for an hour in every request."""
    config = FakeConfig(batch_delay=0.05)
    bodies = tmp_path / "bodies.jsonl"
    async with FakeAnthropicServer(config=config, record=str(bodies)) as server:
        pacing = BatchPacing(flush_after=0.05, poll_min=0.05)
        b = BatchBackend(api_key="sk-test", base_url=server.url, pacing=pacing,
                         model="claude-haiku-5-7")  # fmt: skip
        with pytest.warns(ModelWarning), pytest.warns(ThinkingWarning):
            result = await improve_dataset(sample_path(), tmp_path / "out", backend=b,
                                           retry=FAST, progress=False, price="0.1,0.5")  # fmt: skip
        await b.aclose()
        counters = server.counters.snapshot()
    assert (result.counts.improved, result.counts.failed) == (120, 0)
    assert 0 < counters["thinking_refused"] <= 120  # the first batch, at most
    assert (result.report.thinking or {})["tool_choice"] == "auto"
