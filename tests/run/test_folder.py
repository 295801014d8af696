"""One run per output folder, and no run that reads or writes its own outputs."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from syngen_improve import Record, improve_dataset, read_jsonl, sample_path
from syngen_improve.errors import FolderBusy, UsageError
from syngen_improve.llm import AnthropicBackend
from syngen_improve.outputs import count_lines
from syngen_improve.testing import FakeAnthropicServer, FakeConfig
from tests.helpers import fake_server_process


def source_lines(path: Path) -> list[int]:
    return [r.data["_source_line"] for r in read_jsonl(path) if isinstance(r, Record)]


async def test_a_second_run_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    async with FakeAnthropicServer(config=FakeConfig(latency=0.02)) as server:
        first_backend = AnthropicBackend(api_key="sk", base_url=server.url)
        second_backend = AnthropicBackend(api_key="sk", base_url=server.url)
        first = asyncio.create_task(improve_dataset(
            sample_path(), tmp_path, backend=first_backend, progress=False, concurrency=4
        ))  # fmt: skip
        while count_lines(tmp_path / "improved_examples.jsonl") < 5:
            await asyncio.sleep(0.01)
        requests = server.counters.requests
        with pytest.raises(FolderBusy, match=f"in use by another run \\(pid {os.getpid()} on"):
            await improve_dataset(sample_path(), tmp_path, backend=second_backend,
                                  progress=False, resume=True)  # fmt: skip
        result = await first
        await first_backend.aclose()
        await second_backend.aclose()
    assert server.counters.requests - requests <= 120  # the refused run sent nothing
    assert result.counts.improved == 120
    lines = source_lines(tmp_path / "improved_examples.jsonl")
    assert sorted(lines) == sorted(set(lines))
    assert len(lines) == 120
    assert result.report.runs == 1  # the refused run recorded nothing


@pytest.mark.slow
def test_two_processes_the_second_exits_2_and_the_first_loses_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    # 0.2 s a request, 4 at a time: the first run lasts ~6 s, past the second's start-up.
    with fake_server_process("--latency", "0.2") as url:
        env = {**os.environ, "ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": "sk-two"}
        cmd = [sys.executable, "-m", "syngen_improve", "improve", str(sample_path()),
               "--out", str(out), "--resume", "--no-progress", "--concurrency", "4"]  # fmt: skip
        first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while count_lines(out / "improved_examples.jsonl") < 5:
            assert first.poll() is None, "the first run ended too soon"
            assert time.monotonic() < deadline
            time.sleep(0.01)  # polling a real process
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert first.wait(timeout=120) == 0
    assert second.returncode == 2, second.stdout
    assert f"in use by another run (pid {first.pid} on" in second.stderr
    lines = source_lines(out / "improved_examples.jsonl")
    assert len(lines) == len(set(lines)) == 120
    assert len(source_lines(out / "poor_examples.jsonl")) == 120


async def test_an_input_inside_its_own_output_folder_is_refused(tmp_path: Path) -> None:
    for name in ("improved_examples.jsonl", "poor_examples.jsonl", "state/ledger.jsonl"):
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(sample_path().read_bytes())
        with pytest.raises(UsageError, match="one of the run's own files"):
            await improve_dataset(target, tmp_path, progress=False, resume=True)
        assert target.read_bytes() == sample_path().read_bytes()
