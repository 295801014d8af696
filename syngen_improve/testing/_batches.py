"""The fake's Message Batches endpoints: create, retrieve, list, cancel, results.

A batch ends ``FakeConfig.batch_delay`` seconds after it is created; its requests are
answered then, by the same model, faults and bad outputs as online requests (a fault
becomes an ``errored`` result; ``batch_expire_rate`` makes some ``expired``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from ._answers import Answers, check_payload
from ._strict import strict_problem
from ._wire import FakeResponse

__all__ = ["BatchRoute"]

CUSTOM_ID_RE: Final = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_REQUESTS: Final = 100_000
_FAULT_ERRORS: Final = {
    "429": "rate_limit_error",
    "529": "overloaded_error",
    "500": "api_error",
    "400": "invalid_request_error",
    "drop": "api_error",
    "hang": "api_error",
}


@dataclass
class FakeBatch:
    id: str
    created: float
    requests: list[dict[str, Any]]
    canceled: bool = False
    results: list[dict[str, Any]] | None = None
    counts: dict[str, int] = field(default_factory=dict)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ended(answers: Answers, batch: FakeBatch) -> bool:
    return batch.canceled or time.time() >= batch.created + answers.config.batch_delay


def _process(answers: Answers, batch: FakeBatch) -> list[dict[str, Any]]:
    """Answer every request once (on first look after the batch ends)."""
    if batch.results is not None:
        return batch.results
    results = []
    for item in batch.requests:
        custom_id, params = item["custom_id"], item["params"]
        result: dict[str, Any]
        if batch.canceled:
            result = {"type": "canceled"}
        elif answers.draw("expire", custom_id) < answers.config.batch_expire_rate:
            result = {"type": "expired"}
        elif (problem := answers.thinking_problem(params)) is not None:
            # A request the Messages route would refuse (its thinking, effort or forced
            # tool) is an errored result here.
            answers.counters.thinking_refused += 1
            error = {"type": "invalid_request_error", "message": problem}
            result = {"type": "errored", "error": {"type": "error", "error": error}}
        else:
            attempt = answers.attempt(params)
            if attempt.fault is not None:
                kind = _FAULT_ERRORS[attempt.fault]
                error = {"type": kind, "message": f"fault injected: {attempt.fault}"}
                result = {"type": "errored", "error": {"type": "error", "error": error}}
            else:
                usage = answers.usage(params)
                message = answers.message(params, attempt, usage, answers.request_id())
                result = {"type": "succeeded", "message": message}
        results.append({"custom_id": custom_id, "result": result})
    batch.results = results
    return results


def _object(answers: Answers, batch: FakeBatch, host: str) -> dict[str, Any]:
    ended = _ended(answers, batch)
    counts = dict.fromkeys(("processing", "succeeded", "errored", "canceled", "expired"), 0)
    if ended:
        for line in _process(answers, batch):
            counts[line["result"]["type"]] += 1
    else:
        counts["processing"] = len(batch.requests)
    end = batch.created + answers.config.batch_delay
    return {
        "id": batch.id,
        "type": "message_batch",
        "processing_status": "ended"
        if ended
        else ("canceling" if batch.canceled else "in_progress"),
        "request_counts": counts,
        "ended_at": _iso(end) if ended else None,
        "created_at": _iso(batch.created),
        "expires_at": _iso(batch.created + 86400),
        "archived_at": None,
        "cancel_initiated_at": _iso(time.time()) if batch.canceled else None,
        "results_url": f"http://{host}/v1/messages/batches/{batch.id}/results" if ended else None,
    }


class BatchRoute:
    """``/v1/messages/batches``: the batches created so far, answered by ``answers``."""

    def __init__(self, answers: Answers) -> None:
        self.answers = answers
        self.batches: dict[str, FakeBatch] = {}

    def handle(self, method: str, route: str, host: str, body: bytes) -> FakeResponse:
        """Route one Message Batches request."""
        return _handle(self.answers, self.batches, method, route, host, body)


def _handle(
    answers: Answers, batches: dict[str, FakeBatch], method: str, route: str, host: str, body: bytes
) -> FakeResponse:
    def ok(data: Any, content_type: str = "application/json") -> FakeResponse:
        raw = data if isinstance(data, bytes) else orjson.dumps(data)
        return FakeResponse(
            200, {"content-type": content_type, "request-id": answers.request_id()}, raw
        )

    parts = route.split("/")[4:]  # after /v1/messages/batches
    if not parts:
        if method == "GET":
            data = [_object(answers, b, host) for b in batches.values()]
            return ok(
                {
                    "data": data,
                    "has_more": False,
                    "first_id": data[0]["id"] if data else None,
                    "last_id": data[-1]["id"] if data else None,
                }
            )
        if method != "POST":
            return answers.error(405, "invalid_request_error", f"{method} is not allowed here")
        return _create(answers, batches, body, host, ok)
    batch = batches.get(parts[0])
    if batch is None:
        return answers.error(404, "not_found_error", f"no batch {parts[0]!r}")
    if len(parts) == 1 and method == "GET":
        return ok(_object(answers, batch, host))
    if parts[1:] == ["cancel"] and method == "POST":
        if not _ended(answers, batch):
            batch.canceled = True
        return ok(_object(answers, batch, host))
    if parts[1:] == ["results"] and method == "GET":
        if not _ended(answers, batch):
            return answers.error(400, "invalid_request_error", "the batch has not ended")
        lines = b"".join(orjson.dumps(r) + b"\n" for r in _process(answers, batch))
        return ok(lines, "application/x-jsonl")
    return answers.error(404, "not_found_error", f"no route {method} {route}")


def _create(
    answers: Answers,
    batches: dict[str, FakeBatch],
    body: bytes,
    host: str,
    ok: Callable[[Any], FakeResponse],
) -> FakeResponse:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return answers.error(400, "invalid_request_error", f"body is not JSON: {exc}")
    requests = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(requests, list) or not requests:
        return answers.error(400, "invalid_request_error", "requests: at least one is required")
    if len(requests) > MAX_REQUESTS:
        return answers.error(400, "invalid_request_error", f"at most {MAX_REQUESTS} requests")
    seen: set[str] = set()
    for i, item in enumerate(requests):
        custom_id = item.get("custom_id") if isinstance(item, dict) else None
        if not isinstance(custom_id, str) or not CUSTOM_ID_RE.match(custom_id):
            return answers.error(
                400,
                "invalid_request_error",
                f"requests.{i}.custom_id: must match {CUSTOM_ID_RE.pattern}",
            )
        if custom_id in seen:
            return answers.error(400, "invalid_request_error", f"duplicate custom_id {custom_id!r}")
        seen.add(custom_id)
        problem = check_payload(item.get("params"))
        if problem is None:
            problem = strict_problem(item["params"], answers.config.strict_grammar_limit)
            answers.counters.strict_refused += problem is not None
        if problem:
            return answers.error(400, "invalid_request_error", f"requests.{i}.params.{problem}")
    answers.counters.batches_created += 1
    answers.counters.batch_custom_ids.update(seen)
    batch = FakeBatch(f"msgbatch_fake{len(batches) + 1:08d}", time.time(), requests)
    batches[batch.id] = batch
    return ok(_object(answers, batch, host))
