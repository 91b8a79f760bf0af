"""The shape of the tree: `storage/` owns every SQL statement, and imports point down the layers.

SQL: nothing in `crawler/`, `scheduler/`, `rjwatch/` or `judge/` writes SQL: no SQL text (SELECT ... FROM,
INSERT INTO, UPDATE ... SET, DELETE FROM, CREATE TABLE/INDEX/VIEW/TRIGGER, PRAGMA), no call of
`.execute(...)` / `.executemany(...)` / `.executescript(...)` / `.query(...)` with a statement, and no
sqlite-utils table access (`db["table"]`, `db.table(...)`, `.rows_where(...)`, ...). They call the
named functions of `storage/` instead. The check reads the source with `ast`, so comments and
docstrings are not code and do not count; a docstring that quotes SQL is still reported, on purpose.

Layers: the packages are layered `judge` < `storage` < `crawler` < `scheduler` < `rjwatch` (the CLI and
the demo): a module may import its own package and the packages below it, never one above, and no two
modules import each other, even indirectly. Imports are read from the source (every `import`
statement, also those inside functions, which run sooner or later), so a late import does not hide an
upward one or a cycle.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

ROOT = REPO
CHECKED = ("crawler", "scheduler", "rjwatch", "judge")


# SQL keywords are written in capitals throughout the project, so a case-sensitive match keeps prose
# ("Select a source", "update the feed") out.
SQL_TEXT = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|^\s*SELECT\s"
    r"|\bINSERT\s+(?:OR\s+[A-Z]+\s+)?INTO\b|\bREPLACE\s+INTO\b"
    r"|\bUPDATE\s+(?:OR\s+[A-Z]+\s+)?\w+\s+SET\b|\bDELETE\s+FROM\b"
    r"|\bCREATE\s+(?:TEMP\s+|UNIQUE\s+|VIRTUAL\s+)?(?:TABLE|INDEX|VIEW|TRIGGER)\b"
    r"|\bPRAGMA\s+\w+"
)
# Methods that run a statement on a sqlite3 connection or a sqlite-utils database. Called with no
# argument, `.execute()` is a Redis pipeline's, which is not SQL.
SQL_CALLS = {"execute", "executemany", "executescript", "query"}
# sqlite-utils table methods: reaching a table this way is storage's job too.
TABLE_CALLS = {"table", "rows_where", "count_where", "delete_where", "insert_all", "upsert_all", "lookup"}


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def _is_db(node: ast.AST) -> bool:
    """A name that reads as a database handle: `db`, `self.db`, `conn`, `source_db`, ..."""
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return name == "db" or name.endswith("_db") or name in ("conn", "connection")


def sql_hits(path: Path, root: Path = ROOT) -> list[str]:
    """file:line and a short reason for every piece of SQL in one source file."""
    rel = path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text("utf-8"), filename=rel)
    found: dict[int, str] = {}
    for node in ast.walk(tree):
        text = _text(node)
        if text is not None:
            m = SQL_TEXT.search(text)
            if m:
                found.setdefault(node.lineno, f"SQL text {m.group(0).strip()[:40]!r}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr = node.func.attr
            if attr in SQL_CALLS and (node.args or node.keywords):
                found.setdefault(node.lineno, f".{attr}(...) call")
            elif attr in TABLE_CALLS and _is_db(node.func.value):
                found.setdefault(node.lineno, f"sqlite-utils .{attr}(...)")
        if isinstance(node, ast.Subscript) and _is_db(node.value) and _text(node.slice) is not None:
            found.setdefault(node.lineno, f"sqlite-utils table {_text(node.slice)!r}")
    return [f"{rel}:{line}: {why}" for line, why in sorted(found.items())]


def _sources() -> list[Path]:
    return sorted(p for d in CHECKED for p in (ROOT / d).rglob("*.py"))


def test_no_sql_outside_storage():
    hits = [h for p in _sources() for h in sql_hits(p)]
    assert not hits, "SQL outside storage/ (move it into a storage/ function):\n" + "\n".join(hits)


@pytest.mark.parametrize(
    "snippet",
    [
        'db.execute("SELECT 1")',
        'self.db.execute(f"UPDATE sources SET state = ? WHERE id = {x}")',
        'rows = conn.query("SELECT id FROM posts")',
        'SQL = ("SELECT a, b "\n       "FROM t WHERE x = ?")',
        'db["alerts"].insert({"key": 1})',
        'db.table("meta").upsert({"key": "k"}, pk="key")',
        'Q = "INSERT OR IGNORE INTO alerts (key) VALUES (?)"',
        'Q = "PRAGMA wal_checkpoint(TRUNCATE)"',
    ],
)
def test_the_check_sees_sql(tmp_path, snippet):
    """The detector is not blind: each of these is reported."""
    (tmp_path / "crawler").mkdir()
    f = tmp_path / "crawler" / "m.py"
    f.write_text(snippet + "\n", "utf-8")
    assert sql_hits(f, tmp_path), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "pipe.execute()",
        'help = "Select a source to update; delete it with remove."',
        'params.update({"orderby": "updated"})',
        "do_DELETE = do_GET",
    ],
)
def test_the_check_leaves_non_sql_alone(tmp_path, snippet):
    (tmp_path / "crawler").mkdir()
    f = tmp_path / "crawler" / "m.py"
    f.write_text(snippet + "\n", "utf-8")
    assert not sql_hits(f, tmp_path), snippet


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
    assert import_cycles(
        [Edge("a.x", "a.y", ""), Edge("a.y", "a.z", ""), Edge("a.z", "a.x", ""), Edge("a.z", "a.w", "")]
    ) == [["a.x", "a.y", "a.z"]]


def test_layers_point_down():
    """judge < storage < crawler < scheduler < rjwatch: no module imports from a layer above its own."""
    upward = upward_imports(import_edges(project_modules()))
    assert not upward, "imports from a higher layer:\n" + "\n".join(map(str, upward))


def test_layers_have_no_import_cycles():
    """No two modules import each other, directly or through others (inside a package or across)."""
    cycles = import_cycles(import_edges(project_modules()))
    assert not cycles, "modules that import each other:\n" + "\n".join(" <-> ".join(c) for c in cycles)


#: A module longer than this says at its top why it is one module ("Why one module of this size: ...").
MAX_MODULE_LINES = 500
#: What the demo says (its posts and news texts): data written as code, exempt from the size rule.
SIZE_EXEMPT = {"rjwatch/demo/content.py"}


def test_a_long_module_says_why_it_is_one():
    long = []
    for d in ("judge", "storage", "crawler", "scheduler", "rjwatch"):
        for path in sorted((REPO / d).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            text = path.read_text("utf-8")
            if rel in SIZE_EXEMPT or text.count("\n") <= MAX_MODULE_LINES:
                continue
            doc = ast.get_docstring(ast.parse(text)) or ""
            if "Why one module of this size:" not in doc:
                long.append(f"{rel}: {text.count(chr(10))} lines")
    assert not long, "modules over 500 lines with no reason at their top:\n" + "\n".join(long)
