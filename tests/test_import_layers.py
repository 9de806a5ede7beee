"""The import graph of our own packages has layers and no cycles.

The lower packages (`generator`, `forms`, `signing`, `archive`, `index`) are used by `gongu` (CLI, web,
pipeline, demo), never the other way round; and no module of ours imports, directly or round a loop,
a module that imports it. Every import counts, including those inside functions — a lazy import cannot
hide an arrow — except those under `if TYPE_CHECKING:`, which never run."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOWER = ("generator", "forms", "signing", "archive", "index")
PACKAGES = (*LOWER, "gongu")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    """ids of the nodes inside `if TYPE_CHECKING:` blocks."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                hidden |= {id(n) for n in ast.walk(child)}
    return hidden


def imported_modules(path: Path, root: Path, modules: set[str]) -> list[tuple[int, str]]:
    """(line, module of ours) for every import in one file, at any depth. `from a.b import c` names the
    module `a.b.c` when that is a module of ours, else `a.b`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    hidden = _type_checking_blocks(tree)
    me = module_name(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        found += [(node.lineno, t) for t in targets if t.split(".")[0] in PACKAGES]
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    files = [f for pkg in PACKAGES for f in sorted((root / pkg).rglob("*.py"))]
    modules = {module_name(f, root) for f in files}
    graph: dict[str, set[str]] = {}
    for f in files:
        me = module_name(f, root)
        graph[me] = {t for _, t in imported_modules(f, root, modules) if t != me}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
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

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checker_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    _write(tmp_path, {
        "gongu/__init__.py": "",
        "gongu/a.py": "def f():\n    from gongu import b\n",
        "gongu/b.py": "from .c import x\n",
        "gongu/c.py": "import gongu.a\nx = 1\n",
        "generator/__init__.py": "",
        "generator/low.py": "import json\n\ndef g():\n    from gongu.web.access import ROLES\n",
    })
    graph = import_graph(tmp_path)
    assert graph["gongu.a"] == {"gongu.b"}
    assert graph["gongu.b"] == {"gongu.c"}
    assert graph["generator.low"] == {"gongu.web.access"}
    assert cycles(graph) == [["gongu.a", "gongu.b", "gongu.c"]]


def test_the_checker_skips_type_checking_imports(tmp_path: Path) -> None:
    _write(tmp_path, {
        "gongu/__init__.py": "",
        "gongu/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from gongu.b import B\n",
        "gongu/b.py": "from gongu.a import f\n",
    })
    graph = import_graph(tmp_path)
    assert graph["gongu.a"] == set()
    assert cycles(graph) == []


def test_no_lower_package_imports_gongu() -> None:
    graph = import_graph(ROOT)
    lower = [m for m in graph if m.split(".")[0] in LOWER]
    assert len(lower) > 50  # the packages were found
    arrows = sorted(f"{m} imports {t}" for m in lower for t in graph[m] if t.split(".")[0] == "gongu")
    assert arrows == []


def test_no_import_cycles_among_our_modules() -> None:
    graph = import_graph(ROOT)
    assert len(graph) > 100
    assert cycles(graph) == []


def test_gongu_is_a_few_entry_modules_and_sub_packages() -> None:
    top = sorted(p.name for p in (ROOT / "gongu").glob("*.py"))
    assert "__main__.py" in top and "settings.py" in top
    assert len(top) <= 8, top
    assert {"cli", "pipeline", "web", "demo"} <= {p.name for p in (ROOT / "gongu").iterdir() if (p / "__init__.py").is_file()}


def test_no_module_over_700_lines() -> None:
    files = [f for pkg in PACKAGES for f in sorted((ROOT / pkg).rglob("*.py"))]
    long = [f"{f.relative_to(ROOT)}: {n}" for f in files if (n := len(f.read_text(encoding="utf-8").splitlines())) > 700]
    assert long == []
