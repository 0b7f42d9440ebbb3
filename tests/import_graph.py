"""The import graph of the project's own modules, read from the source with :mod:`ast`.

Nothing is imported: every ``.py`` file is parsed and every ``import`` statement in it counts,
wherever it stands (module level, class body, inside a function, under ``if TYPE_CHECKING:``,
in a ``try``), as do ``importlib.import_module("literal")`` calls. Relative imports are resolved
against the importing module; ``from pkg import name`` is an edge to the submodule ``pkg.name``
when that module exists, else to ``pkg`` itself (its ``__init__``). Importing ``a.b.c`` is an edge
to ``a.b.c`` only: the implicit execution of ``a/__init__`` and ``a/b/__init__`` is not counted,
so a package ``__init__`` that re-exports its submodules is a cycle only when one of those
submodules imports the package itself (``import pkg`` / ``from pkg import <not a module>`` /
``from . import <not a module>``).

Used by ``tests/test_architecture.py``.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

MODULE, FUNCTION, TYPE_CHECKING = "module level", "function level", "if TYPE_CHECKING"


@dataclass(frozen=True)
class ImportSite:
    """Where an edge comes from: file (relative to the root), line, and the import's context."""

    path: str
    line: int
    context: str  # MODULE, FUNCTION or TYPE_CHECKING

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}"
        return where if self.context == MODULE else f"{where} ({self.context})"


@dataclass
class ImportGraph:
    """``modules``: dotted name → file; ``edges``: importer → imported → where (first seen first).

    Targets are always modules of the imported packages; importer-only modules (scripts, tools)
    appear as sources only.
    """

    root: Path
    modules: dict[str, Path] = field(default_factory=dict)
    packages: set[str] = field(default_factory=set)  # modules that are a package's __init__
    edges: dict[str, dict[str, list[ImportSite]]] = field(default_factory=dict)

    def imports_of(self, module: str) -> set[str]:
        return set(self.edges.get(module, {}))


def module_name(root: Path, path: Path) -> str:
    """Dotted name of ``path`` (a .py file below ``root``): ``a/b/__init__.py`` → ``a.b``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _python_files(root: Path, names: Iterable[str]) -> Iterator[Path]:
    for name in names:
        p = root / name
        if p.is_file() and p.suffix == ".py":
            yield p
        elif p.is_dir():
            yield from sorted(
                f for f in p.rglob("*.py") if "__pycache__" not in f.relative_to(root).parts
            )


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _is_import_module_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or not node.args:
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    arg = node.args[0]
    return (
        name in ("import_module", "__import__")
        and isinstance(arg, ast.Constant)
        and isinstance(arg.value, str)
    )


def _imports(node: ast.AST, context: str = MODULE) -> Iterator[tuple[ast.AST, str]]:
    """Every import node (and ``importlib.import_module("x")`` call) below ``node``, with the
    context it runs in: module level (class bodies included), function level, TYPE_CHECKING."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node, context
        return
    if _is_import_module_call(node):
        yield node, context
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        context = FUNCTION if context == MODULE else context
    elif isinstance(node, ast.If) and _is_type_checking(node.test):
        for stmt in node.body:
            yield from _imports(stmt, TYPE_CHECKING)
        for stmt in node.orelse:
            yield from _imports(stmt, context)
        return
    for child in ast.iter_child_nodes(node):
        yield from _imports(child, context)


def _resolve_relative(importer: str, is_package: bool, level: int, module: str | None) -> str:
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    if level - 1 >= len(base):
        raise ImportError(f"{importer}: relative import beyond the top-level package")
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def build_import_graph(
    root: Path | str, packages: Iterable[str], importers: Iterable[str] = ()
) -> ImportGraph:
    """Parse every .py file of ``packages`` (folders below ``root``) and of ``importers``
    (files or folders below ``root`` whose imports count but which nobody imports).

    A file that does not parse raises :class:`SyntaxError` (a graph with a hole in it would hide
    cycles).
    """
    root = Path(root)
    graph = ImportGraph(root)
    sources: list[tuple[str, Path]] = []
    for path in _python_files(root, packages):
        name = module_name(root, path)
        graph.modules[name] = path
        if path.name == "__init__.py":
            graph.packages.add(name)
        sources.append((name, path))
    targets = set(graph.modules)
    for path in _python_files(root, importers):
        sources.append((module_name(root, path), path))

    def target(dotted: str) -> str | None:
        """The longest prefix of ``dotted`` that is a project module."""
        parts = dotted.split(".")
        while parts:
            candidate = ".".join(parts)
            if candidate in targets:
                return candidate
            parts.pop()
        return None

    for name, path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        rel = path.relative_to(root).as_posix()
        out = graph.edges.setdefault(name, {})
        for node, context in _imports(tree):
            found: list[str | None] = []
            if isinstance(node, ast.Import):
                found = [target(a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = (
                    _resolve_relative(name, is_package, node.level, node.module)
                    if node.level
                    else node.module or ""
                )
                for alias in node.names:
                    sub = f"{base}.{alias.name}" if base else alias.name
                    found.append(sub if alias.name != "*" and sub in targets else target(base))
            elif isinstance(node, ast.Call):
                found = [target(node.args[0].value)]  # type: ignore[attr-defined]
            site = ImportSite(rel, node.lineno, context)
            for t in found:
                if t is not None and t != name:
                    sites = out.setdefault(t, [])
                    if site not in sites:
                        sites.append(site)
    return graph


# ---- cycles ----------------------------------------------------------------------------------


def strongly_connected(edges: dict[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), each sorted, in sorted order."""
    nodes = sorted(set(edges) | {t for ts in edges.values() for t in ts})
    succ = {n: sorted(edges.get(n, ())) for n in nodes}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(succ[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(succ[w])))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    out.append(sorted(comp))
    return sorted(out)


def _shortest_path(succ: dict[str, list[str]], start: str, goal: str) -> list[str]:
    prev: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        if v == goal:
            path = [v]
            while prev[path[-1]] is not None:
                path.append(prev[path[-1]])  # type: ignore[arg-type]
            return path[::-1]
        for w in succ[v]:
            if w not in prev:
                prev[w] = v
                queue.append(w)
    raise AssertionError(f"{goal} unreachable from {start} inside its component")


def cycles(graph: ImportGraph) -> list[list[list[str]]]:
    """Per strongly connected component of more than one module: one short cycle through each
    of its import edges (so every edge that keeps the component together is shown), each cycle a
    list ``[a, b, …, a]`` starting at its smallest module, without repeats."""
    edges = {k: set(v) for k, v in graph.edges.items()}
    result = []
    for comp in strongly_connected(edges):
        if len(comp) < 2:
            continue
        members = set(comp)
        succ = {v: sorted(w for w in edges.get(v, ()) if w in members) for v in comp}
        seen: set[tuple[str, ...]] = set()
        found = []
        for u in comp:
            for v in succ[u]:
                loop = [u, *_shortest_path(succ, v, u)]
                body = loop[:-1]
                i = body.index(min(body))
                canon = tuple(body[i:] + body[:i])
                if canon not in seen:
                    seen.add(canon)
                    found.append([*canon, canon[0]])
        result.append(sorted(found, key=lambda c: (len(c), c)))
    return result


def describe_cycles(graph: ImportGraph) -> str:
    """Readable report of every cycle, with the file and line of each import in it."""
    lines = []
    for comp_cycles in cycles(graph):
        members = sorted({m for c in comp_cycles for m in c})
        lines.append(f"import cycle among {len(members)} modules: {', '.join(members)}")
        shown: set[tuple[str, str]] = set()
        for chain in comp_cycles:
            lines.append("    " + " → ".join(chain))
            for a, b in zip(chain, chain[1:]):
                if (a, b) not in shown:
                    shown.add((a, b))
                    where = "; ".join(str(s) for s in graph.edges[a][b])
                    lines.append(f"        {a} → {b}: {where}")
    return "\n".join(lines)
