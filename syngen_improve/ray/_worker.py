"""The worker: a ``map_batches`` actor class that holds an :class:`Improver`.

Each batch of input lines (``line``, ``raw``) is routed as the single-process run routes
its lines, the poor ones improved concurrently (the engine's rate limit and spending cap
are the cluster's :class:`~._meter.Meter`), and returned as outcome rows: for each line
the records the run's files take (already encoded: the output files get these exact
bytes) and, on the batch's first row, the batch's analysis and the worker's totals so far.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import orjson
import pyarrow as pa
import ray

from .._pool import run_pool
from ..analyze._route import Routed, Router, content_key
from ..config import ImproveConfig
from ..improve import Improver
from ..improve._improver import READS
from ..llm import Meters
from ..llm._choose import BackendName
from ..run._records import Records, Row
from ._meter import RemoteBudget, RemoteLimiter
from ._read import item_of

__all__ = ["OUTCOMES", "ImproveWorker", "Plan"]

T = TypeVar("T")

#: The schema of the outcome rows: each file's record (encoded JSON, null when the line
#: has none there), and on a batch's first row its analysis and the worker's totals.
OUTCOMES = pa.schema(
    [
        ("line", pa.int64()),
        ("key", pa.string()),
        ("status", pa.string()),
        ("improved", pa.string()),
        ("poor", pa.string()),
        ("failed", pa.string()),
        ("quarantine", pa.string()),
        ("ledger", pa.string()),
        ("batch", pa.string()),
    ]
)


@dataclass(frozen=True)
class Plan:
    """What every worker of one Ray run is given: the run's settings, the backend's name
    (made in each worker), the records' provenance and the :class:`~._meter.Meter`."""

    config: ImproveConfig
    backend: str
    provenance: dict[str, str]
    meter: Any


class ImproveWorker:
    """A ``map_batches`` callable class (see the module docstring)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.records = Records(plan.provenance)
        # Ray restarts a dead worker under the same actor id: what it held is given back.
        context = ray.get_runtime_context()
        self.holder = context.get_actor_id() or uuid.uuid4().hex
        ray.get(plan.meter.release.remote(self.holder))
        self.id = uuid.uuid4().hex[:12]  # this incarnation: its totals start at zero
        self.batches = 0
        cfg = plan.config
        budget = (
            RemoteBudget(plan.meter, cfg.max_cost, holder=self.holder)
            if cfg.max_cost is not None
            else None
        )
        meters = Meters(RemoteLimiter(plan.meter), budget)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        backend = cast("BackendName", plan.backend)  # checked by the Improver
        self.improver = Improver(cfg.keep(READS), backend=backend, meters=meters)
        self._run(self.improver.__aenter__())

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def __call__(self, batch: dict[str, Any]) -> pa.Table:
        rows = self._run(self._improve(batch))
        columns = {name: [row.get(name) for row in rows] for name in OUTCOMES.names}
        return pa.Table.from_pydict(columns, schema=OUTCOMES)

    async def _improve(self, batch: dict[str, Any]) -> list[dict[str, Any]]:
        cfg = self.plan.config
        router = Router(Path("ray"), policy=cfg.policy, dialect=cfg.dialect, context=cfg.context)
        rows: list[dict[str, Any]] = []
        work: list[tuple[dict[str, Any], Routed]] = []
        good = 0
        for line, raw in zip(batch["line"], batch["raw"], strict=True):
            item = item_of(line, raw)
            if item is None:
                continue  # a blank line: numbered, never routed
            routed = router.route(item, content_key(item))
            row = self._routed(routed)
            good += row.get("status") == "good" and row.get("improved") is not None
            rows.append(row)
            if routed.route == "poor":
                work.append((row, routed))
        # The first error (the spending cap, a refused run) stops the batch as itself.
        await run_pool(
            work, lambda job: self._outcome(*job), concurrency=cfg.examples_in_flight(batch=False)
        )
        if rows:
            self.batches += 1
            rows[0]["batch"] = self._batch_facts(router.analysis(complete=True, good_included=good))
        return rows

    def _routed(self, routed: Routed) -> dict[str, Any]:
        """An outcome row for a line that is not improved here (a poor line's original)."""
        row: dict[str, Any] = {"line": routed.line, "key": routed.key, "status": routed.route}
        placed = self.records.place(routed, include_good=self.plan.config.include_good)
        if placed is not None:
            row[placed.file] = _json(placed.record)
            if placed.ledger is not None:
                row["ledger"] = _json(placed.ledger)
            if placed.file == "quarantine":
                row["status"] = "quarantined"
        return row

    async def _outcome(self, row: dict[str, Any], routed: Routed) -> None:
        assert routed.example is not None
        outcome = await self.improver.improve(routed.example, issues=routed.issues, key=routed.line)
        data = Row(routed.data, routed.dialect)
        row["status"] = outcome.status
        if outcome.record is not None:
            row["improved"] = _json(self.records.improved(outcome, data, routed.key))
        else:
            record = self.records.failed(outcome, data, routed.key, transient=outcome.transient)
            row["failed"] = _json(record)
        row["ledger"] = _json(self.records.ledger(outcome))

    def _batch_facts(self, analysis: dict[str, Any]) -> str:
        improver = self.improver
        facts = {
            "worker": self.id,
            "seq": self.batches,
            "analysis": analysis,
            "stats": improver.stats.to_state(),
            "model": improver.model,
            "request_facts": improver.request_facts(),
        }
        if improver.answer_tool is not None:
            facts["answer_tool"] = improver.answer_tool.to_dict()
        return _json(facts)


def _json(record: Any) -> str:
    return orjson.dumps(record).decode()
