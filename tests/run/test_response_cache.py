"""Answers reused across runs: a repeated run sends nothing and writes the same rows; a
failure retried is asked afresh; the key never reaches the cache; two processes share it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from syngen_improve import improve_dataset, sample_path
from syngen_improve.llm import DirectBackend, ResponseCache, RetryPolicy
from syngen_improve.llm._responses import _decode
from syngen_improve.testing import FakeBackend, FakeConfig
from tests.helpers import fake_server_process

FAST = RetryPolicy(base_delay=0.001, max_delay=0.005)


def rows(path: Path) -> list[bytes]:
    """The file's rows, sorted, without the run id (new for every run by design)."""
    out = []
    for line in path.read_bytes().splitlines():
        record = orjson.loads(line)
        record["_provenance"].pop("run")
        out.append(orjson.dumps(record))
    return sorted(out)


#: Faults and answers the gate turns down (so re-asks), none cut short or refused.
REASKED = FakeConfig(fault_rates={"500": 0.05, "429": 0.05}, retry_after=0.001,
                     bad_output_rates={"wrong_tool": 0.1, "broken_rules": 0.1})  # fmt: skip


async def test_a_run_repeated_into_a_new_folder_sends_nothing_and_writes_the_same(
    tmp_path: Path,
) -> None:
    """The second run reads every answer from the cache (re-asks too), pays nothing and
    writes the same rows."""
    backend = FakeBackend(REASKED)
    async with backend:
        first = await improve_dataset(
            sample_path(), tmp_path / "a", backend=backend, retry=FAST, progress=False
        )
        sent = backend.counters.requests
        second = await improve_dataset(
            sample_path(), tmp_path / "b", backend=backend, retry=FAST, progress=False
        )
    assert backend.counters.requests == sent  # not one request
    a, b = first.report, second.report
    answered = a.requests.total - a.requests.retried - a.requests.failed
    assert b.requests.total == 0
    assert b.requests.cached == answered > a.counts.poor  # re-asks came from the cache too
    assert (b.cost_usd, b.tokens.input, b.tokens.output) == (0.0, 0, 0)
    assert b.counts == a.counts
    assert a.rejections == b.rejections  # the same answers turned down, the same re-asks
    for name in ("improved_examples.jsonl", "poor_examples.jsonl", "failed.jsonl"):
        assert rows(tmp_path / "b" / name) == rows(tmp_path / "a" / name), name
    assert "answers from the response cache" in (tmp_path / "b" / "report.html").read_text()


async def test_answers_cut_short_or_refused_are_never_kept(
    tmp_path: Path, own_response_cache: Path
) -> None:
    """Answers cut at max_tokens or refused are not in the cache: the same run again
    sends those requests (at most one each; the fake may answer them in full now)."""
    backend = FakeBackend(FakeConfig(bad_output_rates={"truncated_json": 0.1, "refusal": 0.05}))
    async with backend:
        await improve_dataset(sample_path(), tmp_path / "a", backend=backend, progress=False)
        cut = backend.counters.bad_outputs.copy()
        sent = backend.counters.requests
        second = await improve_dataset(
            sample_path(), tmp_path / "b", backend=backend, progress=False
        )
    assert cut["truncated_json"] > 0
    assert cut["refusal"] > 0
    again = backend.counters.requests - sent
    assert 0 < again == second.report.requests.total <= cut["truncated_json"] + cut["refusal"]
    db = sqlite3.connect(own_response_cache / "responses.sqlite3")
    kept = [_decode(v) for (v,) in db.execute("SELECT value FROM answers")]
    db.close()
    assert kept
    assert all(r is not None and r.stop_reason == "tool_use" for r in kept)


async def test_no_cache_sends_every_request_and_keeps_nothing(
    tmp_path: Path, own_response_cache: Path
) -> None:
    async with FakeBackend() as backend:
        for out in ("a", "b"):
            await improve_dataset(
                sample_path(), tmp_path / out, backend=backend, progress=False, cache=False
            )
        assert backend.counters.requests == 2 * 120
    assert not (own_response_cache / "responses.sqlite3").exists()


async def test_a_failure_retried_is_asked_afresh_not_replayed(tmp_path: Path) -> None:
    """Every example's first answer is bad and the run allows one: all fail, and their
    answers are in the cache. ``--retry-failed`` sends them again (the fake's second answer
    for an example is good), instead of meeting the same cached failure."""
    backend = FakeBackend(FakeConfig(first_bad_outputs=["unchanged"]))
    out = tmp_path / "out"
    async with backend:
        first = await improve_dataset(sample_path(), out, backend=backend, answers=1,
                                      progress=False)  # fmt: skip
        assert (first.report.counts.failed, first.report.counts.improved) == (120, 0)
        resumed = await improve_dataset(sample_path(), out, backend=backend, answers=1,
                                        progress=False, resume=True)  # fmt: skip
        assert resumed.report.counts.failed == 120  # a plain resume leaves failures be
        again = await improve_dataset(sample_path(), out, backend=backend, answers=1,
                                      progress=False, resume=True, retry_failed=True)  # fmt: skip
        assert backend.counters.requests == 240
    assert (again.report.counts.failed, again.report.counts.improved) == (0, 120)


async def test_the_key_never_reaches_the_cache(tmp_path: Path, own_response_cache: Path) -> None:
    key = "sk-ant-api03-" + "Zq7" * 20
    async with fake_server_as_backend(key) as backend:
        await improve_dataset(sample_path(), tmp_path / "out", backend=backend, progress=False)
    stored = b"".join(p.read_bytes() for p in own_response_cache.iterdir())
    assert stored
    for piece in (key, key[-12:], key[13:25]):
        assert piece.encode() not in stored


def fake_server_as_backend(key: str) -> DirectBackend:
    """A DirectBackend to a fake server that checks ``key`` (closed with the backend)."""
    from syngen_improve.testing import FakeAnthropicServer

    server = FakeAnthropicServer(config=FakeConfig(api_key=key))

    class Backend(DirectBackend):
        async def __aenter__(self) -> Backend:
            await server.start()
            self.base_url = server.url
            self.cache_scope = f"anthropic-messages {server.url}"
            return self

        async def aclose(self) -> None:
            await super().aclose()
            await server.stop()

    return Backend(api_key=key, base_url="http://127.0.0.1:9")


def improve_process(data: Path, out: Path, url: str, cache: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ANTHROPIC_API_KEY": "sk-test", "ANTHROPIC_BASE_URL": url}
    command = [sys.executable, "-m", "syngen_improve", "improve", str(data), "--out", str(out),
               "--cache-dir", str(cache), "--no-progress", "--concurrency", "8"]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen[bytes]) -> None:
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()


@pytest.mark.timeout(180)
def test_two_processes_share_one_cache(tmp_path: Path) -> None:
    """A first run caches the rows X; then two processes on X + Y1 and X + Y2 run at once
    on the same cache folder: both complete, X is never sent again, every entry reads back
    whole and no body reached the server twice."""
    lines = sample_path().read_bytes().splitlines(keepends=True)
    x, y1, y2 = lines[:70], lines[70:140], lines[140:]
    inputs = {}
    for name, part in (("x", x), ("a", x + y1), ("b", x + y2)):
        inputs[name] = tmp_path / f"{name}.jsonl"
        inputs[name].write_bytes(b"".join(part))
    cache, bodies = tmp_path / "cache", tmp_path / "bodies.jsonl"
    with fake_server_process("--latency", "0.02", "--record", str(bodies)) as url:
        finish(improve_process(inputs["x"], tmp_path / "out-x", url, cache))
        both = [improve_process(inputs[n], tmp_path / f"out-{n}", url, cache) for n in "ab"]
        for proc in both:
            finish(proc)
    sent = bodies.read_bytes().splitlines()
    assert len(sent) == len(set(sent))  # no identical body sent twice
    reports = {n: orjson.loads((tmp_path / f"out-{n}" / "report.json").read_bytes()) for n in "xab"}
    x_answers = reports["x"]["requests"]["total"]
    assert reports["a"]["requests"]["cached"] == reports["b"]["requests"]["cached"] == x_answers
    db = sqlite3.connect(cache / "responses.sqlite3")
    values = [v for (v,) in db.execute("SELECT value FROM answers")]
    db.close()
    assert len(values) == len(sent)
    assert all(_decode(v) is not None for v in values)
    with ResponseCache(cache) as reopened:
        assert reopened.entries() == len(sent)


async def test_a_changed_template_sends_only_what_it_changes(tmp_path: Path) -> None:
    """Another re-ask template: every first request is read from the cache, every re-ask
    (which carries the new text) is sent."""
    from syngen_improve import Templates

    backend = FakeBackend(FakeConfig(bad_output_rates={"wrong_tool": 0.2}))
    new = Templates.default().override(reask="Not yet right:\n{errors}\nAgain, please.")
    async with backend:
        first = await improve_dataset(sample_path(), tmp_path / "a", backend=backend,
                                      progress=False)  # fmt: skip
        sent = backend.counters.requests
        second = await improve_dataset(sample_path(), tmp_path / "b", backend=backend,
                                       progress=False, templates=new)  # fmt: skip
    assert first.report.requests.total > first.report.counts.poor  # the first run re-asked
    # Every first request from the cache, every re-ask (new text) sent: the fake answers
    # those afresh, so the second run's re-asks need not be as many as the first's.
    assert second.report.requests.cached == first.report.counts.poor
    assert backend.counters.requests - sent == second.report.requests.total > 0
