"""Validation rules: each with a stable code, a level, and a message template.

Two profiles: ``compatible`` (what the dataset's own validator checks) and
``strict`` (adds the quality standards an improved example must meet). Rules
are either *structural* (the example cannot be read as intended) or about
*content*; a ``label: false`` example fails only on structural errors, since
bad content is what makes it the undesirable side of a pair.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from .._grammar import ToolCall, shared_tool_calls
from ..context._convention import SEVEN_FIELDS, ContextConvention
from ..errors import UsageError
from ._schemas import ToolRegistry

__all__ = ["RULES", "Issue", "Level", "Profile", "Rule", "example_fails", "validate_example"]

Profile = Literal["compatible", "strict"]


class Level(enum.StrEnum):
    """How serious an issue is: errors fail an example, warnings do not."""

    ERROR = "ERROR"
    WARN = "WARN"


@dataclass(frozen=True, slots=True)
class Rule:
    """A check: its stable code, short name, level, and whether it is structural."""

    code: str
    name: str
    level: Level
    structural: bool
    summary: str


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {r.code: r for r in rules}


E, W = Level.ERROR, Level.WARN
RULES: Final = _rules(
    Rule("S101", "conversations-missing", E, True, "`conversations` is missing or not a list"),
    Rule("S102", "conversations-empty", E, True, "`conversations` is an empty list"),
    Rule("S103", "no-user-turn", E, True, "no turn has role `user`"),
    Rule("S104", "bad-role", E, True, "a role is not system, user or assistant"),
    Rule("S105", "content-not-string", E, True, "a turn's content is not a string"),
    Rule("S106", "assistant-empty", E, True, "an assistant turn is empty"),
    Rule("S107", "no-tool-call", W, True, "an assistant turn has no `tool_call:`"),
    Rule("S110", "tool-call-syntax", E, True, "`tool_call:` is not followed by a space and a name"),
    Rule("S111", "tool-name-style", W, True, "the tool name is not `manager_mode`"),
    Rule("S112", "arguments-missing", E, True, "a tool call has no `arguments:`"),
    Rule("S113", "arguments-not-at-line-start", E, True, "`arguments:` does not start a line"),
    Rule("S114", "arguments-not-object", E, True, "the arguments are not a JSON object"),
    Rule("C201", "context-missing", E, False, "the arguments have no context object"),
    Rule("C202", "context-not-first", E, False, "the context object is not the first argument"),
    Rule("C203", "context-field-missing", E, False, "a context field is missing"),
    Rule("C204", "session-id-format", E, False, "sessionId is not session_<13 digits>_<9 chars>"),
    Rule("C205", "workspace-id-format", E, False, "workspaceId is not ws_<13 digits>_<9 chars>"),
    Rule("C206", "context-field-format", E, False, "a context field breaks its pattern"),
    Rule("P301", "unknown-tool", W, False, "the tool is not in the schema registry"),
    Rule("P302", "required-param-missing", E, False, "a required parameter is missing"),
    Rule("P303", "unexpected-param", W, False, "a parameter the tool does not define"),
    Rule("P304", "get-tools-managers", E, False, "get_tools needs a `managers` array"),
    Rule("R401", "result-malformed", E, True, "`Result:` is not followed by a JSON object"),
    Rule("R402", "result-missing", W, False, "a tool call has no `Result:` (ERROR when strict)"),
    Rule("R403", "result-before-arguments", E, True, "`Result:` comes before `arguments:`"),
    Rule("R404", "result-is-text", W, False, "`Result:` is a JSON string, not an object"),
    Rule("L501", "label-not-bool", E, True, "`label` is not true or false"),
    Rule("L502", "label-missing", W, False, "the example has no `label`"),
    Rule("Q601", "context-field-not-string", E, False, "strict: a context field is not a string"),
    Rule("Q602", "context-field-empty", E, False, "strict: a context field is blank"),
    Rule("Q603", "param-type", E, False, "strict: a parameter value breaks the tool's schema"),
)
del E, W

_ROLES: Final = frozenset({"system", "user", "assistant"})
_ALWAYS_ALLOWED: Final = frozenset({"workspaceContext"})
#: The seven-field convention's own codes for its two id patterns (C206 for any other).
_ID_CODES: Final = {"sessionId": "C204", "workspaceId": "C205"}
_NAME_STYLE_OK: Final = frozenset({"get_tools"})


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in an example, with where it is.

    ``turn`` and ``call`` are 1-based (the turn in ``conversations``, the tool
    call within that turn); ``line`` is the input line when known.
    """

    code: str
    level: Level
    message: str
    line: int | None = None
    turn: int | None = None
    call: int | None = None

    @property
    def rule(self) -> Rule:
        return RULES[self.code]

    def location(self, *, with_line: bool = True) -> str:
        """``line N, turn T, call C`` (the parts that are known)."""
        parts = []
        if with_line and self.line is not None:
            parts.append(f"line {self.line}")
        if self.turn is not None:
            parts.append(f"turn {self.turn}")
        if self.call is not None:
            parts.append(f"call {self.call}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        return f"{where + ': ' if where else ''}{self.level} {self.code} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": RULES[self.code].name,
            "level": str(self.level),
            "message": self.message,
            "line": self.line,
            "turn": self.turn,
            "call": self.call,
        }


class _Collector:
    __slots__ = ("context", "issues", "line", "strict", "turn")

    def __init__(self, line: int | None, strict: bool, context: ContextConvention) -> None:
        self.issues: list[Issue] = []
        self.line = line
        self.strict = strict
        self.context = context
        self.turn: int | None = None

    def add(self, code: str, message: str, call: int | None = None, *, error: bool = False) -> None:
        level = Level.ERROR if error else RULES[code].level
        self.issues.append(Issue(code, level, message, self.line, self.turn, call))


def _check_call(c: _Collector, call: ToolCall, content: str, schemas: ToolRegistry) -> None:
    n = call.index + 1
    name = call.name
    if not name or not call.space_after_colon:
        c.add("S110", f"`tool_call:` must be followed by a space and a name, got {name!r}", n)
    elif name not in _NAME_STYLE_OK and "_" not in name.strip("_"):
        c.add("S111", f"tool name {name!r} is not in manager_mode form", n)
    if call.arguments_error == "arguments: missing":
        c.add("S112", "no `arguments:` after the tool call", n)
        return
    if not call.arguments_at_line_start:
        c.add("S113", "`arguments:` must start a line", n)
    args = call.arguments
    if not isinstance(args, dict) or call.arguments_span is None:
        c.add("S114", call.arguments_error or "arguments are not a JSON object", n)
        return
    if "Result:" in content[call.span[0] : call.arguments_span[0]]:
        c.add("R403", "`Result:` appears before `arguments:`", n)
    if call.has_result:
        if call.result_error is not None:
            c.add("R401", call.result_error, n)
        elif isinstance(call.result, str):
            c.add("R404", "the Result is plain text (a JSON string), not an object", n)
    else:
        c.add("R402", "no `Result:` after the arguments", n, error=c.strict)
    if c.context.active:
        _check_context(c, args, n)
    _check_params(c, name, args, schemas, n)


def _check_context(c: _Collector, args: dict[str, Any], n: int) -> None:
    conv = c.context
    key = conv.key
    ctx = args.get(key)
    if not isinstance(ctx, dict):
        what = "missing" if ctx is None else f"a {type(ctx).__name__}, not an object"
        c.add("C201", f"`{key}` is {what}", n)
        return
    first = next(iter(args))
    if conv.first and first != key:
        c.add("C202", f"`{key}` must be the first key of the arguments, not {first!r}", n)
    for fld in conv.fields:
        if fld not in ctx:
            c.add("C203", f"{key} field {fld!r} is missing", n)
            continue
        value = ctx[fld]
        if c.strict:
            if not isinstance(value, str):
                c.add("Q601", f"{key}.{fld} must be a string, not {type(value).__name__}", n)
            elif not value.strip():
                c.add("Q602", f"{key}.{fld} must not be blank", n)
        if conv.mismatch(fld, value):
            code = _ID_CODES.get(fld, "C206") if conv is SEVEN_FIELDS else "C206"
            c.add(code, f"{fld} {value!r} does not match {conv.patterns[fld]}", n)


def _check_params(
    c: _Collector, name: str, args: dict[str, Any], schemas: ToolRegistry, n: int
) -> None:
    key = c.context.key
    if name == "get_tools" and not isinstance(args.get("managers"), list):
        c.add("P304", "get_tools needs a `managers` array", n)
    tool = schemas.get(name)
    if tool is None:
        if name:
            c.add("P301", f"unknown tool {name!r}", n)
        return
    for req in tool.required:
        if req not in args and req != key:
            c.add("P302", f"{name} requires parameter {req!r}", n)
    props = tool.properties
    if props:
        for arg in args:
            if arg not in props and arg != key and arg not in _ALWAYS_ALLOWED:
                c.add("P303", f"{name} has no parameter {arg!r}", n)
    if c.strict:
        params = {k: v for k, v in args.items() if k != key} if key in args else args
        if tool.surely_valid(params):
            return
        schema_params = {k: v for k, v in props.items() if k != key}
        for err in tool.validator.iter_errors(params):
            # Missing and unexpected keys are P302/P303; report type/enum errors here.
            if err.validator == "required" or (err.path and err.path[0] not in schema_params):
                continue
            where = ".".join(str(p) for p in err.path) or "arguments"
            c.add("Q603", f"{name}: {where}: {err.message}", n)


def check_profile(profile: str) -> None:
    """Raise ``ValueError`` unless ``profile`` names a profile."""
    if profile not in ("compatible", "strict"):
        raise UsageError(f"'profile' must be 'compatible' or 'strict', got {profile!r}")


def validate_example(
    example: Mapping[str, Any],
    *,
    profile: Profile = "compatible",
    schemas: ToolRegistry | None = None,
    line: int | None = None,
    context: ContextConvention = SEVEN_FIELDS,
) -> list[Issue]:
    """All issues of one example (a decoded JSON object), in reading order; the context
    rules (C2xx, Q601/Q602) follow ``context`` (:data:`NO_CONTEXT` has none)."""
    check_profile(profile)
    registry = schemas if schemas is not None else ToolRegistry.default()
    if "tools" in example:  # the row's own tool definitions count too
        registry = registry.with_row_tools(example["tools"])
    c = _Collector(line, profile == "strict", context)
    convs = example.get("conversations")
    if not isinstance(convs, list):
        c.add("S101", "`conversations` is missing or not a list")
    elif not convs:
        c.add("S102", "`conversations` is empty")
    else:
        has_user = False
        for i, msg in enumerate(convs, start=1):
            c.turn = i
            if not isinstance(msg, Mapping):
                c.add("S104", f"turn is a {type(msg).__name__}, not an object")
                continue
            role = msg.get("role")
            content = msg.get("content")
            if role not in _ROLES:
                c.add("S104", f"role {role!r} is not system, user or assistant")
            has_user = has_user or role == "user"
            if not isinstance(content, str):
                c.add("S105", f"content is {type(content).__name__}, not a string")
                continue
            if role != "assistant":
                continue
            if not content.strip():
                c.add("S106", "assistant content is empty")
                continue
            calls = shared_tool_calls(content)
            if not calls:
                c.add("S107", "assistant turn has no `tool_call:`")
            for call in calls:
                _check_call(c, call, content, registry)
        c.turn = None
        if not has_user:
            c.add("S103", "no user turn")
    if "label" not in example:
        c.add("L502", "no `label`")
    elif not isinstance(example["label"], bool):
        c.add("L501", f"label must be true or false, not {example['label']!r}")
    return c.issues


def example_fails(example: Mapping[str, Any], issues: list[Issue]) -> bool:
    """Whether the issues fail the example: any error, but only structural ones when
    ``label`` is false."""
    undesirable = example.get("label") is False
    return any(
        i.level is Level.ERROR and (not undesirable or RULES[i.code].structural) for i in issues
    )
