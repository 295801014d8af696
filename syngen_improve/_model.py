"""The data model of a dataset example (pydantic v2, lossless).

Models are strict (no coercion) and keep unknown keys, so
``Example.from_dict(d).to_dict() == d`` for every example that validates.
The pipeline itself reads plain dicts for speed; these models are for users who
build or inspect examples, and for the improve step's structured output.
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    ValidatorFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from ._conventions import (
    CONTEXT_FIELDS,
    DIMENSIONS,
    SESSION_ID_RE,
    WORKSPACE_ID_RE,
    iter_tool_calls,
)
from ._grammar import ToolCall, parse_tool_calls

__all__ = [
    "CONTEXT_FIELDS",
    "DIMENSIONS",
    "SESSION_ID_RE",
    "WORKSPACE_ID_RE",
    "Context",
    "Example",
    "Message",
    "QualityScores",
    "iter_tool_calls",
]


class _Model(BaseModel):
    """Strict, keeps unknown keys, and dumps keys in the order they were read."""

    model_config = ConfigDict(extra="allow", strict=True)
    _key_order: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _remember_key_order(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        model = handler(data)
        if isinstance(data, dict) and isinstance(model, _Model):
            model._key_order = tuple(data)
        return model

    @model_serializer(mode="wrap")
    def _dump_in_key_order(self, handler: SerializerFunctionWrapHandler) -> Any:
        out = handler(self)
        if not self._key_order or not isinstance(out, dict):
            return out
        ordered = {k: out[k] for k in self._key_order if k in out}
        ordered.update(out)
        return ordered


class Message(_Model):
    """One turn of a conversation."""

    role: str
    content: str

    def tool_calls(self) -> list[ToolCall]:
        """The tool calls in this turn (empty unless it is an assistant turn)."""
        return parse_tool_calls(self.content) if self.role == "assistant" else []


class QualityScores(_Model):
    """The judge's 1-5 scores, their mean and the judge's notes."""

    notes: str | None = None
    sessionMemory_quality: int | float | None = None
    toolContext_quality: int | float | None = None
    goal_coherence: int | float | None = None
    prompt_naturalness: int | float | None = None
    response_realism: int | float | None = None
    overall_quality: int | float | None = None


class Context(_Model):
    """The context object: the first key of every tool call's arguments."""

    sessionId: str
    workspaceId: str
    sessionDescription: str
    sessionMemory: str
    toolContext: str
    primaryGoal: str
    subgoal: str


class Example(_Model):
    """A training example: a conversation, its label and its quality scores."""

    conversations: list[Message]
    label: bool | None = None
    quality_scores: QualityScores | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Example:
        """Validate a decoded JSON object (raises ``pydantic.ValidationError``)."""
        return cls.model_validate(data)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object again, with exactly the keys that were given."""
        return self.model_dump(exclude_unset=True)

    def tool_calls(self) -> list[ToolCall]:
        """All tool calls of all assistant turns, in order."""
        return [call for m in self.conversations for call in m.tool_calls()]
