"""Training formats that load in Hugging Face ``datasets`` without type errors.

``datasets`` infers one Arrow type per column and fails when a column's type changes
between rows, so every format writes a fixed set of columns with fixed types and
drops the metadata (``quality_scores``, ``_index``, ...) whose shape varies:

- ``chatml``: ``conversations`` (list of {role, content}) and ``label`` (bool): the seed's format;
- ``kto``: ``prompt``, ``completion`` (strings) and ``label``: TRL's standard KTO format;
- ``kto-conversational``: ``prompt``, ``completion`` (lists of messages) and ``label``;
- ``sft``: ``messages`` (list of messages), desirable rows only: TRL's
  conversational SFT format.

The split for KTO: everything up to and including the last user turn is the prompt,
the turns after it are the completion. In the conversational formats the tool calls are
either text in the assistant's content (``calls="text"``, the dataset's own grammar) or
native ``tool_calls`` with ``tool`` result messages (``calls="tool_calls"``, what chat
templates with tool support render); the default is the input's own: text for the text
grammar, ``tool_calls`` for OpenAI, ShareGPT and Hermes files. ``tools`` adds a ``tools``
column with the definitions of the tools the row calls (the row's own ``tools`` first),
in OpenAI function format (``tools_format="anthropic"``: Anthropic's); by default it is
added when the rows carry their own ``tools``. A nested column (``tools``, the calls'
``arguments``) is written as nested JSON when every row agrees on one type, else as JSON
text (see :mod:`._columns`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, overload

from . import _datasets
from ._chat import chat_messages
from ._columns import Columns, Disagree
from ._export_tools import UsedArguments, tool_definitions
from ._input import check_input
from ._jsonl import JsonlWriter, Malformed, read_jsonl, write_jsonl_atomic
from ._paths import refuse_overwrite
from ._reviewed import reviewed_copy
from ._split import in_eval, split_group
from .dialects import FileDialect
from .errors import InvalidInput, UsageError, option
from .validate import ToolRegistry

__all__ = [
    "ExportError",
    "ExportFormat",
    "ExportStats",
    "FORMATS",
    "default_format",
    "export_file",
    "export_record",
    "in_eval",
    "split_group",
]

ExportFormat = Literal["chatml", "kto", "kto-conversational", "sft"]
FORMATS: Final = ("chatml", "kto", "kto-conversational", "sft")
ToolsFormat = Literal["openai", "anthropic"]
Calls = Literal["text", "tool_calls"]
_CONVERSATIONAL: Final = ("kto-conversational", "sft")


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
    #: The nested columns written as JSON text because their rows disagree on a type.
    json_columns: list[str] = field(default_factory=list)
    #: Rows a review left out (rejected) or replaced (edited) before the export.
    reviewed: int = 0
    #: Arguments the exported calls use that their tools' schemas did not declare, added
    #: to the exported definitions, by tool.
    declared: dict[str, list[str]] = field(default_factory=dict)


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
    messages: list[dict[str, Any]], line: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    last_user = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=-1)
    prompt, completion = messages[: last_user + 1], messages[last_user + 1 :]
    if last_user < 0 or not completion:
        raise ExportError(f"line {line}: needs a user turn followed by assistant turn(s)")
    return prompt, completion


def _prompt_text(prompt: list[dict[str, str]]) -> str:
    """The prompt of the string KTO format, ending in the blank line that separates it from
    the completion: TRL tokenizes prompt and prompt + completion and needs the first to be
    a prefix of the second, which a word running into the completion would break."""
    if len(prompt) == 1:
        return prompt[0]["content"] + "\n\n"
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in prompt) + "\n\n"


def _check_options(fmt: object, tools_format: object, calls: object) -> None:
    if fmt not in FORMATS:
        raise UsageError(f"'fmt' must be one of {FORMATS}, got {fmt!r}")
    if tools_format not in ("openai", "anthropic"):
        raise UsageError(f"'tools_format' must be 'openai' or 'anthropic', got {tools_format!r}")
    if calls not in (None, "text", "tool_calls"):
        raise UsageError(f"'calls' must be 'text' or 'tool_calls', got {calls!r}")


def export_record(
    example: Mapping[str, Any],
    fmt: ExportFormat,
    *,
    line: int = 0,
    tools: ToolRegistry | None = None,
    tools_format: ToolsFormat = "openai",
    calls: Calls = "text",
    columns: Columns | None = None,
    call_ids: tuple[str | None, ...] = (),
    used: UsedArguments | None = None,
) -> dict[str, Any] | None:
    """One row of format ``fmt`` from a text-grammar example (``None`` when the format
    skips it: ``sft`` keeps desirable rows only). ``columns`` decides how nested values
    are written (default: nested as they are, no check across rows); ``used``: the
    arguments the file's calls use, declared in the tool definitions that lack them.
    Raises :class:`ExportError` naming the line."""
    _check_options(fmt, tools_format, calls)
    cols = columns if columns is not None else Columns()
    texts = _messages(example, line)
    messages: list[dict[str, Any]] = list(texts)
    if calls == "tool_calls" and fmt in _CONVERSATIONAL:
        messages = chat_messages(example, cols, call_ids)
    label = _label(example, line)
    row: dict[str, Any]
    if fmt == "chatml":
        row = {"conversations": texts, "label": label}
    elif fmt == "sft":
        if not label:
            return None
        row = {"messages": messages}
    elif fmt == "kto":
        prompt, completion = _split(texts, line)
        text = "\n\n".join(m["content"] for m in completion)
        row = {"prompt": _prompt_text(prompt), "completion": text, "label": label}
    else:
        prompt, completion = _split(messages, line)
        row = {"prompt": prompt, "completion": completion, "label": label}
    if tools is not None:
        row["tools"] = cols.value("tools", tool_definitions(example, tools, tools_format, used))
    return row


@dataclass(frozen=True)
class _Options:
    fmt: ExportFormat
    tools: bool | ToolRegistry | None
    tools_format: ToolsFormat
    calls: Calls | None
    used: UsedArguments | None = None


def _rows(
    path: Path,
    options: _Options,
    columns: Columns,
    stats: ExportStats,
    evaluation: tuple[JsonlWriter, float, int] | None = None,
) -> Iterator[dict[str, Any]]:
    dialect = FileDialect()  # any dialect, read as the text grammar
    tools = options.tools
    registry = tools if isinstance(tools, ToolRegistry) else ToolRegistry.default()
    for item in read_jsonl(path):
        if isinstance(item, Malformed):
            raise ExportError(f"line {item.line}: not a JSON object ({item.error})")
        stats.read += 1
        example, ids = dialect.read(item.data, item.line)
        # Decided by the file's dialect (its first row): the input's own form of calls.
        calls = options.calls or ("text" if dialect.dialect in (None, "text") else "tool_calls")
        with_tools = tools is not False and (tools is not None or "tools" in item.data)
        row = export_record(
            example,
            options.fmt,
            line=item.line,
            tools=registry if with_tools else None,
            tools_format=options.tools_format,
            calls=calls,
            columns=columns,
            call_ids=ids,
            used=options.used,
        )
        if row is None:
            stats.skipped += 1
            continue
        stats.written += 1
        if evaluation is not None and in_eval(item.data, evaluation[1], evaluation[2]):
            stats.eval += 1
            evaluation[0].write(row)
            continue
        yield row


@overload
def export_file(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    fmt: ExportFormat | None = None,
    tools: bool | ToolRegistry | None = None,
    tools_format: ToolsFormat = "openai",
    calls: Calls | None = None,
    eval_fraction: float = 0.0,
    eval_out: str | os.PathLike[str] | None = None,
    split_seed: int = 0,
    as_dataset: Literal[False] = False,
) -> ExportStats: ...
@overload
def export_file(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    fmt: ExportFormat | None = None,
    tools: bool | ToolRegistry | None = None,
    tools_format: ToolsFormat = "openai",
    calls: Calls | None = None,
    eval_fraction: float = 0.0,
    eval_out: str | os.PathLike[str] | None = None,
    split_seed: int = 0,
    as_dataset: Literal[True],
) -> Any: ...
def export_file(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    fmt: ExportFormat | None = None,
    tools: bool | ToolRegistry | None = None,
    tools_format: ToolsFormat = "openai",
    calls: Calls | None = None,
    eval_fraction: float = 0.0,
    eval_out: str | os.PathLike[str] | None = None,
    split_seed: int = 0,
    as_dataset: bool = False,
) -> ExportStats | Any:
    """Convert a JSONL file of examples (any dialect) to ``fmt`` at ``out`` (streaming;
    the file is renamed into place only when every row converted). ``tools``: add the
    ``tools`` column (``True``: the bundled schemas and each row's own; a registry: those;
    ``None``: only when the rows carry their own ``tools``); ``tools_format``: ``openai``
    or ``anthropic``; ``calls``: ``text`` or ``tool_calls`` in the conversational formats
    (default: the input's own, see the module docstring). With ``eval_fraction`` about
    that share of the rows goes to ``eval_out`` instead, split by :func:`split_group` so an
    improvement and its original (or a repeated input) never straddle the two files.
    A file inside an output folder is exported as the folder's review
    (``review.jsonl``) leaves it: rejected improvements left out, edited ones as edited,
    a KTO file arranged again (another log, or none: :func:`~syngen_improve.review.
    reviewed_copy`). Returns the counts, or with ``as_dataset`` the written file as a
    Hugging Face ``datasets.Dataset`` (needs the ``datasets`` package). ``fmt``
    ``None``: ``kto`` for the text grammar, ``kto-conversational`` for a chat dialect
    (OpenAI, ShareGPT, Hermes: the rows keep their messages)."""
    check_input(Path(path))
    fmt = fmt if fmt is not None else default_format(path)
    with reviewed_copy(path) as (source, reviewed):
        stats = _export(
            path, source, out, fmt, tools, tools_format, calls, eval_fraction, eval_out, split_seed
        )
    stats.reviewed = reviewed
    return _datasets.as_dataset(out) if as_dataset else stats


def default_format(path: str | os.PathLike[str]) -> ExportFormat:
    """The format an export of ``path`` takes unless told: by the dialect of its first
    row, ``kto`` for the text grammar, ``kto-conversational`` for a chat dialect."""
    dialect = FileDialect()
    for item in read_jsonl(path):
        if not isinstance(item, Malformed):
            dialect.rows(item.data, item.line)
            break
    return "kto" if dialect.dialect in (None, "text") else "kto-conversational"


def _export(
    path: str | os.PathLike[str],
    rows: Path,
    out: str | os.PathLike[str],
    fmt: ExportFormat,
    tools: bool | ToolRegistry | None,
    tools_format: ToolsFormat,
    calls: Calls | None,
    eval_fraction: float,
    eval_out: str | os.PathLike[str] | None,
    split_seed: int,
) -> ExportStats:
    _check_options(fmt, tools_format, calls)
    if not 0.0 <= eval_fraction < 1.0:
        raise UsageError(f"'eval_fraction' must be in [0, 1), got {eval_fraction}")
    if eval_fraction and eval_out is None:
        raise UsageError(
            f"{option('--eval-fraction', repr('eval_fraction'))} needs "
            f"{option('--eval-out', repr('eval_out'))}, the eval file"
        )
    source, target = Path(path), Path(out)
    check_input(source)
    refuse_overwrite(target, source)
    options = _Options(fmt, tools, tools_format, calls, _used(rows) if tools is not False else None)
    evaluation = None if not eval_fraction or eval_out is None else Path(eval_out)
    if evaluation is not None:
        refuse_overwrite(evaluation, source)
        if evaluation.resolve() == target.resolve():
            raise UsageError(
                f"{option('--eval-out', repr('eval_out'))} {evaluation} is also "
                f"{option('--out', repr('out'))}: name two files"
            )
    as_json: set[str] = set()
    while True:  # again with a column as JSON text when its rows disagree on a type
        stats = ExportStats(fmt)
        try:
            _write(
                rows,
                target,
                evaluation,
                options,
                Columns(as_json),
                stats,
                eval_fraction,
                split_seed,
            )
        except Disagree as exc:
            if exc.column in as_json:
                raise
            as_json.add(exc.column)
            continue
        stats.json_columns = sorted(as_json)
        stats.declared = options.used.report() if options.used is not None else {}
        return stats


def _used(path: Path) -> UsedArguments:
    """The arguments the calls of the file at ``path`` use (a first pass)."""
    used = UsedArguments()
    dialect = FileDialect()
    for item in read_jsonl(path):
        if not isinstance(item, Malformed):
            used.add(dialect.rows(item.data, item.line))
    return used


def _write(
    source: Path,
    target: Path,
    evaluation: Path | None,
    options: _Options,
    columns: Columns,
    stats: ExportStats,
    fraction: float,
    seed: int,
) -> None:
    if evaluation is None:
        write_jsonl_atomic(target, _rows(source, options, columns, stats))
        return
    partial = evaluation.with_name(evaluation.name + ".partial")
    try:
        with JsonlWriter(partial) as eval_writer:
            rows = _rows(source, options, columns, stats, (eval_writer, fraction, seed))
            write_jsonl_atomic(target, rows)
        partial.replace(evaluation)
    finally:
        partial.unlink(missing_ok=True)
