"""The parts of the config's declarations: field checks, help texts, the keyword
shortcuts to fields of the composed objects, and the coercion of strings and paths."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any, Final, TypeVar

from .._declare import Declared, Group, in_range, instance_of
from ..context import ContextConvention
from ..errors import UsageError, option
from ..llm import Pricing
from ..llm._connect import header_pairs
from ..prompts import Templates
from ..validate import ToolRegistry

__all__ = [
    "CONTEXT_HELP",
    "DIALECT_HELP",
    "POSITIVE_INT",
    "READ_BY",
    "SHORTCUTS",
    "apply_options",
    "check_context",
    "check_folder",
    "check_headers",
    "check_model_id",
    "check_policy",
    "check_shard",
    "coerce",
    "parse_shard",
    "refuse_unread",
]


def _short(group: Group, flag: str, metavar: str, help: str) -> Declared:
    """A shortcut's option: a number, checked by the object it sets (naming its field)."""
    return Declared(group, help, lambda name, value: None, flag, metavar, kind=float)


TIMEOUT_HELP = (
    "seconds one request may take before it is retried (default: adapted to the latencies "
    "seen, 4x their 99th percentile, 2 to 120 s)"
)
PATIENCE_HELP = (
    "seconds to wait out a service that fails every request before stopping (exit 75, "
    "resumable; default 300)"
)
#: Keyword shortcuts: name -> (the composed field it sets, that object's field, its option).
SHORTCUTS: Final[dict[str, tuple[str, str, Declared]]] = {
    "rpm": ("limits", "rpm", _short("client", "--rpm", "R", "requests per minute")),
    "tpm": ("limits", "input_tpm", _short("client", "--tpm", "T", "input tokens per minute")),
    "output_tpm": (
        "limits",
        "output_tpm",
        _short("client", "--output-tpm", "T", "output tokens per minute"),
    ),
    "timeout": ("retry", "timeout", _short("client", "--timeout", "S", TIMEOUT_HELP)),
    "patience": ("breaker", "patience", _short("client", "--patience", "S", PATIENCE_HELP)),
    "overall_below": (
        "policy",
        "overall_below",
        _short("request", "--overall-below", "X", "poor when overall_quality < X (default 3.0)"),
    ),
    "memory_at_most": (
        "policy",
        "memory_at_most",
        _short(
            "input", "--memory-at-most", "Y", "poor when sessionMemory_quality <= Y (default 1)"
        ),
    ),
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


def check_model_id(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{name!r} must be a non-empty model id, got {value!r}")


def check_shard(name: str, value: Any) -> None:
    if value is None:
        return
    ok = isinstance(value, tuple) and len(value) == 2
    if not ok or not all(isinstance(v, int) for v in value) or not 1 <= value[0] <= value[1]:
        raise UsageError(f"{name!r} must be (i, n) with 1 <= i <= n, got {value!r}")


def check_policy(name: str, value: Any) -> None:
    if not callable(value):
        raise UsageError(f"{name!r} must be a RelabelPolicy (a callable example -> poor)")


def check_folder(name: str, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise UsageError(f"{name!r} must be a folder (a non-empty path), got {value!r}")


def check_context(name: str, value: Any) -> None:
    instance_of(ContextConvention, "a ContextConvention, a name or a file", optional=True)(
        name, value
    )


POSITIVE_INT = in_range(1, whole=True)
DIALECT_HELP = (
    "the input's dialect (default: decided by its first row): text "
    "(tool_call:/arguments:/Result:), openai (messages, tool_calls), "
    "sharegpt (from/value) or hermes (<tool_call> tags)"
)
CONTEXT_HELP = (
    "the context convention of the tool calls: auto (default: decided by the first 200 "
    "rows), context7 (the seven-field context object), none, or a .toml/.json file "
    "describing your own"
)


#: Who reads each group besides improve_dataset, for the refusal's message.
READ_BY: Final = {
    "request": "the Improver reads those",
    "client": "the Improver and the judge read those",
    "input": "improve_dataset and estimate read those",
    "run": "improve_dataset reads those",
}


def coerce(name: str, value: Any) -> Any:
    """Paths for templates and schemas, ``"I/N"`` for a shard."""
    if name == "templates" and isinstance(value, str | os.PathLike):
        return Templates.from_dir(value)
    if name == "schemas" and isinstance(value, str | os.PathLike):
        return ToolRegistry.load(value)
    if name == "shard" and isinstance(value, str):
        return parse_shard(value)
    if name == "cache_dir" and isinstance(value, os.PathLike):
        return os.fspath(value)
    if name == "price" and isinstance(value, str):
        return Pricing.parse(value)
    if name == "headers" and isinstance(value, Mapping | list | tuple):
        return header_pairs(value, source=option("--header", "headers"))
    return value


def check_headers(name: str, value: Any) -> None:
    ok = isinstance(value, tuple) and all(
        isinstance(p, tuple) and len(p) == 2 and all(isinstance(i, str) for i in p) for p in value
    )
    if not ok:
        raise UsageError(f"{name!r} must be a mapping of header names to values")


C = TypeVar("C")


def apply_options(config: C, options: Mapping[str, Any]) -> C:
    """``config`` (a frozen dataclass) with ``options`` set: its fields (coerced), or the
    :data:`SHORTCUTS` to a field of one of its composed objects."""
    if not options:
        return config
    names = {f.name for f in dataclasses.fields(config)}  # type: ignore[arg-type]
    changes: dict[str, Any] = {}
    parts: dict[str, dict[str, Any]] = {}  # composed field -> its fields to set
    for name, value in options.items():
        if name in SHORTCUTS:
            part, field_name, _ = SHORTCUTS[name]
            parts.setdefault(part, {})[field_name] = value
        elif name == "max_attempts":
            raise UsageError(
                "'max_attempts' is now 'answers' (answers per example, first plus "
                "re-asks); HTTP retries are retry=RetryPolicy(max_attempts=...)"
            )
        elif name not in names:
            known = ", ".join(sorted(names | set(SHORTCUTS)))
            raise UsageError(f"unknown option {name!r}; the options are: {known}")
        else:
            changes[name] = coerce(name, value)
    for part, values in parts.items():
        base = changes.get(part, getattr(config, part))
        changes[part] = dataclasses.replace(base, **values)
    return dataclasses.replace(config, **changes)  # type: ignore[type-var]


def refuse_unread(config: Any, reader: str, reads: frozenset[str]) -> None:
    """A :class:`UsageError` for an option of ``config`` set away from its default that
    ``reader`` does not read (``reads``: the names it does)."""
    for f in dataclasses.fields(config):
        if f.name in reads:
            continue
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if getattr(config, f.name) != default:
            group = f.metadata["declared"].group
            raise UsageError(
                f"{reader} does not read {f.name!r} (a {group} option; "
                f"{READ_BY[group]}): leave it out"
            )
