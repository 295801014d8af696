"""``syngen-improve review``: a local page over every row of an output folder, whose
decisions reach the training files."""

from __future__ import annotations

import argparse
import sys

from ..review import serve_review
from ._signals import run_async

NAME = "review"
HELP = "browse, search and decide on every row of an output folder in a local web page"
DESCRIPTION = (
    "Serve a page on 127.0.0.1 over every row of DIR: improvements beside their originals "
    "word by word, failures with their errors, filters by issue kind, outcome, rejection "
    "reason, judge score change and dialect, full-text search. Accept, reject or edit rows "
    "(one or a whole selection): the decisions go to DIR/review.jsonl and reach the KTO "
    "file, export and to_datasets(). Ctrl-C stops it. Exit 0, or 2 when DIR is not an "
    "improve output folder."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", metavar="DIR", help="an improve output folder")
    p.add_argument("--port", type=int, default=0, metavar="N", help="port (default: a free one)")
    p.add_argument(
        "--no-browser", action="store_true", help="print the address, do not open a browser"
    )


def run(args: argparse.Namespace) -> int:
    def ready(url: str) -> None:
        print(f"reviewing {args.dir} at {url} (Ctrl-C to stop)", flush=True)

    try:
        run_async(
            lambda: serve_review(
                args.dir, port=args.port, open_browser=not args.no_browser, on_ready=ready
            )
        )
    except KeyboardInterrupt:
        print("review stopped; decisions are in review.jsonl", file=sys.stderr)
    return 0
