"""Output that is not a terminal keeps each line whole; a rule on a terminal never cuts its title."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

from gongu.output import GonguConsole

ROOT = Path(__file__).resolve().parents[1]
RUN = "from gongu.cli.app import main; main()"


def test_a_long_path_piped_to_another_program_stays_on_one_line(tmp_path: Path) -> None:
    folder = tmp_path.joinpath(*["a-folder-name-long-enough-to-pass-eighty-columns"] * 3, "slope-collapse")
    shutil.copytree(ROOT / "examples" / "slope-collapse", folder)
    case_file = folder / "case.json"
    assert len(str(case_file)) > 160  # twice the 80 columns rich assumes when the output is not a terminal
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "80"}
    result = subprocess.run([sys.executable, "-c", RUN, "validate", str(case_file)], stdin=subprocess.DEVNULL,
                            capture_output=True, env=env, cwd=tmp_path, check=False)
    out = result.stdout.decode("utf-8")
    assert result.returncode == 0, result.stderr.decode("utf-8")
    assert out.splitlines() == [f"✓ {case_file}：案件 SAGC-2025-0712 校验通过"]


def test_piped_output_is_not_wrapped_but_a_terminal_still_wraps_at_spaces() -> None:
    line = "报告编号 SA-GC-20250905-017R1 " * 4
    piped = io.StringIO()
    GonguConsole(file=piped, width=40, highlight=False).print(line)
    assert piped.getvalue() == line + "\n"
    shown = io.StringIO()
    GonguConsole(file=shown, width=40, force_terminal=True, color_system=None, highlight=False).print(line)
    assert [row.rstrip() for row in shown.getvalue().splitlines()] == ["报告编号 SA-GC-20250905-017R1 报告编号"] + [
        "SA-GC-20250905-017R1 报告编号"] * 2 + ["SA-GC-20250905-017R1"]


def test_a_rule_title_wider_than_the_terminal_goes_under_the_line_wrapped_at_spaces() -> None:
    out = io.StringIO()
    title = "归档与四性检测 → /srv/gongu-data/archive/packages/2025"  # rich's rule would end it in "…"
    GonguConsole(file=out, width=40, force_terminal=True, color_system=None).rule(title)
    assert [row.rstrip() for row in out.getvalue().splitlines()] == [
        "─" * 40, "归档与四性检测 →", "/srv/gongu-data/archive/packages/2025"]
    out = io.StringIO()
    GonguConsole(file=out, width=40, force_terminal=True, color_system=None).rule("全文检索")
    assert out.getvalue().splitlines() == ["─" * 15 + " 全文检索 " + "─" * 15]
