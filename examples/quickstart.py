"""The 20 lines most people need: improve a scored JSONL file, look at the result.

    export ANTHROPIC_API_KEY=...             # or ANTHROPIC_BASE_URL for a compatible server
    python examples/quickstart.py [INPUT] [OUTPUT_DIR]

Without arguments it improves the bundled 200-line sample into ./quickstart-output/.
"""

from __future__ import annotations

import os
import sys

from syngen_improve import improve_dataset_sync, sample_path

# With ANTHROPIC_API_KEY set: the API (or the server at ANTHROPIC_BASE_URL); without one,
# the built-in fake model answers, offline, so the example runs anywhere.
BACKEND = None if os.environ.get("ANTHROPIC_API_KEY") else "fake"

source = sys.argv[1] if len(sys.argv) > 1 else sample_path()
output = sys.argv[2] if len(sys.argv) > 2 else "quickstart-output"

result = improve_dataset_sync(
    source, output, concurrency=16, answers=3, progress=False, backend=BACKEND
)

print(result)  # improved / failed / poor / malformed
report = result.report
print(f"requests: {report.requests.total}, cost: ${report.cost_usd:.4f}")
print(f"for KTO: {output}/improved_interleaved.jsonl ({report.counts.interleaved} rows)")
print(f"for SFT: {output}/improved_examples.jsonl; the report: {output}/report.md")
