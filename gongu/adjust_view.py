"""The 理算过程 as a rich table for the terminal; for the forensic kind, its time limits."""

from __future__ import annotations

from datetime import date

from rich.markup import escape
from rich.table import Table

from generator.adjust import Adjustment
from generator.forensic.model import ForensicAppraisalCase
from generator.forensic.workdays import ACCEPTANCE_WORKING_DAYS, TimeLimits
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


def _met(value: bool | None) -> str:
    return "—" if value is None else ("✓ 符合" if value else "✗ 超期")


def time_limit_rows(case: ForensicAppraisalCase, limits: TimeLimits) -> list[tuple[str, str, str, str]]:
    """The rows `gongu adjust` shows for the kind (条款, 项目, 计算, 结果); the web case page shows the same."""

    def day(value: date | None) -> str:
        return value.isoformat() if value is not None else "未记录"

    rows = [
        ("通则 Art 13", "收到委托", "", day(limits.received_on)),
        ("通则 Art 13", "应决定受理", f"收到委托次日起第 {ACCEPTANCE_WORKING_DAYS} 个工作日", day(limits.decision_due)),
        ("通则 Art 13", "决定受理", "", f"{day(limits.accepted_on)} {_met(limits.acceptance_met)}"),
        ("通则 Art 28", "委托书生效", "", day(limits.effective_on)),
        ("通则 Art 28", "鉴定时限", "约定时限（优先）" if limits.agreed else "法定 30 个工作日",
         f"{limits.base_working_days} 个工作日"),
    ]
    for i, ext in enumerate(case.timeline.extensions, start=1):
        rows.append(("通则 Art 28", f"延长 {i}", f"{ext.approved_by} 于 {ext.approved_on} 批准：{ext.reason}",
                     f"+{ext.working_days} 个工作日"))
    for span in limits.suspensions:
        rows.append(("通则 Art 28", "补充材料期间（不计入）", f"{span.start} 至 {span.end}", ""))
    rows += [
        ("通则 Art 28", "扣除的工作日", "补充材料期间内的工作日", f"{limits.suspended_working_days} 个工作日"),
        ("通则 Art 28", "完成期限", f"生效次日起第 {limits.total_working_days} 个工作日（扣除补充材料期间）",
         day(limits.deadline)),
        ("通则 Art 28", "鉴定完成", "", f"{day(limits.completed_on)} {_met(limits.completion_met)}"),
    ]
    return rows


def time_limits_table(case: ForensicAppraisalCase, limits: TimeLimits) -> Table:
    """The forensic kind has no 理算: `gongu adjust` shows its time limits (通则 Arts 13, 28) instead."""
    table = Table(title=escape(f"{case.case_id} {case.case_name} — 鉴定时限（工作日，按法定节假日及调休）"))
    whole_column(table, "条款")
    text_column(table, "项目")
    text_column(table, "计算")
    whole_column(table, "结果", justify="right")
    for row in time_limit_rows(case, limits):
        table.add_row(*map(escape, row))
    return table
