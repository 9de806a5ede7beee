"""Start-up: assembling the command line loads typer, rich and the command modules, not the product.

Each command imports the packages it needs when it runs (gongu/cli/*.py), so `gongu --help`, `gongu
--version` and the first step of every command never pay for the renderer (weasyprint, python-docx),
the signer (pyhanko), the catalog (SQLAlchemy), the search engines (tantivy, psycopg, jieba) or the
pydantic case models. Each check runs in a fresh interpreter: in this test process they are loaded
already. bench/startup_bench.py measures the time; no test here asserts one."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from gongu.cli.app import COMMAND_MODULES

ROOT = Path(__file__).resolve().parent.parent

# Top-level packages, and our own modules, that building the command tree must not import.
HEAVY = ("weasyprint", "pyhanko", "tantivy", "psycopg", "sqlalchemy", "jieba", "docx", "pydantic",
         "generator.model", "generator.forensic.model", "generator.loading")

REPORT_HEAVY = f"""
import sys
heavy = {HEAVY!r}
loaded = sorted(m for m in heavy if m in sys.modules)
print("HEAVY:" + ",".join(loaded), file=sys.stderr)
"""


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "COLUMNS": "100",
                               "PYTHONIOENCODING": "utf-8"})


def _heavy(result: subprocess.CompletedProcess[str]) -> list[str]:
    line = next(x for x in result.stderr.splitlines() if x.startswith("HEAVY:"))
    return [m for m in line.removeprefix("HEAVY:").split(",") if m]


def test_building_the_command_tree_imports_no_heavy_package() -> None:
    # What `gongu --help` does before it prints: the root app, then click's command tree from it (typer
    # evaluates every command's parameter annotations here).
    result = _run("import typer\nimport gongu.cli.app as a\ncommand = typer.main.get_command(a.app)\n"
                  "print(len(command.commands))\n" + REPORT_HEAVY)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 20  # the tree was built: 27 commands and groups at the root today
    assert _heavy(result) == []


def _main(*argv: str) -> str:
    """`gongu ARGV` run through gongu.cli.app.main, then the heavy modules it loaded reported."""
    return (f"import sys\nsys.argv = ['gongu', *{list(argv)!r}]\nimport gongu.cli.app as a\n"
            "try:\n    a.main()\nexcept SystemExit as exc:\n    print('EXIT', exc.code, file=sys.stderr)\n"
            + REPORT_HEAVY)


def test_version_prints_the_version_and_loads_nothing_heavy() -> None:
    from importlib.metadata import version

    result = _run(_main("--version"))
    assert "EXIT 0" in result.stderr, result.stderr
    assert result.stdout.strip() == f"gongu {version('gongu')}"
    assert _heavy(result) == []


def test_help_lists_every_command_group_and_loads_nothing_heavy() -> None:
    result = _run(_main("--help"))
    assert "EXIT 0" in result.stderr, result.stderr
    assert _heavy(result) == []
    # The first word of each row of the help's command table: `│ search    全文检索档案…│`.
    listed = {m.group(1) for m in re.finditer(r"^│ (\S+)\s", result.stdout, re.MULTILINE)}
    expected = set()
    for module in COMMAND_MODULES:
        expected |= {(c.name or c.callback.__name__).replace("_", "-") for c in module.commands.registered_commands}
        expected |= {g.name for g in module.commands.registered_groups}
    assert {"validate", "archive", "issue", "seal", "verify", "search", "serve", "users", "jobs"} <= expected
    assert expected <= listed, sorted(expected - listed)


def test_a_search_loads_the_index_but_not_the_renderer_signer_catalog_or_case_models(tmp_path: Path) -> None:
    # A home with an empty tantivy index and no archive yet: the search runs to its end (0 hits).
    (tmp_path / "gongu.toml").write_text('[index]\nbackend = "tantivy"\n', encoding="utf-8")
    (tmp_path / "index").mkdir()
    code = f"import os\nos.environ['GONGU_HOME'] = {str(tmp_path)!r}\n" + _main("search", "边坡坍塌")
    result = _run(code)
    assert "EXIT 0" in result.stderr, result.stderr
    assert "共 0 件" in result.stdout, (result.stdout, result.stderr)
    loaded = _heavy(result)
    assert "tantivy" in loaded and "jieba" in loaded  # the engine and the query's segmentation did run
    assert [m for m in loaded if m not in ("tantivy", "jieba", "pydantic")] == []
