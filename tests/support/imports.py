"""The import graph of a source tree, read from the code: every import statement counts, also one inside a
function or under ``if TYPE_CHECKING`` (a cycle hidden in a function is still a cycle in the design).

Nodes are dotted module names (``indikera.access.identity``); a package node is the first level below the
root package (``indikera.access``), and a top-level module is its own package (``indikera.cli``).
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

Graph = dict[str, dict[str, str]]  # {module: {imported module: "file:line" of the first such import}}


def parse(path: Path) -> ast.Module:
    """The file's syntax tree, parsed once per file version (several architecture tests walk the whole tree)."""
    stat = path.stat()
    return _parse(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4096)
def _parse(path: Path, _mtime: int, _size: int) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _base(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def module_graph(root: Path) -> Graph:
    """Imports between the modules under ``root`` (a package directory such as ``src/indikera``)."""
    files = {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    graph: Graph = {}
    for module, path in files.items():
        tree = parse(path)
        edges: dict[str, str] = {}

        def add(target: str, node: ast.stmt) -> None:
            while target and target not in files:  # ``from pkg.mod import name``: the module is pkg.mod
                target = target.rpartition(".")[0]
            if target and target != module:
                edges.setdefault(target, f"{path.relative_to(root.parent)}:{node.lineno}")

        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(alias.name, node)
            elif isinstance(node, ast.ImportFrom):
                base = _base(module, node, path.name == "__init__.py")
                for alias in node.names:  # ``from . import store`` imports the submodule ``store``
                    add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base, node)
        graph[module] = edges
    return graph


def package_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def package_graph(graph: Graph) -> Graph:
    packages: Graph = {}
    for module, edges in graph.items():
        source = packages.setdefault(package_of(module), {})
        for target, where in edges.items():
            if package_of(target) != package_of(module):
                source.setdefault(package_of(target), where)
    return packages


def cycles(graph: Graph) -> list[list[str]]:
    """Cycles ``[a, b, …, a]``: in each strongly connected group of nodes (Tarjan), a shortest cycle through
    each node, each cycle once (rotated to start at its smallest node), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    found = set()
    for group in groups:
        for start in group:
            cycle = _cycle_in(graph, group, start)[:-1]
            i = cycle.index(min(cycle))
            found.add(tuple(cycle[i:] + cycle[:i] + [cycle[i]]))
    return sorted(list(c) for c in found)


def _cycle_in(graph: Graph, group: set[str], start: str) -> list[str]:
    """A shortest cycle through ``start``, staying inside its group (breadth first)."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(graph.get(v, {})):
                if w == start:
                    return paths[v] + [start]
                if w in group and w not in paths:
                    paths[w] = paths[v] + [w]
                    following.append(w)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - Tarjan found one


def describe(graph: Graph, cycle: list[str]) -> str:
    """``a → b (where a imports b) → a (where b imports a)``."""
    steps = [cycle[0]]
    for a, b in zip(cycle, cycle[1:]):
        steps.append(f"{b} ({graph[a][b]})")
    return " → ".join(steps)


def imports_of_kind(root: Path, libraries: tuple[str, ...]) -> set[str]:
    """Modules under ``root`` that import any of ``libraries`` (top-level names) anywhere in their code."""
    found = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(parse(path)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
            if any(n.split(".")[0] in libraries for n in names):
                found.add(_module_name(path, root))
                break
    return found
