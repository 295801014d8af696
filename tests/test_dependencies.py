"""The dependencies pyproject declares are the ones the package imports, no more, no less."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "syngen_improve"
#: Imported only where the user opted in (an extra) or by the tool that loads the module.
OPTIONAL = {
    "matplotlib",
    "ipywidgets",
    "datasets",
    "pytest",
    "huggingface_hub",
    "ray",
    "pyarrow",
}
#: Looked up by name, imported by another package (tqdm.notebook).
INDIRECT = {"ipywidgets"}


def imported() -> set[str]:
    """Top-level names of the third-party modules the package imports anywhere."""
    names: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "syngen_improve"}


def declared() -> tuple[set[str], set[str]]:
    """The required and the optional distributions of pyproject.toml, by name."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

    def names(specs: list[str]) -> set[str]:
        return {re.split(r"[\[<>=!~; ]", spec, maxsplit=1)[0].lower() for spec in specs}

    extras = set().union(*(names(v) for v in project["optional-dependencies"].values()))
    return names(project["dependencies"]), extras


def test_every_import_is_declared_and_every_dependency_imported() -> None:
    required, extras = declared()
    used = imported()
    assert used - OPTIONAL == required  # e.g. httpx2 imported but not declared fails here
    assert used >= OPTIONAL - INDIRECT
    assert extras >= OPTIONAL
