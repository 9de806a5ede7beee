"""`make demo`: the main job on every bundled example."""

from __future__ import annotations

from pathlib import Path

from generator.adjust import adjust
from generator.amounts import format_amount, rmb_uppercase
from generator.loading import CaseFileError, load_case
from gongu.adjust_view import adjustment_table
from gongu.output import GonguError, console, print_problems
from gongu.settings import load_settings


def run_demo(examples: Path) -> None:
    settings = load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    cases = sorted(examples.glob("*/case.json")) + sorted(examples.glob("*.json"))
    if not cases:
        raise GonguError(f"{examples} 中没有示例案件")
    console.rule(f"Gongu demo — {len(cases)} 个示例，数据目录 {settings.home}")
    for path in cases:
        try:
            loaded = load_case(path)
        except CaseFileError as exc:
            print_problems(exc.source, exc.problems)
            raise GonguError(f"示例 {path} 校验失败") from None
        case = loaded.case
        console.rule(f"{case.case_id} {case.case_name}")
        console.print(f"[green]✓[/] 校验通过：{path}")
        result = adjust(case)
        console.print(adjustment_table(case, result))
        console.print(f"理算金额：[bold]{format_amount(result.total_payable)}[/] 元（{rmb_uppercase(result.total_payable)}）")
