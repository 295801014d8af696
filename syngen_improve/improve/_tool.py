"""The submit tool of a run: structured answers, strict where it can be, and the way back
when the API refuses the strict grammar.

The tool's input schema is the answer schema (``prompts._structured``): one for every
request of a run, so the tools block is part of the cached prefix. Strict tool use makes
the API constrain the answer to that schema; it is used when the run asks for it (``on``)
or the model is documented to take it (``auto``) and the schema fits the strict subset.
The API may still refuse the grammar (too large) with a 400: the run then goes on
without strict (:meth:`AnswerTool.fall_back`) and the report says why. Until a strict
request has been answered, strict requests go one at a time (:meth:`AnswerTool.turn`), so
a refusal costs one request, not one per request in flight.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ..config import StrictTools
from ..context import ContextConvention
from ..errors import StrictToolWarning
from ..llm._models import strict_tools_supported
from ..prompts import improve_tool
from ..prompts._strict import strict_schema
from ..prompts._structured import answer_schema
from ..validate import ToolRegistry

__all__ = ["AnswerTool"]


class AnswerTool:
    """The run's submit tool (``tool``), strict or not (``strict``), and ``reason``: why
    strict is not used (``None`` when it is)."""

    def __init__(
        self,
        model: str,
        mode: StrictTools,
        catalogue: ToolRegistry | None,
        context: ContextConvention,
        *,
        probe: bool = True,
        sends_strict: bool = True,
    ) -> None:
        self.mode = mode
        # Batches wait together: one request at a time would be one batch at a time.
        self._confirmed = not probe
        self._probe = asyncio.Lock()
        self.loose = improve_tool(answer_schema(catalogue, context))
        self.refusals = 0
        self.reason: str | None = None
        self.tool = self.loose
        if mode == "off":
            self.reason = "turned off for this run (strict_tools='off')"
            return
        if not sends_strict:
            self.reason = "the backend does not send strict tool use (chat completions)"
            return
        if mode == "auto" and not strict_tools_supported(model):
            self.reason = f"{model} is not documented to take strict tool use"
            return
        schema, why = strict_schema(answer_schema(catalogue, context, result_as_text=True))
        if schema is None:
            self.reason = why
            return
        self.tool = improve_tool(schema, strict=True)

    @property
    def strict(self) -> bool:
        return self.tool is not self.loose

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Around a request: while no strict request has been answered, one at a time
        (read :attr:`tool` inside, it may have fallen back meanwhile)."""
        if not self.strict or self._confirmed:
            yield
            return
        async with self._probe:
            if not self.strict or self._confirmed:
                waited = True
            else:
                waited = False
                yield
                self._confirmed = True  # the API took the strict schema
        if waited:
            yield

    def fall_back(self, why: str) -> None:
        """Go on without strict after the API refused the strict tool (counted; a warning
        the first time)."""
        self.refusals += 1
        if self.strict:
            self.tool = self.loose
            self.reason = f"the API refused the strict schema, the run went on without: {why}"
            warnings.warn(f"strict tool use is off: {self.reason}", StrictToolWarning, stacklevel=3)

    def to_dict(self) -> dict[str, Any]:
        """What the report shows."""
        return {
            "answers": "structured",
            "strict_tools": self.mode,
            "strict": self.strict,
            "reason": self.reason,
            "strict_refusals": self.refusals,
        }
