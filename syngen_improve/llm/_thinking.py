"""Thinking and effort: what a request says about them, valid for its model under every
reading of the documentation.

Claude 5.x models think by default (adaptive thinking, effort ``medium`` on Haiku 5.5);
thinking tokens count toward ``max_tokens`` and are billed as output. The extended-thinking
pages say a request that forces a tool while thinking is on is refused (400), the newer
adaptive-thinking page says it is allowed. Our requests force a tool (the submit tool,
the judge's scores), so a request is built to be valid under both readings:

- thinking off (``thinking: {"type": "disabled"}`` where the model thinks by default and
  can stop at the effort in use): the tool stays forced;
- thinking on (asked for, or a model that cannot stop thinking): ``tool_choice`` ``auto``
  and one line telling the model to answer with the tool (the answer is still read from
  the tool, or from JSON text);
- ``budget_tokens`` only where the model has extended thinking (never on a 5.x model,
  where it is a 400).

The default, ``auto``, is thinking off wherever the model allows it: rewriting an example
under a schema needs no reasoning budget, and off costs least. Where the API refuses a
request for its thinking or tool choice anyway (a gateway's model alias, a model the
table does not know), :meth:`RequestShape.refused` switches the run once to the other
valid form; for a model the table does not know, requests go one at a time until one
has been answered, so that costs at most one refused request.
"""

from __future__ import annotations

import asyncio
import dataclasses
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import ThinkingWarning, UsageError, option
from ._backend import BackendError, Request
from ._models import EFFORTS, THINKING_ASSUMED, THINKING_BUDGETS, ModelInfo

__all__ = ["RequestShape", "Thinking", "ThinkingMode"]

ThinkingMode = Literal["auto", "on", "off"]


@dataclass(frozen=True, slots=True)
class Thinking:
    """What a run asks of thinking: ``mode`` ``auto`` (off where the model allows it),
    ``on`` or ``off``; ``effort`` one of :data:`EFFORTS` or ``None`` (the model's
    default, not sent)."""

    mode: ThinkingMode = "auto"
    effort: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("auto", "on", "off"):
            raise UsageError(
                f"{option('--thinking', 'thinking=')} must be auto, on or off, got {self.mode!r}"
            )
        if self.effort is not None and self.effort not in EFFORTS:
            raise UsageError(
                f"{option('--effort', 'effort=')} must be one of "
                f"{', '.join(EFFORTS)}, got {self.effort!r}"
            )


def _plan(info: ModelInfo, asked: Thinking) -> tuple[dict[str, Any] | None, bool, int, str]:
    """(the ``thinking`` parameter or ``None``, whether the tool is forced, the thinking
    tokens set aside, why) for ``asked`` on ``info``; a :class:`UsageError` naming the
    option when the model cannot do it."""
    effort, mode = asked.effort, asked.mode
    if effort is not None and info.known and effort not in info.efforts:
        takes = ", ".join(info.efforts) if info.efforts else "no effort levels"
        raise UsageError(f"{option('--effort', 'effort=')} {effort}: {info.model} takes {takes}")
    level = effort or info.default_effort or "medium"
    if info.thinking == "extended":
        if mode == "on":
            budget = THINKING_BUDGETS[level]
            return {"type": "enabled", "budget_tokens": budget}, False, budget, "asked for"
        return None, True, 0, f"{info.model} thinks only when asked"
    if info.thinking == "none" and info.known:
        if mode == "on":
            raise UsageError(f"{option('--thinking', 'thinking=')} on: {info.model} does not think")
        return None, True, 0, f"{info.model} does not think"
    if not info.known:
        if mode == "on":
            return {"type": "adaptive"}, False, THINKING_BUDGETS[level], "asked for"
        return None, True, 0, f"{info.model} is not in the capability table: nothing sent"
    can_stop = info.can_disable_thinking(effort)
    if mode == "off" and not can_stop:
        when = (
            f"at effort {level} (only at {', '.join(sorted(info.disable_efforts))})"
            if info.disable_efforts
            else "at any effort: it always thinks"
        )
        raise UsageError(
            f"{option('--thinking', 'thinking=')} off: {info.model} cannot stop thinking {when}"
        )
    if mode == "on" or not can_stop:
        why = "asked for" if mode == "on" else f"{info.model} always thinks at effort {level}"
        return {"type": "adaptive"}, False, THINKING_BUDGETS[level], why
    if info.thinks_by_default:
        return {"type": "disabled"}, True, 0, "off: the answer needs no reasoning budget"
    return None, True, 0, f"{info.model} thinks only when asked"


class RequestShape:
    """A run's thinking, effort and tool choice for one model, applied to each request by
    the engine (:meth:`apply`); switched once when the API refuses them (:meth:`refused`)."""

    def __init__(
        self,
        info: ModelInfo,
        asked: Thinking | None = None,
        *,
        probe: bool = True,
        ttl: Literal["5m", "1h"] = "5m",
        sends_thinking: bool = True,
    ) -> None:
        self.info = info
        self.ttl = ttl
        self.asked = asked or Thinking()
        self.thinking, self.forced, self.budget, self.reason = _plan(info, self.asked)
        self.effort = self.asked.effort
        if not sends_thinking and info.thinks_by_default and self.thinking is not None:
            # A backend that cannot say "thinking" (chat completions): the model thinks
            # as it does by default, and a forced tool would be refused with it on.
            self.thinking, self.forced = None, False
            self.budget = max(self.budget, THINKING_BUDGETS[self.effort_level()])
            self.reason = "the backend cannot send thinking: the model's default, tool choice auto"
        self.refusals = 0
        self.switched: str | None = None
        self._confirmed = not probe
        self._probe = asyncio.Lock()

    def effort_level(self) -> str:
        """The effort the model works at (the one sent, else its default)."""
        return self.effort or self.info.default_effort or "medium"

    @property
    def thinks(self) -> bool:
        """Whether the model may think on these requests (on, or on by default)."""
        if self.thinking is not None:
            return self.thinking.get("type") != "disabled"
        return self.info.thinks_by_default

    @property
    def assumed_thinking_tokens(self) -> int:
        """Thinking tokens a request is assumed to spend (0 when it does not think)."""
        return THINKING_ASSUMED[self.effort_level()] if self.thinks else 0

    def apply(self, request: Request) -> Request:
        """``request`` as this run sends it: its thinking and effort, its tool forced or
        not, ``max_tokens`` raised by the thinking budget (up to the model's maximum)."""
        if (
            request.tool_choice is None
            and self.thinking is None
            and self.effort is None
            and request.cache_ttl == self.ttl
        ):
            return request
        max_tokens = min(request.max_tokens + self.budget, self.info.max_output)
        return dataclasses.replace(
            request,
            thinking=self.thinking,
            effort=self.effort,
            cache_ttl=self.ttl,
            force_tool=self.forced,
            max_tokens=max(max_tokens, request.max_tokens),
        )

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Around a request: until one has been answered, one at a time (so a refusal of
        the shape costs one request, not one per request in flight)."""
        if self._confirmed:
            yield
            return
        async with self._probe:
            if self._confirmed:
                waited = True
            else:
                waited = False
                yield
                self._confirmed = True
        if waited:
            yield

    def refused(self, error: BackendError, sent: Request) -> bool:
        """Whether a 400 refused ``sent`` for its thinking or tool choice, so that it goes
        again as the run now sends requests: the first such refusal switches the run to
        the other valid form; one for a request sent before the switch (a batch, requests
        in flight) is re-sent as it is now; one after the switch is the request's own."""
        text = str(error).lower()
        if error.status != 400 or ("thinking" not in text and "effort" not in text):
            return False
        if self.switched is not None:
            stale = (sent.thinking, sent.effort, sent.force_tool) != (
                self.thinking,
                self.effort,
                self.forced,
            )
            self.refusals += stale
            return stale
        self.refusals += 1
        before = self.describe()
        if self.forced:  # thinking is on after all: let the model choose the tool
            self.forced = False
            if self.thinking is not None and self.thinking.get("type") == "disabled":
                self.thinking = None
            self.budget = max(self.budget, THINKING_BUDGETS[self.effort_level()])
        elif self.thinking is not None:  # our thinking parameter itself was refused
            self.thinking = None
        else:
            self.effort = None
        self.switched = (
            f"the API refused {before} ({error.message}); the run went on with {self.describe()}"
        )
        warnings.warn(f"thinking settings changed: {self.switched}", ThinkingWarning, stacklevel=2)
        return True

    def describe(self) -> str:
        """The settings in words (for the report and the warning)."""
        think = (
            "the model's default thinking"
            if self.thinking is None
            else (f"thinking {self.thinking['type']}")
        )
        tool = "a forced tool" if self.forced else "tool choice auto"
        effort = f" at effort {self.effort}" if self.effort else ""
        return f"{think}{effort} with {tool}"

    def to_dict(self) -> dict[str, Any]:
        """What the report shows (``thinking``)."""
        return {
            "asked": self.asked.mode,
            "effort": self.effort or self.info.default_effort,
            "thinking": None if self.thinking is None else self.thinking.get("type"),
            "thinks": self.thinks,
            "tool_choice": "tool" if self.forced else "auto",
            "thinking_budget": self.budget,
            "reason": self.reason,
            "switched": self.switched,
            "refusals": self.refusals,
            "assumed_thinking_tokens": self.assumed_thinking_tokens,
        }
