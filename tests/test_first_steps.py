"""The README's and getting-started's code blocks run as written (from the root of a clone,
offline: the bundled sample and the built-in fake model).

Python blocks run as they are, each in its own process. Shell blocks run line by line with
``.venv/bin/`` meaning this interpreter's scripts; the lines that make the venv, install
the package or run the test suite are what CI itself does in a fresh clone, so they are
not repeated here. A command "runs" when it exits below 2 (1 is a finding, such as a
malformed line; 2 is a usage or input error, 70 a bug).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "docs" / "getting-started.md"]
_SETUP = ("python3 -m venv", "pip install", "python -m pytest")


def _blocks(language: str) -> list[tuple[str, int, str]]:
    out = []
    for page in PAGES:
        text = page.read_text("utf-8")
        for found in re.finditer(rf"```{language}\n(.*?)```", text, re.S):
            line = text.count("\n", 0, found.start()) + 1
            out.append((page.name, line, found.group(1)))
    return out


def _block_id(value: object) -> str:
    return "" if isinstance(value, str) and "\n" in value else str(value)


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A folder laid out like the root of a clone, as far as the blocks read it (the
    package, whose bundled sample the commands name), without the checkout's own outputs."""
    (tmp_path / "syngen_improve").symlink_to(ROOT / "syngen_improve", target_is_directory=True)
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize(("page", "line", "code"), _blocks("python"), ids=_block_id)
def test_python_blocks_run_as_written(page: str, line: int, code: str, clone: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", code], cwd=clone, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, f"{page}:{line}\n{proc.stderr[-2000:]}"


def _commands() -> list[tuple[str, int, str]]:
    out = []
    for page, line, code in _blocks("bash"):
        for n, text in enumerate(code.splitlines()):
            for part in text.split("#", 1)[0].split("&&"):
                command = part.strip()
                if (
                    command
                    and not command.startswith(("export ", "cd "))
                    and not any(s in command for s in _SETUP)
                ):
                    out.append((page, line + 1 + n, command))
    return out


def test_the_pages_have_commands_to_run() -> None:
    commands = [c for _, _, c in _commands()]
    assert any("syngen-improve demo" in c for c in commands)
    assert any("syngen-improve improve" in c and "--backend fake" in c for c in commands)
    assert len(_blocks("python")) >= 3


@pytest.mark.slow
def test_shell_commands_run_as_written_in_order(clone: Path) -> None:
    """In page order, in one folder: a later command reads what an earlier one wrote."""
    bin_dir = Path(sys.executable).parent
    for page, line, command in _commands():
        run = command.replace(".venv/bin/", f"{bin_dir}/")
        proc = subprocess.run(run, shell=True, cwd=clone, capture_output=True, text=True,
                              timeout=300)  # fmt: skip
        assert proc.returncode < 2, f"{page}:{line}: {command}\n{proc.stderr[-2000:]}"
