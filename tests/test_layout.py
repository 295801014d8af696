"""The package's shape: no import cycles (lazy imports counted), no file over 400 lines,
no function over 10 parameters."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "syngen_improve"
CHECKER = ROOT / "tools" / "import_cycles.py"


def check(package: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECKER), str(package)], capture_output=True, text=True, timeout=60
    )


def test_the_package_has_no_import_cycle() -> None:
    result = check(PACKAGE)
    assert result.returncode == 0, result.stderr


def test_the_checker_finds_a_lazy_cycle_and_a_cycle_between_units(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "stage").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "stage" / "__init__.py").write_text("from ._one import one\n")
    (pkg / "stage" / "_one.py").write_text("def one():\n    from ..report import build\n")
    (pkg / "report.py").write_text("from .stage import _two\ndef build():\n    pass\n")
    (pkg / "stage" / "_two.py").write_text("X = 1\n")
    result = check(pkg)
    assert result.returncode == 1
    assert "import cycle among units" in result.stderr
    assert "stage -> report" in result.stderr
    (pkg / "stage" / "_two.py").write_text("def f():\n    from . import _one\n")
    (pkg / "stage" / "_one.py").write_text("def one():\n    from . import _two\n")
    (pkg / "report.py").write_text("def build():\n    pass\n")
    result = check(pkg)
    assert result.returncode == 1
    assert "import cycle among modules" in result.stderr
    assert "pkg.stage._one -> pkg.stage._two" in result.stderr


def test_no_file_over_400_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text("utf-8").splitlines())) > 400
    }
    assert not long, long


def test_no_function_over_10_parameters() -> None:
    wide = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                a = node.args
                names = [*a.posonlyargs, *a.args, *a.kwonlyargs]
                count = len([n for n in names if n.arg not in ("self", "cls")])
                if count > 10:
                    wide.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({count})")
    assert not wide, wide


def test_every_argument_parser_takes_whole_options_only() -> None:
    """argparse matches option prefixes by default (``--output`` read as ``--output-tpm``):
    every parser of the project turns that off."""
    loose = []
    for path in [*PACKAGE.rglob("*.py"), *(ROOT / "benchmarks").glob("*.py"),
                 *(ROOT / "examples").glob("*.py")]:  # fmt: skip
        text = path.read_text("utf-8")
        for call in re.findall(r"ArgumentParser\((.*?)\)\n", text, re.S):
            if "allow_abbrev=False" not in call:
                loose.append(str(path.relative_to(ROOT)))
    assert not loose, loose
