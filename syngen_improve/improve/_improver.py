"""The improve stage on its own: engine + prompt + gate + re-asks, no files.

:class:`Improver` is what ``improve_dataset`` puts files around, and what a tool that
embeds us uses directly::

    async with Improver(backend=my_backend) as improver:
        outcome = await improver.improve(example)
        async for outcome in improver.stream(examples):  # any (async) iterable of dicts
            ...
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Mapping
from contextlib import AsyncExitStack, aclosing
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import orjson

from .._backends import open_engines
from ..analyze import issue_kinds
from ..config import ImproveConfig, options_of
from ..context import SEVEN_FIELDS, ContextConvention, detect_convention
from ..errors import CacheWarning, UsageError
from ..judge import Judge, JudgeError
from ..llm import Backend, Engine, EngineStats, Meters, Reply, Request, RequestFailed
from ..llm._choose import BackendName, check_backend
from ..prompts import build_request, first_message, reask_messages, tool_schemas_text
from ..prompts._system import CacheCheck, check_cache, system_prompt
from ..validate import ToolRegistry
from ._gate import check_reply
from ._outcome import ANSWER_CHARS, Outcome
from ._stream import check_example as _check_example
from ._stream import outcomes_of
from ._tool import AnswerTool

__all__ = ["READS", "Improver"]

#: The options an Improver reads (a run's input and folder options are improve_dataset's).
READS: Final = options_of("request", "client")


@dataclass(frozen=True)
class _Shared:
    context: ContextConvention
    system: str
    catalogue: ToolRegistry | None
    tool: AnswerTool
    check: CacheCheck


class Improver:
    """Improves examples one by one or as a stream; an async context manager that owns
    its backends (see the module docstring).

    ``backend`` is a :class:`~syngen_improve.llm.Backend` (used as is, not closed) or a
    name (``"anthropic"``, ``"batch"``, ``"openai"``; made here and closed on exit).
    ``state_dir`` is where the batch backend keeps its batch ids. ``meters``: a rate
    limiter and spending cap shared with other processes (:mod:`syngen_improve.ray`).
    """

    def __init__(
        self,
        config: ImproveConfig | None = None,
        *,
        backend: Backend | BackendName | None = None,
        state_dir: str | os.PathLike[str] | None = None,
        meters: Meters | None = None,
        **options: Any,
    ) -> None:
        self._meters = meters
        self.config = ImproveConfig.of(config, **options)
        self.config.refuse_unread("Improver", READS)
        check_backend(backend)
        self._backend_option = backend
        self._state_dir = Path(state_dir) if state_dir is not None else None
        self._stack: AsyncExitStack | None = None
        self._engine: Engine | None = None
        self._reask: Engine | None = None
        self._judge: Judge | None = None
        self.templates = self.config.prompt_templates
        self.schemas = self.config.tool_schemas
        self.batch = False
        #: Whether the shared prompt prefix clears the model's cache floor (once built).
        self.cache_check: CacheCheck | None = None
        #: The submit tool: structured answers, strict or not (once built).
        self.answer_tool: AnswerTool | None = None
        self._system: _Shared | None = None

    # -- lifetime ---------------------------------------------------------------------

    async def __aenter__(self) -> Improver:
        cfg = self.config
        async with AsyncExitStack() as stack:
            engines = await stack.enter_async_context(
                open_engines(
                    cfg, self._backend_option, state_dir=self._state_dir, meters=self._meters
                )
            )
            self._engine, self._reask, self.batch = engines.main, engines.reask, engines.batch
            if cfg.judge:
                self._judge = Judge(self._engine, answers=cfg.answers)
            self._stack = stack.pop_all()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("Improver is not open: use 'async with Improver(...)'")
        return self._engine

    @property
    def stats(self) -> EngineStats:
        """Requests, tokens and cost so far (first answers, re-asks and judging); empty
        when the improver was never opened."""
        total = EngineStats()
        for engine in {id(e): e for e in (self._engine, self._reask) if e is not None}.values():
            total.absorb(engine.stats)
        return total

    def request_facts(self) -> dict[str, Any]:
        """What the run record keeps of the requests (``cache``: the prefix's check and
        what the server was seen doing; ``thinking``: sent, assumed, measured); nothing
        before the first request was built."""
        out: dict[str, Any] = {}
        engine = self._engine
        if self.cache_check is not None:
            seen = engine.cache.to_dict() if engine is not None else {}
            out["cache"] = {**self.cache_check.to_dict(), **seen}
        if engine is not None:
            out["thinking"] = engine.thinking_report()
        return out

    @property
    def model(self) -> str:
        """The model the backend asks (the config's when not open)."""
        if self._engine is None:
            return self.config.model
        return str(getattr(self._engine.backend, "model", self.config.model))

    # -- one example ------------------------------------------------------------------

    def is_poor(self, example: Mapping[str, Any]) -> bool:
        """Whether the relabel policy calls ``example`` poor (it is then improved)."""
        return bool(self.config.policy(example))

    async def improve(
        self, example: Mapping[str, Any], *, issues: frozenset[str] | None = None, key: int = 0
    ) -> Outcome:
        """Ask for an improvement of ``example`` until one passes the gate or the
        answers run out. ``issues`` are the detected issue kinds (found here when not
        given). A refusal of the whole run (bad key, unknown model) raises
        :class:`~syngen_improve.errors.ServiceRefused`; any other failed request ends
        this example as ``failed``. An example that is not a dict is a
        :class:`~syngen_improve.errors.UsageError`, as in :meth:`stream`."""
        _check_example(example, "the example")
        engine, reask = self.engine, self._reask or self.engine
        cfg = self.config
        first, kinds, context = self._first(example, issues, key)
        messages: list[Mapping[str, Any]] = list(first.messages)
        rejections: list[str] = []
        errors: list[str] = []
        transient, http_status = False, None
        answer: str | None = None
        attempt = 0
        budget = cfg.max_tokens  # the answer's output tokens (thinking's are the engine's)
        answer_tool = self.answer_tool
        assert answer_tool is not None  # built with the first request
        while attempt < cfg.answers:
            attempt += 1
            try:
                async with answer_tool.turn():
                    tool = answer_tool.tool
                    request = (
                        first
                        if attempt == 1 and tool is first.tools[0]
                        else (
                            dataclasses.replace(
                                first,
                                messages=messages,
                                tools=[tool],
                                key=f"l{key}-a{attempt}",
                                max_tokens=budget,
                            )
                        )
                    )
                    reply = await (engine if attempt == 1 else reask).complete(request)
            except RequestFailed as exc:
                if exc.strict_refused:
                    # The API refused the strict grammar: the same answer, asked without
                    # (a batch may have sent more strict requests before the first refusal).
                    answer_tool.fall_back(str(exc.error))
                    attempt -= 1
                    continue
                if exc.fatal:
                    raise exc.refused_run() from None
                rejections.append("request_failed")
                errors = [str(exc)]
                transient, http_status = exc.transient, exc.status
                break
            verdict = check_reply(
                reply,
                example,
                schemas=self.schemas,
                require_result=cfg.require_result,
                context=context,
            )
            if verdict.record is not None:
                record = dict(verdict.record)
                if self._judge is not None:
                    await self._add_scores(record, example)
                return Outcome(
                    key, "improved", example, record, attempt, tuple(rejections), (), kinds
                )
            rejections.append(verdict.reason or "invalid")
            errors = verdict.errors
            answer = _answer_text(reply)
            if verdict.reason == "refusal":
                break  # the safety classifiers decline the same request again: not re-asked
            if verdict.reason == "truncated":
                # The same request with twice the room (the cut answer is no help to re-read).
                budget = engine.info.more_room(budget)
            elif attempt < cfg.answers:
                messages = reask_messages(messages, reply, errors, self.templates)
        return Outcome(
            key,
            "failed",
            example,
            None,
            len(rejections),
            tuple(rejections),
            tuple(errors),
            kinds,
            transient,
            http_status,
            answer,
        )

    def first_request(
        self, example: Mapping[str, Any], *, issues: frozenset[str] | None = None, key: int = 0
    ) -> Request:
        """The first request :meth:`improve` sends for ``example`` (needs no backend:
        what ``estimate`` prices)."""
        return self._first(example, issues, key)[0]

    def _first(
        self, example: Mapping[str, Any], issues: frozenset[str] | None, key: int
    ) -> tuple[Request, frozenset[str], ContextConvention]:
        cfg = self.config
        # The run's convention (a file run detects it from the file), else the example's.
        context = cfg.context or detect_convention([example])
        kinds = issue_kinds(example, context=context) if issues is None else issues
        if not cfg.require_result:
            kinds = kinds - {"missing_result"}
        shared = self._shared(context)
        # A row's own tool definitions are its calls' schemas (as the gate reads them).
        own = example.get("tools")
        schemas = self.schemas.with_row_tools(own) if own else self.schemas
        request = build_request(
            [first_message(example, kinds, self.templates)],
            system=shared.system,
            schemas_text=tool_schemas_text(example, schemas, shown=shared.catalogue),
            max_tokens=cfg.max_tokens,
            key=f"l{key}-a1",
            cache=shared.check.status != "inactive",
            tool=shared.tool.tool,
        )
        return request, kinds, context

    def _shared(self, context: ContextConvention) -> _Shared:
        """What every request for data of ``context`` shares: the system prompt, the tool
        catalogue (the run's schemas when given, or the bundled ones for the seven-field
        data they belong to), the submit tool and the prefix's check against the model's
        cache floor; built once, with a warning the first time the API would not cache
        it."""
        built = self._system
        if built is not None and built.context is context:
            return built
        cfg = self.config
        catalogue = self.schemas if cfg.schemas is not None or context == SEVEN_FIELDS else None
        backend = self._engine.backend if self._engine is not None else None
        tool = AnswerTool(
            self.model,
            cfg.strict_tools,
            catalogue,
            context,
            probe=not self.batch,
            sends_strict=getattr(backend, "strict_tools", True),
        )
        # The submit tool's schema carries the catalogue's parameter schemas.
        system = system_prompt(self.templates, context, catalogue, schemas=False)
        check = check_cache(self.model, system, [tool.tool])
        self._system = built = _Shared(context, system, catalogue, tool, check)
        if self.cache_check is None and check.reason is not None:
            warnings.warn(f"prompt caching is off: {check.reason}", CacheWarning, stacklevel=3)
        self.cache_check, self.answer_tool = check, tool
        return built

    async def _add_scores(self, record: dict[str, Any], original: Mapping[str, Any]) -> None:
        """Score the improvement and its original with the same judge: the improvement's
        in ``quality_scores`` (its own, measured), the original's in
        ``original_judge_scores`` (the dataset's stay in ``original_quality_scores``), so
        before and after compare like with like. A judge failure leaves them out."""
        assert self._judge is not None
        try:
            before = await self._judge.score(original)  # cached: a resume pays nothing
            after = await self._judge.score(record)
        except RequestFailed as exc:
            if exc.fatal:
                raise exc.refused_run() from None
            return
        except JudgeError:
            return
        record["quality_scores"] = {**after, "scored_by": "judge"}
        record["original_judge_scores"] = before

    # -- many examples ----------------------------------------------------------------

    async def stream(
        self,
        examples: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        *,
        examples_in_flight: int | None = None,
        **renamed: Any,
    ) -> AsyncGenerator[Outcome, None]:
        """Outcomes of ``examples`` as they complete (not in input order: ``key`` is the
        input's position), with at most ``examples_in_flight`` in progress (default: twice
        the requests in flight, the config's ``concurrency``) and at most as many finished
        outcomes waiting for you. Good examples come back as ``good`` without a request,
        as in a file run."""
        if renamed:
            raise UsageError(
                f"stream() takes examples_in_flight=, not {', '.join(renamed)} (concurrency "
                "is requests in flight: give it to the Improver)"
            )
        limit = (
            examples_in_flight
            if examples_in_flight is not None
            else self.config.examples_in_flight(batch=self.batch)
        )
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise UsageError(f"'examples_in_flight' must be a whole number >= 1, got {limit!r}")
        async with aclosing(outcomes_of(self, examples, limit)) as outcomes:
            async for outcome in outcomes:
                yield outcome


def _answer_text(reply: Reply) -> str:
    """What an answer said, for a person: its tool input as JSON, else its text."""
    use = reply.tool_use()
    if use is not None and "input" in use:
        text = orjson.dumps(use["input"], option=orjson.OPT_INDENT_2).decode()
    else:
        text = reply.text
    return text[:ANSWER_CHARS]
