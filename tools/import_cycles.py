"""Fail when the modules of a package import each other in a cycle.

    python tools/import_cycles.py [PACKAGE_DIR]     (default: syngen_improve)

Every import statement counts, wherever it is: at the top, inside a function (a lazy
import is still a dependency) or under ``if TYPE_CHECKING``. ``from a.b import c`` is an
edge to ``a.b.c`` when that is a module, else to ``a.b``; importing a submodule is not
counted as importing its parent package's ``__init__`` (as import-linter counts).
Cycles are looked for twice: between modules, and between the package's units (its
subpackages and top-level modules, each taken as one: ``improve`` may not import
``report`` if anything in ``report`` imports ``improve``). Prints each cycle and exits 1,
or prints the module count and exits 0.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def module_names(root: Path) -> dict[str, Path]:
    """Dotted name -> file, for every module of the package at ``root``."""
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(current: str, is_package: bool, level: int, module: str | None) -> str:
    if level == 0:
        return module or ""
    base = current.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def edges(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Who imports whom, inside the package."""
    out: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_package, node.level, node.module)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else base)
            for target in targets:
                while target and target not in modules:  # `import a.b.c` names a.b.c
                    target = target.rpartition(".")[0]
                if target and target != name:
                    out[name].add(target)
    return out


def units(graph: dict[str, set[str]], package: str) -> dict[str, set[str]]:
    """The graph between units: ``package.x.y.z`` belongs to unit ``x``."""

    def unit(name: str) -> str:
        parts = name.split(".")
        return parts[1] if len(parts) > 1 else f"{package} (__init__)"

    out: dict[str, set[str]] = {unit(name): set() for name in graph}
    for name, targets in graph.items():
        out[unit(name)].update(unit(t) for t in targets if unit(t) != unit(name))
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "syngen_improve").resolve()
    modules = module_names(root)
    graph = edges(modules)
    failed = False
    for kind, g in (("modules", graph), ("units", units(graph, root.name))):
        for component in cycles(g):
            failed = True
            print(f"import cycle among {kind}:", file=sys.stderr)
            for name in component:
                inside = sorted(g[name] & set(component))
                print(f"  {name} -> {', '.join(inside)}", file=sys.stderr)
    if failed:
        return 1
    print(f"no import cycles among the {len(modules)} modules of {root.name} or its units")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
