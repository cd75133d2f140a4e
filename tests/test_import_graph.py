"""The import graph of minime has no cycle, counting imports inside functions (they hide cycles, not remove them)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"core": "minime.core", "bots": "minime.bots", "themes": "minime.themes"}


def _modules() -> dict[str, Path]:
    """Every module of the installed layout (``minime.core.studio`` → core/studio.py)."""
    found = {}
    for folder, package in PACKAGES.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


def _target(name: str, modules: dict[str, Path]) -> str | None:
    """The module an imported name lives in (``minime.core.texts.ON_IT`` → ``minime.core.texts``)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    """Module → the minime modules it imports anywhere in its body."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: resolve against this module's package
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                names = [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for imported in names:
                target = _target(imported, modules) if imported.startswith("minime.") else None
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_walk_sees_the_imports_hidden_in_function_bodies() -> None:
    graph = import_graph()
    assert "minime.core.studio" in graph["minime.core.app"]
    assert "minime.bots.web.server" in graph["minime.core.app"]  # imported inside serve()
    assert "minime.core.engines.classic" in graph["minime.core.engines"]  # inside create_engine()


def test_no_module_of_minime_imports_itself_back() -> None:
    assert cycles(import_graph()) == []


if __name__ == "__main__":  # the listing: each module and what it imports
    for module, imports in sorted(import_graph().items()):
        print(module, "→", ", ".join(sorted(i.removeprefix("minime.") for i in imports)) or "–")
    print("cycles:", cycles(import_graph()) or "none")
