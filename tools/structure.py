"""Structure checks of the package that no linter makes: no file longer than 400 lines,
at most 10 formatter escapes (``fmt: skip`` / ``fmt: off``, for tables that read better
aligned), and a fake that checks rather than confirms: ``syngen_improve.testing`` imports
nothing from the package's ``llm``, ``prompts``, ``analyze`` or ``validate``.

Usage: ``python tools/structure.py syngen_improve``; exits 1 naming what is wrong.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_LINES = 400
MAX_ESCAPES = 10
FAKE = "testing"
NOT_FOR_THE_FAKE = ("llm", "prompts", "analyze", "validate")
#: The client side of the fake: our own client pointed at it (not its rules).
CLIENT_SIDE = ("_backend.py", "_transport.py")


def imported(path: Path, package: str) -> set[str]:
    """Modules of ``package`` a file imports (absolute names, relative ones resolved)."""
    parts = path.with_suffix("").parts
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level]
                name = ".".join((*base, node.module) if node.module else base)
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{a.name}" for a in node.names)
    return {n for n in found if n == package or n.startswith(package + ".")}


def problems(root: Path) -> list[str]:
    out: list[str] = []
    escapes = 0
    package = root.name
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        if lines > MAX_LINES:
            out.append(f"{path}: {lines} lines (at most {MAX_LINES}: split it by concern)")
        escapes += text.count("# fmt: skip") + text.count("# fmt: off")
        rel = path.relative_to(root.parent)
        if rel.parts[1] == FAKE and path.name not in CLIENT_SIDE:
            modules = {".".join(n.split(".")[:3]) for n in imported(rel, package)}
            for name in sorted(modules):
                if name.split(".")[1:2] and name.split(".")[1] in NOT_FOR_THE_FAKE:
                    out.append(f"{path}: the fake imports {name} (it keeps its own rules)")
    if escapes > MAX_ESCAPES:
        out.append(f"{root}: {escapes} formatter escapes (at most {MAX_ESCAPES})")
    return out


def main(argv: list[str]) -> int:
    found = problems(Path(argv[0]))
    for line in found:
        print(line)
    if not found:
        print(f"structure ok: {argv[0]}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
