"""``improve``: a Ray Data dataset of input lines in, a dataset of outcome rows out."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import ray
import ray.data

from .._jsonl import Record, replace_bytes
from .._preflight import check_head
from ..config import ImproveConfig
from ..context import SAMPLE_ROWS
from ..dialects import FileDialect
from ..errors import InvalidInput, OutputExists, UsageError
from ..llm._choose import check_backend
from ..outputs import Layout
from ..run._manifest import check_settings, settings_of
from ._meter import Meter
from ._read import item_of
from ._worker import ImproveWorker, Plan

__all__ = ["RAY_STATE", "improve"]

#: The run's own record in ``OUT/state`` (what ``finish`` reads besides the parts).
RAY_STATE = "ray.json"


def _refuse(cfg: ImproveConfig, backend: str) -> None:
    """Options a Ray run cannot honour, each named with what to do instead."""
    if backend in ("batch", "sdk"):
        raise UsageError(
            f"backend {backend!r} is not available in a Ray run: use 'anthropic' "
            "(or 'batch' from one process: improve --backend batch)"
        )
    for name, how in (
        ("shard", "Ray splits the input itself"),
        ("limit", "use Dataset.limit()"),
        ("dedupe", "deduplicate before (analyze --dedupe shows duplicates)"),
        ("resume", "run again: answers come from the response cache (--cache-dir)"),
    ):
        if getattr(cfg, name) not in (None, False):
            raise UsageError(f"{name!r} is not available in a Ray run: {how}")


def _settled(ds: ray.data.Dataset, cfg: ImproveConfig) -> ImproveConfig:
    """The run's context convention from the dataset's first lines (as a single-process
    run settles it from the file's), refusing one with nothing to improve."""
    dialect = FileDialect(cfg.dialect)
    head = []
    for row in ds.take(SAMPLE_ROWS):
        item = item_of(row["line"], row["raw"])
        if isinstance(item, Record):
            head.append(dialect.rows(item.data, item.line))
    if not head:
        raise InvalidInput(
            f"the dataset: no line is a JSON object among its first {SAMPLE_ROWS} lines; "
            "nothing to improve, no request sent"
        )
    return check_head(head, cfg, source="the dataset")


def improve(
    ds: ray.data.Dataset,
    output_dir: str | os.PathLike[str],
    config: ImproveConfig | None = None,
    *,
    backend: str = "anthropic",
    workers: int = 2,
    batch_size: int = 64,
    ray_remote_args: Mapping[str, Any] | None = None,
    **options: Any,
) -> ray.data.Dataset:
    """The outcome rows of ``ds`` (input lines, as :func:`read_jsonl` gives them),
    improved by ``workers`` actors that share one rate limit and spending cap. Lazy, as
    Ray Data is: write the result with Ray's writers to ``output_dir/parts``
    (``write_json``, ``write_parquet``), then ``syngen-improve finish output_dir`` (or
    :func:`syngen_improve.ray.finish`) makes the usual output folder.

    ``config`` and ``options`` are :func:`~syngen_improve.improve_dataset`'s (``rpm``,
    ``tpm``, ``max_cost``, ``concurrency`` per worker, ...); ``backend`` is a name, made
    in each worker from its environment (``"anthropic"``, ``"openai"``, ``"fake"``).
    ``ray_remote_args`` go to the workers' actors (``runtime_env``, resources; each takes
    half a CPU by default: the work is waiting for answers).
    """
    cfg = ImproveConfig.of(config, **options)
    _refuse(cfg, backend)
    if workers < 1 or batch_size < 1:
        raise UsageError(f"'workers' and 'batch_size' must be >= 1, got {workers}, {batch_size}")
    layout = Layout(Path(output_dir))
    if layout.has_outcomes():
        raise OutputExists(f"{layout.root} holds results of an earlier run: choose an empty folder")
    cfg = _settled(ds, cfg)
    layout.state.mkdir(parents=True, exist_ok=True)
    check_backend(backend)  # a name each worker makes its backend from
    model = cfg.model
    settings = settings_of(cfg, model)
    check_settings(layout, settings, resume=False, accept_changes=False)
    run_id = uuid.uuid4().hex[:12]
    provenance = {
        "run": run_id,
        "model": model,
        "templates": settings["templates"],
        "schemas": settings["schemas"],
    }
    state = {
        "run": run_id,
        "model": model,
        "prompt_gap": cfg.prompt_gap,
        "workers": workers,
        "started": time.time(),
    }
    replace_bytes(layout.state / RAY_STATE, orjson.dumps(state, option=orjson.OPT_INDENT_2))
    meter = ray.remote(Meter).options(num_cpus=0).remote(cfg.limits, cfg.max_cost, adaptive=True)
    plan = Plan(cfg, backend, provenance, meter)
    # Blocks of one batch each: Ray bundles small reads into one block, which one actor
    # would then take whole while the others wait.
    return ds.repartition(target_num_rows_per_block=batch_size).map_batches(
        ImproveWorker,
        fn_constructor_kwargs={"plan": plan},
        batch_size=batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=workers),
        **{"num_cpus": 0.5, **(ray_remote_args or {})},
    )
