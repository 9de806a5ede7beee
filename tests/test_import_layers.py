"""The lower packages never import the application: `generator`, `forms`, `signing`, `archive` and
`index` are used by `gongu` (CLI, web, demo), never the other way round. Every import counts, including
those inside functions, so a lazy import cannot hide an arrow up."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOWER = ("generator", "forms", "signing", "archive", "index")


def imports_of_gongu(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of `gongu` or a sub-module in one file, at any depth."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(node.lineno, n) for n in names if n == "gongu" or n.startswith("gongu.")]
    return found


def test_the_checker_sees_function_level_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import json\n\ndef f():\n    from gongu.web.access import ROLES\n    import gongu\n",
                      encoding="utf-8")
    assert imports_of_gongu(sample) == [(4, "gongu.web.access"), (5, "gongu")]


def test_no_lower_package_imports_gongu() -> None:
    files = [f for pkg in LOWER for f in sorted((ROOT / pkg).rglob("*.py"))]
    assert len(files) > 50  # the packages were found
    arrows = [f"{f.relative_to(ROOT)}:{line} imports {mod}" for f in files for line, mod in imports_of_gongu(f)]
    assert arrows == []
