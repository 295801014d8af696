"""The Message Batches backend: the same ``send(request) -> Reply`` at half the price.

Workers call :meth:`BatchBackend.send` as with the online backend and wait. Requests are
gathered into a batch when no new one has arrived for ``flush_after`` seconds (or at
100,000 requests / 256 MB: :class:`BatchPacing`), submitted, and the batch id with its
``custom_id``s is written to ``state_dir/batches.jsonl`` (fsync) right after the API
accepts it, before anything else can fail. One poller per batch backs off from
``poll_min`` to ``poll_max`` seconds; when the batch ends its results are saved to
``state_dir/results/<id>.jsonl`` and every waiting request gets its answer.

``custom_id`` comes from the request's ``key`` (the pipeline uses ``l<line>-a<answer>``)
plus ``-r<n>`` for the n-th retry of the same request, so a process killed at any point
and started again asks for exactly the same ids: those already submitted re-attach to
their batch (results are read from disk or fetched), and nothing is submitted twice.
Errored, expired and canceled results become :class:`BackendError` for the engine's
retry policy. The SDK's own retries cover the control calls (create, retrieve, results)
only; message retries stay with the engine.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final

import orjson

from .._jsonl import JsonlWriter, read_records
from ..errors import EXIT_USAGE, SyngenError, UsageError
from ._backend import BackendError, ClosingBackend, Reply, Request
from ._batch_results import Results, download, to_reply
from ._connect import extra_headers, secret_values
from ._direct import DirectBackend
from ._messages import (
    DEFAULT_BASE_URL,
    DEFAULT_MODEL,
    messages_scope,
    resolve_base_url,
    resolve_key,
)
from ._redact import Redactor

__all__ = ["BatchBackend", "BatchPacing", "BatchStopped"]

MAX_REQUESTS: Final = 100_000
MAX_BYTES: Final = 256 * 1024 * 1024 - 1024 * 1024  # a margin under the API's 256 MB
_ID_RE: Final = re.compile(r"[^a-zA-Z0-9_-]")


class BatchStopped(SyngenError):
    """The batch backend's background work failed (its cause says how, e.g. the batch
    ledger could not be written): the run stops rather than wait for batches nobody
    watches. Resumable: the batches already submitted are in the ledger."""

    exit_code: ClassVar[int] = EXIT_USAGE

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"the batch backend stopped: {cause!r}")
        self.__cause__ = cause


@dataclass(frozen=True)
class BatchPacing:
    """When requests become a batch and how its end is awaited: a batch is submitted once
    no request came for ``flush_after`` seconds, or at ``max_requests`` / ``max_bytes``
    (the API's limits at most); its poller backs off from ``poll_min`` to ``poll_max``."""

    flush_after: float = 2.0
    poll_min: float = 1.0
    poll_max: float = 60.0
    max_requests: int = MAX_REQUESTS
    max_bytes: int = MAX_BYTES

    def __post_init__(self) -> None:
        for name in ("flush_after", "poll_min", "poll_max", "max_requests", "max_bytes"):
            if getattr(self, name) <= 0:
                raise UsageError(f"{name!r} must be > 0, got {getattr(self, name)}")
        if self.max_requests > MAX_REQUESTS:
            raise UsageError(f"'max_requests' must be at most {MAX_REQUESTS}")


class BatchBackend(ClosingBackend):
    """Messages through the Message Batches API (see the module docstring)."""

    batch = True
    #: A batch may take up to 24 hours; the engine's per-attempt timeout must allow it.
    min_attempt_timeout = 26 * 3600.0

    def __init__(
        self,
        *,
        model: str = DEFAULT_MODEL,
        api_key: str | None = None,
        base_url: str | None = None,
        state_dir: str | os.PathLike[str] | None = None,
        pacing: BatchPacing | None = None,
        http_client: Any = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.model = model
        self._key = resolve_key(api_key)
        self._extra = extra_headers(default_headers)
        self._redact = Redactor(self._key, secret_values(self._extra))
        self.base_url = resolve_base_url(base_url)
        self.cache_scope = messages_scope(self.base_url)
        import anthropic

        self._sdk = anthropic
        if http_client is None:  # the key goes nowhere a redirect points
            http_client = anthropic.DefaultAsyncHttpxClient(follow_redirects=False)
        self._client = anthropic.AsyncAnthropic(
            api_key=self._key,
            base_url=self.base_url,
            max_retries=3,
            http_client=http_client,
            default_headers=self._extra or None,
        )
        self.pacing = pacing or BatchPacing()
        self.state_dir: Path | None = None
        self._tries: Counter[str] = Counter()
        self._known: dict[str, str] = {}  # custom_id -> batch id
        self._results = Results()  # the results on disk, by custom_id
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._pending: list[tuple[str, bytes]] = []
        self._pending_bytes = 0
        self._last_add = 0.0
        self._has_pending: asyncio.Event | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._pollers: dict[str, asyncio.Task[None]] = {}
        # The flusher and pollers run in one TaskGroup, held open by a supervisor task.
        self._group: asyncio.TaskGroup | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._closing: asyncio.Event | None = None
        self._stopped: BaseException | None = None
        self.submitted: list[str] = []
        if state_dir is not None:
            self.attach(state_dir)

    def online(self) -> DirectBackend:
        """The online backend with the same key and server (for ``reask_online``): the
        re-asks go through the same path as an ordinary online run."""
        return DirectBackend(
            model=self.model, api_key=self._key, base_url=self.base_url, default_headers=self._extra
        )

    def __repr__(self) -> str:
        return f"BatchBackend(model={self.model!r}, state_dir={str(self.state_dir)!r})"

    # -- state ------------------------------------------------------------------------

    def attach(self, state_dir: str | os.PathLike[str]) -> None:
        """Use ``state_dir`` for batch ids and results, and re-attach to what is there."""
        self.state_dir = Path(state_dir)
        (self.state_dir / "results").mkdir(parents=True, exist_ok=True)
        for entry in read_records(self.state_dir / "batches.jsonl"):
            batch_id = str(entry["batch_id"])
            self._known.update(dict.fromkeys(entry.get("custom_ids", []), batch_id))
        for path in sorted((self.state_dir / "results").glob("*.jsonl")):
            self._results.add(path)

    # -- sending ----------------------------------------------------------------------

    def _custom_id(self, request: Request) -> str:
        base = _ID_RE.sub("_", request.key or "req")[:56] or "req"
        n = self._tries[base]
        self._tries[base] += 1
        return base if n == 0 else f"{base}-r{n}"

    # -- background tasks -------------------------------------------------------------

    async def _start(self) -> asyncio.TaskGroup:
        """The task group of the flusher and pollers (started on first use)."""
        if self._stopped is not None:
            raise BatchStopped(self._stopped)
        if self._group is None:
            loop = asyncio.get_running_loop()
            ready: asyncio.Future[None] = loop.create_future()
            self._closing = asyncio.Event()
            self._supervisor = asyncio.create_task(self._supervise(ready), name="batch-tasks")
            await ready
        assert self._group is not None
        return self._group

    async def _supervise(self, ready: asyncio.Future[None]) -> None:
        """Hold the task group open until :meth:`aclose`. When a background task fails
        (a ledger that cannot be written, an unexpected answer), every request waiting
        for a batch fails at once with :class:`BatchStopped`, and so does every later
        :meth:`send`: nothing waits for a batch nobody is watching."""
        assert self._closing is not None
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                ready.set_result(None)
                await self._closing.wait()
                for task in (self._flusher, *self._pollers.values()):
                    if task is not None:
                        task.cancel()
        except Exception as exc:  # the group's ExceptionGroup: a task failed
            failure = exc.exceptions[0] if isinstance(exc, BaseExceptionGroup) else exc
            self._stopped = failure
            for future in list(self._waiters.values()):
                if not future.done():
                    future.set_exception(BatchStopped(failure))
        finally:
            self._group = None
            if not ready.done():
                ready.cancel()

    async def send(self, request: Request) -> Reply:
        """Wait for this request's answer from a batch (submitting it when new)."""
        if self.state_dir is None:
            raise UsageError("BatchBackend needs a state_dir (improve_dataset sets one)")
        group = await self._start()
        custom_id = self._custom_id(request)
        if custom_id in self._results:
            return to_reply(self._results.read(custom_id), self._redact)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._waiters[custom_id] = future
        try:
            if custom_id in self._known:
                self._ensure_poller(group, self._known[custom_id])
            else:
                self._enqueue(group, custom_id, request)
            result = await future
        finally:
            self._waiters.pop(custom_id, None)
        return to_reply(result, self._redact)

    def _enqueue(self, group: asyncio.TaskGroup, custom_id: str, request: Request) -> None:
        line = orjson.dumps({"custom_id": custom_id, "params": request.body(self.model)})
        self._pending.append((custom_id, line))
        self._pending_bytes += len(line)
        self._last_add = asyncio.get_running_loop().time()
        if self._has_pending is None:
            self._has_pending = asyncio.Event()
        self._has_pending.set()
        if self._flusher is None or self._flusher.done():
            self._flusher = group.create_task(self._flush_loop(), name="batch-flusher")

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._has_pending is not None
        while True:
            await self._has_pending.wait()
            while True:
                idle = loop.time() - self._last_add
                full = (
                    len(self._pending) >= self.pacing.max_requests
                    or self._pending_bytes >= self.pacing.max_bytes
                )
                if full or idle >= self.pacing.flush_after:
                    break
                await asyncio.sleep(self.pacing.flush_after - idle)
            chunk: list[tuple[str, bytes]] = []
            size = 0
            while self._pending and len(chunk) < self.pacing.max_requests:
                if chunk and size + len(self._pending[0][1]) > self.pacing.max_bytes:
                    break
                item = self._pending.pop(0)
                chunk.append(item)
                size += len(item[1])
            self._pending_bytes -= size
            if not self._pending:
                self._has_pending.clear()
            await self._submit(chunk)

    @staticmethod
    def _raw_response() -> type[Any]:
        """The SDK's HTTP response class (imported with the SDK, only when batches run)."""
        import httpx2

        return httpx2.Response

    async def _submit(self, chunk: list[tuple[str, bytes]]) -> None:
        assert self.state_dir is not None
        body = b'{"requests":[' + b",".join(line for _, line in chunk) + b"]}"
        try:
            raw = await self._client.post(
                "/v1/messages/batches",
                body=orjson.loads(body),
                cast_to=self._raw_response(),
            )
            data = orjson.loads(raw.content)
        except self._sdk.APIError as exc:
            error = self._api_error(exc)
            for custom_id, _ in chunk:
                self._fail(custom_id, error)
            return
        batch_id = str(data["id"])
        ids = [custom_id for custom_id, _ in chunk]
        with JsonlWriter(self.state_dir / "batches.jsonl", fsync=True) as ledger:
            ledger.write({"batch_id": batch_id, "custom_ids": ids})
        self.submitted.append(batch_id)
        self._known.update(dict.fromkeys(ids, batch_id))
        if self._group is not None:
            self._ensure_poller(self._group, batch_id)

    def _fail(self, custom_id: str, error: BackendError) -> None:
        future = self._waiters.get(custom_id)
        if future is not None and not future.done():
            future.set_exception(error)

    def _api_error(self, exc: Exception) -> BackendError:
        status = getattr(exc, "status_code", None)
        return BackendError(self._redact(f"batch API call failed: {exc}"), status=status)

    # -- polling ----------------------------------------------------------------------

    def _ensure_poller(self, group: asyncio.TaskGroup, batch_id: str) -> None:
        task = self._pollers.get(batch_id)
        if task is None or task.done():
            self._pollers[batch_id] = group.create_task(
                self._poll(batch_id), name=f"batch-poll:{batch_id}"
            )

    async def _poll(self, batch_id: str) -> None:
        assert self.state_dir is not None
        path = self.state_dir / "results" / f"{_ID_RE.sub('_', batch_id)}.jsonl"
        delay = self.pacing.poll_min
        try:
            while not path.exists():
                raw = await self._client.get(
                    f"/v1/messages/batches/{batch_id}",
                    cast_to=self._raw_response(),
                )
                data = orjson.loads(raw.content)
                if data.get("processing_status") == "ended" and data.get("results_url"):
                    where = self.base_url or DEFAULT_BASE_URL
                    await download(self._client, self._raw_response(), batch_id, path, where)
                    break
                await asyncio.sleep(delay)
                delay = min(self.pacing.poll_max, delay * 1.5)
        except (self._sdk.APIError, BackendError) as exc:
            error = exc if isinstance(exc, BackendError) else self._api_error(exc)
            for custom_id, known in list(self._known.items()):
                if known == batch_id:
                    self._fail(custom_id, error)
            return
        self._results.add(path)
        for custom_id, future in list(self._waiters.items()):
            if custom_id in self._results and not future.done():
                future.set_result(self._results.read(custom_id))

    async def aclose(self) -> None:
        """Stop the background tasks (their task group ends) and close the client."""
        if self._supervisor is not None and self._closing is not None:
            self._closing.set()
            await asyncio.wait({self._supervisor})
            self._supervisor = None
        await self._client.close()
