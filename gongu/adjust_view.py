"""The 理算过程 as a rich table for the terminal."""

from __future__ import annotations

from rich.table import Table

from generator.adjust import Adjustment
from generator.model import CarSurveyCase


def adjustment_table(case: CarSurveyCase, adj: Adjustment) -> Table:
    table = Table(title=f"{case.case_id} {case.case_name} — 理算过程", show_lines=False)
    table.add_column("条款", no_wrap=True)
    table.add_column("步骤")
    table.add_column("公式")
    table.add_column("输入")
    table.add_column("结果", justify="right", no_wrap=True)
    for step in adj.steps:
        inputs = "；".join(f"{k} {v}" for k, v in step.inputs)
        table.add_row(step.clause, step.label, step.formula, inputs, step.result_text)
    return table
