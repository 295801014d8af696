"""Profile a dataset: which examples are poor, and why.

    python examples/analyze_dataset.py [INPUT.jsonl]

Without an argument it uses the sample bundled with the package.
"""

from __future__ import annotations

import sys

from syngen_improve import SeedPolicy, analyze_dataset, sample_path


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else str(sample_path())
    profile = analyze_dataset(path, policy=SeedPolicy(overall_below=3.0))
    print(profile.format_table())
    commonest = max(profile.issues_structural, key=profile.issues_structural.__getitem__)
    print(f"\nmost common structural issue among the poor: {commonest}")


if __name__ == "__main__":
    main()
