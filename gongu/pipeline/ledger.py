"""The work ledger (工作台账) of forensic appraisals, Sichuan opinion 五(三): one row per case, as data.

No I/O here: the command (gongu/cli/ledger.py) finds the case files (archive packages and case files
still in progress) and writes the xlsx or csv (gongu/pipeline/ledger_export.py). A row says what the opinion
and the 通则 ask a supervisor to see: how the commission came (共同/单方委托, 二(一)(二)), how the
institution was chosen (二(三)), whether the insurer was notified and came (二(二)), recusals (三(四),
通则 Art 20–21), the 复核 (通则 Art 35), the result per matter (三(三): 未构成伤残等级 is a result),
the time limits (通则 Art 13, 28), extensions, re-appraisal (二(四)) and disputes (五(一)).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import StrEnum

from generator.forensic.model import (
    COMMISSION_KIND_TITLES,
    DISPUTE_STEP_TITLES,
    GRADE_NUMERALS,
    MATTER_KIND_TITLES,
    NOTICE_CHANNEL_TITLES,
    OUTCOME_TITLES,
    REAPPRAISAL_GROUND_TITLES,
    SELECTION_METHOD_TITLES,
    CommissionKind,
    DisputeStatus,
    ForensicAppraisalCase,
    MatterResult,
    Outcome,
    SelectionMethod,
)
from generator.forensic.workdays import (
    ACCEPTANCE_WORKING_DAYS,
    CalendarNotCovered,
    TimeLimits,
    add_working_days,
    time_limits,
)
from generator.types import SHANGHAI, beijing_date


class Source(StrEnum):
    archive = "archive"  # the case file inside an archive package
    in_progress = "in_progress"  # a case.json from --cases, not archived yet


SOURCE_TITLES = {Source.archive: "档案", Source.in_progress: "在办"}


# ─────────────────────────────────────────── the row ─────────────────────────────────────────


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int  # xlsx column width in characters (a CJK character counts about 2)
    is_date: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("case_id", "案件编号", 16),
    Column("report_number", "鉴定文书编号", 30),
    Column("case_name", "案件名称", 36),
    Column("institution", "鉴定机构", 26),
    Column("received_on", "收到委托日期", 13, is_date=True),
    Column("commission_kind", "委托方式", 10),
    Column("clients", "委托人", 30),
    Column("selection", "机构选择方式", 12),
    Column("draw_reference", "随机抽取记录编号", 24),
    Column("insurer_notice", "通知保险机构到场（方式、时间、接收人）", 40),
    Column("insurer_attended", "保险机构到场", 12),
    Column("recusals", "回避声明", 14),
    Column("interest", "利害关系", 20),
    Column("reviewer", "复核人", 10),
    Column("review_result", "复核结论", 10),
    Column("results", "鉴定结果", 44),
    Column("accepted_on", "决定受理日期", 13, is_date=True),
    Column("acceptance_in_time", "7个工作日内决定受理", 12),
    Column("deadline", "鉴定时限截止日", 14, is_date=True),
    Column("calendar", "时限日历", 16),
    Column("completed_on", "鉴定完成日期", 13, is_date=True),
    Column("completion_in_time", "按期完成", 12),
    Column("extensions", "延长鉴定时限", 36),
    Column("suspensions", "补充材料期间（不计入时限）", 28),
    Column("reappraisal", "重新鉴定", 10),
    Column("disputes", "争议处理", 30),
    Column("corrections", "补正书", 26),
    Column("source", "来源", 8),
)

Cell = str | date | None


@dataclass(frozen=True)
class LedgerRow:
    case_id: str
    report_number: str
    case_name: str
    institution: str
    received_on: date
    commission_kind: str
    clients: str
    selection: str
    draw_reference: str
    insurer_notice: str
    insurer_attended: str
    recusals: str
    interest: str
    reviewer: str
    review_result: str
    results: str
    accepted_on: date | None
    acceptance_in_time: str
    deadline: date | None
    calendar: str
    completed_on: date | None
    completion_in_time: str
    extensions: str
    suspensions: str
    reappraisal: str
    disputes: str
    corrections: str
    source: str

    def cells(self) -> list[Cell]:
        return [getattr(self, c.key) for c in COLUMNS]


assert [c.key for c in COLUMNS] == [f.name for f in fields(LedgerRow)], "COLUMNS and LedgerRow must agree"


@dataclass(frozen=True)
class LedgerCase:
    case: ForensicAppraisalCase
    source: Source
    where: str  # the file or package it came from, for messages


@dataclass(frozen=True)
class StoredRow:
    """An archived case's row as the catalog keeps it (gongu/pipeline/ledger_rows.py): computed from the
    package's case file by `ledger_row`, with the warnings it gave and the opinion's issue date."""
    row: LedgerRow
    issued_on: date
    warnings: tuple[str, ...] = ()


# What `ledger_row` writes: a catalog row computed with another version is computed again (bump it when a
# cell's text or rule changes).
LEDGER_ROW_VERSION = "1"


@dataclass
class Ledger:
    rows: list[LedgerRow]
    warnings: list[str]


# ──────────────────────────────────────── the cells ──────────────────────────────────────────


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


def _when(moment: datetime) -> str:
    # A time a person reads is Beijing time, whatever offset the case file wrote it with.
    shown = moment.astimezone(SHANGHAI) if moment.tzinfo is not None else moment  # naive: already Beijing
    return shown.strftime("%Y-%m-%d %H:%M")


def result_text(case: ForensicAppraisalCase, result: MatterResult) -> str:
    """One matter's result as the opinion states it: 十级伤残, 未构成伤残等级, 180日 …"""
    matter = next((m for m in case.commission.matters if m.id == result.matter), None)
    label = MATTER_KIND_TITLES[matter.kind] if matter is not None else result.matter
    if result.outcome is Outcome.grade and result.grade is not None:
        value = f"{GRADE_NUMERALS[result.grade - 1]}级伤残"
        if result.clause:
            value += f"（{result.clause}）"
    elif result.outcome is Outcome.period and result.days is not None:
        value = f"{result.days}日"
    elif result.outcome is Outcome.finding and result.text:
        value = result.text
    else:
        value = OUTCOME_TITLES[result.outcome]
    return f"{label}：{value}"


def _insurer_notice(case: ForensicAppraisalCase) -> str:
    if case.commission.kind is CommissionKind.joint:
        return "共同委托，保险机构为委托人"
    notices = case.single.witness_notices if case.single is not None else []
    if not notices:
        return "未通知"
    parts = []
    for n in notices:
        text = f"{NOTICE_CHANNEL_TITLES[n.channel]} {_when(n.at)} {n.person_reached}"
        if n.contact:
            text += f"（{n.contact}）"
        parts.append(text)
    return "；".join(parts)


def _insurer_attended(case: ForensicAppraisalCase) -> str:
    if case.attendance is None:
        return "无记录"
    if case.attendance.insurer_attended:
        names = "、".join(a.name for a in case.attendance.attendees)
        return f"到场（{names}）" if names else "到场"
    return "未到场，按规定实施鉴定" if case.attendance.proceeded else "未到场"


def _recusals(case: ForensicAppraisalCase) -> tuple[str, str]:
    declared = {d.appraiser for d in case.recusals}
    count = sum(1 for a in case.appraisers if a.name in declared)
    interested = [d.appraiser for d in case.recusals if d.has_interest]
    return f"{count}/{len(case.appraisers)} 人已声明", ("有：" + "、".join(interested)) if interested else "无"


def _review(case: ForensicAppraisalCase) -> tuple[str, str]:
    review = case.review_opinion
    if review is None:
        return "", "未复核"
    return review.reviewer.name, "同意" if review.agrees else "不同意"


def _acceptance(case: ForensicAppraisalCase) -> str:
    """通则 Art 13 alone, for a case whose completion limit runs outside the calendar's years."""
    if case.timeline.accepted_at is None:
        return "未决定"
    try:
        due = add_working_days(beijing_date(case.timeline.received_at), ACCEPTANCE_WORKING_DAYS)
    except CalendarNotCovered:
        return "无法计算"
    return _yes_no(beijing_date(case.timeline.accepted_at) <= due)


def _completion(case: ForensicAppraisalCase, limits: TimeLimits | None) -> str:
    """通则 Art 28 as the ledger states it; "是（经延长）" when only the extension keeps it in time."""
    if case.termination is not None:
        return f"已终止（{case.termination.decided_on.isoformat()}）"
    if limits is None:
        return "无法计算"
    if limits.deadline is None:
        return "委托书未生效"
    if limits.completed_on is None:
        return "在办"
    mark = "（估算）" if limits.deadline_estimated else ""
    if not limits.completion_met:
        return "否" + mark
    if limits.extension_working_days and limits.effective_on is not None:
        # the same count without the extensions (it ends before the deadline, on years already counted)
        plain = add_working_days(limits.effective_on, limits.base_working_days, limits.suspensions)
        if limits.completed_on > plain:
            return "是（经延长）" + mark
    return "是" + mark


def _calendar(limits: TimeLimits | None) -> str:
    """Which calendar the row's dates were counted on: 官方, or 估算 naming the years without a file."""
    if limits is None:
        return "无法计算"
    if not limits.estimated_years:
        return "官方"
    return f"估算（{'、'.join(str(y) for y in limits.estimated_years)} 年无官方安排）"


def _extensions(case: ForensicAppraisalCase) -> str:
    parts = []
    for e in case.timeline.extensions:
        told = f"，{_when(e.client_notified_at)}告知委托人" if e.client_notified_at else "，未记录告知委托人"
        parts.append(f"{e.working_days}个工作日（{e.approved_by} {e.approved_on.isoformat()} 批准{told}）")
    return "；".join(parts) or "无"


def _suspensions(case: ForensicAppraisalCase) -> str:
    return "；".join(f"{s.start.isoformat()}至{s.end.isoformat()}" for s in case.timeline.suspensions) or "无"


_REQUEST_TITLES = {"mediation": "申请调解", "explanation": "要求解释说明",
                   "supplementary": "申请补充鉴定", "reappraisal": "申请重新鉴定"}


def _disputes(case: ForensicAppraisalCase) -> str:
    """Each objection with its state, then its steps in order (Sichuan 五(一)(二)): date, step, outcome —
    a step without an outcome is 处理中."""
    parts = []
    for d in case.disputes:
        state = "已处理" if d.status is DisputeStatus.resolved else "处理中"
        text = f"{d.raised_on.isoformat()} {d.raised_by}{_REQUEST_TITLES[d.request]}（{state}）"
        if d.steps:
            text += "：" + " → ".join(f"{st.on.isoformat()} {DISPUTE_STEP_TITLES[st.kind]}：{st.outcome or '处理中'}"
                                      for st in d.steps)
        parts.append(text)
    return "；".join(parts) or "无"


def _reappraisal(case: ForensicAppraisalCase) -> str:
    c = case.commission
    if not c.is_reappraisal:
        return "否"
    if c.reappraisal is not None:  # 通则 Art 31 / Sichuan 二(四): the original and the ground
        r = c.reappraisal
        return (f"是（原：{r.original_opinion_number}，{r.original_institution}；"
                f"理由：{REAPPRAISAL_GROUND_TITLES[r.ground]}）")
    return f"是（原：{c.original_opinion}）" if c.original_opinion else "是"


def ledger_row(item: LedgerCase, warnings: list[str]) -> LedgerRow:
    case = item.case
    received = beijing_date(case.timeline.received_at)
    accepted = beijing_date(case.timeline.accepted_at) if case.timeline.accepted_at is not None else None
    limits: TimeLimits | None
    try:
        limits = time_limits(case)  # generator/forensic/workdays.py: the figures `gongu adjust` shows
    except CalendarNotCovered as exc:
        warnings.append(f"{item.where}：案件 {case.case_id} 的时限无法计算：{exc}")
        limits = None
    if limits is not None:
        acceptance = "未决定" if limits.acceptance_met is None else _yes_no(limits.acceptance_met)
        if limits.acceptance_met is not None and limits.decision_due_estimated:
            acceptance += "（估算）"
        if limits.estimated_years:
            warnings.append(f"{item.where}：案件 {case.case_id} 的时限按估算日历计算："
                            f"{'、'.join(str(y) for y in limits.estimated_years)} 年尚无官方节假日安排文件")
    else:
        acceptance = _acceptance(case)
    deadline = limits.deadline if limits is not None else None
    reviewer, review_result = _review(case)
    recusals, interest = _recusals(case)
    selection = SELECTION_METHOD_TITLES[case.selection.method]
    return LedgerRow(
        case_id=case.case_id,
        report_number=case.report.number,
        case_name=case.case_name,
        institution=case.institution.name,
        received_on=received,
        commission_kind=COMMISSION_KIND_TITLES[case.commission.kind],
        clients="、".join(p.name for p in case.parties if p.client),
        selection=selection,
        draw_reference=(case.selection.draw_reference or "") if case.selection.method is SelectionMethod.random_draw else "",
        insurer_notice=_insurer_notice(case),
        insurer_attended=_insurer_attended(case),
        recusals=recusals,
        interest=interest,
        reviewer=reviewer,
        review_result=review_result,
        results="；".join(result_text(case, r) for r in case.results) or "无",
        accepted_on=accepted,
        acceptance_in_time=acceptance,
        deadline=deadline,
        calendar=_calendar(limits),
        completed_on=case.timeline.completed_on,
        completion_in_time=_completion(case, limits),
        extensions=_extensions(case),
        suspensions=_suspensions(case),
        reappraisal=_reappraisal(case),
        disputes=_disputes(case),
        corrections="；".join(c.number for c in case.corrections) or "无",
        source=SOURCE_TITLES[item.source],
    )


def build_ledger(items: Iterable[LedgerCase], start: date, end: date, stored: Iterable[StoredRow] = ()) -> Ledger:
    """The rows for cases whose commission was received (Beijing date) from `start` to `end`, both
    included, one per case id: an archived case file wins over one still in progress (the archive is
    the source of truth); among archived ones the latest issued opinion wins (a reissue replaces).
    `stored`: archived cases' rows as the catalog keeps them, taken before `items`."""
    if start > end:
        raise ValueError("起始日期晚于结束日期")
    chosen: dict[str, LedgerCase | StoredRow] = {}
    for item in [*stored, *items]:
        received = item.row.received_on if isinstance(item, StoredRow) else beijing_date(item.case.timeline.received_at)
        if not start <= received <= end:
            continue
        case_id = item.row.case_id if isinstance(item, StoredRow) else item.case.case_id
        current = chosen.get(case_id)
        if current is None or _preferred(item, current):
            chosen[case_id] = item
    warnings: list[str] = []
    rows = []
    for item in chosen.values():
        if isinstance(item, StoredRow):
            rows.append(item.row)
            warnings += item.warnings
        else:
            rows.append(ledger_row(item, warnings))
    rows.sort(key=lambda r: (r.received_on, r.case_id))
    return Ledger(rows, warnings)


def _source_and_issue(item: LedgerCase | StoredRow) -> tuple[Source, date]:
    if isinstance(item, StoredRow):
        return Source.archive, item.issued_on
    return item.source, item.case.report.issued_on


def _preferred(new: LedgerCase | StoredRow, old: LedgerCase | StoredRow) -> bool:
    (new_source, new_issued), (old_source, old_issued) = _source_and_issue(new), _source_and_issue(old)
    if new_source is not old_source:
        return new_source is Source.archive
    return new_issued > old_issued
