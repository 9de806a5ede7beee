"""The 理算过程 as a rich table for the terminal; for the forensic kind, its time limits."""

from __future__ import annotations

from datetime import date

from rich.markup import escape
from rich.table import Table

from generator.adjust import Adjustment
from generator.forensic.model import ForensicAppraisalCase
from generator.forensic.workdays import ACCEPTANCE_WORKING_DAYS, TimeLimits, marked
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
    for row in adjustment_rows(adj):
        table.add_row(*map(escape, row))
    return table


def adjustment_rows(adj: Adjustment) -> list[tuple[str, str, str, str, str]]:
    """(clause, step, formula, inputs, result) per step: what the terminal table and the web case page show."""
    return [(step.clause, step.label, step.formula, "；".join(f"{k} {v}" for k, v in step.inputs), step.result_text)
            for step in adj.steps]


def _met(value: bool | None, estimated: bool = False) -> str:
    if value is None:
        return "—"
    return ("✓ 符合" if value else "✗ 超期") + ("（估算）" if estimated else "")


def time_limits_table(case: ForensicAppraisalCase, limits: TimeLimits) -> Table:
    """The forensic kind has no 理算: `gongu adjust` shows its time limits (通则 Arts 13, 28) instead."""
    table = Table(title=escape(f"{case.case_id} {case.case_name} — 鉴定时限（工作日，按法定节假日及调休）"))
    whole_column(table, "条款")
    text_column(table, "项目")
    text_column(table, "计算")
    whole_column(table, "结果", justify="right")
    for row in time_limits_rows(case, limits):
        table.add_row(*map(escape, row))
    return table


def time_limits_rows(case: ForensicAppraisalCase, limits: TimeLimits) -> list[tuple[str, str, str, str]]:
    """(clause, item, computation, result) per line of the forensic time limits (terminal and web)."""

    def day(value: date | None) -> str:
        return value.isoformat() if value is not None else "未记录"

    rows = [
        ("通则 Art 13", "收到委托", "", day(limits.received_on)),
        ("通则 Art 13", "应决定受理", f"收到委托次日起第 {ACCEPTANCE_WORKING_DAYS} 个工作日",
         marked(limits.decision_due, limits.decision_due_estimated)),
        ("通则 Art 13", "决定受理", "", f"{day(limits.accepted_on)} {_met(limits.acceptance_met, limits.decision_due_estimated)}"),
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
         marked(limits.deadline, limits.deadline_estimated)),
        ("通则 Art 28", "鉴定完成", "", f"{day(limits.completed_on)} {_met(limits.completion_met, limits.deadline_estimated)}"),
    ]
    rows += [("日历", y.label().split("：", 1)[0], y.label().split("：", 1)[1], "估算" if y.estimated else "官方")
             for y in limits.calendars]
    return rows
