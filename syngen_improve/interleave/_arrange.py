"""The ``kto`` order: alternating labels, unpaired rows spread evenly, and rows that share
a prompt kept apart.

Why apart: TRL's KTOTrainer (read in TRL 1.16.0, ``trl/trainer/kto_trainer.py``) estimates
its KL reference from *mismatched* (prompt, completion) pairs, built when the dataset is
prepared by rotating the completions one row within each block of
``per_device_train_batch_size`` consecutive rows in file order: row i is paired with row
i-1's completion, the block's first row with its last. An improvement written right before
its own original therefore gives a "mismatched" pair with the same prompt. Keeping rows
that share a prompt (the first user turn) more than ``gap`` rows apart keeps every such
pair mismatched for any batch size up to ``gap + 1``.

The order is built greedily: a label plan spreads the majority label evenly (longest run
``ceil(max(D, U) / min(D, U))``, 1 when balanced), and each slot takes the first row of that
label whose prompt is not among the last ``gap`` rows placed. Originals are queued rotated
by about ``gap / 2`` pairs against their improvements, so a pair's two rows land about
``gap + 1`` rows apart, and the last originals placed are those of the first improvements.
Here: the prompt hash, the window of recent prompts, and the order while a run goes
(:class:`PairStream`); the whole-file order is :mod:`._kto_file`'s.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter, deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import orjson

__all__ = ["DEFAULT_GAP", "PairStream", "Window", "last_prompts", "prompt_key"]

#: Rows sharing a prompt are kept more than this many rows apart by default.
DEFAULT_GAP: Final = 8
#: How far into a label's queue a slot looks for a row whose prompt is not too close: a
#: run's stream holds back at most this many rows a side (the whole-file arrangement's
#: lookahead is :data:`._kto_place.LOOKAHEAD`).
_LOOKAHEAD: Final = 256


def prompt_key(record: Any) -> int | None:
    """A 64-bit hash of the record's first user turn (``None`` when it has none), in any
    dialect: ``conversations`` or ``messages``, ``role``/``content`` or ``from``/``value``."""
    if not isinstance(record, dict):
        return None
    turns = record.get("conversations")
    if not isinstance(turns, list):
        turns = record.get("messages")
    if not isinstance(turns, list):
        return None
    for turn in turns:
        if not isinstance(turn, dict):
            continue
        if turn.get("role") == "user" or turn.get("from") == "human":
            content = turn.get("content", turn.get("value"))
            text = content if isinstance(content, str) else orjson.dumps(content).decode()
            digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
            return int.from_bytes(digest, "little")
    return None


class Window:
    """The prompts of the last ``gap`` rows placed."""

    def __init__(self, gap: int) -> None:
        self.recent: deque[int | None] = deque(maxlen=max(gap, 0))
        self.counts: Counter[int] = Counter()

    def clear(self, prompt: int | None) -> bool:
        return prompt is None or not self.counts.get(prompt)  # .get: no __missing__ call

    def add(self, prompt: int | None) -> int | None:
        """Place ``prompt``; the prompt this clears from the window, if any."""
        if self.recent.maxlen == 0:
            return None
        gone = self.recent[0] if len(self.recent) == self.recent.maxlen else None
        if gone is not None:
            self.counts[gone] -= 1
        self.recent.append(prompt)
        if prompt is not None:
            self.counts[prompt] += 1
        return gone if gone is not None and not self.counts[gone] else None


class PairStream:
    """The ``kto`` order while a run goes: pairs (an improvement, its original) come in as
    they are made and rows go out strictly alternating, True first, each only once its
    prompt is more than ``gap`` rows from the same prompt. What is held back waits for
    later pairs (at most :data:`_LOOKAHEAD` a side: past that the oldest goes out anyway,
    so a dataset whose prompts all repeat cannot fill memory); the run's end rebuilds the
    whole file with :func:`arrange`."""

    def __init__(self, gap: int, recent: Sequence[int | None] = ()) -> None:
        self._window = Window(gap)
        for prompt in recent:
            self._window.add(prompt)
        self._queues: tuple[deque[tuple[int | None, dict[str, Any]]], ...] = (deque(), deque())
        self._next = 0

    def add(self, desirable: dict[str, Any], undesirable: dict[str, Any]) -> list[dict[str, Any]]:
        """Queue a pair; returns the rows that can be written now, in order."""
        self._queues[0].append((prompt_key(desirable), desirable))
        self._queues[1].append((prompt_key(undesirable), undesirable))
        out: list[dict[str, Any]] = []
        while True:
            queue = self._queues[self._next]
            ahead = itertools.islice(enumerate(queue), _LOOKAHEAD)
            found = next((i for i, (p, _) in ahead if self._window.clear(p)), None)
            if found is None and len(queue) >= _LOOKAHEAD:
                found = 0  # the data leaves no choice: memory stays bounded, order kept
            if found is None:
                return out
            prompt, row = queue[found]
            del queue[found]
            self._window.add(prompt)
            out.append(row)
            self._next = 1 - self._next


def last_prompts(path: Path, count: int) -> list[int | None]:
    """The prompts of the last ``count`` rows of a JSONL file (oldest first)."""
    recent: deque[int | None] = deque(maxlen=count)
    if count and path.exists():
        with open(path, "rb") as fh:
            for raw in fh:
                if raw.strip():
                    try:
                        recent.append(prompt_key(orjson.loads(raw)))
                    except orjson.JSONDecodeError:
                        recent.append(None)
    return list(recent)
