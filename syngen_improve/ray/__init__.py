"""Improve a Ray Data dataset across a cluster (the optional extra ``ray``).

::

    import ray
    from syngen_improve import ray as si_ray

    lines = si_ray.read_jsonl("data.jsonl")                  # line numbers + bytes as read
    outcomes = si_ray.improve(lines, "out", workers=4, rpm=600)
    outcomes.write_json("out/parts")                         # Ray's writer
    report = si_ray.finish("out")                            # or: syngen-improve finish out

Each worker is a ``map_batches`` actor holding an :class:`~syngen_improve.Improver`; one
actor (:class:`Meter`) holds the rate limit and spending cap every worker asks. Ray
retries the batches of a worker that died; ``finish`` writes each input line once.
See docs/ray.md.
"""

from __future__ import annotations

try:
    import ray as _ray  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "syngen_improve.ray needs Ray Data: pip install 'syngen-improve[ray]'"
    ) from exc

from ..run._assemble import PARTS
from ..run._assemble import finish_folder as finish
from ._meter import Meter
from ._plan import improve
from ._read import LINES, read_jsonl
from ._worker import OUTCOMES, ImproveWorker, Plan

__all__ = [
    "ImproveWorker",
    "LINES",
    "Meter",
    "OUTCOMES",
    "PARTS",
    "Plan",
    "finish",
    "improve",
    "read_jsonl",
]
