"""A dataset in OpenAI chat form (``messages`` with ``tool_calls`` and ``tool`` results):
analyze, validate and improve it as it is, and get the improvements back in the same form.

The same works for ShareGPT (``from``/``value``) and Hermes ``<tool_call>`` tags: the
dialect is decided by the file's first row (``--dialect`` / ``dialect=`` forces one).

    python examples/openai_chat.py               # uses ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from syngen_improve import (
    Record,
    analyze_dataset,
    improve_dataset_sync,
    read_jsonl,
    sample_path,
    validate_file,
)
from syngen_improve.dialects import detect_dialect, read_conversation, read_text, write_openai

# With ANTHROPIC_API_KEY set: the API (or the server at ANTHROPIC_BASE_URL); without one,
# the built-in fake model answers, offline, so the example runs anywhere.
BACKEND = None if os.environ.get("ANTHROPIC_API_KEY") else "fake"

# Make an OpenAI-chat file from the bundled sample (your data would already be in it).
source = Path("openai-chat.jsonl")
with source.open("w") as out:
    for item in read_jsonl(sample_path()):
        if isinstance(item, Record):
            rest = {k: v for k, v in item.data.items() if k != "conversations"}
            out.write(json.dumps({**write_openai(read_text(item.data)), **rest}) + "\n")

profile = analyze_dataset(source)
print(f"dialect {profile.dialect}: {profile.poor} poor of {profile.total}, "
      f"{sum(profile.tools.values())} tool calls seen")  # fmt: skip
print(validate_file(source, workers=1).summary())

result = improve_dataset_sync(source, "openai-chat-output", progress=False, backend=BACKEND)
print(result)
first = json.loads(Path("openai-chat-output/improved_examples.jsonl").read_text().splitlines()[0])
print(f"improvements are in the {detect_dialect(first)} dialect; the first has "
      f"{len(read_conversation(first).calls)} tool calls")  # fmt: skip
