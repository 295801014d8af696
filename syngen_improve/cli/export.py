"""``syngen-improve export``: training formats that load in HF ``datasets``."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from .._reviewed import reviewed_copy
from ..errors import UsageError
from ..export import ExportStats, export_file
from ..hub import push_to_hub, write_hub_folder
from ._options import add_review, review_arg

NAME = "export"
HELP = "convert examples to a training format that loads in HF datasets"
DESCRIPTION = (
    "Write FILE as chatml, kto, kto-conversational or sft rows. Exit 0, or 2 on a usage "
    "or input problem (the line is named)."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="a JSONL file of examples with bool labels")
    p.add_argument(
        "--format",
        choices=["chatml", "kto", "kto-conversational", "sft"],
        dest="fmt",
        help="the training format (default: kto for the text grammar, kto-conversational for "
        "a chat dialect)",
    )
    p.add_argument("--out", metavar="F", help="the output JSONL file")
    p.add_argument(
        "--hub-folder",
        metavar="DIR",
        help="instead of --out: a Hugging Face Hub dataset folder (every format as a config, "
        "train and test splits, a README.md card from the folder's report)",
    )
    p.add_argument(
        "--push-to-hub",
        metavar="REPO",
        help="publish that folder as the Hub dataset REPO (huggingface_hub; the token from "
        "HF_TOKEN or the login)",
    )
    p.add_argument("--private", action="store_true", help="with --push-to-hub: a private repo")
    p.add_argument(
        "--tools",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="add a 'tools' column with the definitions of the tools each row calls (default: "
        "when the rows carry their own tools); --no-tools leaves it out",
    )
    p.add_argument(
        "--tools-format",
        choices=["openai", "anthropic"],
        default="openai",
        help="the form of the tool definitions (default: openai function definitions)",
    )
    p.add_argument(
        "--calls",
        choices=["text", "tool_calls"],
        help="in kto-conversational and sft: tool calls as text in the content, or native "
        "tool_calls with tool messages (default: the input's own; text for the text grammar)",
    )
    p.add_argument(
        "--eval-fraction",
        type=float,
        default=0.0,
        metavar="P",
        help="send about this share of rows to --eval-out, grouped by source: an improvement "
        "and its original always land on the same side",
    )
    p.add_argument("--eval-out", metavar="F", help="the eval JSONL file (with --eval-fraction)")
    p.add_argument("--split-seed", type=int, default=0, metavar="N", help="seed of the split")
    add_review(p)


def run(args: argparse.Namespace) -> int:
    if args.hub_folder or args.push_to_hub:
        return _hub(args)
    if not args.out:
        raise UsageError("export needs --out FILE (or --hub-folder DIR)")
    review = review_arg(args)
    if review is None:  # the folder's own review, applied by export_file
        stats = _export(args, args.file)
    else:
        with reviewed_copy(args.file, review) as (source, reviewed):
            stats = _export(args, source)
        stats.reviewed = reviewed
    print(
        f"wrote {stats.written - stats.eval} {stats.format} rows to {args.out} "
        f"({stats.read} read, {stats.skipped} skipped)"
        + (f"; {stats.eval} rows to {args.eval_out}" if args.eval_fraction else "")
        + (f"; {stats.reviewed} rows as the review left them" if stats.reviewed else "")
        + (
            f"; declared what the tool schemas lacked: {_declared(stats.declared)}"
            if stats.declared
            else ""
        )
        + (
            f"; as JSON text (their rows disagree on a type): {', '.join(stats.json_columns)}"
            if stats.json_columns
            else ""
        )
    )
    return 0


def _export(args: argparse.Namespace, source: str | Path) -> ExportStats:
    return export_file(
        source,
        args.out,
        fmt=args.fmt,
        tools=args.tools,
        tools_format=args.tools_format,
        calls=args.calls,
        eval_fraction=args.eval_fraction,
        eval_out=args.eval_out,
        split_seed=args.split_seed,
    )


def _declared(added: dict[str, list[str]]) -> str:
    """``context`` on 40 tools, ``path`` on 1 tool, ..."""
    by_argument: dict[str, int] = {}
    for args in added.values():
        for arg in args:
            by_argument[arg] = by_argument.get(arg, 0) + 1
    ranked = sorted(by_argument.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{arg} on {n} tool{'s' if n > 1 else ''}" for arg, n in ranked[:5])


def _hub(args: argparse.Namespace) -> int:
    if args.out or args.fmt:
        raise UsageError("--hub-folder writes every format: leave out --out and --format")
    with tempfile.TemporaryDirectory(prefix="syngen-hub-") as tmp:
        done = write_hub_folder(
            args.file,
            args.hub_folder or Path(tmp) / "hub",
            eval_fraction=args.eval_fraction or 0.1,
            split_seed=args.split_seed,
        )
        configs = ", ".join(f"{k} {v.written:,}" for k, v in done.configs.items())
        print(f"wrote the Hub dataset folder {done.path} ({configs} rows; README.md card)")
        if args.push_to_hub:
            url = push_to_hub(done.path, args.push_to_hub, private=args.private)
            print(f"pushed to the Hub: {url}")
    return 0
