"""Commands on one case file: validate, adjust, schema — and the demo over the bundled examples."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from gongu.cli.common import CaseArg, load_or_exit
from gongu.output import console, fail, print_table

if TYPE_CHECKING:
    from generator.forensic.model import ForensicAppraisalCase

commands = typer.Typer()  # this module's commands; gongu.cli.app adds them to the root


@commands.command()
def validate(case_file: CaseArg, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """校验案件文件：有效时退出码 0，否则列出全部问题并以 2 退出。"""
    # The problems are what `validate` reports, so they go to stdout (`gongu validate x.json | grep …`).
    loaded = load_or_exit(case_file, as_json=as_json, problems_to=console)
    if as_json:
        console.print_json(json.dumps({"file": str(case_file), "valid": True, "case_id": loaded.case.case_id}))
    else:
        console.print(f"[green]✓[/] {case_file}：案件 {loaded.case.case_id} 校验通过")


@commands.command()
def adjust(case_file: CaseArg, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """损失核定与理算（第 7、8 条）：列出每一步及结果；司法鉴定案件列出鉴定时限的计算（通则第十三、二十八条）。"""
    from generator.adjust import adjust as run_adjustment
    from generator.adjust import adjustment_to_dict
    from generator.amounts import format_amount, rmb_uppercase
    from generator.kinds import is_forensic

    loaded = load_or_exit(case_file, as_json=as_json)
    if is_forensic(loaded.case):
        _forensic_time_limits(loaded.case, as_json)
        return
    result = run_adjustment(loaded.case)
    if as_json:
        sys.stdout.write(json.dumps(adjustment_to_dict(loaded.case, result), ensure_ascii=False, indent=2) + "\n")
        return
    from gongu.pipeline.adjust_view import adjustment_table

    print_table(adjustment_table(loaded.case, result))
    console.print(f"理算金额：[bold]{format_amount(result.total_payable)}[/] 元（{rmb_uppercase(result.total_payable)}）")


def _forensic_time_limits(case: ForensicAppraisalCase, as_json: bool) -> None:
    from generator.forensic.workdays import CalendarNotCovered, calendar_note, time_limits, time_limits_to_dict

    try:
        limits = time_limits(case)
    except CalendarNotCovered as exc:
        fail(escape(f"鉴定时限（$.timeline）：{exc}"))
    if as_json:
        sys.stdout.write(json.dumps(time_limits_to_dict(case, limits), ensure_ascii=False, indent=2) + "\n")
        return
    from gongu.pipeline.adjust_view import time_limits_table

    print_table(time_limits_table(case, limits))
    note = calendar_note(limits)
    if note:
        console.print(f"[yellow]注意[/]：{escape(note)}")


@commands.command()
def schema(output: Annotated[Path | None, typer.Option("-o", "--output", help="写入文件；缺省输出到屏幕")] = None) -> None:
    """输出案件文件的 JSON Schema，供机构在自己的系统中校验。"""
    from generator.schema import case_json_schema

    text = json.dumps(case_json_schema(), ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"JSON Schema → {output}")


@commands.command()
def demo(
    examples: Annotated[Path, typer.Option(help="示例案件目录")] = Path("examples"),
) -> None:
    """对随附示例跑一遍主流程（make demo 调用）。"""
    from gongu.demo.run import run_demo

    run_demo(examples)
