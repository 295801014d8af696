"""The sinks: one writer task per output file (the records' shape is :mod:`._records`').

Each input line ends in exactly one place: ``quarantine.jsonl`` (unreadable), the
desirable side (improved, or good with ``include_good``) or ``failed.jsonl``; a poor
input also goes to ``poor_examples.jsonl`` with ``label: false``. The ledger says how
each line ended (for the report and resume). The KTO file grows as pairs are made, in the
``kto`` order (alternating, rows sharing a prompt kept apart), so a killed run leaves a
usable prefix; the run's end rebuilds it whole with the unpaired rows spread in.

Rows are written in the input's form: the originals (``poor_examples.jsonl``, the good rows
passed through, ``failed.jsonl``'s ``original``, the undesirable side of the KTO file) are the
input rows as read with only ``label`` and the keys below set; an improvement is written in
its input row's dialect and style (:func:`~syngen_improve.dialects.restyle`).

Every record names its input line twice: ``_source_line`` (1-based line number) and
``_source_key`` (a fingerprint of the line's content, the one the resume check uses),
so a record can be joined back even to an edited copy of the input. Records also carry
``_provenance``: the run that wrote them and the model, templates and tool schemas it
used (the hashes ``state/manifest.json`` records).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextlib import AsyncExitStack
from types import TracebackType

import orjson

from .._pool import Writer
from ..improve import Outcome
from ..interleave import PairStream, interleave_files, last_prompts
from ..outputs import Layout
from ._records import Placed, Records, Row

__all__ = ["Row", "Sinks"]


class Sinks:
    """The output folder's writers, open for one run (an async context manager)."""

    def __init__(
        self,
        layout: Layout,
        provenance: Mapping[str, str],
        *,
        refused_before: set[int],
        prompt_gap: int,
    ) -> None:
        self.layout = layout
        self.provenance = dict(provenance)
        self.records = Records(self.provenance)
        self.prompt_gap = prompt_gap
        # Lines a resume retries after a refusal (400) taken for the service's fault.
        self._refused_before = refused_before
        self._stack: AsyncExitStack | None = None
        # The encoded line of each row the KTO stream holds (by the row's id while held).
        self._encoded: dict[int, bytes] = {}

    async def __aenter__(self) -> Sinks:
        layout = self.layout
        async with AsyncExitStack() as stack:
            self._improved = await stack.enter_async_context(Writer(layout.improved))
            self._poor = await stack.enter_async_context(Writer(layout.poor))
            self._failed = await stack.enter_async_context(Writer(layout.failed))
            self._quarantine = await stack.enter_async_context(Writer(layout.quarantine))
            self._ledger = await stack.enter_async_context(Writer(layout.ledger))
            # A resume: rewrite the KTO file as a valid prefix (a fresh run has no pairs).
            if layout.improved.stat().st_size and layout.poor.stat().st_size:
                await asyncio.to_thread(self._prefix)
            recent = last_prompts(layout.interleaved, self.prompt_gap)
            self._stream = PairStream(self.prompt_gap, recent)
            self._interleaved = await stack.enter_async_context(Writer(layout.interleaved))
            self._stack = stack.pop_all()
        return self

    def _prefix(self) -> None:
        """The KTO file of what earlier runs paired (alternating; the unpaired rows wait
        for the end of the run)."""
        layout = self.layout
        interleave_files(
            layout.improved,
            layout.poor,
            layout.interleaved,
            policy="kto",
            prompt_gap=self.prompt_gap,
            pairs_only=True,
            spill=layout.state,
        )

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.__aexit__(exc_type, exc, tb)

    async def place(self, placed: Placed) -> None:
        """A line that is not improved here, in its file (see :meth:`Records.place`)."""
        queue = {"quarantine": self._quarantine, "improved": self._improved, "poor": self._poor}
        await queue[placed.file].put(placed.record)
        if placed.ledger is not None:
            await self._ledger.put(placed.ledger)

    async def outcome(self, outcome: Outcome, key: str, row: Row) -> None:
        """An improved or failed example (``key``: its line's content key; ``row``: the
        input row), and its ledger entry (with the example's issue kinds, for the review).
        Returns once the record is in
        its file: the caller's concurrency slot is held until then, so a crash loses at most the
        examples in flight, never one that was answered."""
        line = outcome.key
        if outcome.record is not None:
            improved = self.records.improved(outcome, row, key)
            original = self.records.original(row, False, line, key)
            # Each row is encoded once, for its own file and for the KTO file.
            self._encoded[id(improved)] = encoded = orjson.dumps(improved)
            self._encoded[id(original)] = orjson.dumps(original)
            await self._improved.write(encoded)
            for paired in self._stream.add(improved, original):
                await self._interleaved.put(self._encoded.pop(id(paired)))
        else:
            status = outcome.http_status
            # Refused again in another run: the example's own problem, not the service's.
            transient = outcome.transient and not (status == 400 and line in self._refused_before)
            await self._failed.write(self.records.failed(outcome, row, key, transient=transient))
        await self._ledger.put(self.records.ledger(outcome))
