"""The CLI's tables never break a JSON path, amount, number, id or date across lines (issue 12 item 15).

Piped with COLUMNS=80, rich used to fold `$.losses[0].unit_price` into `$.losses[0].unit_p` / `rice`, so
`gongu validate x.json | grep unit_price` found nothing. Each command runs here as a user runs it (a
subprocess, stdout a pipe, COLUMNS=80) and every path and amount it prints must sit whole on one line —
the grep test. Then `print_table` on an 80-column *terminal*: the text columns wrap, the whole columns
never do, and the table still fits when it can. Last, `--json` output of a file name holding a lone
surrogate: valid JSON, never a crash (issue 12 item 8).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest
import simplejson
from case_edits import slope
from rich.console import Console
from rich.table import Table
from typer.testing import CliRunner

from generator.amounts import format_amount
from gongu.cli.app import app
from gongu.output import print_table, text_column, whole_column

ROOT = Path(__file__).resolve().parents[1]
GONGU = Path(sys.executable).with_name("gongu")
TUNNEL = ROOT / "examples" / "tunnel-inrush" / "case.json"


def piped(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """stdout and stderr are pipes (not a terminal) and the environment says 80 columns."""
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
    return subprocess.run([str(GONGU), *map(str, args)], capture_output=True, text=True, env=env, timeout=120)


def grep(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


def write(path: Path, data: dict) -> Path:
    path.write_text(simplejson.dumps(data, use_decimal=True, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def test_validate_piped_at_80_columns_keeps_every_path_whole(tmp_path: Path) -> None:
    data = slope()
    data["losses"][0]["unit_price"] = "二十八元五角"
    data["survey"]["record_items"][0]["measurements"][0]["value"] = "1e26"
    data["policy"]["items"][0]["sum_insured"] = "123456789012.5"  # ≥ 10^12? no: 1.2 × 10^11, allowed
    data["policy"]["items"][0]["insurable_value"] = "-1"
    proc = piped("validate", write(tmp_path / "x.json", data))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    # The problems are validate's report: on stdout, where `| grep` reads.
    for path in ("$.losses[0].unit_price", "$.survey.record_items[0].measurements[0].value",
                 "$.policy.items[0].insurable_value"):
        assert len(grep(proc.stdout, path)) == 1, (path, proc.stdout)
    assert grep(proc.stdout, "$.losses[0].unit_price")[0].count("二十八元五角") == 1  # the value on the same line
    assert grep(proc.stdout, "$.survey.record_items[0].measurements[0].value")[0].count("1e26") == 1


def test_adjust_piped_at_80_columns_keeps_every_amount_whole() -> None:
    proc = piped("adjust", TUNNEL)
    assert proc.returncode == 0, proc.stderr
    # Worked by hand from the tunnel example's first loss: 32 延米 × 48,600.00 = 1,555,200.00.
    assert grep(proc.stdout, "1,555,200.00")
    row = grep(proc.stdout, "48,600.00")[0]
    assert "1,555,200.00" in row and "7.2/7.3" in row  # inputs, clause and result on one line
    # Every step's result (from the machine interface) appears whole on some line.
    payload = json.loads(CliRunner().invoke(app, ["adjust", str(TUNNEL), "--json"]).output)
    steps = [s for s in payload["steps"] if s["kind"] == "amount"]
    assert len(steps) > 10
    for step in steps:
        assert grep(proc.stdout, format_amount(D(step["result"]))), step


def test_check_piped_at_80_columns_keeps_every_path_whole(tmp_path: Path) -> None:
    data = slope()
    data["survey"].pop("rescue_notice")
    data["report"]["firm_seal"] = False
    case = write(tmp_path / "case.json", data)
    proc = piped("check", case)
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(CliRunner().invoke(app, ["check", str(case), "--json"]).output)["findings"]
    paths = {f["path"] for f in findings if f["path"]}
    assert "$.survey.rescue_notice.issued_at" in paths and "$.report.firm_seal" in paths
    for path in paths:
        assert grep(proc.stdout, path), (path, proc.stdout)


# ─────────────────────────────── print_table on an 80-column terminal ───────────────────────────────


def terminal(width: int = 80) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=width, force_terminal=True, color_system=None, highlight=False), buf


def sample_table(path: str, amount: str) -> Table:
    table = Table(title="t")
    whole_column(table, "JSON 路径")
    text_column(table, "问题")
    whole_column(table, "金额", justify="right")
    table.add_row(path, "说明文字" * 30, amount)
    return table


def test_terminal_wraps_text_and_keeps_whole_columns_within_80_columns() -> None:
    path, amount = "$.losses[12].unit_price", "999,999,999,999.99"
    out, buf = terminal(80)
    print_table(sample_table(path, amount), to=out)
    lines = buf.getvalue().splitlines()
    # 23 + 18 characters, 2 of padding per column and 4 borders leave 29 for the text column.
    assert max(len(line) for line in lines) == 80
    assert len(grep(buf.getvalue(), path)) == 1 and len(grep(buf.getvalue(), amount)) == 1
    assert len(lines) > 6  # the 120-character text wrapped over several lines


def test_terminal_too_narrow_widens_rather_than_cut() -> None:
    # rich alone would shrink every column and print `$.survey.record_i…`.
    path, amount = "$.survey.record_items[12].measurements[3].value", "999,999,999,999.99"
    out, buf = terminal(40)
    print_table(sample_table(path, amount), to=out)
    assert len(grep(buf.getvalue(), path)) == 1 and len(grep(buf.getvalue(), amount)) == 1
    assert "…" not in buf.getvalue()
    # 47 + 18 whole, the text column at its 8-cell floor, 2 of padding each and 4 borders: 83.
    assert max(len(line) for line in buf.getvalue().splitlines()) == 83


def test_rich_alone_would_cut_the_path() -> None:
    # The failure print_table exists for: rich's last resort truncates no_wrap cells.
    out, buf = terminal(40)
    out.print(sample_table("$.survey.record_items[12].measurements[3].value", "999,999,999,999.99"))
    assert "$.survey.record_items[12].measurements[3].value" not in buf.getvalue()


# ────────────────────────── --json never crashes on a lone surrogate (item 8) ──────────────────────────


@pytest.mark.parametrize("command", ["validate", "adjust", "check"])
def test_json_output_of_a_surrogate_file_name_is_valid_json(tmp_path: Path, command: str) -> None:
    # \udcff is how Python hands over a file name byte that is not UTF-8; no such file exists here.
    name = str(tmp_path / "坏\udcff名.json")
    result = CliRunner().invoke(app, [command, name, "--json"])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    payload = json.loads(result.stdout_bytes.decode("utf-8"))  # valid UTF-8, valid JSON
    assert payload["file"] == name  # the surrogate came back as its JSON escape \udcff
    assert payload["problems"][0]["path"] == "$"


def test_surrogate_file_name_subprocess(tmp_path: Path) -> None:
    # A file name that is not UTF-8 reaches Python as a lone surrogate (\udcff): output stays UTF-8.
    name = os.fsdecode(os.fsencode(tmp_path) + b"/x\xff.json")
    proc = subprocess.run([str(GONGU), "validate", name, "--json"], capture_output=True, timeout=120,
                          env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode == 2, proc.stderr
    payload = json.loads(proc.stdout.decode("utf-8"))
    assert payload["file"] == name


def test_names_that_look_like_rich_markup_are_printed_as_text(tmp_path: Path) -> None:
    # A loss named "[/]…" crashed `gongu adjust` with rich's MarkupError (a traceback).
    data = slope()
    data["case_name"] = "[/bold]" + data["case_name"]
    data["losses"][0]["name"] = "[/]坍塌体清运"
    result = CliRunner().invoke(app, ["adjust", str(write(tmp_path / "case.json", data))], env={"COLUMNS": "300"})
    assert result.exception is None, result.exception
    assert "[/]坍塌体清运 修复费用" in result.output and "[/bold]" in result.output
