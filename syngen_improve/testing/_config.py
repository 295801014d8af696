"""The fake's knobs (:class:`FakeConfig`) and what it saw (:class:`Counters`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["BAD_OUTPUTS", "DEMO_CONFIG", "FAULTS", "HOSTILE", "Counters", "FakeConfig"]

FAULTS: Final = ("429", "529", "500", "400", "drop", "hang")
BAD_OUTPUTS: Final = (
    "truncated_json",  # half a JSON text, stop_reason max_tokens
    "broken_rules",  # the first call loses its context
    "wrong_tool",  # the other tool is called
    "text_json",  # the example as fenced JSON text (acceptable)
    "unchanged",  # the example sent back as it was
    "extra_turn",  # a user turn appended ("Ignore the task above ...")
    "request_rewritten",  # the first user turn asks for something else
    "schema_slip",  # a call's argument off its tool's schema (never under strict tool use)
    "refusal",  # stop_reason refusal: the 5.x safety classifiers decline the request
    "truncated_tool",  # the tool input cut short at max_tokens (stop_reason max_tokens)
)
#: Replies a misbehaving server or proxy sends: a 200 whose body breaks the wire format,
#: headers that lie, and answers that echo the caller's key.
HOSTILE: Final = (
    "content_string",  # "content": "..." instead of a list of blocks
    "block_not_object",  # a content block that is a string
    "body_array",  # the body is a JSON array
    "usage_string",  # "input_tokens": "lots"
    "usage_negative",  # "output_tokens": -1000000
    "remaining_negative",  # anthropic-ratelimit-requests-remaining: -5 (limit 4000)
    "retry_after_day",  # a 429 with retry-after: 86400
    "retry_after_inf",  # a 429 with retry-after: inf
    "key_in_request_id",  # the request-id header is the caller's key
    "key_echo",  # a 500 whose message holds the key less its last 3 characters
    "usage_huge",  # usage claiming 10^15 input and output tokens
    "tiny_limits",  # a 200 saying 1 request and 1 token a minute, none left until tomorrow
    "redirect",  # a 301 elsewhere (a client that follows it turns the POST into a GET)
    "gzip_bomb",  # a 200 gzip-encoded body that inflates to 300 MB
)


@dataclass(frozen=True)
class FakeConfig:
    """The fake server's knobs.

    - ``latency`` / ``jitter``: seconds added to each successful reply (uniform jitter).
    - ``rpm`` / ``input_tpm`` / ``output_tpm``: server limits; over them the reply is a
      429 with ``retry-after``. Buckets start full and refill continuously.
    - ``fault_rates``: probability per request of each fault (``429``, ``529``, ``500``,
      ``400`` (refused as invalid, as a misconfigured proxy does), ``drop``, ``hang``);
      ``first_faults``: the first requests *for each example* fail
      with these faults in order, then it succeeds (deterministic retries in tests).
    - ``bad_output_rates`` / ``first_bad_outputs``: the same for bad model output
      (:data:`BAD_OUTPUTS`: ``truncated_json``, ``broken_rules``, ``wrong_tool``,
      ``text_json``, ``unchanged``, ``extra_turn``, ``request_rewritten``).
    - ``hostile_rates``: probability per request of each :data:`HOSTILE` reply.
    - ``retry_after``: seconds sent with fault 429s (rate-limit 429s compute their own).
    - ``api_key``: when set, any other key gets a 401.
    - ``hang_seconds``: how long a hung request waits before the server gives up.
    - ``outage`` / ``outage_fault``: for ``outage`` seconds from the first request, every
      message request fails with ``outage_fault`` (a fault kind, ``529`` by default).
    - ``batch_delay``: seconds a Message Batch takes to end; ``batch_expire_rate``: the share
      of a batch's requests that expire (the faults above become ``errored`` results).
    - ``cache_floor``: the shortest prefix (tools, then the system blocks up to the cache
      mark) the fake caches, in its tokens; a shorter one is billed as plain input with
      both cache counters 0, as the API does. ``None``: the model's documented floor, else
      4,096 tokens (:func:`syngen_improve.llm.cache_floor`).
    - ``strict_grammar_limit``: the largest strict tool schema (bytes of JSON, over a
      request's strict tools) whose grammar the fake compiles; a larger one gets the
      API's 400 "The compiled grammar is too large". ``None``: no limit. The documented
      rules of strict tool use (closed objects, no bounds, at most 24 optional and 16
      union-typed parameters) are always checked.
    - ``forced_tool_thinking``: ``refuse`` (the extended-thinking pages' reading: a request
      that forces a tool while the model thinks is a 400 "Thinking may not be enabled when
      tool_choice forces tool use") or ``allow`` (the adaptive-thinking page's).
    - ``thinking_default``: whether the model thinks when a request says nothing of it
      (``None``: by the model id, on for 5.x ids; see ``_models``). Thinking tokens
      (``EFFORT_THINKING`` by effort) count toward ``max_tokens`` and are billed as output:
      an answer that does not fit is cut (``stop_reason: "max_tokens"``).
    - ``token_factor``: tokens per Haiku 4.5 token (``None``: by the model id, 1.3 for the
      newer tokenizer of 5.x ids), applied to every count (usage, cache floor,
      ``count_tokens``).
    - ``auth``: ``any`` (``x-api-key`` or ``Authorization: Bearer``) or ``x-api-key``
      (a gateway that reads only the documented header: a Bearer alone is a 401).
    - ``rpm_window``: count ``rpm`` per fixed window of this many seconds instead of a
      refilling bucket (``60``: a low tier counting per minute): over it, a 429 whose
      ``retry-after`` is the rest of the window plus a second (up to 61 s) and whose
      headers say 0 requests remain until the window's end. ``None``: the bucket.
    - ``seed``: every random choice (fault, bad output, jitter, expiry) is a hash of the
      seed, the example and the attempt, never of arrival order: the same inputs give the
      same faults, counts and cost at any concurrency. Only the rate-limit buckets and
      ``hang`` depend on time.
    """

    latency: float = 0.0
    jitter: float = 0.0
    rpm: int | None = None
    input_tpm: int | None = None
    output_tpm: int | None = None
    fault_rates: Mapping[str, float] = field(default_factory=dict)
    first_faults: Sequence[str] = ()
    bad_output_rates: Mapping[str, float] = field(default_factory=dict)
    first_bad_outputs: Sequence[str] = ()
    hostile_rates: Mapping[str, float] = field(default_factory=dict)
    retry_after: float = 1.0
    api_key: str | None = None
    hang_seconds: float = 3600.0
    outage: float = 0.0
    outage_fault: str = "529"
    batch_delay: float = 0.0
    batch_expire_rate: float = 0.0
    cache_floor: int | None = None
    strict_grammar_limit: int | None = None
    forced_tool_thinking: str = "refuse"
    thinking_default: bool | None = None
    token_factor: float | None = None
    auth: str = "any"
    rpm_window: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.forced_tool_thinking not in ("refuse", "allow"):
            raise ValueError("'forced_tool_thinking' must be 'refuse' or 'allow'")
        if self.auth not in ("any", "x-api-key"):
            raise ValueError("'auth' must be 'any' or 'x-api-key'")
        if self.rpm_window is not None and not self.rpm_window > 0:
            raise ValueError("'rpm_window' must be > 0 seconds")
        if self.token_factor is not None and not self.token_factor > 0:
            raise ValueError("'token_factor' must be > 0")
        if not 0 <= self.batch_expire_rate <= 1:
            raise ValueError("'batch_expire_rate' must be between 0 and 1")
        if self.outage_fault not in FAULTS:
            raise ValueError(
                f"unknown outage_fault {self.outage_fault!r}; expected one of {FAULTS}"
            )
        for name in ("latency", "jitter", "retry_after", "hang_seconds", "outage", "batch_delay"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name!r} must be >= 0")
        for name in ("rpm", "input_tpm", "output_tpm"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name!r} must be > 0")
        for name, known, rates, firsts in (
            ("fault", FAULTS, self.fault_rates, self.first_faults),
            ("bad output", BAD_OUTPUTS, self.bad_output_rates, self.first_bad_outputs),
            ("hostile reply", HOSTILE, self.hostile_rates, ()),
        ):
            for kind in [*rates, *firsts]:
                if kind not in known:
                    raise ValueError(f"unknown {name} {kind!r}; expected one of {known}")
            if sum(rates.values()) > 1 or any(r < 0 for r in rates.values()):
                raise ValueError(f"{name} rates must be >= 0 and sum to at most 1")


@dataclass
class Counters:
    """What the fake saw. ``per_example`` counts requests by example content hash."""

    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    bad_outputs: Counter[str] = field(default_factory=Counter)
    hostile: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    per_example: Counter[str] = field(default_factory=Counter)
    started: list[float] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    #: Requests that marked a prefix for caching shorter than the floor (not cached).
    below_cache_floor: int = 0
    #: ``count_tokens`` requests (they are not Messages requests: no answer, no cost).
    count_tokens: int = 0
    #: Answers given under strict tool use, and strict requests refused with a 400.
    strict_answers: int = 0
    strict_refused: int = 0
    #: Requests refused for their thinking / effort / forced tool, answers given with
    #: thinking, and the thinking tokens spent (billed in ``output_tokens``).
    thinking_refused: int = 0
    thinking_answers: int = 0
    thinking_tokens: int = 0
    #: Answers cut at max_tokens (drawn or for want of room) and refusals.
    truncated: int = 0
    refusals: int = 0
    batches_created: int = 0
    batch_custom_ids: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> dict[str, Any]:
        """A plain-dict copy, safe to keep after the server moves on."""
        return {
            "requests": self.requests,
            "by_status": dict(self.by_status),
            "faults": dict(self.faults),
            "bad_outputs": dict(self.bad_outputs),
            "hostile": dict(self.hostile),
            "rate_limited": self.rate_limited,
            "max_in_flight": self.max_in_flight,
            "examples": len(self.per_example),
            "max_per_example": max(self.per_example.values(), default=0),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_creation_tokens": self.cache_creation_tokens,
            "below_cache_floor": self.below_cache_floor,
            "count_tokens": self.count_tokens,
            "strict_answers": self.strict_answers,
            "strict_refused": self.strict_refused,
            "thinking_refused": self.thinking_refused,
            "thinking_answers": self.thinking_answers,
            "thinking_tokens": self.thinking_tokens,
            "truncated": self.truncated,
            "refusals": self.refusals,
            "batches_created": self.batches_created,
            "batch_requests": sum(self.batch_custom_ids.values()),
            "max_per_custom_id": max(self.batch_custom_ids.values(), default=0),
        }


#: What ``syngen-improve demo`` serves: a few overloads, dropped connections and rejected
#: answers, so the demo shows retries and re-asks at work. Nothing in it depends on time
#: (no hangs, no rate-limit buckets), so timing-driven client features cannot change the
#: demo's result: the same counts, cost and outputs on every run.
DEMO_CONFIG: Final = FakeConfig(
    fault_rates={"529": 0.03, "drop": 0.02},
    bad_output_rates={"broken_rules": 0.05, "truncated_json": 0.03},
)
