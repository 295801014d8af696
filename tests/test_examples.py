"""Every script in examples/ runs as written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("script", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_example_runs(script: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()


def output_of(name: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, check=True
    )
    return proc.stdout


def test_analyze_example_output() -> None:
    out = output_of("analyze_dataset.py")
    assert "poor             120" in out
    assert "most common structural issue among the poor: missing_result" in out


def test_engine_example_retries_every_injected_fault() -> None:
    out = output_of("engine_with_fake.py")
    assert "improved 199 examples" in out
    assert "'retried': 398" in out
