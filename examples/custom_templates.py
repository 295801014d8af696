"""Your own prompt and your own idea of "poor".

Overrides the system prompt's opening and the sessionMemory instruction, and uses a
relabel policy that is stricter than the seed's (any dimension at 2 or below is poor).

    python examples/custom_templates.py        # uses ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import Any

from syngen_improve import Templates, improve_dataset_sync, sample_path

# With ANTHROPIC_API_KEY set: the API (or the server at ANTHROPIC_BASE_URL); without one,
# the built-in fake model answers, offline, so the example runs anywhere.
BACKEND = None if os.environ.get("ANTHROPIC_API_KEY") else "fake"

DIMENSIONS = ("sessionMemory_quality", "toolContext_quality", "goal_coherence",
              "prompt_naturalness", "response_realism")  # fmt: skip


def strict_policy(example: Mapping[str, Any]) -> bool:
    """Poor when any judged dimension is 2 or below (a relabel policy is any callable)."""
    scores = example.get("quality_scores") or {}
    return any(isinstance(scores.get(d), int) and scores[d] <= 2 for d in DIMENSIONS)


bundled = Templates.default()
templates = bundled.override(
    system="You improve examples for our note-taking assistant. Prefer short, concrete "
    "sentences and real-looking file paths.\n\n" + bundled.system,
    issues={
        "empty_session_memory": "sessionMemory is empty or vague. Write what the earlier "
        "calls in this session found (files, counts, paths) in one specific sentence."
    },
)

with tempfile.TemporaryDirectory() as out:
    result = improve_dataset_sync(
        sample_path(),
        out,
        policy=strict_policy,
        templates=templates,
        progress=False,
        backend=BACKEND,
    )
    print(result)
    print("poor under the stricter policy:", result.counts.poor, "(the seed's rule: 120)")
