"""The shape of the code: layers point down, and no two modules import each other, even indirectly.

The packages are layered `judge` < `storage` < `crawler` < `scheduler` < `rjwatch` (the CLI and the
demo): a module may import its own package and the packages below it, never one above. Imports are
read from the source (every `import` statement, also those inside functions, which run sooner or
later), so a late import does not hide an upward one or a cycle.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: The layers, bottom first. `judge.errors` (the error base) is in the bottom layer, so every module may
#: import it.
LAYERS = ("judge", "storage", "crawler", "scheduler", "rjwatch")



@dataclass(frozen=True)
class Edge:
    source: str  # importing module
    target: str  # imported module of the project
    where: str  # path:line of the import statement

    def __str__(self) -> str:
        return f"{self.where}: {self.source} imports {self.target}"


def project_modules() -> dict[str, Path]:
    """Every module of the five packages by dotted name (a package by its own name)."""
    modules = {}
    for package in LAYERS:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _owning_module(name: str, modules: dict[str, Path]) -> str | None:
    """The project module a dotted name is in (`storage.db.connect` -> `storage.db`), or None."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_edges(modules: dict[str, Path]) -> list[Edge]:
    edges = []
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        where = path.relative_to(REPO)
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the module's package, one level up per extra dot
                    package = module if is_package else module.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        package = package.rpartition(".")[0]
                    base = f"{package}.{base}" if base else package
                # `from a import b` imports module a.b when there is one, else a name of module a
                names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
            else:
                continue
            for name in names:
                target = _owning_module(name, modules)
                if target is not None and target != module:
                    edges.append(Edge(module, target, f"{where}:{node.lineno}"))
    return edges


def _layer(module: str) -> int:
    return LAYERS.index(module.partition(".")[0])


def upward_imports(edges: list[Edge]) -> list[Edge]:
    return sorted({e for e in edges if _layer(e.target) > _layer(e.source)}, key=str)


def import_cycles(edges: list[Edge]) -> list[list[str]]:
    """The groups of two or more modules that import each other, directly or through others
    (the strongly connected components of the import graph), each sorted."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.source, set()).add(e.target)
        graph.setdefault(e.target, set())
    reach = {}
    for start in graph:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        reach[start] = seen
    groups = {frozenset([m, *(o for o in reach[m] if m in reach[o])]) for m in graph}
    return sorted(sorted(g) for g in groups if len(g) > 1)


def test_layers_the_graph_sees_every_kind_of_import():
    """The reader itself: absolute, late (inside a function) and `from package import module` imports."""
    edges = {(e.source, e.target) for e in import_edges(project_modules())}
    assert ("storage.db", "judge.dates") in edges or ("storage.seeds", "judge.dates") in edges
    assert ("crawler.poller", "crawler.feeds") in edges  # from crawler import feeds
    assert ("scheduler.daemon", "crawler.poller") in edges  # inside a method
    assert ("rjwatch.demo.site", "rjwatch.demo.templates.feeds") in edges  # from package import module as ...
    assert import_cycles([Edge("a.x", "a.y", ""), Edge("a.y", "a.z", ""), Edge("a.z", "a.x", ""),
                          Edge("a.z", "a.w", "")]) == [["a.x", "a.y", "a.z"]]


def test_layers_point_down():
    """judge < storage < crawler < scheduler < rjwatch: no module imports from a layer above its own."""
    upward = upward_imports(import_edges(project_modules()))
    assert not upward, "imports from a higher layer:\n" + "\n".join(map(str, upward))


def test_layers_have_no_import_cycles():
    """No two modules import each other, directly or through others (inside a package or across)."""
    cycles = import_cycles(import_edges(project_modules()))
    assert not cycles, "modules that import each other:\n" + "\n".join(" <-> ".join(c) for c in cycles)
