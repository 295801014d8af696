"""The fake's deterministic "model": rule-based improvement and rubric scores.

It repairs what its own rubric (``_rubric.py``, from the job's description) finds: context
fields, ids, memory, tool context, goals, unnatural prompts, missing Results, missing
required parameters (from its own reading of the tool schemas, ``_tools.py``), and scores
examples by the same rubric. It imports none of the package's detectors or schemas, so
the tests check those against it. The same input always gives the same output.

Like a model, it follows the system prompt it is given: the seven-field context is
repaired when the prompt describes it (mentions ``sessionMemory``, as the bundled prompt
does for data that has it); otherwise the arguments are the tool's own, and when nothing
else needs repair the assistant's words before the first call are improved, so an answer
is never the original unchanged.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

import orjson

from .._grammar import ToolCall, parse_tool_calls
from .._jsonl import read_records
from .._model import CONTEXT_FIELDS, DIMENSIONS, SESSION_ID_RE, WORKSPACE_ID_RE
from .._text import find_example
from ..dialects import canonical
from ._rubric import findings, poor_goals, poor_memory, poor_prompt, poor_tool_context
from ._tools import ToolSpec, bundled_tools, tool_specs

__all__ = ["FakeModel", "example_key", "find_example"]

_FIELD_DEFAULTS: Final[dict[str, Any]] = {
    "string": "notes/overview.md",
    "number": 1,
    "integer": 1,
    "boolean": True,
    "array": [],
    "object": {},
}


def _value_for(tool: str, name: str, spec: Mapping[str, Any]) -> Any:
    """A plausible value that satisfies the parameter's schema."""
    if tool == "get_tools" and name == "managers":
        return ["contentManager"]
    if spec.get("enum"):
        return spec["enum"][0]
    for option in [spec, *spec.get("anyOf", [])]:
        kind = option.get("type")
        if isinstance(kind, str) and kind in _FIELD_DEFAULTS:
            return _FIELD_DEFAULTS[kind]
    return "x"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _sentence(text: str) -> str:
    text = " ".join(text.split()).rstrip(".")
    return text[:1].lower() + text[1:] if text else text


def _first_user_text(example: Mapping[str, Any]) -> str:
    for msg in example.get("conversations", []):
        if isinstance(msg, dict) and msg.get("role") == "user":
            content = msg.get("content")
            if isinstance(content, str):
                return content
    return ""


def example_key(example: Mapping[str, Any]) -> str:
    """A short content hash of an example's conversations in their canonical rendering
    (its identity for the fake: the prompt shows that rendering, see ``canonical``)."""
    turns = example.get("conversations")
    shaped = isinstance(turns, list) and all(
        isinstance(t, Mapping) and isinstance(t.get("content"), str) for t in turns
    )
    conversations = canonical(example)["conversations"] if shaped else turns
    data = orjson.dumps(conversations, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(data).hexdigest()[:16]


def _lead_in(convs: list[Any], goal: str) -> None:
    """Say what the first call is for before it: the change made when nothing needed
    repair (the data has no context object to improve)."""
    for msg in convs:
        if not isinstance(msg, dict):
            continue
        content = msg.get("content")
        if msg.get("role") == "assistant" and isinstance(content, str):
            at = content.find("tool_call:")
            calls = parse_tool_calls(content)
            mode = re.sub(r"^.*_", "", calls[0].name) if calls else "this"
            lead = (
                f"To {goal}, I'll run {mode} first: its result tells us what the next step "
                "has to work with."
            )
            msg["content"] = f"{lead}\n\n{content[at:] if at >= 0 else content}"
            return


class _Job(NamedTuple):
    """One improvement's facts: the goal phrase, the content seed, whether the prompt asks
    for the seven-field context, and the tool schemas of the example."""

    goal: str
    seed: str
    seven: bool
    schemas: Mapping[str, ToolSpec]


def _required(
    schemas: Mapping[str, ToolSpec], tool: str, args: Mapping[str, Any]
) -> dict[str, Any]:
    """Values for required parameters that are missing or break the tool's schema."""
    schema = schemas.get(tool)
    if schema is None:
        return {}
    fixes: dict[str, Any] = {}
    for name in schema.required:
        if name != "context" and name not in args:
            fixes[name] = _value_for(tool, name, schema.properties.get(name, {}))
    probe = {**args, **fixes}
    for error in schema.validator.iter_errors(probe):
        if error.path and error.path[0] != "context":
            name = str(error.path[0])
            fixes[name] = _value_for(tool, name, schema.properties.get(name, {}))
    return fixes


class FakeModel:
    """Improves and scores examples by rule. ``schemas`` fills missing required
    parameters (``{tool: JSON Schema}`` or a ``ToolRegistry``; the bundled tools by
    default). ``replay`` maps :func:`example_key`
    of an original to a recorded improvement, returned instead of the rule-based one
    (see :meth:`from_pairs`)."""

    def __init__(
        self,
        *,
        schemas: Any = None,
        replay: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.schemas = tool_specs(schemas) if schemas is not None else bundled_tools()
        self.replay = dict(replay or {})
        self.replayed = 0

    @classmethod
    def from_pairs(cls, path: str | os.PathLike[str], *, schemas: Any = None) -> FakeModel:
        """A model that answers known inputs with real recorded improvements: ``path``
        is JSONL of ``{"original": example, "improved": example}``."""
        replay: dict[str, Mapping[str, Any]] = {}
        for pair in read_records(path):
            original, improved = pair.get("original"), pair.get("improved")
            if isinstance(original, dict) and isinstance(improved, dict):
                replay[example_key(original)] = improved
        return cls(schemas=schemas, replay=replay)

    # -- improvement ---------------------------------------------------------

    def improve(
        self,
        example: Mapping[str, Any],
        *,
        system: str | None = None,
        schemas: Mapping[str, ToolSpec] | None = None,
    ) -> dict[str, Any]:
        """A copy of ``example`` with every structural issue repaired and ``label: true``
        (or its recorded improvement, when replaying). ``system`` is the request's system
        prompt (``None``: the seven-field context, as the bundled prompt asks); ``schemas``
        the tool schemas the request gave (they win over the fake's own)."""
        recorded = self.replay.get(example_key(example)) if self.replay else None
        if recorded is not None:
            self.replayed += 1
            return copy.deepcopy(dict(recorded))
        out = copy.deepcopy(dict(example))
        convs = out.get("conversations")
        if not isinstance(convs, list):
            convs = out["conversations"] = []
        job = _Job(
            goal=self._goal(convs),
            seed=_digest(json.dumps(convs, sort_keys=True, default=str)),
            seven=system is None or "sessionMemory" in system,
            schemas={**self.schemas, **schemas} if schemas else self.schemas,
        )
        goal = job.goal
        before = copy.deepcopy(convs)
        prompt_fixed = False
        for msg in convs:
            if not isinstance(msg, dict):
                continue
            content = msg.get("content")
            if msg.get("role") == "user" and isinstance(content, str):
                if poor_prompt(content):
                    msg["content"] = f"Could you {goal} for me?"
                    prompt_fixed = True
            elif msg.get("role") == "assistant" and isinstance(content, str):
                msg["content"] = self._fix_turn(content, job)
        if not any(isinstance(m, dict) and m.get("role") == "user" for m in convs):
            convs.insert(0, {"role": "user", "content": f"Could you {goal} for me?"})
        if not prompt_fixed and not any(
            isinstance(m, dict) and m.get("role") == "assistant" and "tool_call:" in str(m)
            for m in convs
        ):
            convs.append({"role": "assistant", "content": self._new_call(job)})
        if convs == before:
            _lead_in(convs, goal)
        out["label"] = True
        return out

    def _goal(self, convs: list[Any]) -> str:
        """A short imperative phrase for what the user wants."""
        for msg in convs:
            if isinstance(msg, dict) and msg.get("role") == "assistant":
                for call in parse_tool_calls(str(msg.get("content", ""))):
                    ctx = call.context
                    if isinstance(ctx, dict):
                        for key in ("primaryGoal", "subgoal", "sessionDescription"):
                            value = ctx.get(key)
                            if isinstance(value, str) and value.strip():
                                return _sentence(value)
        text = _first_user_text({"conversations": convs})
        if text and not poor_prompt(text):
            return _sentence(text.rstrip("?"))[:120]
        return "organize my notes"

    def _new_call(self, job: _Job) -> str:
        name = next(iter(job.schemas), "contentManager_readContent")
        args: dict[str, Any] = {}
        if job.seven:
            args["context"] = self._context({}, name, job.goal, job.seed)
        args.update(_required(job.schemas, name, args))
        body = json.dumps(args, ensure_ascii=False)
        return f"tool_call: {name}\narguments: {body}\n\nResult: {self._result(name, args)}"

    def _fix_turn(self, content: str, job: _Job) -> str:
        calls = parse_tool_calls(content)
        if not calls:
            return content + ("\n\n" if content else "") + self._new_call(job)
        for call in reversed(calls):  # back to front keeps earlier spans valid
            content = self._fix_call(content, call, job)
        return content

    def _fix_call(self, content: str, call: ToolCall, job: _Job) -> str:
        args = call.arguments if isinstance(call.arguments, dict) else {}
        fixed: dict[str, Any] = {}
        if job.seven:
            fixed["context"] = self._context(args.get("context"), call.name, job.goal, job.seed)
        fixed.update((k, v) for k, v in args.items() if k not in fixed)
        fixed.update(_required(job.schemas, call.name, fixed))
        body = json.dumps(fixed, ensure_ascii=False)
        result = "" if call.has_result else f"\n\nResult: {self._result(call.name, fixed)}"
        if call.arguments_span is None:
            end = call.span[1]
            return f"{content[:end]}\narguments: {body}{result}{content[end:]}"
        start, end = call.arguments_span
        if not call.arguments_at_line_start:
            head = content[:start].rstrip(" ")
            head = head[: -len("arguments:")] if head.endswith("arguments:") else head
            return f"{head.rstrip()}\narguments: {body}{result}{content[end:]}"
        return f"{content[:start]}{body}{result}{content[end:]}"

    def _context(self, ctx: Any, tool: str, goal: str, seed: str) -> dict[str, str]:
        old = ctx if isinstance(ctx, dict) else {}
        digits = str(1731000000000 + int(seed[:8], 16) % 10**9)
        out = {f: old.get(f) for f in CONTEXT_FIELDS}
        if not (isinstance(out["sessionId"], str) and SESSION_ID_RE.fullmatch(out["sessionId"])):
            out["sessionId"] = f"session_{digits}_{seed[8:17]}"
        wid = out["workspaceId"]
        if not (isinstance(wid, str) and WORKSPACE_ID_RE.fullmatch(wid)):
            out["workspaceId"] = f"ws_{digits}_{seed[17:26]}"
        desc = out["sessionDescription"]
        if not isinstance(desc, str) or not desc.strip():
            out["sessionDescription"] = f"Helping the user {goal}"
        if poor_memory(out["sessionMemory"]):
            out["sessionMemory"] = (
                f"The user asked to {goal}; no earlier tool call in this session has "
                "touched these notes yet, so the current state is unknown."
            )
        primary, sub = out["primaryGoal"], out["subgoal"]
        if poor_goals(primary, sub, tool):
            out["primaryGoal"] = goal[:1].upper() + goal[1:]
            out["subgoal"] = "Gather the current state first so later steps act on facts"
        if poor_tool_context(out["toolContext"], tool):
            out["toolContext"] = (
                f"This step is needed to {goal}, because later steps depend on what it returns."
            )
        return {k: v if isinstance(v, str) else str(v) for k, v in out.items()}

    @staticmethod
    def _result(tool: str, args: Mapping[str, Any]) -> str:
        data = {k: v for k, v in args.items() if k != "context" and isinstance(v, str | int)}
        mode = re.sub(r"^.*_", "", tool)
        return json.dumps({"success": True, "data": {"operation": mode, **data}})

    # -- judging -------------------------------------------------------------

    def judge(self, example: Mapping[str, Any]) -> dict[str, Any]:
        """Rubric scores from the fake's own findings: 1-5 per dimension, notes, overall."""
        found = findings(example)
        costs = {
            "sessionMemory_quality": ("memory", 1),
            "toolContext_quality": ("tool_context", 2),
            "goal_coherence": ("goals", 2),
            "prompt_naturalness": ("prompt", 2),
            "response_realism": ("result", 2),
        }
        scores: dict[str, Any] = {}
        for dim in DIMENSIONS:
            kind, low = costs[dim]
            scores[dim] = low if kind in found else 5 if not found else 4
        if found.keys() & {"context", "broken"}:
            scores["response_realism"] = 1
        overall = round(sum(scores[d] for d in DIMENSIONS) / len(DIMENSIONS), 1)
        notes = "; ".join(found.values()) or "No issues found."
        return {"notes": notes, **scores, "overall_quality": overall}
