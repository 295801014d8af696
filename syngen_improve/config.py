"""One frozen, validated configuration for a run: :class:`ImproveConfig`.

The Python API, the command line and the judge all read their options from it, so
each option has one name, one meaning and one default everywhere. Rate limits and
retries are objects of their own (:class:`RateLimits`, :class:`RetryPolicy`), as in
httpx's ``Limits`` / ``Timeout``; ``rpm=`` / ``tpm=`` / ``output_tpm=`` are accepted
as shortcuts for the limits by :meth:`ImproveConfig.with_options`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from .analyze import RelabelPolicy, SeedPolicy
from .context import ContextConvention, resolve_convention
from .dialects import Dialect, check_dialect
from .errors import UsageError
from .llm import DEFAULT_MODEL, BreakerPolicy, Pricing, RateLimits, RetryPolicy
from .llm._thinking import Thinking, ThinkingMode
from .prompts import Templates
from .validate import ToolRegistry

__all__ = ["BATCH_CONCURRENCY", "ImproveConfig", "ONLINE_CONCURRENCY", "parse_shard"]

#: Requests in flight by default online, and with the batch backend (they wait together
#: for their batch, so many can be in flight at no cost).
ONLINE_CONCURRENCY: Final = 16
BATCH_CONCURRENCY: Final = 10_000
#: Strict tool use for the structured answers (see ``ImproveConfig.strict_tools``).
StrictTools = Literal["auto", "on", "off"]
#: Keyword shortcut -> (the composed field it sets, that object's field).
_SHORTCUTS: Final = {
    "rpm": ("limits", "rpm"),
    "tpm": ("limits", "input_tpm"),
    "output_tpm": ("limits", "output_tpm"),
    "timeout": ("retry", "timeout"),
    "patience": ("breaker", "patience"),
}


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` -> ``(2, 3)``; a :class:`UsageError` naming the problem otherwise."""
    try:
        i, n = (int(p) for p in text.split("/"))
    except ValueError:
        raise UsageError(f"a shard is I/N with whole numbers, like 2/3; got {text!r}") from None
    if not 1 <= i <= n:
        raise UsageError(f"a shard I/N needs 1 <= I <= N; got {text!r}")
    return i, n


def _positive(name: str, value: object, *, optional: bool) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise UsageError(f"{name!r} must be > 0, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class ImproveConfig:
    """Everything a run is told (see docs/improve.md for each option at length).

    - ``model``: the model id; ``concurrency``: requests in flight (``None``: 16 online,
      10,000 with the batch backend).
    - ``limits``: requests / input tokens / output tokens per minute (unset ones are
      learned from the API's headers); ``retry``: HTTP retries per request and the
      seconds one attempt may take (``timeout=`` / ``--timeout``); ``breaker``: when the
      service (not one request) is failing, wait for it, up to ``patience`` seconds
      (``patience=`` / ``--patience``), then stop the run as resumable (exit 75).
    - ``answers``: answers per example, the first one plus re-asks with the errors
      (``--answers``; ``--max-attempts`` on the command line is the same option).
    - ``max_tokens``: output tokens per answer; ``policy``: which examples are poor;
      ``templates`` / ``schemas``: prompt texts and tool schemas (``None``: bundled).
    - ``require_result``: tool calls must carry ``Result:``; ``judge``: score each
      improvement (measured quality before/after); ``reask_online``: with the batch
      backend, send re-asks online.
    - ``resume``: continue the run whose results are in the output folder. Off by
      default on every surface: a folder that holds results is refused unless asked.
      A resume with other settings (model, templates, schemas, policy) is refused unless
      ``accept_changes`` (recorded in the report); a changed input always is. A resume
      retries the examples that failed for the service's sake (``transient``), and with
      ``retry_failed`` the others too.
    - ``limit``: stop after that many input lines; ``include_good``: good examples
      also go to the desirable side; ``shard``: ``(i, n)`` takes lines i, i+n, ...
    - ``dedupe``: an input line whose content repeats an earlier line's (same
      ``_source_key``) is quarantined as a duplicate instead of processed; without it
      duplicates are processed and counted in the report.
    - ``prompt_gap``: in the KTO file, rows that share a prompt (an improvement and its
      original) are kept more than this many rows apart (default 8: TRL builds its KL
      pairs within a batch; keep it at least the batch size minus one).
    - ``dialect``: the input's dialect (``text``, ``openai``, ``sharegpt``, ``hermes``);
      ``None`` (default) decides it from the file's first row. Outputs are written in it.
    - ``context``: the context convention (:mod:`syngen_improve.context`): a
      :class:`~syngen_improve.context.ContextConvention`, ``"context7"``, ``"none"`` or a
      ``.toml``/``.json`` file describing one; ``None`` (default) detects it from the
      input's first rows (an example improved on its own: from the example).
    - ``max_cost``: a spending cap in USD for this run (``--max-cost``): a request that
      could take the run's cost past it is not sent, and the run stops as resumable
      (:class:`~syngen_improve.llm.BudgetReached`, exit 75). Needs a model with a known
      price.
    - ``strict_tools``: strict tool use for the structured answers (the API constrains
      them to the answer schema): ``auto`` (default) where the model is documented to take
      it, ``on`` for any model, ``off``. Either way strict is dropped when the answer
      schema is outside the strict subset or the API refuses its grammar (the report
      says why: ``answer_tool``).
    - ``thinking``: ``auto`` (default: off wherever the model can turn it off at the
      effort in use, which costs least; on where it cannot), ``on`` or ``off``;
      ``effort``: ``low`` / ``medium`` / ``high`` / ``xhigh`` / ``max`` (``None``: the
      model's default, not sent). Improve and judge alike; see docs/llm.md ("Claude 5.x
      models") for what each sends.
    - ``price``: the model's :class:`~syngen_improve.llm.Pricing` (``--price IN,OUT``), for
      a model the capability table does not price, or to override it; without one an
      unknown model's cost is reported as unknown.
    - ``progress``: show a progress bar.
    """

    model: str = DEFAULT_MODEL
    concurrency: int | None = None
    limits: RateLimits = field(default_factory=RateLimits)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    answers: int = 3
    max_tokens: int = 8192
    policy: RelabelPolicy = field(default_factory=SeedPolicy)
    templates: Templates | None = None
    schemas: ToolRegistry | None = None
    require_result: bool = True
    judge: bool = False
    reask_online: bool = False
    resume: bool = False
    accept_changes: bool = False
    retry_failed: bool = False
    limit: int | None = None
    include_good: bool = False
    shard: tuple[int, int] | None = None
    dedupe: bool = False
    prompt_gap: int = 8
    dialect: Dialect | None = None
    context: ContextConvention | None = None
    max_cost: float | None = None
    strict_tools: StrictTools = "auto"
    thinking: ThinkingMode = "auto"
    effort: str | None = None
    price: Pricing | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise UsageError("'model' must be a non-empty model id")
        _positive("concurrency", self.concurrency, optional=True)
        _positive("answers", self.answers, optional=False)
        _positive("max_tokens", self.max_tokens, optional=False)
        _positive("limit", self.limit, optional=True)
        _positive("max_cost", self.max_cost, optional=True)
        for name in ("concurrency", "answers", "max_tokens", "limit"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, int):
                raise UsageError(f"{name!r} must be a whole number, got {value!r}")
        if (
            isinstance(self.prompt_gap, bool)
            or not isinstance(self.prompt_gap, int)
            or (self.prompt_gap < 0)
        ):
            raise UsageError(f"'prompt_gap' must be a whole number >= 0, got {self.prompt_gap!r}")
        if self.strict_tools not in ("auto", "on", "off"):
            raise UsageError(
                f"'strict_tools' must be 'auto', 'on' or 'off', got {self.strict_tools!r}"
            )
        Thinking(self.thinking, self.effort)  # checks both, naming the option
        if self.price is not None and not isinstance(self.price, Pricing):
            raise UsageError("'price' must be a Pricing (or 'IN,OUT' in USD per million tokens)")
        check_dialect(self.dialect)
        # A name or a file becomes the convention it names, checked before any work.
        object.__setattr__(self, "context", resolve_convention(self.context))
        if self.shard is not None:
            i, n = self.shard
            if not (isinstance(i, int) and isinstance(n, int) and 1 <= i <= n):
                raise UsageError(f"'shard' must be (i, n) with 1 <= i <= n, got {self.shard!r}")
        for name, kind in (
            ("limits", RateLimits),
            ("retry", RetryPolicy),
            ("breaker", BreakerPolicy),
        ):
            if not isinstance(getattr(self, name), kind):
                raise UsageError(f"{name!r} must be a {kind.__name__}")
        if not callable(self.policy):
            raise UsageError("'policy' must be a RelabelPolicy (a callable example -> poor)")

    # -- resolved values ----------------------------------------------------------

    def concurrency_for(self, *, batch: bool) -> int:
        """Requests in flight: the option, or the default for the kind of backend."""
        if self.concurrency is not None:
            return self.concurrency
        return BATCH_CONCURRENCY if batch else ONLINE_CONCURRENCY

    def examples_in_flight(self, *, batch: bool) -> int:
        """Examples in progress at once: online, twice the requests in flight, so that
        examples waiting out a back-off (a 429's retry-after, a 529) do not leave request
        slots idle; with batches, the requests in flight."""
        requests = self.concurrency_for(batch=batch)
        return requests if batch else 2 * requests

    @property
    def thinking_options(self) -> Thinking:
        """What the engine is told of thinking and effort."""
        return Thinking(self.thinking, self.effort)

    @property
    def prompt_templates(self) -> Templates:
        """The templates in use (the bundled ones unless replaced)."""
        return self.templates if self.templates is not None else Templates.default()

    @property
    def tool_schemas(self) -> ToolRegistry:
        """The tool schemas in use (the bundled 47 unless replaced)."""
        return self.schemas if self.schemas is not None else ToolRegistry.default()

    # -- building -----------------------------------------------------------------

    def with_options(self, **options: Any) -> ImproveConfig:
        """A copy with ``options`` changed. Besides the fields: ``rpm`` / ``tpm`` /
        ``output_tpm`` set the limits, ``timeout`` the retry policy's seconds per attempt,
        ``patience`` the breaker's, ``templates`` and ``schemas`` take a path, and
        ``shard`` takes ``"I/N"``. An unknown name is a :class:`UsageError` that lists
        the known ones."""
        if not options:
            return self
        names = {f.name for f in dataclasses.fields(self)}
        changes: dict[str, Any] = {}
        parts: dict[str, dict[str, Any]] = {}  # composed field -> its fields to set
        for name, value in options.items():
            if name in _SHORTCUTS:
                part, field_name = _SHORTCUTS[name]
                parts.setdefault(part, {})[field_name] = value
            elif name == "max_attempts":
                raise UsageError(
                    "'max_attempts' is now 'answers' (answers per example, first plus "
                    "re-asks); HTTP retries are retry=RetryPolicy(max_attempts=...)"
                )
            elif name not in names:
                known = ", ".join(sorted(names | set(_SHORTCUTS)))
                raise UsageError(f"unknown option {name!r}; the options are: {known}")
            else:
                changes[name] = _coerce(name, value)
        for part, values in parts.items():
            base = changes.get(part, getattr(self, part))
            changes[part] = dataclasses.replace(base, **values)
        return dataclasses.replace(self, **changes)

    @classmethod
    def of(cls, config: ImproveConfig | None = None, **options: Any) -> ImproveConfig:
        """``config`` (or the defaults) with ``options`` applied."""
        return (config if config is not None else cls()).with_options(**options)


def _coerce(name: str, value: Any) -> Any:
    """Paths for templates and schemas, ``"I/N"`` for a shard."""
    if name == "templates" and isinstance(value, str | os.PathLike):
        return Templates.from_dir(value)
    if name == "schemas" and isinstance(value, str | os.PathLike):
        return ToolRegistry.load(value)
    if name == "shard" and isinstance(value, str):
        return parse_shard(value)
    if name == "price" and isinstance(value, str):
        return Pricing.parse(value)
    return value
