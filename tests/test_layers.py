"""The layers inside ``fedi/``, pinned: each folder is one layer, imports point down only.

From the top: the entry points (``app``, ``cli*``, ``worker``, ``demo``) compose everything;
``web`` (pages) may use ``routes`` (the HTTP helpers and JSON routes); ``inbound`` handles
what other servers send and may call the domain services of ``forum``; ``forum`` writes rows
and enqueues activities through ``federation`` (outbound documents, fan-out, remote
fetches, the delivery queue); ``core`` holds what every layer shares (settings, context,
urls, keys, markup, the outbox and the generic leased queue). Below ``fedi`` lie
``activitypub`` and ``storage`` (their own test: tests/test_architecture.py).

Three rules, each shown to fail on a planted violation:
- a module imports only from its own layer or lower ones;
- no import cycle between ``fedi`` modules;
- no function-local import of a ``fedi`` module, except in the command-line entry points
  (they import lazily so that ``fedi --help`` stays fast).
"""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Highest first. A module belongs to the first layer one of whose prefixes it starts with.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("entry", ("fedi.app", "fedi.cli", "fedi.worker", "fedi.demo", "fedi.server")),
    ("web", ("fedi.web",)),
    ("routes", ("fedi.routes",)),
    ("inbound", ("fedi.inbound",)),
    ("forum", ("fedi.forum",)),
    ("federation", ("fedi.federation",)),
    ("core", ("fedi.core",)),
)
# The package itself (fedi/__init__.py: the version) sits at the bottom.
PACKAGE_LAYER = len(LAYERS) - 1
# Modules that may import fedi modules inside functions (fast `fedi --help`).
LAZY_ALLOWED = ("fedi.cli",)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    if module == "fedi":
        return PACKAGE_LAYER
    for index, (_name, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") or module.startswith(p + "_")
               for p in prefixes):
            return index
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")


def modules(root: Path) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted((root / "fedi").rglob("*.py"))}


def _targets(node: ast.ImportFrom | ast.Import, known: set[str], current: str) -> Iterator[str]:
    """The fedi modules an import statement loads (``from fedi.x import y`` loads fedi.x.y
    when that is a module, else fedi.x)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.split(".")[0] == "fedi":
                yield alias.name
        return
    if node.level:
        base = current.split(".")[: -node.level] if not current.endswith("__init__") else []
        module = ".".join([*base, node.module] if node.module else base)
    else:
        module = node.module or ""
    if module.split(".")[0] != "fedi":
        return
    for alias in node.names:
        sub = f"{module}.{alias.name}"
        yield sub if sub in known else module


def _function_level(tree: ast.Module) -> set[ast.AST]:
    """Import nodes that sit inside a function body."""
    inside: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inside.update(n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom))
    return inside


def import_graph(root: Path) -> tuple[dict[str, set[str]], list[str]]:
    """Edges between fedi modules, and the function-local imports found."""
    mods = modules(root)
    known = set(mods)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    local: list[str] = []
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        lazy = _function_level(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in _targets(node, known, name):
                if target not in known or target == name:
                    continue
                graph[name].add(target)
                if node in lazy and not name.startswith(LAZY_ALLOWED):
                    local.append(f"{name} imports {target} inside a function")
    return graph, local


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return [f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]})"
            for a, targets in sorted(graph.items()) for b in sorted(targets)
            if layer_of(b) < layer_of(a)]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def check(root: Path) -> list[str]:
    graph, local = import_graph(root)
    problems = upward_imports(graph) + local
    problems += ["cycle: " + " -> ".join(c) for c in cycles(graph)]
    return problems


def test_fedi_layers_hold() -> None:
    assert check(ROOT) == []


def test_every_module_has_a_layer() -> None:
    for name in modules(ROOT):
        layer_of(name)


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "fedi", tmp_path / "fedi",
                    ignore=shutil.ignore_patterns("__pycache__", "templates", "static",
                                                  "locale"))
    return tmp_path


def _plant(root: Path, module: str, source: str) -> None:
    path = root / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text(encoding="utf-8") + "\n" + source + "\n", encoding="utf-8")


def test_checker_catches_an_upward_import(tree_copy: Path) -> None:
    _plant(tree_copy, "fedi.core.urls", "from fedi.forum import policy  # noqa")
    assert any("fedi.core.urls (core) imports fedi.forum.policy (forum)" in p
               for p in check(tree_copy))


def test_checker_catches_a_cycle(tree_copy: Path) -> None:
    # Two modules of one layer importing each other: no upward arrow, still a cycle.
    _plant(tree_copy, "fedi.core.urls", "from fedi.core import context  # noqa")
    _plant(tree_copy, "fedi.core.context", "from fedi.core import urls  # noqa")
    assert any(p.startswith("cycle:") and "fedi.core.urls" in p for p in check(tree_copy))


def test_checker_catches_a_function_local_import(tree_copy: Path) -> None:
    _plant(tree_copy, "fedi.forum.policy",
           "def sneaky() -> None:\n    from fedi.core import urls  # noqa\n")
    assert "fedi.forum.policy imports fedi.core.urls inside a function" in check(tree_copy)


def test_cli_entry_points_may_import_lazily(tree_copy: Path) -> None:
    _plant(tree_copy, "fedi.cli", "def lazy() -> None:\n    from fedi.core import urls  # noqa\n")
    assert check(tree_copy) == []
