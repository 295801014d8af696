"""The run's config (:class:`ImproveConfig`).

The Python API, the command line and the judge all read their options from it, so
each option has one name, one meaning and one default everywhere; each is declared once,
with its flag, help, consumer and range (:mod:`syngen_improve._declare`). Rate limits,
retries and the breaker are objects of their own, as in httpx's ``Limits`` / ``Timeout``;
:data:`SHORTCUTS` set one of their fields (``rpm=``, ``--rpm``). A consumer that reads
only some groups refuses the others (:meth:`ImproveConfig.refuse_unread`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Final, Literal

from .._declare import Group, checked, declared, in_range, instance_of, one_of, opt, yes_no
from ..analyze import RelabelPolicy, SeedPolicy
from ..context import ContextConvention, resolve_convention
from ..dialects import DIALECTS, Dialect
from ..llm import DEFAULT_MODEL, BreakerPolicy, Pricing, RateLimits, RetryPolicy
from ..llm._models import EFFORTS
from ..llm._openai import CacheControl
from ..llm._thinking import Thinking, ThinkingMode
from ..prompts import Templates
from ..validate import ToolRegistry
from ._parts import (
    CONTEXT_HELP,
    DIALECT_HELP,
    POSITIVE_INT,
    apply_options,
    check_context,
    check_folder,
    check_headers,
    check_model_id,
    check_policy,
    check_shard,
    refuse_unread,
)

__all__ = ["BATCH_CONCURRENCY", "ONLINE_CONCURRENCY", "ImproveConfig", "StrictTools", "options_of"]

#: Requests in flight by default online, and with the batch backend (they wait together
#: for their batch, so many can be in flight at no cost).
ONLINE_CONCURRENCY: Final = 16
BATCH_CONCURRENCY: Final = 10_000
StrictTools = Literal["auto", "on", "off"]


@dataclass(frozen=True, kw_only=True)
class ImproveConfig:
    """Everything a run is told. Each field is declared once with its command-line flag,
    help, consumer and range (see :mod:`syngen_improve._declare`); docs/improve.md has
    each at length, and a test keeps the three in step."""

    # -- what a request says (the Improver and the judge read these) ------------------
    model: str = opt(
        DEFAULT_MODEL,
        "request",
        f"model id (default {DEFAULT_MODEL})",
        check_model_id,
        flag="--model",
    )
    thinking: ThinkingMode = opt(
        "auto",
        "request",
        "thinking: auto (default: off wherever the model can turn it off, which costs "
        "least), on, or off",
        one_of("auto", "on", "off"),
        flag="--thinking",
        choices=("auto", "on", "off"),
    )
    effort: str | None = opt(
        None,
        "request",
        "the model's effort (output_config.effort; default: the model's own, not sent)",
        one_of(*EFFORTS, optional=True),
        flag="--effort",
        choices=EFFORTS,
    )
    price: Pricing | None = opt(
        None,
        "request",
        "USD per million input and output tokens, for a model whose price "
        "is not known (or to override the table's)",
        instance_of(Pricing, "a Pricing (or 'IN,OUT' in USD per million tokens)", optional=True),
        flag="--price",
        metavar="IN,OUT",
    )
    answers: int = opt(
        3,
        "request",
        "answers per example: the first plus re-asks (default 3)",
        POSITIVE_INT,
        flag="--answers",
        metavar="K",
        kind=int,
    )
    max_tokens: int = opt(
        8192,
        "request",
        "output tokens per answer (default 8192)",
        POSITIVE_INT,
        flag="--max-tokens",
        metavar="N",
        kind=int,
    )
    templates: Templates | None = opt(
        None,
        "request",
        "folder of templates overriding ours",
        instance_of(Templates, "a Templates or a folder", optional=True),
        flag="--templates",
        metavar="DIR",
    )
    schemas: ToolRegistry | None = opt(
        None,
        "request",
        "tool schemas: the dataset's format, {name: JSON Schema}, an OpenAI or Anthropic "
        "tools list, or an MCP tools/list result (default: the bundled 47 tools)",
        instance_of(ToolRegistry, "a ToolRegistry or a file", optional=True),
        flag="--schemas",
        metavar="PATH",
    )
    require_result: bool = opt(
        True,
        "request",
        "accept tool calls without Result: (for datasets whose format has none)",
        flag="--no-require-result",
        negated=True,
        check=yes_no,
        kind=bool,
    )
    strict_tools: StrictTools = opt(
        "auto",
        "request",
        "strict tool use for the answers (the API constrains them to the "
        "schema): auto (default) where the model is documented to take it; dropped when the "
        "schema cannot be strict or the API refuses it (report.json: answer_tool)",
        one_of("auto", "on", "off"),
        flag="--strict-tools",
        choices=("auto", "on", "off"),
    )
    judge: bool = opt(
        False,
        "request",
        "score each improvement with the rubric (measured quality before/after)",
        flag="--judge",
        check=yes_no,
        kind=bool,
    )
    # -- how requests are sent -------------------------------------------------------
    concurrency: int | None = opt(
        None,
        "client",
        "requests in flight (default 16; 10,000 with --backend batch)",
        in_range(1, whole=True, optional=True),
        flag="--concurrency",
        metavar="N",
        kind=int,
    )
    limits: RateLimits = opt(
        None,
        "client",
        "requests / input tokens / output tokens per minute",
        instance_of(RateLimits, "a RateLimits"),
        factory=RateLimits,
    )
    retry: RetryPolicy = opt(
        None,
        "client",
        "HTTP retries and the time one attempt may take",
        instance_of(RetryPolicy, "a RetryPolicy"),
        factory=RetryPolicy,
    )
    breaker: BreakerPolicy = opt(
        None,
        "client",
        "when the service is failing: wait, then stop",
        instance_of(BreakerPolicy, "a BreakerPolicy"),
        factory=BreakerPolicy,
    )
    max_cost: float | None = opt(
        None,
        "client",
        "a spending cap for this run: a request that could take its cost "
        "past it is not sent and the run stops (exit 75, resumable; see estimate for a "
        "forecast)",
        in_range(0, optional=True, above=True),
        flag="--max-cost",
        metavar="USD",
        kind=float,
    )
    reask_online: bool = opt(
        False,
        "client",
        "with --backend batch: send re-asks online instead of in follow-up batches",
        flag="--reask-online",
        check=yes_no,
        kind=bool,
    )
    cache: bool = opt(
        True,
        "client",
        "do not read or keep answers in the response cache (every request is sent)",
        flag="--no-cache",
        negated=True,
        check=yes_no,
        kind=bool,
    )
    cache_dir: str | None = opt(
        None,
        "client",
        "the response cache's folder (default $SYNGEN_IMPROVE_CACHE_DIR, else the user "
        "cache folder: $XDG_CACHE_HOME/syngen_improve or ~/.cache/syngen_improve)",
        check_folder,
        flag="--cache-dir",
        metavar="DIR",
    )
    # -- which input lines become work (the router) ----------------------------------
    headers: tuple[tuple[str, str], ...] = opt(
        (),
        "client",
        "a header for every request (repeatable; a gateway's own key or tenant id; "
        "also SYNGEN_IMPROVE_HEADERS, one NAME=VALUE a line)",
        check_headers,
        flag="--header",
        metavar="NAME=VALUE",
        repeat=True,
    )
    openai_cache_control: CacheControl = opt(
        "auto",
        "client",
        "--backend openai: the system prompt as cache-marked blocks: auto (default: when "
        "the model id names Claude), on, off (a server that refuses blocks)",
        one_of("auto", "on", "off"),
        flag="--openai-cache-control",
        choices=("auto", "on", "off"),
    )
    policy: RelabelPolicy = opt(
        None, "request", "which examples are poor", check_policy, factory=SeedPolicy
    )
    dialect: Dialect | None = opt(
        None,
        "input",
        DIALECT_HELP,
        one_of(*DIALECTS, optional=True),
        flag="--dialect",
        choices=DIALECTS,
    )
    context: ContextConvention | None = opt(
        None, "request", CONTEXT_HELP, check_context, flag="--context", metavar="C"
    )
    limit: int | None = opt(
        None,
        "input",
        "stop after N input lines",
        in_range(1, whole=True, optional=True),
        flag="--limit",
        metavar="N",
        kind=int,
    )
    shard: tuple[int, int] | None = opt(
        None,
        "input",
        "take input lines I, I+N, I+2N, ... (1-based)",
        check_shard,
        flag="--shard",
        metavar="I/N",
    )
    dedupe: bool = opt(
        False,
        "input",
        "quarantine input lines whose content repeats an earlier line (counted anyway)",
        flag="--dedupe",
        check=yes_no,
        kind=bool,
    )
    # -- what only a run over a folder reads -----------------------------------------
    resume: bool = opt(
        False,
        "run",
        "continue the run whose results are in --out",
        flag="--resume",
        check=yes_no,
        kind=bool,
    )
    accept_changes: bool = opt(
        False,
        "run",
        "with --resume: continue although the model, templates, schemas or "
        "policy differ from the folder's (recorded in the report)",
        flag="--accept-changes",
        check=yes_no,
        kind=bool,
    )
    retry_failed: bool = opt(
        False,
        "run",
        "with --resume: also retry the examples that failed for a content "
        "reason (those the service failed are always retried)",
        flag="--retry-failed",
        check=yes_no,
        kind=bool,
    )
    include_good: bool = opt(
        False,
        "run",
        "also put good examples on the desirable side",
        flag="--include-good",
        check=yes_no,
        kind=bool,
    )
    prompt_gap: int = opt(
        8,
        "run",
        "in the KTO file, keep rows that share a prompt more than W rows apart "
        "(default 8; at least your per-device batch size minus one)",
        in_range(0, whole=True),
        flag="--prompt-gap",
        metavar="W",
        kind=int,
    )
    progress: bool = opt(
        True,
        "run",
        "no live panel (also off with --json)",
        flag="--no-progress",
        negated=True,
        check=yes_no,
        kind=bool,
    )

    def __post_init__(self) -> None:
        # A name or a file becomes the convention it names, checked before any work.
        object.__setattr__(self, "context", resolve_convention(self.context))
        checked(self)

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

    # -- consumers -------------------------------------------------------------------

    def refuse_unread(self, reader: str, reads: frozenset[str]) -> None:
        """A :class:`UsageError` for an option set away from its default that ``reader``
        does not read (``reads``: the names it does): nothing is silently ignored."""
        refuse_unread(self, reader, reads)

    def keep(self, reads: frozenset[str]) -> ImproveConfig:
        """This config with the options outside ``reads`` at their defaults."""
        fields = {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name in reads
        }
        return ImproveConfig(**fields)

    # -- building -----------------------------------------------------------------

    def with_options(self, **options: Any) -> ImproveConfig:
        """A copy with ``options`` changed: fields, and the :data:`SHORTCUTS` (``rpm``,
        ``timeout``, ...) to a composed object's field; ``templates`` / ``schemas`` take
        a path, ``shard`` ``"I/N"``; an unknown name is an error listing the known ones."""
        return apply_options(self, options)

    @classmethod
    def of(cls, config: ImproveConfig | None = None, **options: Any) -> ImproveConfig:
        """``config`` (or the defaults) with ``options`` applied."""
        return (config if config is not None else cls()).with_options(**options)


def options_of(*groups: Group) -> frozenset[str]:
    """The names of the config's options in ``groups``."""
    return frozenset(n for n, d in declared(ImproveConfig).items() if d.group in groups)
