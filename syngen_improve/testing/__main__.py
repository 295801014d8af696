"""``python -m syngen_improve.testing``: run the fake Anthropic server until interrupted.

Prints ``listening on http://127.0.0.1:PORT`` once ready (flushed, so a parent
process can read the URL); ``GET /_fake/counters`` returns what it saw.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence

from ._config import BAD_OUTPUTS, FAULTS, HOSTILE, FakeConfig
from ._fake import FakeAnthropic
from ._model import FakeModel
from ._server import FakeAnthropicServer


def _rates(items: Sequence[str], known: tuple[str, ...], flag: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        kind, _, rate = item.partition("=")
        if kind not in known or not rate:
            raise SystemExit(f"{flag} expects KIND=RATE with KIND in {known}, got {item!r}")
        out[kind] = float(rate)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m syngen_improve.testing", description=__doc__, allow_abbrev=False
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--latency", type=float, default=0.0, help="seconds per reply")
    p.add_argument("--jitter", type=float, default=0.0, help="extra uniform seconds")
    p.add_argument("--rpm", type=int, help="requests per minute before 429")
    p.add_argument("--input-tpm", type=int, help="input tokens per minute before 429")
    p.add_argument("--output-tpm", type=int, help="output tokens per minute before 429")
    p.add_argument("--fault", action="append", default=[], metavar="KIND=RATE")
    p.add_argument("--bad-output", action="append", default=[], metavar="KIND=RATE")
    p.add_argument("--hostile", action="append", default=[], metavar="KIND=RATE")
    p.add_argument(
        "--outage",
        type=float,
        default=0.0,
        help="seconds from the first request when every request fails",
    )
    p.add_argument("--outage-fault", default="529", choices=FAULTS, help="how (default 529)")
    p.add_argument(
        "--retry-after", type=float, default=1.0, help="seconds sent with fault 429s (default 1)"
    )
    p.add_argument(
        "--hang-seconds",
        type=float,
        default=3600.0,
        help="how long a hung request hangs (default 3600)",
    )
    p.add_argument("--api-key", help="accept only this key (401 otherwise)")
    p.add_argument("--batch-delay", type=float, default=0.0, help="seconds a batch takes")
    p.add_argument(
        "--cache-floor",
        type=int,
        help="shortest cached prefix in tokens (default: the model's, else 4096)",
    )
    p.add_argument(
        "--strict-grammar-limit",
        type=int,
        metavar="BYTES",
        help="refuse strict tool schemas larger than this ('grammar too large')",
    )
    p.add_argument(
        "--forced-tool-thinking",
        choices=("refuse", "allow"),
        default="refuse",
        help="a forced tool while the model thinks: refused with a 400 (the extended-thinking "
        "pages' reading, default) or allowed (the adaptive-thinking page's)",
    )
    p.add_argument(
        "--thinking-default",
        choices=("model", "on", "off"),
        default="model",
        help="whether the model thinks when a request says nothing (default: by the model id, "
        "on for 5.x)",
    )
    p.add_argument(
        "--token-factor",
        type=float,
        help="tokens per Haiku 4.5 token (default: by the model id, 1.3 for 5.x)",
    )
    p.add_argument(
        "--auth",
        choices=("any", "x-api-key"),
        default="any",
        help="x-api-key: read only the documented header (a Bearer alone is a 401)",
    )
    p.add_argument(
        "--rpm-window",
        type=float,
        metavar="S",
        help="count --rpm per fixed window of S seconds (60: a low tier)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--replay", metavar="PAIRS", help="JSONL of {original, improved}: answer known inputs"
    )
    p.add_argument(
        "--record", metavar="FILE", help="append every Messages request body to FILE (JSONL)"
    )
    args = p.parse_args(argv)
    config = FakeConfig(
        latency=args.latency,
        jitter=args.jitter,
        rpm=args.rpm,
        input_tpm=args.input_tpm,
        output_tpm=args.output_tpm,
        fault_rates=_rates(args.fault, FAULTS, "--fault"),
        bad_output_rates=_rates(args.bad_output, BAD_OUTPUTS, "--bad-output"),
        hostile_rates=_rates(args.hostile, HOSTILE, "--hostile"),
        api_key=args.api_key,
        retry_after=args.retry_after,
        hang_seconds=args.hang_seconds,
        outage=args.outage,
        outage_fault=args.outage_fault,
        batch_delay=args.batch_delay,
        cache_floor=args.cache_floor,
        strict_grammar_limit=args.strict_grammar_limit,
        forced_tool_thinking=args.forced_tool_thinking,
        thinking_default=None
        if args.thinking_default == "model"
        else args.thinking_default == "on",
        token_factor=args.token_factor,
        auth=args.auth,
        rpm_window=args.rpm_window,
        seed=args.seed,
    )
    model = FakeModel.from_pairs(args.replay) if args.replay else None
    fake = FakeAnthropic(config, model=model)
    server = FakeAnthropicServer(fake, host=args.host, port=args.port, record=args.record)
    asyncio.run(_serve(server))


async def _serve(server: FakeAnthropicServer) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        print(f"listening on {server.url}", flush=True)
        await stop.wait()
    print(server.counters.snapshot(), file=sys.stderr)


if __name__ == "__main__":
    main()
