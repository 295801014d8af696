"""Every option declared once, and everything else agreeing with the declaration: each
config field (of every config object) has its docs row and a range check; each command-line
option of every command is a declared option with its declared flag and help, or one of the
command's own (not config) options listed here."""

from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from syngen_improve import ImproveConfig, RateLimits, RetryPolicy
from syngen_improve.analyze import SeedPolicy
from syngen_improve.cli import build_parser
from syngen_improve.cli._options import Renamed, declaration
from syngen_improve.config import SHORTCUTS
from syngen_improve.errors import UsageError
from syngen_improve.llm import BreakerPolicy

DOCS = Path(__file__).resolve().parents[1] / "docs"
FIELDS = [f.name for f in dataclasses.fields(ImproveConfig)]
#: Options of each command that are not config options (files, formats, backends, and
#: the interleave and audit commands' own settings).
COMMAND_OWN = {
    "analyze": {"--json"},
    "validate": {"--strict", "--json", "--show-warnings", "--workers"},
    "estimate": {"--json", "--reask-share", "--count-tokens"},
    "improve": {"--out", "--backend"},
    "judge": {"--out", "--backend", "--json"},
    "report": {"--json"},
    "review": {"--port", "--no-browser"},
    "merge": {"--out"},
    "interleave": {
        "--desirable", "--undesirable", "--out", "--policy", "--pairs",
        "--shuffle-seed", "--batch-size", "--json", "--review", "--no-review",
    },
    "export": {
        "--format", "--out", "--tools", "--tools-format", "--calls", "--eval-fraction",
        "--eval-out", "--split-seed", "--review", "--no-review", "--hub-folder",
        "--push-to-hub", "--private",
    },
    "audit": {"--threshold", "--json"},
    "demo": {"--out", "--json"},
}  # fmt: skip


def docs_rows() -> dict[str, str]:
    """docs/improve.md's options table: the field named first in a row -> its first cell."""
    rows = {}
    for line in (DOCS / "improve.md").read_text().splitlines():
        found = re.match(r"\| `(\w+)=?` / ([^|]*)\|", line)
        if found:
            rows[found.group(1)] = found.group(2)
    return rows


@pytest.mark.parametrize("name", FIELDS)
def test_every_field_has_its_docs_row_and_flag(name: str) -> None:
    rows = docs_rows()
    assert name in rows, f"docs/improve.md has no row for {name!r}"
    flag = declaration(name).flag
    if flag is not None:
        assert flag in rows[name], f"{name}'s row does not name {flag}"


@pytest.mark.parametrize("name", sorted(SHORTCUTS))
def test_every_shortcut_is_named_in_its_fields_row(name: str) -> None:
    part, _, how = SHORTCUTS[name]
    assert how.flag is not None
    assert how.flag in docs_rows()[part]
    with pytest.raises(UsageError, match=r"must be"):
        ImproveConfig.of(**{name: -1.0})


@pytest.mark.parametrize("name", FIELDS)
def test_every_field_refuses_a_value_of_the_wrong_kind_naming_itself(name: str) -> None:
    with pytest.raises(UsageError, match=rf"'?{name}'?"):
        ImproveConfig(**{name: object()})


@pytest.mark.parametrize(
    ("kind", "doc"),
    [(RateLimits, "llm.md"), (RetryPolicy, "llm.md"), (BreakerPolicy, "llm.md"),
     (SeedPolicy, "analyze.md")],
)  # fmt: skip
def test_every_field_of_the_composed_objects_is_documented_and_checked(
    kind: type, doc: str
) -> None:
    text = (DOCS / doc).read_text()
    for f in dataclasses.fields(kind):
        assert f"`{f.name}" in text or f"{f.name}=" in text, f"{kind.__name__}.{f.name}"
        with pytest.raises(UsageError, match=f.name):
            kind(**{f.name: -1})


def commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._subparsers._group_actions if parser._subparsers else []:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no commands")


@pytest.mark.parametrize("command", sorted(commands()))
def test_every_command_line_option_is_declared_or_the_commands_own(command: str) -> None:
    for action in commands()[command]._actions:
        if not action.option_strings or isinstance(action, argparse._HelpAction | Renamed):
            continue
        names = set(action.option_strings)
        if names & COMMAND_OWN[command]:
            continue
        assert len(names) == 1, f"{command}: {names} (one flag a option)"
        how = declaration(action.dest)
        assert how.flag in names, f"{command} {names}: declared as {how.flag}"
        assert action.help == how.help, f"{command} {how.flag}: help differs from its declaration"


@pytest.mark.parametrize("options", [{"resume": True}, {"shard": "2/3"}, {"limit": 5},
                                     {"dedupe": True}, {"prompt_gap": 3}])  # fmt: skip
def test_the_improver_refuses_the_options_of_a_run(options: dict[str, Any]) -> None:
    from syngen_improve import Improver

    with pytest.raises(UsageError, match=f"Improver does not read '{next(iter(options))}'"):
        Improver(**options)


async def test_the_judge_refuses_what_it_does_not_read(tmp_path: Path) -> None:
    from syngen_improve import sample_path
    from syngen_improve.judge import judge_dataset

    with pytest.raises(UsageError, match="judge_dataset does not read 'max_tokens'"):
        await judge_dataset(sample_path(), tmp_path / "scored.jsonl", max_tokens=100)
    assert not (tmp_path / "scored.jsonl").exists()
