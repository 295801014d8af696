"""Improve a JSONL file on a Ray cluster: two workers that share one rate limit.

Locally this starts a Ray instance of two CPUs; on a cluster, ``ray.init()`` joins it (the
file and the output folder must then be on storage every node sees). The workers read
ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL from their environment: here the ones this script
was started with (examples' tests point them at the fake server).

    pip install 'syngen-improve[ray]'
    python examples/ray_improve.py [data.jsonl]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import ray

from syngen_improve import ray as si_ray
from syngen_improve import sample_path


def main() -> None:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else sample_path()
    out = Path("ray-output")
    env = {k: v for k, v in os.environ.items() if k.startswith("ANTHROPIC_")}
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": env},
    )
    try:
        lines = si_ray.read_jsonl(data)  # line numbers and bytes, read by the workers
        outcomes = si_ray.improve(lines, out, workers=2, rpm=600, progress=False)
        outcomes.write_json(str(out / si_ray.PARTS))  # Ray's writer runs the job
    finally:
        ray.shutdown()
    report = si_ray.finish(out)  # the usual folder: what `syngen-improve finish` does
    c = report.counts
    print(f"{c.improved} improved, {c.failed} failed of {c.poor} poor")
    r = report.requests
    print(f"{r.total} requests, {r.cached} answers from the response cache")
    print(f"KTO file: {out / 'improved_interleaved.jsonl'}")


if __name__ == "__main__":
    main()
