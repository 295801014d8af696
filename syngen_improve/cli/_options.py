"""Options shared by several commands, and their translation into an ImproveConfig."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

import orjson

from .._declare import Declared, declared
from .._fdlimit import ensure_open_files
from ..config import SHORTCUTS, ImproveConfig
from ..llm._pricing import cost_text

if TYPE_CHECKING:
    from ..llm import Backend
    from ..report import Report
    from ..testing import FakeConfig

__all__ = [
    "ANALYZE",
    "ESTIMATE",
    "IMPROVE",
    "JUDGE",
    "RENAMED",
    "VALIDATE",
    "Renamed",
    "add_options",
    "config_from_args",
    "declaration",
    "fake_backend",
    "print_json",
    "print_summary",
]

T = TypeVar("T")


#: Flags that were renamed: what to use instead (the old flag is an error saying so).
RENAMED: Final = {
    "--max-attempts": "answers per example (the first plus re-asks) is --answers; HTTP tries "
    "per request are RetryPolicy(max_attempts=) in Python",
    "--gap": "the distance between rows sharing a prompt is --prompt-gap, as improve names it",
    "--cache": "judge keeps its answers in the response cache: --cache-dir DIR (or --no-cache)",
}


class Renamed(argparse.Action):
    """A flag that was renamed: an error pointing to the new name."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        flag = self.option_strings[0]
        parser.error(f"{flag} is gone: {RENAMED[flag]}")


def declaration(name: str) -> Declared:
    """The declared option of a config field or shortcut."""
    if name in SHORTCUTS:
        return SHORTCUTS[name][2]
    return declared(ImproveConfig)[name]


#: The config options each command takes (a field or a shortcut: see ``config``).
IMPROVE: Final = tuple(
    sorted(
        (*(n for n, d in declared(ImproveConfig).items() if d.flag is not None), *SHORTCUTS),
        key=lambda n: ("request", "client", "input", "run").index(declaration(n).group),
    )
)
JUDGE: Final = (
    "model", "thinking", "effort", "price", "answers", "concurrency", "rpm", "tpm",
    "output_tpm", "timeout", "patience", "max_cost", "progress", "cache", "cache_dir",
    "headers", "openai_cache_control",
)  # fmt: skip
ESTIMATE: Final = (
    "model", "thinking", "effort", "price", "max_tokens", "templates", "schemas", "limit",
    "shard", "dedupe", "dialect", "context", "overall_below", "memory_at_most", "headers",
)  # fmt: skip
ANALYZE: Final = ("dialect", "context", "overall_below", "memory_at_most")
VALIDATE: Final = ("schemas", "dialect", "context")


def add_options(p: argparse.ArgumentParser, names: tuple[str, ...]) -> None:
    """The command-line options of the config options ``names``, as declared. Each is
    ``None`` unless given, so the config's own default applies."""
    for name in names:
        d = declaration(name)
        assert d.flag is not None, name
        if d.kind is bool:
            p.add_argument(
                d.flag, dest=name, action="store_const", const=not d.negated, help=d.help
            )
        else:
            p.add_argument(
                d.flag,
                dest=name,
                type=d.kind,
                metavar=d.metavar,
                choices=d.choices,
                help=d.help,
                action="append" if d.repeat else "store",
            )


def config_from_args(args: argparse.Namespace, names: tuple[str, ...]) -> ImproveConfig:
    """The config of the options ``names`` given on the command line (through the same
    keyword path as Python's ``ImproveConfig.of``)."""
    options = {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
    if getattr(args, "json", False):  # for machines: no bar on stderr beside the JSON
        options["progress"] = False
    return ImproveConfig.of(**options)


@contextlib.asynccontextmanager
async def fake_backend(
    model: str, fake: FakeConfig | None, *, concurrency: int
) -> AsyncIterator[Backend | None]:
    """A backend on the built-in fake server (real HTTP on 127.0.0.1), or ``None``. The
    server is in this process: each request in flight holds both ends of a socket."""
    if fake is None:
        yield None
        return
    ensure_open_files(2 * concurrency)
    from ..testing import FakeBackend

    async with FakeBackend(fake, model=model) as backend:
        yield backend


def print_json(data: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")


def print_summary(report: Report, out: str) -> None:
    c, r = report.counts, report.requests
    cached = f", {r.cached} answers from the response cache" if r.cached else ""
    print(
        f"{c.input} input lines: {c.poor} poor, {c.good} good, "
        f"{c.malformed} malformed (quarantined)\n"
        f"improved {c.improved}, failed {c.failed}; interleaved {c.interleaved} lines\n"
        f"requests {r.total} (retried {r.retried}){cached}, "
        f"cost {cost_text(report.cost_usd)}\n"
        f"outputs in {Path(out)}/ (open report.html in a browser; report.md, report.json)"
    )
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)


def add_review(p: argparse.ArgumentParser) -> None:
    """``--review FILE`` / ``--no-review``: the review decisions a command honours (for
    a file inside an output folder, that folder's ``review.jsonl`` by default)."""
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--review",
        metavar="FILE",
        help="honour the decisions of this review file (default: the review.jsonl of the "
        "output folder the file is in, if any): rejected improvements left out, edited ones "
        "as edited",
    )
    group.add_argument(
        "--no-review", action="store_true", help="ignore the folder's review decisions"
    )


def review_arg(args: argparse.Namespace) -> str | Literal[False] | None:
    """What ``--review`` / ``--no-review`` say, as ``review=`` takes it."""
    return False if args.no_review else args.review
