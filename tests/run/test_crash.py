"""kill -9 at random moments, then --resume: the same result as one clean run."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from syngen_improve import Malformed, Record, read_jsonl, sample_path
from syngen_improve.outputs import count_lines
from tests.helpers import fake_server_process

CONCURRENCY = 4


@pytest.fixture
def fake_url() -> Iterator[str]:
    with fake_server_process("--latency", "0.04") as url:
        yield url


def improve_cmd(out: Path) -> list[str]:
    return [
        sys.executable, "-m", "syngen_improve", "improve", str(sample_path()), "--out", str(out),
        "--resume", "--no-progress", "--concurrency", str(CONCURRENCY),
    ]  # fmt: skip


def lines_of(path: Path) -> list[int]:
    items = list(read_jsonl(path)) if path.exists() else []
    assert not any(isinstance(i, Malformed) for i in items), f"torn line in {path}"
    return [i.data["_source_line"] for i in items if isinstance(i, Record)]


def started_with_ten_done(out: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """An improve process into ``out`` that has written 10 improved lines (stderr piped)."""
    proc = subprocess.Popen(
        improve_cmd(out), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    while count_lines(out / "improved_examples.jsonl") < 10:
        assert proc.poll() is None
        time.sleep(0.005)  # polling a real process
    return proc


def prefix_is_a_kto_file(out: Path) -> None:
    """What a killed run leaves in the KTO file is usable as it is: whole rows that
    alternate True, False, ..., each already in its side's file, no prompt repeated within
    8 rows."""
    rows = [i.data for i in read_jsonl(out / "improved_interleaved.jsonl")
            if isinstance(i, Record)]  # fmt: skip
    assert len(rows) == count_lines(out / "improved_interleaved.jsonl")
    assert [r["label"] for r in rows] == [n % 2 == 0 for n in range(len(rows))]
    improved = set(lines_of(out / "improved_examples.jsonl"))
    poor = set(lines_of(out / "poor_examples.jsonl"))
    for row in rows:
        assert row["_source_line"] in (improved if row["label"] else poor)
    prompts = [r["conversations"][0]["content"] for r in rows]
    for n, prompt in enumerate(prompts):
        assert prompt not in prompts[max(0, n - 8) : n]


@pytest.mark.slow
def test_sigkill_three_times_then_resume(tmp_path: Path, fake_url: str) -> None:
    env = {**os.environ, "ANTHROPIC_BASE_URL": fake_url, "ANTHROPIC_API_KEY": "sk-crash"}
    rng = random.Random(20261124)
    out = tmp_path / "crashed"
    after_kills = []
    # Kill once the run has reached a random point, plus a random few milliseconds.
    for target in sorted(rng.sample(range(5, 110), 3)):
        proc = subprocess.Popen(improve_cmd(out), env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while count_lines(out / "improved_examples.jsonl") < target:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)  # polling a real process
        time.sleep(rng.uniform(0, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        after_kills.append(len(lines_of(out / "improved_examples.jsonl")))
        prefix_is_a_kto_file(out)
    print("improved after each kill:", after_kills)
    assert all(0 < n < 120 for n in after_kills)  # every kill landed mid-run
    done = subprocess.run(improve_cmd(out), env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    with urllib.request.urlopen(fake_url + "/_fake/counters") as resp:
        counters = json.loads(resp.read())

    clean = tmp_path / "clean"
    subprocess.run(improve_cmd(clean), env=env, check=True, stdout=subprocess.DEVNULL)

    for name in ("improved_examples.jsonl", "poor_examples.jsonl", "failed.jsonl"):
        got, want = lines_of(out / name), lines_of(clean / name)
        assert len(got) == len(set(got)), f"duplicates in {name}"
        assert set(got) == set(want), name
    assert len(lines_of(out / "improved_examples.jsonl")) == 120
    # Work lost to each kill is at most what was in flight: a worker holds its slot until
    # its answer is in the file, so nothing answered can be lost (this was 13 > 12 now and
    # then while answers could wait in a writer's queue after their slot was freed).
    assert counters["requests"] - 120 <= 3 * CONCURRENCY
    report = json.loads((out / "report.json").read_text())
    assert report["complete"] is True
    assert report["counts"]["improved"] == 120


@pytest.mark.slow
def test_ctrl_c_exits_130_with_a_report(tmp_path: Path, fake_url: str) -> None:
    env = {**os.environ, "ANTHROPIC_BASE_URL": fake_url, "ANTHROPIC_API_KEY": "sk-int"}
    out = tmp_path / "interrupted"
    proc = started_with_ten_done(out, env)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "--resume" in err
    report = json.loads((out / "report.json").read_text())
    assert report["interrupted"] is True
    assert 10 <= report["counts"]["improved"] < 120
    assert lines_of(out / "improved_examples.jsonl")  # whole lines only
    # The requests counted are those the server saw: none it did not, at most the ones in
    # flight missing; those stopped before they went out are counted apart.
    with urllib.request.urlopen(fake_url + "/_fake/counters") as resp:
        seen = json.loads(resp.read())["requests"]
    requests = report["requests"]
    assert seen - CONCURRENCY <= requests["total"] <= seen
    assert requests["cancelled"] >= 0


@pytest.mark.slow
def test_sigterm_stops_like_ctrl_c_and_resumes(tmp_path: Path, fake_url: str) -> None:
    """What `timeout`, systemd, Kubernetes and Slurm send: exit 143, a report marked
    interrupted, the run recorded; --resume repeats at most what was in flight."""
    env = {**os.environ, "ANTHROPIC_BASE_URL": fake_url, "ANTHROPIC_API_KEY": "sk-term"}
    out = tmp_path / "terminated"
    proc = started_with_ten_done(out, env)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert "terminated by SIGTERM" in err
    assert "--resume" in err
    assert "Unclosed" not in err
    report = json.loads((out / "report.json").read_text())
    assert report["interrupted"] is True
    assert report["runs"] == 1
    assert report["requests"]["total"] > 0  # the run's requests were recorded
    resumed = subprocess.run(improve_cmd(out), env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    with urllib.request.urlopen(fake_url + "/_fake/counters") as resp:
        after = json.loads(resp.read())["requests"]
    lines = lines_of(out / "improved_examples.jsonl")
    assert len(lines) == len(set(lines)) == 120
    assert after <= 120 + CONCURRENCY  # both runs: what was in flight at most, repeated


@pytest.mark.slow
def test_two_quick_ctrl_c_still_leave_a_report_and_a_run_record(
    tmp_path: Path, fake_url: str
) -> None:
    env = {**os.environ, "ANTHROPIC_BASE_URL": fake_url, "ANTHROPIC_API_KEY": "sk-int2"}
    out = tmp_path / "twice"
    proc = started_with_ten_done(out, env)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    # 130, or death by the second SIGINT once the first was handled (a shell shows 130 too).
    assert proc.returncode in (130, -signal.SIGINT), err
    assert "Unclosed" not in err
    assert "Traceback" not in err
    report = json.loads((out / "report.json").read_text())
    assert report["interrupted"] is True
    assert report["runs"] == 1
    assert lines_of(out / "improved_examples.jsonl")  # whole lines only
    resumed = subprocess.run(improve_cmd(out), env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert len(set(lines_of(out / "improved_examples.jsonl"))) == 120


@pytest.mark.slow
def test_ctrl_c_held_down_never_cuts_the_exit_short(tmp_path: Path, fake_url: str) -> None:
    """SIGINT after SIGINT until the process is gone (a key held down): every one after
    the first lands somewhere in the stop — the report being written, the message being
    printed, the exit — and none may turn into a traceback or another exit code."""
    env = {**os.environ, "ANTHROPIC_BASE_URL": fake_url, "ANTHROPIC_API_KEY": "sk-int3"}
    out = tmp_path / "held"
    proc = started_with_ten_done(out, env)
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        proc.send_signal(signal.SIGINT)
        time.sleep(0.002)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert json.loads((out / "report.json").read_text())["interrupted"] is True
