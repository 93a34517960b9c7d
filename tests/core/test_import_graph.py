"""The import graph has no loop: between app packages, and between the files of any package.

The scan reads the source (``ast``), so it sees imports written inside functions too;
only ``if TYPE_CHECKING:`` blocks are left out (annotations, never run). A loop is printed
with the line of every import that closes it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP_PACKAGES = ("app", "scheduler", "telephony")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(path: Path, module: str | None = None) -> list[tuple[str, int]]:
    """Every name ``path`` imports, with the line (``from a import b`` gives ``a.b``)."""
    module = module or _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit_one(other)
                continue
            visit_one(child)

    def visit_one(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                found.append((f"{base}.{alias.name}", node.lineno))
        visit(node)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def _sources() -> dict[str, Path]:
    return {
        _module_name(path): path
        for top in TOP_PACKAGES
        for path in sorted((ROOT / top).rglob("*.py"))
    }


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module a dotted name lives in (``app.x.models.Foo`` → ``app.x.models``)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _module_edges() -> dict[str, dict[str, str]]:
    """module → {imported module: "file:line" of the first import}."""
    modules = _sources()
    edges: dict[str, dict[str, str]] = defaultdict(dict)
    for module, path in modules.items():
        for name, line in _imported(path):
            target = _resolve(name, modules)
            if target is None or target == module or modules[target].name == "__init__.py":
                continue
            edges[module].setdefault(target, f"{path.relative_to(ROOT)}:{line}")
    return edges


def _cycles(edges: dict[str, dict[str, str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, {}):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return found


def _describe(cycles: list[list[str]], edges: dict[str, dict[str, str]]) -> str:
    lines = []
    for component in cycles:
        lines.append(" ↔ ".join(component))
        members = set(component)
        for source in component:
            for target, where in sorted(edges.get(source, {}).items()):
                if target in members:
                    lines.append(f"    {source} → {target}  ({where})")
    return "\n".join(lines)


def _app_package(module: str) -> str | None:
    """``app.gp.pages`` → ``app.gp``; the app's own top-level files are not packages."""
    parts = module.split(".")
    if parts[0] != "app" or len(parts) < 2:
        return None
    return f"app.{parts[1]}" if (ROOT / "app" / parts[1]).is_dir() else None


def package_edges() -> dict[str, dict[str, str]]:
    edges: dict[str, dict[str, str]] = defaultdict(dict)
    for source, targets in _module_edges().items():
        for target, where in targets.items():
            a, b = _app_package(source), _app_package(target)
            if a and b and a != b:
                edges[a].setdefault(b, where)
    return edges


def test_app_packages_import_each_other_without_a_loop():
    edges = package_edges()
    cycles = _cycles(edges)
    assert not cycles, "boucle d'imports entre paquets de app/ :\n" + _describe(cycles, edges)


def test_no_file_imports_itself_through_others():
    edges = _module_edges()
    cycles = _cycles(edges)
    assert not cycles, "boucle d'imports entre fichiers :\n" + _describe(cycles, edges)


def test_the_scan_sees_imports_inside_functions_and_skips_type_checking(tmp_path):
    """The guard itself: a loop closed inside a function is a loop; TYPE_CHECKING is not."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from app.hidden import Thing\n"
        "def f():\n    from app.web.security import check_csrf\n"
    )
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    names = [name for name, _ in _imported(path, module="app.accounts.probe")]
    assert "app.web.security.check_csrf" in names
    assert not any(name.startswith("app.hidden") for name in names)
    assert _cycles({"a": {"b": "x"}, "b": {"c": "y"}, "c": {"a": "z"}, "d": {"a": "w"}}) == [
        ["a", "b", "c"]
    ]


def test_the_scheduler_opens_no_database():
    """`scheduler/` is pure: no app, no database driver. So `scripts/dev test` runs its
    tests once (SQLite pass), not again in the PostgreSQL pass, without losing anything."""
    banned = ("app", "sqlalchemy", "asyncpg", "aiosqlite", "psycopg", "sqlite3", "telephony")
    found = [
        f"{path.relative_to(ROOT)}:{line} {name}"
        for path in sorted((ROOT / "scheduler").rglob("*.py"))
        for name, line in _imported(path)
        if name.split(".")[0] in banned
    ]
    assert not found, "scheduler/ importe une base ou l'application :\n" + "\n".join(found)
