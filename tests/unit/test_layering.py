"""The house's floors: each package imports only the ones below it, and no files import each other in a circle."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Bottom to top. agent360 is the service under test; kernel knows no target; probes and actions reach the system
# only through the Target, so lab (the Docker lab's Target) stands above them; chaos360 is the engine and CLI.
LAYERS = ("agent360", "kernel", "loadtests", "probes", "actions", "lab", "reports", "chaos360", "benchmarks",
          "conftest")


def _module(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(root: Path) -> dict[str, set[str]]:
    """Every product module and the project modules it imports, at any depth (also inside functions)."""
    files = [p for layer in LAYERS for p in (root / layer).rglob("*.py")] + [root / "conftest.py"]
    modules = {_module(p, root): p for p in files if p.exists()}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    floor = {layer: n for n, layer in enumerate(LAYERS)}
    return sorted(f"{a} -> {b}" for a, targets in graph.items() for b in targets
                  if floor[b.split(".")[0]] > floor[a.split(".")[0]])


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            group.append(node)
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_package_imports_one_above_it() -> None:
    assert upward_imports(imports_of(ROOT)) == []


def test_no_modules_import_each_other_in_a_circle() -> None:
    assert circles(imports_of(ROOT)) == []


def test_the_checks_find_an_upward_import_and_a_circle(tmp_path: Path) -> None:
    for layer, text in {"kernel/run.py": "def f():\n    from lab.target import T\n",
                        "lab/target.py": "import lab.docker\n", "lab/docker.py": "from lab.target import T\n"}.items():
        (tmp_path / layer).parent.mkdir(exist_ok=True)
        (tmp_path / layer).write_text(text)
    graph = imports_of(tmp_path)
    assert upward_imports(graph) == ["kernel.run -> lab.target"]
    assert circles(graph) == [["lab.docker", "lab.target"]]
