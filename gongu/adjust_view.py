"""The 理算过程 as a rich table for the terminal."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from generator.adjust import Adjustment
from generator.model import CarSurveyCase
from gongu.output import text_column, whole_column


def adjustment_table(case: CarSurveyCase, adj: Adjustment) -> Table:
    # Names come from the case file: escaped, so "[/]" in a loss name is text, not rich markup.
    table = Table(title=escape(f"{case.case_id} {case.case_name} — 理算过程"), show_lines=False)
    whole_column(table, "条款")
    text_column(table, "步骤")
    text_column(table, "公式")
    text_column(table, "输入")
    whole_column(table, "结果", justify="right")
    for step in adj.steps:
        inputs = "；".join(f"{k} {v}" for k, v in step.inputs)
        table.add_row(*map(escape, (step.clause, step.label, step.formula, inputs, step.result_text)))
    return table
