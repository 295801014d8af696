"""``syngen-improve demo``: the whole pipeline offline on the bundled sample."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from .._resources import sample_path
from ..errors import OutputExists
from . import improve
from ._parser import Parser
from .improve import improve_file

NAME = "demo"
HELP = "run the whole pipeline offline on the bundled sample with the fake model"
DESCRIPTION = (
    "Improve the bundled 200-line sample against the built-in fake Anthropic server "
    "(real HTTP on 127.0.0.1, a rule-based model): no key, no network. The fake's faults "
    "are drawn from the examples themselves, so every run gives the same result."
)
DEMO_OUT = "syngen-demo-output"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out", default=DEMO_OUT, metavar="DIR", help=f"output folder (default ./{DEMO_OUT})"
    )
    p.add_argument("--json", action="store_true", help="print report.json instead of a summary")


def run(args: argparse.Namespace) -> int:
    from ..testing import DEMO_CONFIG

    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        if not (out / "state").is_dir():
            raise OutputExists(f"{out} is not empty and not a demo output folder")
        shutil.rmtree(out)  # an earlier demo's output: start afresh
    parser = Parser(prog="syngen-improve demo")
    improve.add_arguments(parser)
    demo_args = parser.parse_args(["-", "--out", str(out), "--no-progress"])
    demo_args.json = args.json
    if not args.json:
        print("demo: improving the bundled sample with the built-in fake model (offline)\n")
    return improve_file(demo_args, input_path=str(sample_path()), out=str(out), fake=DEMO_CONFIG)
