"""What the fake answers, whichever route asked: the example a request is about, its
attempt, the fault or bad output drawn for it, the usage (with prompt caching) and the
model's message. The Messages, Message Batches and chat-completions routes share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson

from ._config import Counters, FakeConfig
from ._content import IMPROVE_TOOL, JUDGE_TOOL, REWRITES
from ._content import content as answer_content
from ._model import FakeModel, example_key, find_example
from ._models import EFFORT_THINKING, Rules, effort_of, rules_for, thinking_problem, thinks
from ._strict import strict_tool
from ._structured import slip, structured_schema
from ._tools import ToolSpec, tool_specs
from ._wire import FakeResponse, draw, error_response, tokens

__all__ = ["IMPROVE_TOOL", "JUDGE_TOOL", "Answers", "Attempt"]

_UNSUPPORTED: Final = ("temperature", "top_p", "top_k")
#: How our prompt opens the block of tool schemas a model reads (the fake's own copy: a
#: prompt that stops saying so loses the schemas, and the tests that need them notice).
_SCHEMAS_HEADER: Final = "Parameter schemas (JSON Schema) of the tools this example calls:"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One request as the fake sees it: the example it is about (``None`` when it holds
    none), that example's content key, which request for it this is (1-based) and the
    fault drawn for it."""

    example: dict[str, Any] | None
    key: str
    number: int
    fault: str | None


def _block_texts(content: Any) -> list[str]:
    """Text of a message's content: a string, or text / tool_result blocks."""
    if isinstance(content, str):
        return [content]
    out: list[str] = []
    if isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text":
                out.append(str(block.get("text", "")))
            elif block.get("type") == "tool_result":
                out.extend(_block_texts(block.get("content", "")))
    return out


def _find_in_messages(messages: Sequence[Any]) -> dict[str, Any] | None:
    """The example to work on: the last one in the final user message, else the
    latest earlier user message that holds one (a re-ask carries only errors)."""
    for msg in reversed(messages):
        if isinstance(msg, dict) and msg.get("role") == "user":
            for text in reversed(_block_texts(msg.get("content"))):
                found = find_example(text)
                if found is not None:
                    return found
    return None


def check_payload(payload: Any) -> str | None:
    """What is wrong with a Messages API request body, as the API would say it."""
    if not isinstance(payload, dict):
        return "body must be a JSON object"
    for name in _UNSUPPORTED:
        if name in payload:
            return f"{name}: this parameter is not supported by this model"
    if not isinstance(payload.get("model"), str):
        return "model: field required"
    max_tokens = payload.get("max_tokens")
    if not isinstance(max_tokens, int) or max_tokens < 1:
        return "max_tokens: field required, an integer >= 1"
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in ("user", "assistant"):
            return f"messages.{i}.role: must be 'user' or 'assistant'"
    choice = payload.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "tool":
        names = {t.get("name") for t in payload.get("tools", []) if isinstance(t, dict)}
        if choice.get("name") not in names:
            return f"tool_choice: tool {choice.get('name')!r} is not in tools"
    return None


class Answers:
    """The fake's model side: draws, usage, messages, and the hung requests to release."""

    def __init__(self, config: FakeConfig, model: FakeModel, counters: Counters) -> None:
        self.config = config
        self.model = model
        self.counters = counters
        self._ids = itertools.count(1)
        self._cached: set[str] = set()
        self._hung: set[asyncio.Future[None]] = set()

    def request_id(self) -> str:
        return f"req_fake{next(self._ids):016d}"

    def error(
        self, status: int, kind: str, message: str, headers: dict[str, str] | None = None
    ) -> FakeResponse:
        return error_response(status, kind, message, self.request_id(), headers)

    def draw(self, *parts: object) -> float:
        """A number in [0, 1) fixed by the seed and ``parts`` (see :func:`draw`)."""
        return draw(self.config.seed, *parts)

    # -- one request -----------------------------------------------------------------

    def attempt(self, payload: Mapping[str, Any]) -> Attempt:
        """The example ``payload`` is about, which request for it this is, and the fault
        drawn for it (counted)."""
        example = _find_in_messages(payload["messages"])
        key = example_key(example if example is not None else {"conversations": payload})
        self.counters.per_example[key] += 1
        number = self.counters.per_example[key]
        fault = self._pick("fault", self.config.first_faults, self.config.fault_rates, key, number)
        if fault is not None:
            self.counters.faults[fault] += 1
        return Attempt(example, key, number, fault)

    def bad_output(self, attempt: Attempt) -> str | None:
        return self._pick(
            "bad",
            self.config.first_bad_outputs,
            self.config.bad_output_rates,
            attempt.key,
            attempt.number,
        )

    def hostile(self, attempt: Attempt) -> str | None:
        """The hostile reply drawn for this request (``FakeConfig.hostile_rates``), counted."""
        kind = self._pick("hostile", (), self.config.hostile_rates, attempt.key, attempt.number)
        if kind is not None:
            self.counters.hostile[kind] += 1
        return kind

    def delay(self, attempt: Attempt) -> float:
        """Seconds this reply takes: the latency plus its share of the jitter."""
        jitter = self.config.jitter * self.draw("jitter", attempt.key, attempt.number)
        return self.config.latency + jitter

    def _pick(
        self, what: str, firsts: Sequence[str], rates: Mapping[str, float], key: str, n: int
    ) -> str | None:
        if n <= len(firsts):
            return firsts[n - 1]
        if rates:
            roll = self.draw(what, key, n)
            for kind, rate in rates.items():
                if roll < rate:
                    return kind
                roll -= rate
        return None

    async def hang(self) -> None:
        """Wait ``hang_seconds`` or until :meth:`close`, whichever comes first."""
        release = asyncio.get_running_loop().create_future()
        self._hung.add(release)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(release, self.config.hang_seconds)
        finally:
            self._hung.discard(release)

    def close(self) -> None:
        """Release hung requests (the server calls this when it stops)."""
        for release in list(self._hung):
            release.get_loop().call_soon_threadsafe(_set_done, release)

    # -- usage -----------------------------------------------------------------------

    def usage(self, payload: Mapping[str, Any]) -> dict[str, int]:
        """Input split as the API reports it. A cache mark on a system block caches the
        tools and the system blocks up to that mark (the prefix, in that order); the rest
        is input. A prefix below the floor is not cached at all, silently, as on the API."""
        system, tools = payload.get("system"), payload.get("tools")
        model = str(payload.get("model", ""))
        f = self.factor(model)
        blocks = system if isinstance(system, list) else ([system] if system else [])
        marks = [i for i, b in enumerate(blocks) if isinstance(b, dict) and "cache_control" in b]
        cut = marks[-1] + 1 if marks else 0
        prefix, rest = blocks[:cut], blocks[cut:]
        cached = (tokens(prefix, f) + (tokens(tools, f) if tools else 0)) if marks else 0
        uncached = tokens(payload["messages"], f) + (tokens(rest, f) if rest else 0)
        if marks and cached < self._floor(model):
            self.counters.below_cache_floor += 1
            uncached, cached, marks = uncached + cached, 0, []
        elif not marks and tools:
            uncached += tokens(tools, f)
        out = {
            "input_tokens": uncached,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        if not marks:
            return out
        digest = hashlib.sha256(orjson.dumps([prefix, tools])).hexdigest()
        if digest in self._cached:
            out["cache_read_input_tokens"] = cached
        else:
            self._cached.add(digest)
            out["cache_creation_input_tokens"] = cached
        return out

    def _floor(self, model: str) -> int:
        return (
            self.config.cache_floor
            if self.config.cache_floor is not None
            else (rules_for(model).cache_floor)
        )

    # -- the model's rules -----------------------------------------------------------

    def rules(self, model: str) -> Rules:
        """The model's rules, with the config's overrides (thinking by default)."""
        rules = rules_for(model)
        if self.config.thinking_default is not None:
            rules = dataclasses.replace(rules, thinks_by_default=self.config.thinking_default)
        return rules

    def factor(self, model: str) -> float:
        """Tokens per Haiku 4.5 token for ``model`` (the config's, else the model's)."""
        f = self.config.token_factor
        return f if f is not None else rules_for(model).token_factor

    def thinking_problem(self, payload: dict[str, Any]) -> str | None:
        """The 400 a request gets for its thinking, effort or forced tool (or ``None``)."""
        rules = self.rules(str(payload.get("model", "")))
        refuse = self.config.forced_tool_thinking == "refuse"
        return thinking_problem(payload, rules, forced_refused=refuse)

    def thinking_tokens(self, payload: Mapping[str, Any], attempt: Attempt) -> int:
        """Thinking tokens this answer spends (0 when the model does not think)."""
        rules = self.rules(str(payload.get("model", "")))
        if not thinks(payload, rules):
            return 0
        base = EFFORT_THINKING[effort_of(payload, rules)]
        spent = round(base * (0.5 + self.draw("thinking", attempt.key, attempt.number)))
        thinking = payload.get("thinking")
        budget = thinking.get("budget_tokens") if isinstance(thinking, dict) else None
        return min(spent, budget) if isinstance(budget, int) else spent

    # -- the model -------------------------------------------------------------------

    def message(
        self, payload: Mapping[str, Any], attempt: Attempt, usage: dict[str, int], rid: str
    ) -> dict[str, Any]:
        """The model's answer as a Messages API ``message`` object (bad output included)."""
        choice = payload.get("tool_choice")
        forced = choice.get("name") if isinstance(choice, dict) else None
        forced = forced or _asked_tool(payload)  # tool choice auto: the model does as told
        tool_names = [t.get("name") for t in payload.get("tools", []) if isinstance(t, dict)]
        judge = forced == JUDGE_TOOL or (forced is None and JUDGE_TOOL in tool_names)
        example = attempt.example
        if example is None:
            result: dict[str, Any] = {"error": "no JSON object with 'conversations' found"}
        elif judge:
            result = self.model.judge(example)
        else:
            # What the model is told: the system prompt, and the submit tool's schema.
            told = [
                *_block_texts(payload.get("system") or ""),
                orjson.dumps(payload.get("tools") or []).decode(),
            ]
            result = self.model.improve(
                example, system="\n".join(told), schemas=_request_schemas(payload)
            )
        strict = not judge and strict_tool(payload, forced) is not None
        bad = self.bad_output(attempt)
        if bad == "schema_slip" and (judge or strict):
            bad = None  # strict tool use samples by the schema: it cannot slip
        if strict:
            self.counters.strict_answers += 1
        if bad is not None and bad != "schema_slip":  # a slip is counted once made
            self.counters.bad_outputs[bad] += 1
            if not judge and example is not None and bad in REWRITES:
                result = REWRITES[bad](example, result)
        tool_id = f"toolu_fake{int(self.draw('tool', attempt.key, attempt.number) * 2**48):012x}"
        schema = None if judge else structured_schema(payload, forced)
        content, stop = answer_content(result, forced, judge, bad, tool_id, schema, strict)
        slipped = bad == "schema_slip" and schema is not None and content[0]["type"] == "tool_use"
        if slipped and slip(content[0]["input"], schema or {}):
            self.counters.bad_outputs["schema_slip"] += 1
        content, stop, output_tokens = self._spend(payload, attempt, content, stop)
        self.counters.input_tokens += usage["input_tokens"]
        self.counters.cache_read_tokens += usage["cache_read_input_tokens"]
        self.counters.cache_creation_tokens += usage["cache_creation_input_tokens"]
        self.counters.output_tokens += output_tokens
        return {
            "id": f"msg_fake{rid[8:]}",
            "type": "message",
            "role": "assistant",
            "model": payload["model"],
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {**usage, "output_tokens": output_tokens},
        }

    def _spend(
        self,
        payload: Mapping[str, Any],
        attempt: Attempt,
        content: list[dict[str, Any]],
        stop: str,
    ) -> tuple[list[dict[str, Any]], str, int]:
        """The answer as the model gives it within ``max_tokens``: thinking first (its
        tokens billed as output), the answer cut where the room runs out; a refusal."""
        if stop == "refusal":
            self.counters.refusals += 1
            return [], "refusal", 1
        f = self.factor(str(payload.get("model", "")))
        answer = tokens(content, f)
        thinking = self.thinking_tokens(payload, attempt)
        room = int(payload["max_tokens"])
        if thinking:
            self.counters.thinking_answers += 1
            self.counters.thinking_tokens += min(thinking, room)
            sig = f"sig{int(self.draw('sig', attempt.key, attempt.number) * 2**40):010x}"
            content = [{"type": "thinking", "thinking": "", "signature": sig}, *content]
        if stop == "max_tokens":  # drawn: cut where max_tokens ran out, all of it spent
            self.counters.truncated += 1
            return content, stop, room
        if thinking + answer <= room:
            return content, stop, thinking + answer
        self.counters.truncated += 1  # no room left: cut where the tokens ran out
        kept = (
            [b for b in content if b["type"] == "thinking"]
            if thinking >= room
            else [{**b, "input": {}} if b["type"] == "tool_use" else b for b in content]
        )
        return kept, "max_tokens", room


def _asked_tool(payload: Mapping[str, Any]) -> str | None:
    """The tool a request without a forced tool asks the model to answer with, in its
    system prompt's words ("... calling the tool NAME ..."), when it has that tool."""
    names = {t.get("name") for t in payload.get("tools", []) if isinstance(t, dict)}
    for text in _block_texts(payload.get("system") or ""):
        for match in _ASKED.finditer(text):
            if match[1] in names:
                return match[1]
    return None


_ASKED: Final = re.compile(r"calling the tool (\w+)")


def _request_schemas(payload: Mapping[str, Any]) -> dict[str, ToolSpec] | None:
    """The tool schemas a request gives in its schemas block (a model reads them there)."""
    for text in _block_texts(payload.get("system") or ""):
        if text.startswith(_SCHEMAS_HEADER):
            try:
                return tool_specs(json.loads(text[len(_SCHEMAS_HEADER) :]))
            except (ValueError, TypeError, AttributeError, KeyError):
                return None
    return None


def _set_done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
