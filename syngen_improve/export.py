"""Training formats that load in Hugging Face ``datasets`` without type errors.

``datasets`` infers one Arrow type per column and fails when a column's type changes
between rows, so every format writes a fixed set of columns with fixed types and
drops the metadata (``quality_scores``, ``_index``, ...) whose shape varies:

- ``chatml``: ``conversations`` (list of {role, content}) and ``label`` (bool): the seed's format;
- ``kto``: ``prompt``, ``completion`` (strings) and ``label``: TRL's standard KTO format;
- ``kto-conversational``: ``prompt``, ``completion`` (lists of {role, content}) and ``label``;
- ``sft``: ``messages`` (list of {role, content}), desirable rows only: TRL's
  conversational SFT format.

The split for KTO: everything up to and including the last user turn is the prompt,
the assistant turns after it are the completion. ``tools=True`` adds a ``tools``
column: a JSON string (not nested objects, whose shape differs per tool) holding the
JSON schemas of the tools the row calls.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import orjson

from ._conventions import iter_tool_calls
from ._jsonl import JsonlWriter, Malformed, read_jsonl, write_jsonl_atomic
from ._paths import refuse_overwrite
from .dialects import FileDialect
from .errors import InputNotFound, InvalidInput, UsageError
from .validate import ToolRegistry

__all__ = [
    "ExportError",
    "ExportFormat",
    "ExportStats",
    "FORMATS",
    "export_file",
    "export_record",
    "in_eval",
    "split_group",
]

ExportFormat = Literal["chatml", "kto", "kto-conversational", "sft"]
FORMATS: Final = ("chatml", "kto", "kto-conversational", "sft")


class ExportError(InvalidInput):
    """A row that cannot be exported (says which line and why)."""


@dataclass
class ExportStats:
    """Rows read, written and skipped (``sft`` skips undesirable rows); with a split, how
    many of the written rows went to the eval file."""

    format: str
    read: int = 0
    written: int = 0
    skipped: int = 0
    eval: int = 0


def _messages(example: Mapping[str, Any], line: int) -> list[dict[str, str]]:
    convs = example.get("conversations")
    if not isinstance(convs, list) or not convs:
        raise ExportError(f"line {line}: no 'conversations' list")
    out = []
    for i, msg in enumerate(convs, 1):
        if not isinstance(msg, Mapping):
            raise ExportError(f"line {line}: turn {i} is not an object")
        role, content = msg.get("role"), msg.get("content")
        if not isinstance(role, str) or not isinstance(content, str):
            raise ExportError(f"line {line}: turn {i} needs string 'role' and 'content'")
        out.append({"role": role, "content": content})
    return out


def _label(example: Mapping[str, Any], line: int) -> bool:
    label = example.get("label")
    if not isinstance(label, bool):
        raise ExportError(f"line {line}: 'label' must be true or false, got {label!r}")
    return label


def _split(
    messages: list[dict[str, str]], line: int
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    last_user = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=-1)
    prompt, completion = messages[: last_user + 1], messages[last_user + 1 :]
    if last_user < 0 or not completion:
        raise ExportError(f"line {line}: needs a user turn followed by assistant turn(s)")
    return prompt, completion


def _prompt_text(prompt: list[dict[str, str]]) -> str:
    if len(prompt) == 1:
        return prompt[0]["content"]
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in prompt)


def _tools_json(example: Mapping[str, Any], schemas: ToolRegistry) -> str:
    names = list(dict.fromkeys(c.name for _, c in iter_tool_calls(example) if c.name))
    tools = schemas.to_anthropic_tools([n for n in names if n in schemas])
    return orjson.dumps(tools).decode()


def export_record(
    example: Mapping[str, Any],
    fmt: ExportFormat,
    *,
    line: int = 0,
    tools: ToolRegistry | None = None,
) -> dict[str, Any] | None:
    """One row of format ``fmt`` (``None`` when the format skips it: ``sft`` keeps
    desirable rows only). Raises :class:`ExportError` naming the line."""
    if fmt not in FORMATS:
        raise UsageError(f"'fmt' must be one of {FORMATS}, got {fmt!r}")
    messages = _messages(example, line)
    label = _label(example, line)
    row: dict[str, Any]
    if fmt == "chatml":
        row = {"conversations": messages, "label": label}
    elif fmt == "sft":
        if not label:
            return None
        row = {"messages": messages}
    else:
        prompt, completion = _split(messages, line)
        if fmt == "kto":
            text = "\n\n".join(m["content"] for m in completion)
            row = {"prompt": _prompt_text(prompt), "completion": text, "label": label}
        else:
            row = {"prompt": prompt, "completion": completion, "label": label}
    if tools is not None:
        row["tools"] = _tools_json(example, tools)
    return row


def split_group(example: Mapping[str, Any]) -> str:
    """What must not be split between train and eval: the input line a record came from
    (``_source_key``: an improvement and its original share it, and so do repeated
    inputs), else its ``_source_line``, else its first user turn."""
    key = example.get("_source_key")
    if isinstance(key, str) and key:
        return key
    line = example.get("_source_line")
    if isinstance(line, int):
        return f"line:{line}"
    turns = example.get("conversations")
    for turn in turns if isinstance(turns, list) else []:
        if isinstance(turn, Mapping) and turn.get("role") == "user":
            return f"prompt:{turn.get('content')}"
    return orjson.dumps(example, option=orjson.OPT_SORT_KEYS).decode()


def in_eval(example: Mapping[str, Any], fraction: float, seed: int) -> bool:
    """Whether the record's group goes to eval: a hash of the group and the seed, so the
    split is stable across runs and machines and needs no memory."""
    digest = hashlib.blake2b(f"{seed}:{split_group(example)}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64 < fraction


def _rows(
    path: Path,
    fmt: ExportFormat,
    tools: ToolRegistry | None,
    stats: ExportStats,
    evaluation: tuple[JsonlWriter, float, int] | None = None,
) -> Iterator[dict[str, Any]]:
    dialect = FileDialect()  # any dialect, read as the text grammar
    for item in read_jsonl(path):
        if isinstance(item, Malformed):
            raise ExportError(f"line {item.line}: not a JSON object ({item.error})")
        stats.read += 1
        row = export_record(dialect.rows(item.data, item.line), fmt, line=item.line, tools=tools)
        if row is None:
            stats.skipped += 1
            continue
        stats.written += 1
        if evaluation is not None and in_eval(item.data, evaluation[1], evaluation[2]):
            stats.eval += 1
            evaluation[0].write(row)
            continue
        yield row


def export_file(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    fmt: ExportFormat,
    tools: bool | ToolRegistry = False,
    eval_fraction: float = 0.0,
    eval_out: str | os.PathLike[str] | None = None,
    split_seed: int = 0,
) -> ExportStats:
    """Convert a JSONL file of examples to ``fmt`` at ``out`` (streaming; the file is
    renamed into place only when every row converted). With ``eval_fraction`` about that
    share of the rows goes to ``eval_out`` instead, split by :func:`split_group` so an
    improvement and its original (or a repeated input) never straddle the two files."""
    if fmt not in FORMATS:
        raise UsageError(f"'fmt' must be one of {FORMATS}, got {fmt!r}")
    if not 0.0 <= eval_fraction < 1.0:
        raise UsageError(f"'eval_fraction' must be in [0, 1), got {eval_fraction}")
    if eval_fraction and eval_out is None:
        raise UsageError("'eval_fraction' needs 'eval_out' (--eval-out), the eval file")
    source, target = Path(path), Path(out)
    if not source.is_file():
        raise InputNotFound(f"input file not found: {source}")
    refuse_overwrite(target, source)
    registry = (
        tools if isinstance(tools, ToolRegistry) else (ToolRegistry.default() if tools else None)
    )
    stats = ExportStats(fmt)
    if not eval_fraction or eval_out is None:
        write_jsonl_atomic(target, _rows(source, fmt, registry, stats))
        return stats
    evaluation = Path(eval_out)
    refuse_overwrite(evaluation, source)
    if evaluation.resolve() == target.resolve():
        raise UsageError(f"--eval-out {evaluation} is also --out: name two files")
    partial = evaluation.with_name(evaluation.name + ".partial")
    try:
        with JsonlWriter(partial) as eval_writer:
            rows = _rows(source, fmt, registry, stats, (eval_writer, eval_fraction, split_seed))
            write_jsonl_atomic(target, rows)
        partial.replace(evaluation)
    finally:
        partial.unlink(missing_ok=True)
    return stats
