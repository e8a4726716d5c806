"""The app's imports point one way. Every import counts, also those inside functions (made lazily, to
keep start-up fast) and under TYPE_CHECKING: they hide a circle as well as they hide a cost.

- no module of app/ imports, however indirectly, one that imports it back;
- packages sit in layers and import only their own layer or those below:
  cli > web (and api) > container > services > storage > models > the base modules at the top of app/.
  Services may use one another (admin uses documents, answering uses usage), without a circle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"

# Top first. A top-level module of app/ not named here (config, errors, clean, metrics, domain,
# audit, logging, telemetry, app/__init__.py as "app", ...) is a base module.
LAYERS: list[set[str]] = [
    {"__main__", "cli"},
    {"web", "api"},
    {"container"},
    {"admin", "answering", "auth", "documents", "evaluation", "usage"},
    {"storage"},
    {"models"},
]
BASE = len(LAYERS)


def _module_name(path: Path) -> str:
    parts = ["app", *path.relative_to(APP).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(APP.rglob("*.py"))}


def _imported_names(name: str, path: Path) -> Iterator[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            # `from app.models import sparse` imports the module app.models.sparse
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _owning_module(dotted: str) -> str | None:
    """The app module that `dotted` names or lies in (None outside the app)."""
    modules = _modules()
    while dotted:
        if dotted in modules:
            return dotted
        dotted = dotted.rpartition(".")[0]
    return None


@cache
def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in _modules().items():
        targets = {_owning_module(d) for d in _imported_names(name, path)}
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def _package(module: str) -> str:
    """app.storage.db -> storage; app.config -> config; app (its __init__) -> app."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "app"


def _layer(package: str) -> int:
    return next((i for i, layer in enumerate(LAYERS) if package in layer), BASE)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member, or a node importing itself (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
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
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_import_reader_sees_lazy_and_type_only_imports() -> None:
    graph = _graph()
    assert "app.storage.vector_store" in graph["app.storage.edge_store"]  # module level
    assert "app.storage.edge_migration" in graph["app.storage.vector_factory"]  # inside a function
    assert "app.storage.vector_store" in graph["app.container"]  # under TYPE_CHECKING
    assert "app.models.sparse" in graph["app.storage.edge_store"]  # `from app.models import sparse`


def test_no_module_imports_itself_back() -> None:
    assert _cycles(_graph()) == []


def test_no_package_imports_itself_back() -> None:
    packages: dict[str, set[str]] = {}
    for source, targets in _graph().items():
        for target in targets:
            if _package(source) != _package(target):
                packages.setdefault(_package(source), set()).add(_package(target))
    assert _cycles(packages) == []


def test_imports_point_down_the_layers() -> None:
    upward = sorted(
        f"{source} -> {target}"
        for source, targets in _graph().items()
        for target in targets
        if _layer(_package(target)) < _layer(_package(source))
    )
    assert upward == []


def test_storage_and_models_never_import_services_or_the_web() -> None:
    above = {"answering", "documents", "usage", "admin", "auth", "evaluation", "web", "cli", "container"}
    wrong = sorted(
        f"{source} -> {target}"
        for source, targets in _graph().items()
        if _package(source) in ("storage", "models")
        for target in targets
        if _package(target) in above
    )
    assert wrong == []
