"""``improve_dataset``: read -> analyze -> improve (engine + gate + re-ask) -> write ->
interleave -> report, streaming, resumable.

Every input line ends in exactly one place: ``quarantine.jsonl`` (unreadable), the
desirable side (improved, or good with ``include_good``), or ``failed.jsonl``; every
poor input also goes to ``poor_examples.jsonl`` with ``label: false``. Outputs are
appended by one writer task per file as results arrive.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .._jsonl import Malformed, read_jsonl, replace_bytes
from .._model import DIMENSIONS
from .._pool import Writer, run_pool
from .._progress import Progress
from .._sync import run_sync
from ..analyze import ProfileBuilder, RelabelPolicy
from ..judge import Judge, JudgeCache, JudgeError
from ..llm import (
    DEFAULT_MODEL,
    Backend,
    BatchBackend,
    Engine,
    RateLimits,
    RequestFailed,
    RetryPolicy,
)
from ..llm._choose import BackendName, open_backend
from ..validate import ToolRegistry
from ._files import Layout, Prior, count_lines
from ._gate import check_reply
from ._prompt import build_request, first_message, reask_messages, tool_schemas_text
from ._templates import Templates

__all__ = ["ImproveResult", "improve_dataset", "improve_dataset_sync"]

_Work = tuple[int, dict[str, Any], frozenset[str]]
#: Requests in flight with the batch backend: they wait together for their batch.
BATCH_CONCURRENCY = 10_000


@dataclass(frozen=True)
class ImproveResult:
    """What a run produced: the output folder and its report (report.json's content)."""

    output_dir: Path
    report: dict[str, Any]

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = self.report["counts"]
        return counts

    @property
    def ok(self) -> bool:
        """True when the run completed and no example failed."""
        return bool(self.report["complete"]) and self.counts["failed"] == 0

    def __repr__(self) -> str:
        c = self.counts
        return (
            f"ImproveResult({str(self.output_dir)!r}: {c['improved']} improved, "
            f"{c['failed']} failed of {c['poor']} poor; {c['malformed']} malformed)"
        )


def _positive(name: str, value: float | None, *, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if value is None or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name!r} must be > 0, got {value!r}")


def _templates(value: Templates | str | os.PathLike[str] | None) -> Templates:
    if value is None:
        return Templates.default()
    if isinstance(value, Templates):
        return value
    return Templates.from_dir(value)


def _schemas(value: ToolRegistry | str | os.PathLike[str] | None) -> ToolRegistry:
    if value is None:
        return ToolRegistry.default()
    if isinstance(value, ToolRegistry):
        return value
    return ToolRegistry.load(value)


async def _add_scores(judge: Judge, record: dict[str, Any], original: Mapping[str, Any]) -> None:
    """Put the judge's scores of the improvement in ``quality_scores.after``, and score
    the original too when it came without scores. A judge failure leaves them out."""
    scores = record["quality_scores"]
    try:
        if not any(d in scores for d in DIMENSIONS):
            before = await judge.score(original)
            scores.update({k: before[k] for k in (*DIMENSIONS, "overall_quality")})
            scores["before_judged"] = True
        scores["after"] = await judge.score(record)
    except RequestFailed as exc:
        if exc.fatal:
            raise
    except JudgeError:
        pass


def _entry(line: int, status: str, attempts: int, rejections: list[str]) -> dict[str, Any]:
    """A ledger line: how input ``line`` ended, after how many answers, and why the
    rejected ones were rejected."""
    return {"line": line, "status": status, "attempts": attempts, "rejections": rejections}


def _poor_record(example: Mapping[str, Any], line: int) -> dict[str, Any]:
    return {**example, "label": False, "_source_line": line}


async def improve_dataset(
    input: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    model: str = DEFAULT_MODEL,
    backend: Backend | BackendName | None = None,
    concurrency: int | None = None,
    rpm: float | None = None,
    tpm: float | None = None,
    output_tpm: float | None = None,
    max_attempts: int = 3,
    max_tokens: int = 8192,
    retry: RetryPolicy | None = None,
    policy: RelabelPolicy | None = None,
    templates: Templates | str | os.PathLike[str] | None = None,
    schemas: ToolRegistry | str | os.PathLike[str] | None = None,
    resume: bool = True,
    limit: int | None = None,
    include_good: bool = False,
    require_result: bool = True,
    judge: bool = False,
    reask_online: bool = False,
    shard: tuple[int, int] | None = None,
    progress: bool = True,
) -> ImproveResult:
    """Improve the poor examples of ``input`` into ``output_dir`` (see docs/improve.md).

    ``rpm`` / ``tpm`` / ``output_tpm`` are requests, input tokens and output tokens per
    minute (``None``: learned from the API's headers). ``max_attempts`` counts answers
    per example (the first plus re-asks); HTTP retries are ``retry``'s business.
    ``limit`` stops after that many input lines. With ``resume`` (the default) lines an
    earlier run finished are skipped; without it a folder holding results is refused.
    ``require_result=False`` accepts tool calls without ``Result:`` (and stops asking
    for them), for datasets whose format has none. ``judge=True`` scores each accepted
    improvement (and each original without scores) with the rubric, so the report
    shows measured quality before and after.

    ``backend="batch"`` sends through the Message Batches API (half price; state in
    ``output_dir/state/batch`` so a killed run re-attaches to its batches), with re-asks
    in follow-up batches or, with ``reask_online``, online. ``concurrency`` defaults to
    16 online and 10,000 with batches. ``shard=(i, n)`` takes input lines ``i, i+n,
    i+2n, ...`` (1-based ``i``) so n processes or machines can split one input.
    """
    batch = backend == "batch" or isinstance(backend, BatchBackend)
    if concurrency is None:
        concurrency = BATCH_CONCURRENCY if batch else 16
    _positive("concurrency", concurrency, allow_none=False)
    if shard is not None and not (1 <= shard[0] <= shard[1]):
        raise ValueError(f"'shard' must be (i, n) with 1 <= i <= n, got {shard!r}")
    _positive("max_attempts", max_attempts, allow_none=False)
    _positive("max_tokens", max_tokens, allow_none=False)
    for name, value in (("rpm", rpm), ("tpm", tpm), ("output_tpm", output_tpm), ("limit", limit)):
        _positive(name, value)
    source = Path(input)
    if not source.is_file():
        raise FileNotFoundError(f"input file not found: {source}")
    layout = Layout(Path(output_dir))
    if not resume and layout.has_results():
        raise FileExistsError(
            f"{layout.root} holds results of an earlier run: pass resume=True (--resume) "
            "to continue it, or choose an empty folder"
        )
    plates = _templates(templates)
    registry = _schemas(schemas)
    engine_backend, own_backend = open_backend(backend, model=model)
    if isinstance(engine_backend, BatchBackend) and engine_backend.state_dir is None:
        engine_backend.attach(layout.state / "batch")
    reask_backend = (
        engine_backend.online()
        if reask_online and isinstance(engine_backend, BatchBackend)
        else None
    )
    layout.state.mkdir(parents=True, exist_ok=True)
    prior = Prior.scan(layout) if resume else Prior()
    engine = Engine(
        engine_backend, limits=RateLimits(rpm=rpm, input_tpm=tpm, output_tpm=output_tpm),
        retry=retry,
    )  # fmt: skip
    reask_engine = Engine(reask_backend, retry=retry) if reask_backend is not None else engine
    judge_ = Judge(engine, cache=JudgeCache(layout.state / "judge_cache.jsonl")) if judge else None
    total = count_lines(source)
    bar = Progress(
        total=min(total, limit) if limit else total, stats=engine.stats, enabled=progress
    )
    builder = ProfileBuilder(policy=policy)
    counts = {"good_included": 0}
    started = time.monotonic()
    complete = False
    interrupted = False
    report: dict[str, Any] = {}
    try:
        async with (
            Writer(layout.improved) as improved_out,
            Writer(layout.poor) as poor_out,
            Writer(layout.failed) as failed_out,
            Writer(layout.quarantine) as quarantine_out,
            Writer(layout.ledger) as ledger_out,
        ):

            async def work() -> AsyncIterator[_Work]:
                for n, item in enumerate(read_jsonl(source), 1):
                    if limit is not None and n > limit:
                        break
                    if shard is not None and (item.line - shard[0]) % shard[1]:
                        continue
                    if isinstance(item, Malformed):
                        builder.add_malformed(item)
                        if item.line not in prior.quarantined:
                            await quarantine_out.put(
                                {"_source_line": item.line, "error": item.error,
                                 "raw": item.raw.decode("utf-8", errors="replace")}
                            )  # fmt: skip
                        bar.advance()
                        continue
                    line, example = item.line, item.data
                    poor, kinds = builder.add_with_issues(example)
                    if not poor:
                        if include_good:
                            counts["good_included"] += 1
                            if line not in prior.good:
                                await improved_out.put({**example, "label": True,
                                                        "_source_line": line})  # fmt: skip
                                await ledger_out.put({"line": line, "status": "good"})
                        bar.advance()
                        continue
                    if line not in prior.poor:
                        await poor_out.put(_poor_record(example, line))
                    if line in prior.finished:
                        bar.advance()
                        continue
                    if not require_result:
                        kinds = kinds - {"missing_result"}
                    yield line, example, kinds

            async def improve_one(item: _Work) -> None:
                line, example, kinds = item
                messages: list[Mapping[str, Any]] = [first_message(example, kinds, plates)]
                schemas_text = tool_schemas_text(example, registry)
                rejections: list[str] = []
                errors: list[str] = []
                for attempt in range(1, max_attempts + 1):
                    request = build_request(
                        messages, templates=plates, schemas_text=schemas_text,
                        max_tokens=max_tokens, key=f"l{line}-a{attempt}",
                    )  # fmt: skip
                    try:
                        chosen = engine if attempt == 1 else reask_engine
                        reply = await chosen.complete(request)
                    except RequestFailed as exc:
                        if exc.fatal:
                            raise
                        rejections.append("request_failed")
                        errors = [str(exc)]
                        break
                    verdict = check_reply(
                        reply, example, schemas=registry, require_result=require_result
                    )
                    if verdict.record is not None:
                        record = {**verdict.record, "_source_line": line}
                        if judge_ is not None:
                            await _add_scores(judge_, record, example)
                        await improved_out.put(record)
                        await ledger_out.put(_entry(line, "improved", attempt, rejections))
                        bar.advance()
                        return
                    rejections.append(verdict.reason or "invalid")
                    errors = verdict.errors
                    if attempt < max_attempts:
                        messages = reask_messages(messages, reply, errors, plates)
                await failed_out.put(
                    {"_source_line": line, "reason": rejections[-1] if rejections else "unknown",
                     "attempts": len(rejections), "errors": errors, "original": example}
                )  # fmt: skip
                await ledger_out.put(_entry(line, "failed", len(rejections), rejections))
                bar.advance(failed=True)

            await run_pool(work(), improve_one, concurrency=concurrency)
        complete = True
    except (asyncio.CancelledError, KeyboardInterrupt):
        interrupted = True
        raise
    finally:
        bar.close()
        if judge_ is not None:
            judge_.cache.close()
        if reask_engine is not engine:
            engine.stats.absorb(reask_engine.stats)
        report = _finish(layout, builder, engine, counts, started, complete, interrupted, model)
        if own_backend:
            await engine_backend.aclose()
        if reask_backend is not None:
            await reask_backend.aclose()
    return ImproveResult(layout.root, report)


def _finish(
    layout: Layout,
    builder: ProfileBuilder,
    engine: Engine,
    counts: dict[str, int],
    started: float,
    complete: bool,
    interrupted: bool,
    model: str,
) -> dict[str, Any]:
    """Record this run (analysis, stats), rebuild the interleaved file and the report.
    Synchronous, so an interrupt cannot cut it in half."""
    from ..interleave import interleave_files
    from ..report import write_report

    profile = builder.build()
    analysis = {
        "input": profile.total + len(profile.malformed),
        "malformed": len(profile.malformed),
        "good": profile.good,
        "poor": profile.poor,
        "good_included": counts["good_included"],
        "issues_structural": profile.issues_structural,
        "issues_notes": profile.issues_notes,
        "means_poor": profile.means_poor,
        "tools": profile.tools,
        "agents": profile.agents,
        "complete": complete,
    }
    replace_bytes(layout.analysis, orjson.dumps(analysis, option=orjson.OPT_INDENT_2))
    run = {
        **engine.stats.to_dict(),
        "model": getattr(engine.backend, "model", model),
        "elapsed_s": round(time.monotonic() - started, 3),
        "interrupted": interrupted or not complete,
    }
    with layout.runs.open("ab") as fh:
        fh.write(orjson.dumps(run) + b"\n")
    if layout.improved.exists() and layout.poor.exists():
        # Each improvement right before its own original; unpaired rows spread after.
        interleave_files(layout.improved, layout.poor, layout.interleaved, pairs=True)
    return write_report(layout.root)


def improve_dataset_sync(
    input: str | os.PathLike[str], output_dir: str | os.PathLike[str], **options: Any
) -> ImproveResult:
    """:func:`improve_dataset` for scripts; inside a running event loop (Jupyter) it runs
    on a helper thread, so it works there too."""
    return run_sync(lambda: improve_dataset(input, output_dir, **options), name="improve_dataset")
