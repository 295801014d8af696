"""The ``syngen-improve`` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ._resources import sample_path
from ._version import __version__
from .analyze import SeedPolicy, analyze_dataset

if TYPE_CHECKING:
    from .llm import Backend
    from .testing import FakeConfig

__all__ = ["build_parser", "main", "main_exit", "reference_markdown"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEMO_OUT = "syngen-demo-output"


def _add_policy_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--overall-below",
        type=float,
        default=3.0,
        metavar="X",
        help="poor when overall_quality < X (default 3.0)",
    )
    p.add_argument(
        "--memory-at-most",
        type=float,
        default=1.0,
        metavar="Y",
        help="poor when sessionMemory_quality <= Y (default 1)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to document the CLI)."""
    parser = argparse.ArgumentParser(
        prog="syngen-improve",
        description="Turn a synthetic tool-calling dataset into clean preference data.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "analyze",
        help="profile a dataset: good/poor, dimension means, issues, tools",
        description="Profile a JSONL dataset: totals, good/poor under the relabel policy, "
        "dimension means, issue counts (from the judge's notes and from the examples "
        "themselves), tools, and malformed lines.",
    )
    p.add_argument("input", metavar="INPUT", help="a JSONL file of examples")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    _add_policy_options(p)

    p = sub.add_parser(
        "validate",
        help="check examples against the grammar, context rules and tool schemas",
        description="Validate every line of a JSONL file. Exit 0 when all pass, 1 when some "
        "fail or a line is malformed, 2 when the file cannot be read. A label=false example "
        "fails only on structural errors.",
    )
    p.add_argument("file", metavar="FILE", help="a JSONL file of examples")
    p.add_argument(
        "--schemas",
        metavar="PATH",
        help="tool schemas: the dataset's format, {name: JSON Schema}, an OpenAI or Anthropic "
        "tools list, or an MCP tools/list result (default: the bundled 47 tools)",
    )
    p.add_argument(
        "--strict", action="store_true", help="add the quality standards (strict profile)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument(
        "--show-warnings", action="store_true", help="also list lines that only have warnings"
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes to use (default: all CPUs for files over 4 MiB)",
    )

    p = sub.add_parser(
        "improve",
        help="improve the poor examples with an LLM (the whole pipeline)",
        description="Analyze INPUT, improve its poor examples with the model under the "
        "acceptance gate, and write the output folder (improved, poor, interleaved, failed, "
        "quarantine, report). Exit 0 when every poor example was improved, 1 when some "
        "failed, 2 on a usage or input problem, 130 when interrupted (rerun with --resume).",
    )
    p.add_argument("input", metavar="INPUT", help="a JSONL file of scored examples")
    p.add_argument("--out", required=True, metavar="DIR", help="the output folder")
    _add_improve_options(p)
    _add_policy_options(p)

    p = sub.add_parser(
        "judge",
        help="score each example with the rubric (LLM as judge)",
        description="Score every example of INPUT on the five rubric dimensions and write "
        "it to --out with quality_scores replaced (and _source_line). Scores are cached "
        "next to the output, so judging again costs nothing. Exit 0, 1 when some examples "
        "could not be scored, 2 on a usage or input problem.",
    )
    p.add_argument("input", metavar="INPUT", help="a JSONL file of examples")
    p.add_argument("--out", required=True, metavar="F", help="the scored JSONL file")
    p.add_argument("--model", default="claude-haiku-5-5", help="model id (default %(default)s)")
    p.add_argument("--backend", choices=["anthropic", "fake"], default="anthropic")
    p.add_argument("--concurrency", type=int, default=16, metavar="N", help="default 16")
    p.add_argument("--rpm", type=float, metavar="R", help="requests per minute")
    p.add_argument("--cache", metavar="PATH", help="score cache (default: OUT.cache.jsonl)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")

    p = sub.add_parser(
        "report",
        help="rebuild report.md and report.json from an improve output folder",
        description="Rebuild report.md and report.json from the files of DIR alone. Exit 0, "
        "or 2 when DIR is not an improve output folder.",
    )
    p.add_argument("dir", metavar="DIR", help="an improve output folder")
    p.add_argument("--json", action="store_true", help="print report.json")

    p = sub.add_parser(
        "merge",
        help="join the output folders of a sharded run into one",
        description="Join improve output folders made with --shard into OUT: outputs, "
        "interleaving and one report with a section per shard. Refuses folders that share an "
        "input line. Exit 0, or 2 on a usage problem or an overlap.",
    )
    p.add_argument("dirs", nargs="+", metavar="DIR", help="shard output folders")
    p.add_argument("--out", required=True, metavar="DIR", help="the merged output folder")

    p = sub.add_parser(
        "interleave",
        help="merge desirable and undesirable files into a label-balanced KTO file",
        description="Stream DESIRABLE and UNDESIRABLE into True, False, True, ... with the "
        "surplus placed by --policy, then print what a trainer reading the file in order "
        "sees. Exit 0, or 2 on a usage or input problem.",
    )
    p.add_argument("--desirable", required=True, metavar="F", help="label=true examples")
    p.add_argument("--undesirable", required=True, metavar="F", help="label=false examples")
    p.add_argument("--out", required=True, metavar="F", help="the interleaved JSONL file")
    p.add_argument(
        "--policy",
        choices=["spread", "truncate", "oversample", "tail"],
        default="spread",
        help="where the surplus of the longer side goes (default spread)",
    )
    p.add_argument(
        "--pairs", action="store_true", help="each example right before its own original"
    )
    p.add_argument("--shuffle-seed", type=int, metavar="N", help="shuffle first (bounded buffer)")
    p.add_argument(
        "--batch-size", type=int, default=8, metavar="B", help="trainer batch size (default 8)"
    )
    p.add_argument("--json", action="store_true", help="print the verification as JSON")

    p = sub.add_parser(
        "export",
        help="convert examples to a training format that loads in HF datasets",
        description="Write FILE as chatml, kto, kto-conversational or sft rows. Exit 0, "
        "or 2 on a usage or input problem (the line is named).",
    )
    p.add_argument("file", metavar="FILE", help="a JSONL file of examples with bool labels")
    p.add_argument(
        "--format",
        required=True,
        choices=["chatml", "kto", "kto-conversational", "sft"],
        dest="fmt",
        help="the training format",
    )
    p.add_argument("--out", required=True, metavar="F", help="the output JSONL file")
    p.add_argument(
        "--tools", action="store_true", help="add a 'tools' column (JSON schemas, as a string)"
    )

    p = sub.add_parser(
        "demo",
        help="run the whole pipeline offline on the bundled sample with the fake model",
        description="Improve the bundled 200-line sample against the built-in fake "
        "Anthropic server (real HTTP on 127.0.0.1, a rule-based model): no key, no network.",
    )
    p.add_argument(
        "--out", default=DEMO_OUT, metavar="DIR", help=f"output folder (default ./{DEMO_OUT})"
    )
    p.add_argument("--json", action="store_true", help="print report.json instead of a summary")
    return parser


def _add_improve_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="claude-haiku-5-5", help="model id (default %(default)s)")
    p.add_argument(
        "--backend",
        choices=["anthropic", "batch", "openai", "fake"],
        default="anthropic",
        help="anthropic (ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL), batch (Message Batches, half "
        "price), openai (OPENAI_BASE_URL / OPENAI_API_KEY: vLLM, Ollama, LM Studio) or the "
        "built-in fake server",
    )
    p.add_argument(
        "--concurrency", type=int, metavar="N", help="default 16; 10,000 with --backend batch"
    )
    p.add_argument(
        "--reask-online",
        action="store_true",
        help="with --backend batch: send re-asks online instead of in follow-up batches",
    )
    p.add_argument("--shard", metavar="I/N", help="take input lines I, I+N, I+2N, ... (1-based)")
    p.add_argument("--rpm", type=float, metavar="R", help="requests per minute")
    p.add_argument("--tpm", type=float, metavar="T", help="input tokens per minute")
    p.add_argument("--output-tpm", type=float, metavar="T", help="output tokens per minute")
    p.add_argument(
        "--max-attempts", type=int, default=3, metavar="K", help="answers per example (default 3)"
    )
    p.add_argument("--max-tokens", type=int, default=8192, metavar="N", help="default 8192")
    p.add_argument("--limit", type=int, metavar="N", help="stop after N input lines")
    p.add_argument(
        "--resume", action="store_true", help="continue the run whose results are in --out"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--include-good", action="store_true", help="also put good examples on the desirable side"
    )
    p.add_argument(
        "--no-require-result",
        action="store_true",
        help="accept tool calls without Result: (for datasets whose format has none)",
    )
    p.add_argument(
        "--judge",
        action="store_true",
        help="score each improvement with the rubric (measured quality before/after)",
    )
    p.add_argument("--schemas", metavar="PATH", help="tool schemas (default: the bundled 47)")
    p.add_argument("--templates", metavar="DIR", help="folder of templates overriding ours")


def reference_markdown() -> str:
    """docs/cli.md: every command's help, generated from the parser so it cannot drift.

    Regenerate with ``python -c "from syngen_improve.cli import reference_markdown as r;
    print(r(), end='')" > docs/cli.md``.
    """

    def wide(prog: str) -> argparse.HelpFormatter:
        return argparse.HelpFormatter(prog, width=100, max_help_position=32)

    parser = build_parser()
    parser.formatter_class = wide
    parts = [
        "# Command-line reference",
        "<!-- generated by syngen_improve.cli.reference_markdown(); a test keeps it current -->",
        "`syngen-improve` (also `python -m syngen_improve`). Exit codes: 0 done, 1 some "
        "examples failed, 2 a usage or input problem, 130 interrupted.",
        f"```text\n{parser.format_help().rstrip()}\n```",
    ]
    for action in parser._subparsers._group_actions if parser._subparsers else []:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                sub.formatter_class = wide
                parts += [f"## {name}", f"```text\n{sub.format_help().rstrip()}\n```"]
    return "\n\n".join(parts) + "\n"


def _cannot_read(path: str, exc: OSError) -> int:
    """Say which file could not be read, and why; the usage exit code."""
    print(f"syngen-improve: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
    return EXIT_USAGE


def _analyze(path: str, *, as_json: bool, policy: SeedPolicy) -> int:
    try:
        profile = analyze_dataset(path, policy=policy)
    except OSError as exc:
        return _cannot_read(path, exc)
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(profile.to_dict(), option=orjson.OPT_INDENT_2) + b"\n")
    else:
        print(f"{path}\n")
        print(profile.format_table())
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from .validate import ToolRegistry, validate_file

    try:
        schemas = ToolRegistry.load(args.schemas) if args.schemas else None
    except OSError as exc:
        return _cannot_read(args.schemas, exc)
    except (ValueError, KeyError, TypeError) as exc:
        print(f"syngen-improve: {args.schemas}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = validate_file(
            args.file,
            profile="strict" if args.strict else "compatible",
            schemas=schemas,
            workers=args.workers,
        )
    except ValueError as exc:
        print(f"syngen-improve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        return _cannot_read(args.file, exc)
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2) + b"\n")
    else:
        sys.stdout.write("\n".join(report.format_text(show_warnings=args.show_warnings)) + "\n")
    return EXIT_OK if report.ok else EXIT_FAILED


def _print_summary(report: dict[str, Any], out: str) -> None:
    c = report["counts"]
    print(
        f"{c['input']} input lines: {c['poor']} poor, {c['good']} good, "
        f"{c['malformed']} malformed (quarantined)\n"
        f"improved {c['improved']}, failed {c['failed']}; interleaved {c['interleaved']} lines\n"
        f"requests {report['requests']['total']} (retried {report['requests']['retried']}), "
        f"cost ${report['cost_usd']:.4f}\n"
        f"outputs in {Path(out)}/ (report.md, report.json)"
    )


def _improve(
    args: argparse.Namespace, *, input_path: str, out: str, fake: FakeConfig | None
) -> int:
    from .improve import improve_dataset
    from .merge import parse_shard

    async def run() -> dict[str, Any]:
        # Without --backend fake, improve_dataset makes the backend itself, after its checks.
        async with _fake_backend(args.model, fake) as backend:
            result = await improve_dataset(
                input_path,
                out,
                model=args.model,
                backend=backend or (None if args.backend == "fake" else args.backend),
                concurrency=args.concurrency,
                rpm=args.rpm,
                tpm=args.tpm,
                output_tpm=args.output_tpm,
                max_attempts=args.max_attempts,
                max_tokens=args.max_tokens,
                policy=SeedPolicy(
                    overall_below=args.overall_below, memory_at_most=args.memory_at_most
                ),
                templates=args.templates,
                schemas=args.schemas,
                resume=args.resume,
                limit=args.limit,
                include_good=args.include_good,
                require_result=not args.no_require_result,
                judge=args.judge,
                reask_online=args.reask_online,
                shard=parse_shard(args.shard) if args.shard else None,
                progress=not args.no_progress,
            )
        return result.report

    interrupted = (
        f"interrupted; outputs so far are in {out}/. "
        "Run the same command with --resume to continue."
    )
    report = _run(run, input_path, interrupted)
    if isinstance(report, int):
        return report
    if getattr(args, "json", False):
        sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        _print_summary(report, out)
    return EXIT_OK if report["counts"]["failed"] == 0 else EXIT_FAILED


def _demo(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        if not (out / "state").is_dir():
            print(
                f"syngen-improve: {out} is not empty and not a demo output folder", file=sys.stderr
            )
            return EXIT_USAGE
        shutil.rmtree(out)  # an earlier demo's output: start afresh
    demo_args = build_parser().parse_args(["improve", "-", "--out", str(out)])
    demo_args.no_progress = True
    demo_args.json = args.json
    if not args.json:
        print("demo: improving the bundled sample with the built-in fake model (offline)\n")
    # A few faults and rejected answers, so the demo shows retries and re-asks at work.
    config = _fake_config(
        fault_rates={"529": 0.03, "drop": 0.02},
        bad_output_rates={"broken_rules": 0.05, "truncated_json": 0.03},
    )
    return _improve(demo_args, input_path=str(sample_path()), out=str(out), fake=config)


def _fake_config(**knobs: Any) -> FakeConfig:
    from .testing import FakeConfig

    return FakeConfig(**knobs)


@contextlib.asynccontextmanager
async def _fake_backend(model: str, fake: FakeConfig | None) -> AsyncIterator[Backend | None]:
    """A backend on the built-in fake server (real HTTP on 127.0.0.1), or ``None``."""
    if fake is None:
        yield None
        return
    from .llm import AnthropicBackend
    from .testing import FakeAnthropicServer

    async with FakeAnthropicServer(config=fake) as server:
        backend = AnthropicBackend(model=model, api_key="sk-fake", base_url=server.url)
        try:
            yield backend
        finally:
            await backend.aclose()


def _run(
    job: Callable[[], Coroutine[Any, Any, dict[str, Any]]], input_path: str, interrupted: str
) -> dict[str, Any] | int:
    """Run an async command; its result, or the exit code of the error it met."""
    from .llm import RequestFailed

    try:
        return asyncio.run(job())
    except KeyboardInterrupt:
        print(f"syngen-improve: {interrupted}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except RequestFailed as exc:
        print(f"syngen-improve: the API refused the run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except FileExistsError as exc:
        print(f"syngen-improve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        return _cannot_read(exc.filename or input_path, exc)
    except ValueError as exc:
        print(f"syngen-improve: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _judge(args: argparse.Namespace) -> int:
    from .judge import judge_dataset

    async def run() -> dict[str, Any]:
        fake = _fake_config() if args.backend == "fake" else None
        async with _fake_backend(args.model, fake) as backend:
            result = await judge_dataset(
                args.input, args.out, model=args.model, backend=backend,
                concurrency=args.concurrency, rpm=args.rpm, cache=args.cache,
                progress=not args.no_progress,
            )  # fmt: skip
        return result.to_dict()

    summary = _run(run, args.input, "interrupted; judging again reuses the cache")
    if isinstance(summary, int):
        return summary
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        means = ", ".join(f"{k} {v}" for k, v in summary["means"].items())
        print(
            f"judged {summary['judged']} ({summary['cached']} from the cache, "
            f"{summary['requests']['total']} requests), failed {summary['failed']}, "
            f"malformed {summary['malformed']}\nmeans: {means}\nwritten to {args.out}"
        )
    return EXIT_OK if summary["failed"] == 0 else EXIT_FAILED


def _report(args: argparse.Namespace) -> int:
    from .report import write_report

    try:
        report = write_report(args.dir)
    except OSError as exc:
        print(f"syngen-improve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        _print_summary(report, args.dir)
    return EXIT_OK


def _merge(args: argparse.Namespace) -> int:
    from .merge import merge_outputs

    try:
        report = merge_outputs(args.dirs, args.out)
    except (OSError, ValueError) as exc:
        print(f"syngen-improve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _print_summary(report, args.out)
    return EXIT_OK


def _interleave(args: argparse.Namespace) -> int:
    from .interleave import interleave_files, verify_interleaving

    try:
        stats = interleave_files(
            args.desirable,
            args.undesirable,
            args.out,
            policy=args.policy,
            pairs=args.pairs,
            shuffle_seed=args.shuffle_seed,
        )
        report = verify_interleaving(args.out, batch_size=args.batch_size)
    except OSError as exc:
        return _cannot_read(exc.filename or args.out, exc)
    except ValueError as exc:
        print(f"syngen-improve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        data = {"interleave": stats.to_dict(), "verify": report.to_dict()}
        sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        print(
            f"wrote {stats.written} rows ({stats.desirable} desirable, {stats.undesirable} "
            f"undesirable; {stats.pairs} pairs, {stats.dropped} dropped, "
            f"{stats.repeated} repeated) to {args.out}"
        )
        print(report.format_text())
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from .export import export_file

    try:
        stats = export_file(args.file, args.out, fmt=args.fmt, tools=args.tools)
    except OSError as exc:
        return _cannot_read(exc.filename or args.file, exc)
    except ValueError as exc:
        print(f"syngen-improve: {args.file}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"wrote {stats.written} {args.fmt} rows to {args.out} "
        f"({stats.read} read, {stats.skipped} skipped)"
    )
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "analyze":
        try:
            policy = SeedPolicy(
                overall_below=args.overall_below, memory_at_most=args.memory_at_most
            )
        except ValueError as exc:
            print(f"syngen-improve: {exc}", file=sys.stderr)
            return EXIT_USAGE
        return _analyze(args.input, as_json=args.json, policy=policy)
    if args.command == "validate":
        return _validate(args)
    if args.command == "improve":
        fake = _fake_config() if args.backend == "fake" else None
        return _improve(args, input_path=args.input, out=args.out, fake=fake)
    if args.command == "demo":
        return _demo(args)
    if args.command == "interleave":
        return _interleave(args)
    if args.command == "judge":
        return _judge(args)
    if args.command == "report":
        return _report(args)
    if args.command == "merge":
        return _merge(args)
    if args.command == "export":
        return _export(args)
    raise AssertionError(f"unhandled command {args.command!r}")  # pragma: no cover


def main_exit() -> None:
    """Console-script entry point: exit with :func:`main`'s code."""
    sys.exit(main())


if __name__ == "__main__":
    main_exit()
