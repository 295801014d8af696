"""syngen_improve.ray on a local Ray instance (2 CPUs, 2 workers) against the fake over
real HTTP: the cluster's shared rate limit, the same improved rows as one process, and a
worker killed mid-run costing nothing."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

ray = pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")

from syngen_improve import improve_dataset_sync  # noqa: E402
from syngen_improve import ray as si_ray  # noqa: E402
from syngen_improve.testing import FakeAnthropicServer, FakeConfig  # noqa: E402

pytestmark = [pytest.mark.timeout(600), pytest.mark.filterwarnings("ignore")]
KEY = "sk-ant-ray-test-not-a-real-key"


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    """A local Ray instance of 2 CPUs whose workers reach the fake through the
    environment they are started with."""
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"ANTHROPIC_API_KEY": KEY}},
    )
    try:
        yield
    finally:
        ray.shutdown()


def _by_line(path: Path) -> dict[int, dict[str, Any]]:
    """The rows of ``path`` by input line, without the run's id (it differs per run)."""
    out: dict[int, dict[str, Any]] = {}
    for raw in path.read_bytes().splitlines():
        row = orjson.loads(raw)
        row["_provenance"].pop("run")
        assert row["_source_line"] not in out, f"line {row['_source_line']} written twice"
        out[row["_source_line"]] = row
    return out


def _ray_run(data: Path, out: Path, url: str, **options: Any) -> None:
    lines = si_ray.read_jsonl(data)
    outcomes = si_ray.improve(
        lines,
        out,
        backend="anthropic",
        workers=2,
        batch_size=32,
        cache=False,
        ray_remote_args={"runtime_env": {"env_vars": {"ANTHROPIC_BASE_URL": url}}},
        **options,
    )
    outcomes.write_json(str(out / si_ray.PARTS))


def test_two_workers_share_600_rpm_and_improve_what_one_process_does(
    cluster: None, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = shared_data / "scored_sample.jsonl"
    with FakeAnthropicServer(config=FakeConfig(latency=0.05)) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        one = improve_dataset_sync(
            data, tmp_path / "one", backend="anthropic", cache=False, progress=False
        )
    assert one.report.counts.improved > 500
    with FakeAnthropicServer(config=FakeConfig(latency=0.05, rpm=600)) as server:
        _ray_run(data, tmp_path / "ray", server.url, rpm=600)
        counters = server.counters
        times = sorted(counters.started)
    report = si_ray.finish(tmp_path / "ray")
    # The server's view: few 429s, and the rate it allows, reached past the first 10 s.
    assert counters.rate_limited <= 0.01 * counters.requests
    steady = [t for t in times if t - times[0] >= 10]
    rate = len(steady) / (times[-1] - times[0] - 10) * 60
    assert rate >= 0.9 * 600, rate
    # The same improved rows as one process (the fake answers by content).
    assert _by_line(tmp_path / "ray" / "improved_examples.jsonl") == _by_line(
        one.output_dir / "improved_examples.jsonl"
    )
    assert report.counts.improved == one.report.counts.improved
    assert report.counts.input == 900
    # Every request the workers sent is in the run's record, and the other files agree.
    assert report.requests.total == counters.requests
    assert _by_line(tmp_path / "ray" / "poor_examples.jsonl") == _by_line(
        one.output_dir / "poor_examples.jsonl"
    )
    quarantined = (tmp_path / "ray" / "quarantine.jsonl").read_bytes()
    assert quarantined == (one.output_dir / "quarantine.jsonl").read_bytes()
    runs = (tmp_path / "ray" / "state" / "runs.jsonl").read_bytes().splitlines()
    ray_facts = orjson.loads(runs[-1])["ray"]
    assert ray_facts["workers"] >= 2  # both workers improved batches
    print(
        f"ray: {counters.requests} requests, {counters.rate_limited} 429s, "
        f"{rate:.0f}/min, {ray_facts}"
    )


def _kill_a_worker_after(server: FakeAnthropicServer, requests: int, killed: list[int]) -> None:
    """Once the fake has seen ``requests`` requests, SIGKILL a worker process, one with a
    request open to the fake if there is one; ``killed`` gets the requests seen by then."""
    deadline = time.monotonic() + 120
    while server.counters.requests < requests and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = [
        proc
        for proc in psutil.process_iter(["cmdline"])
        if "ImproveWorker" in " ".join(proc.info["cmdline"] or [])
    ]

    def busy(proc: Any) -> bool:
        try:
            return any(c.raddr and c.raddr.port == server.port for c in proc.net_connections())
        except psutil.Error:
            return False

    for proc in sorted(workers, key=busy, reverse=True)[:1]:
        killed.append(server.counters.requests)
        os.kill(proc.pid, signal.SIGKILL)


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(
    cluster: None, shared_data: Path, tmp_path: Path
) -> None:
    data = shared_data / "scored_sample.jsonl"
    killed: list[int] = []
    with FakeAnthropicServer(config=FakeConfig(latency=0.05)) as server:
        killer = threading.Thread(target=_kill_a_worker_after, args=(server, 200, killed))
        killer.start()
        _ray_run(data, tmp_path / "ray", server.url)
        killer.join()
    assert killed, "no worker was killed"
    assert killed[0] < 568, "the run was over before the kill"
    report = si_ray.finish(tmp_path / "ray")
    out = tmp_path / "ray"
    improved = _by_line(out / "improved_examples.jsonl")
    poor = _by_line(out / "poor_examples.jsonl")
    failed = (out / "failed.jsonl").read_bytes().splitlines()
    assert report.counts.poor == len(poor) == 568
    assert len(improved) + len(failed) == len(poor)  # every poor line ends once
    ledger = [
        orjson.loads(x)["line"] for x in (out / "state" / "ledger.jsonl").read_bytes().splitlines()
    ]
    assert len(ledger) == len(set(ledger)) == len(poor)
    runs = (out / "state" / "runs.jsonl").read_bytes().splitlines()
    ray_facts = orjson.loads(runs[-1])["ray"]
    assert ray_facts["workers"] >= 2
    print(f"killed {killed}: {server.counters.requests} requests, {ray_facts}")


def test_the_meter_caps_spend_across_workers_and_gives_back_a_dead_workers_holds(
    cluster: None,
) -> None:
    """Two holders on one budget of 1,000 picodollars: what one holds, the other cannot
    take; settling at the real cost frees the rest; a replaced holder's holds come back."""
    from syngen_improve.llm import RateLimits

    meter = ray.remote(si_ray.Meter).remote(RateLimits(), 1e-9, adaptive=True)
    assert ray.get(meter.reserve.remote("a", 600)) is None
    waiting = meter.reserve.remote("b", 800)  # does not fit while a's request is in flight
    ready, _ = ray.wait([waiting], timeout=0.5)
    assert not ready
    ray.get(meter.spend.remote("a", 600, 100))  # a's answer cost 100: b's now fits
    assert ray.get(waiting, timeout=30) is None
    assert ray.get(meter.totals.remote())["spent"] == 100
    assert ray.get(meter.release.remote("b")) == 1  # b died: its hold is given back
    totals = ray.get(meter.totals.remote())
    assert totals["reserved"] == 0
    assert totals["holds"] == 0
    assert "spending cap" in ray.get(meter.reserve.remote("c", 1000))


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"backend": "batch"}, "backend 'batch'"),
        ({"shard": (1, 2)}, "'shard'"),
        ({"limit": 10}, "'limit'"),
        ({"dedupe": True}, "'dedupe'"),
        ({"resume": True}, "'resume'"),
        ({"workers": 0}, "'workers'"),
    ],
)
def test_what_a_ray_run_cannot_do_is_refused_by_name(
    cluster: None, tmp_path: Path, options: dict[str, Any], named: str
) -> None:
    from syngen_improve.errors import UsageError

    lines = ray.data.from_items([{"line": 1, "raw": b'{"conversations": []}\n'}])
    with pytest.raises(UsageError, match=named):
        si_ray.improve(lines, tmp_path / "out", **options)
    assert not (tmp_path / "out").exists()  # nothing written before the refusal


def test_a_dataset_with_nothing_to_improve_is_refused_before_any_request(
    cluster: None, tmp_path: Path
) -> None:
    from syngen_improve.errors import InvalidInput

    lines = ray.data.from_items([{"line": n, "raw": b'{"text": "no call"}\n'} for n in (1, 2)])
    with pytest.raises(InvalidInput, match="no line has a tool call"):
        si_ray.improve(lines, tmp_path / "out", backend="fake")
    as_text = ray.data.from_items([{"line": 1, "raw": "not json"}])  # str rows read as well
    with pytest.raises(InvalidInput, match="no line is a JSON object"):
        si_ray.improve(as_text, tmp_path / "out", backend="fake")


def test_the_spending_cap_stops_every_worker(
    cluster: None, shared_data: Path, tmp_path: Path
) -> None:
    """$0.01 buys a few dozen answers of the slice's 568: the job stops with the cap's own
    message, and the workers together sent no more than the cap allowed."""
    data = shared_data / "scored_sample.jsonl"
    with FakeAnthropicServer(config=FakeConfig(latency=0.05)) as server:
        with pytest.raises(Exception, match=r"the spending cap of \$0\.0100 is reached"):
            _ray_run(data, tmp_path / "ray", server.url, max_cost=0.01)
        sent = server.counters.requests
    assert 0 < sent < 200
