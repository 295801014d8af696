"""The judge: rubric scores for examples, measured rather than estimated.

One request per example through the engine, with the forced tool ``submit_scores``
(notes first, then the five 1-5 scores; DESIGN.md §3). We compute ``overall_quality``
as the mean of the five, rounded to one decimal, instead of trusting the model's
arithmetic. Answers are kept in the response cache (``llm._responses``) like every
other: judging the same example again, with the same model, rubric and settings, costs
nothing.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

from ._backends import open_engines
from ._conventions import DIMENSIONS
from ._fdlimit import ensure_open_files
from ._input import check_input
from ._jsonl import Malformed, Record, read_jsonl
from ._paths import refuse_overwrite
from ._pool import Writer, run_pool
from ._progress import Progress
from ._sync import run_sync
from ._text import find_example
from .config import ImproveConfig
from .dialects import FileDialect
from .errors import SyngenError, UsageError
from .llm import (
    Backend,
    Engine,
    Reply,
    Request,
    RequestFailed,
    fresh_answers,
)
from .outputs import estimate_lines
from .prompts import judge_system_prompt

__all__ = [
    "JUDGE_TOOL",
    "Judge",
    "JudgeError",
    "JudgeResult",
    "ScoreMeans",
    "judge_dataset",
    "judge_dataset_sync",
    "judge_tool",
    "mean_scores",
    "scores_from_reply",
]

JUDGE_TOOL: Final = "submit_scores"


def judge_tool() -> dict[str, Any]:
    """The forced tool: ``notes`` first, then the five dimensions and ``overall_quality``."""
    score = {"type": "integer", "minimum": 1, "maximum": 5}
    properties: dict[str, Any] = {
        "notes": {"type": "string", "description": "What you see, per dimension; write first."}
    }
    properties.update({d: dict(score) for d in DIMENSIONS})
    properties["overall_quality"] = {"type": "number", "description": "The mean of the five."}
    return {
        "name": JUDGE_TOOL,
        "description": "Submit the rubric scores of the example.",
        "input_schema": {
            "type": "object",
            "properties": properties,
            "required": ["notes", *DIMENSIONS, "overall_quality"],
        },
    }


class JudgeError(SyngenError, ValueError):
    """The judge's answer has no usable scores."""


def scores_from_reply(reply: Reply) -> dict[str, Any]:
    """The scores in an answer: notes, the five dimensions as ints 1-5, and our own
    ``overall_quality`` (mean, one decimal)."""
    if reply.stop_reason in ("refusal", "max_tokens"):
        raise JudgeError(f"the answer stopped for {reply.stop_reason}")
    use = reply.tool_use(JUDGE_TOOL)
    data = use.get("input") if use is not None else None
    if not isinstance(data, dict):  # tool choice auto (thinking on): JSON in the text
        data = find_example(reply.text, key="notes") if reply.text else None
    if not isinstance(data, dict):
        raise JudgeError(f"the answer has no {JUDGE_TOOL!r} call")
    out: dict[str, Any] = {"notes": str(data.get("notes", ""))}
    for dim in DIMENSIONS:
        value = data.get(dim)
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise JudgeError(f"{dim} is {value!r}, not an integer")
        if not 1 <= value <= 5:
            raise JudgeError(f"{dim} is {value}, outside 1-5")
        out[dim] = int(value)
    out["overall_quality"] = round(sum(out[d] for d in DIMENSIONS) / len(DIMENSIONS), 1)
    return out


def _content(example: Mapping[str, Any]) -> dict[str, Any]:
    """What the judge sees: the conversations only (no label, no earlier scores)."""
    return {"conversations": example.get("conversations")}


class Judge:
    """Scores examples through an engine (whose response cache, if any, keeps the
    answers). ``requests`` counts the answers asked for, sent or read from the cache."""

    def __init__(
        self,
        engine: Engine,
        *,
        system: str | None = None,
        max_tokens: int = 1024,
        answers: int = 2,
    ) -> None:
        if answers < 1:
            raise UsageError(f"'answers' must be >= 1, got {answers}")
        self.engine = engine
        self.system = system if system is not None else judge_system_prompt()
        self.max_tokens = max_tokens
        self.answers = answers
        self.requests = 0

    def request(self, example: Mapping[str, Any]) -> Request:
        """The judge request (DESIGN.md §3): the example as the message's JSON object."""
        text = "Score this example.\n\n" + orjson.dumps(_content(example)).decode()
        return Request(
            messages=[{"role": "user", "content": text}],
            system=self.system,
            tools=[judge_tool()],
            tool_choice=JUDGE_TOOL,
            max_tokens=self.max_tokens,
            # Below every model's minimum cacheable length (~700 tokens): a cache mark
            # would cache nothing, and would keep the prompt out of the input estimate.
            cache_system=False,
        )

    async def score(self, example: Mapping[str, Any]) -> dict[str, Any]:
        """The example's scores (one re-ask on a bad answer, sent whatever the response
        cache holds: it is the same request)."""
        request = self.request(example)
        error: JudgeError | None = None
        for attempt in range(self.answers):
            self.requests += 1
            with fresh_answers(attempt > 0):
                reply = await self.engine.complete(request)
            try:
                scores = scores_from_reply(reply)
            except JudgeError as exc:
                error = exc
                if reply.stop_reason == "refusal":
                    break
                if reply.stop_reason == "max_tokens":  # twice the room next time
                    room = self.engine.info.more_room(request.max_tokens)
                    request = dataclasses.replace(request, max_tokens=room)
                continue
            return scores
        assert error is not None
        raise error


def mean_scores(rows: Iterable[Mapping[str, Any]]) -> dict[str, float | None]:
    """Mean of each dimension and of ``overall_quality`` over ``rows`` (4 decimals)."""
    means = ScoreMeans()
    for row in rows:
        means.add(row)
    return means.means()


class ScoreMeans:
    """:func:`mean_scores` a row at a time: a sum and a count per dimension."""

    def __init__(self) -> None:
        self.rows = 0
        self._sums: dict[str, float] = dict.fromkeys((*DIMENSIONS, "overall_quality"), 0)
        self._counts = dict.fromkeys(self._sums, 0)

    def add(self, row: Mapping[str, Any]) -> None:
        self.rows += 1
        for dim in self._sums:
            value = row.get(dim)
            if isinstance(value, int | float):
                self._sums[dim] += value
                self._counts[dim] += 1

    def means(self) -> dict[str, float | None]:
        return {
            dim: round(total / self._counts[dim], 4) if self._counts[dim] else None
            for dim, total in self._sums.items()
        }


@dataclass
class JudgeResult:
    """What ``judge_dataset`` did: rows judged, answers from the response cache, failed;
    mean scores;
    ``stats`` holds the engine's requests, tokens and cost."""

    output: Path
    judged: int = 0
    cached: int = 0
    failed: int = 0
    malformed: int = 0
    means: dict[str, float | None] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": str(self.output),
            "judged": self.judged,
            "cached": self.cached,
            "failed": self.failed,
            "malformed": self.malformed,
            "means": self.means,
            **self.stats,
        }


#: The options judge_dataset reads.
JUDGE_READS: Final = frozenset(
    {
        "model",
        "thinking",
        "effort",
        "price",
        "answers",
        "concurrency",
        "limits",
        "retry",
        "breaker",
        "headers",
        "openai_cache_control",
        "max_cost",
        "progress",
        "cache",
        "cache_dir",
    }
)


async def judge_dataset(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    config: ImproveConfig | None = None,
    *,
    backend: Backend | None = None,
    **options: Any,
) -> JudgeResult:
    """Score every example of ``input`` and write it to ``output`` with
    ``quality_scores`` replaced by the judge's (and ``_source_line``). The run's
    options (model, concurrency, limits, retry, answers, progress) come from ``config``
    and ``options`` as for ``improve_dataset``; answers are kept in the response cache
    (``cache_dir=``, ``cache=False``), so examples judged before cost nothing."""
    if isinstance(options.get("cache"), str | os.PathLike):
        raise UsageError(
            "judge_dataset keeps its answers in the response cache now: cache_dir=FOLDER "
            "(or cache=False), not a cache file"
        )
    cfg = ImproveConfig.of(config, **options)
    cfg.refuse_unread("judge_dataset", JUDGE_READS)
    source, target = Path(input), Path(output)
    check_input(source)
    refuse_overwrite(target, source)
    result = JudgeResult(target)
    # Written to a temporary name, put in place when the run succeeded: a run that fails
    # (a refused key, Ctrl-C) leaves an existing output as it was.
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        await _judge_into(partial, source, cfg, backend, result)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return result


async def _judge_into(
    partial: Path,
    source: Path,
    cfg: ImproveConfig,
    backend: Backend | None,
    result: JudgeResult,
) -> None:
    """Judge ``source`` into ``partial``, filling ``result``."""
    scored = ScoreMeans()
    async with AsyncExitStack() as stack:
        engine = (await stack.enter_async_context(open_engines(cfg, backend))).main
        judge = Judge(engine, answers=cfg.answers)
        bar = stack.enter_context(
            Progress(
                total=estimate_lines(source),
                stats=engine.stats,
                enabled=cfg.progress,
                desc="judging",
                outcomes=("judged", "failed", "quarantined"),
            )
        )
        out = await stack.enter_async_context(Writer(partial))

        dialect = FileDialect()

        async def one(item: Record | Malformed) -> None:
            if isinstance(item, Malformed):
                result.malformed += 1
                bar.advance("quarantined")
                return
            try:  # the judge sees the text grammar whatever the file's dialect
                scores = await judge.score(dialect.rows(item.data, item.line))
            except (JudgeError, RequestFailed) as exc:
                if isinstance(exc, RequestFailed) and exc.fatal:
                    raise exc.refused_run() from None
                result.failed += 1
                bar.advance("failed")
                return
            result.judged += 1
            scored.add(scores)
            await out.put({**item.data, "quality_scores": scores, "_source_line": item.line})
            bar.advance("judged")

        concurrency = cfg.concurrency_for(batch=False)
        ensure_open_files(concurrency)
        await run_pool(read_jsonl(source), one, concurrency=concurrency)
        bar.refine(bar.done)  # the estimate becomes the lines read
    result.means = scored.means()
    result.cached = engine.stats.cached
    result.stats = engine.stats.to_dict()


def judge_dataset_sync(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    config: ImproveConfig | None = None,
    **options: Any,
) -> JudgeResult:
    """:func:`judge_dataset` for scripts (and inside a running event loop)."""
    return run_sync(lambda: judge_dataset(input, output, config, **options), name="judge_dataset")
