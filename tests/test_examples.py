"""Every example runs as written, against the fake server (real HTTP, no key, no network)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from syngen_improve.testing import FakeAnthropicServer

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def fake_env() -> Iterator[dict[str, str]]:
    """The environment a user would set, pointing at the fake instead of the API."""
    with FakeAnthropicServer() as server:
        yield {**os.environ, "ANTHROPIC_BASE_URL": server.url, "ANTHROPIC_API_KEY": "sk-fake"}


def run(script: Path, env: dict[str, str], cwd: Path) -> str:
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=240,
        check=False, env=env, cwd=cwd,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip()
    return proc.stdout


#: What each example must print (besides running cleanly).
EXPECT = {
    "quickstart.py": ["120 improved, 0 failed of 120 poor", "quickstart-output/report.md"],
    "analyze_dataset.py": [
        "poor             120",
        "most common structural issue among the poor: missing_result",
    ],
    "engine_with_fake.py": ["improved 199 examples", "'retried': 398"],
    "kto_training.py": [
        "240 KTO rows: 120 desirable, 120 undesirable",
        "'undesirable_weight': 1.0",
    ],
    "own_tools.py": [
        "dialect openai, context convention none: 2 poor of 3",
        "before: Validated 3 examples: 0 failed (ignoring 1 label=false) {'P302': 1}",
        "2 improved, 0 failed of 2 poor",
        "after: Validated 2 examples: 0 failed",
        "written back with ['improved', 'label', 'messages', 'tools']",
        "sft roles: ['user', 'assistant', 'tool', 'assistant']",
        "trace convention: Validated 3 examples: 1 failed (ignoring 1 label=false) "
        "{'C203': 2, 'P302': 1}",
    ],
    "custom_templates.py": ["poor under the stricter policy: 171 (the seed's rule: 120)"],
    "improve_offline.py": ["120 improved, 0 failed of 120 poor"],
    "openai_chat.py": [
        "dialect openai: 120 poor of 199",
        "120 improved, 0 failed of 120 poor",
        "improvements are in the openai dialect",
    ],
    "test_with_fake.py": ["3 passed"],
    "ray_improve.py": ["120 improved, 0 failed of 120 poor", "KTO file: ray-output/"],
    "embed.py": ["outcomes: {'good': 79, 'improved': 120}", "120 requests"],
}

#: Examples that must leave no file behind.
FILELESS = {"embed.py", "analyze_dataset.py", "engine_with_fake.py"}


@pytest.mark.parametrize("script", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_example_runs(script: Path, fake_env: dict[str, str], tmp_path: Path) -> None:
    out = run(script, fake_env, tmp_path)
    for expected in EXPECT[script.name]:
        assert expected in out, script.name
    if script.name in FILELESS:
        assert not list(tmp_path.iterdir()), script.name


def test_notebook_cells_run_in_order(fake_env: dict[str, str], tmp_path: Path) -> None:
    """The notebook's code cells, run as one async script (top-level await as in Jupyter)."""
    notebook = json.loads((EXAMPLES / "notebook.ipynb").read_text())
    cells = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    body = "\n".join("    " + line for cell in cells for line in cell.splitlines())
    script = tmp_path / "notebook_as_script.py"
    script.write_text(f"import asyncio\n\nasync def main():\n{body}\n\nasyncio.run(main())\n")
    out = run(script, fake_env, tmp_path)
    assert "improved" in out
    assert "rejected: invalid" in out
    assert (tmp_path / "notebook-output" / "report.json").exists()
