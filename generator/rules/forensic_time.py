"""Forensic kind — time limits (通则 Arts 13, 28) and closing the file (通则 Art 42).

A missed time limit is a recorded fact that cannot be undone: a warning the reviewer sees, never a block
(registry severity policy). An extension approved after the limit it extends had run out is blocking: it
is not a valid extension, and counting it would show a late appraisal as in time. Working days follow the
holiday calendar (generator.forensic.workdays); a figure counted through a year that has no official file
is an estimate, said in the finding (估算) and by its own warning that names the year and how to add it; a
year that cannot be estimated either becomes a finding naming it, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.forensic.workdays import (
    ACCEPTANCE_WORKING_DAYS,
    MAX_EXTENSION_WORKING_DAYS,
    CalendarNotCovered,
    TimeLimits,
    add_working_days,
    add_year_hint,
    estimated_years_between,
    marked,
    time_limits,
)
from generator.persons import same_person
from generator.rules.rule import FORENSIC, Miss, RuleContext, rule
from generator.types import beijing_date


def _limits(ctx: RuleContext) -> TimeLimits | CalendarNotCovered:
    try:
        return time_limits(ctx.forensic)
    except CalendarNotCovered as exc:
        return exc


@rule("forensic.time.acceptance", "通则 Art 13", "warning",
      "收到委托之日起7个工作日内作出是否受理的决定", kinds=FORENSIC)
def acceptance_within_7(ctx: RuleContext) -> Iterator[Miss]:
    tl = ctx.forensic.timeline
    received = beijing_date(tl.received_at)
    try:  # computed apart from the completion limit, so a bad completion date does not hide this one
        due = add_working_days(received, ACCEPTANCE_WORKING_DAYS)
    except CalendarNotCovered as exc:
        yield Miss("$.timeline.received_at", f"鉴定时限：{exc}", exc.day.isoformat())
        return
    shown = marked(due, bool(estimated_years_between(received, due)))
    if tl.accepted_at is None:
        if ctx.today > due:
            yield Miss("$.timeline.accepted_at", f"鉴定时限：收到委托（{received}）后"
                       f"{ACCEPTANCE_WORKING_DAYS}个工作日（至 {shown}）仍未决定受理", None)
        return
    decided = beijing_date(tl.accepted_at)
    if decided > due:
        yield Miss("$.timeline.accepted_at", f"鉴定时限：{decided} 决定受理，超过收到委托（{received}）后"
                   f"{ACCEPTANCE_WORKING_DAYS}个工作日的期限 {shown}", decided.isoformat())


@rule("forensic.time.completion", "通则 Art 28", "warning",
      "自委托书生效之日起30个工作日内（或约定时限内，含批准延长、扣除补充材料期间）完成鉴定", kinds=FORENSIC)
def completion_deadline(ctx: RuleContext) -> Iterator[Miss]:
    limits = _limits(ctx)
    if isinstance(limits, CalendarNotCovered):
        yield Miss("$.timeline", f"鉴定时限（完成期限）：{limits}", limits.day.isoformat())
        return
    if limits.deadline is None:
        return  # forensic.acceptance.recorded asks for the effective date
    basis = (f"约定 {limits.base_working_days} 个工作日" if limits.agreed else f"{limits.base_working_days} 个工作日") + (
        f"，延长 {limits.extension_working_days} 个工作日" if limits.extension_working_days else "")
    done = limits.completed_on
    shown = marked(limits.deadline, limits.deadline_estimated)
    if done is None:
        if ctx.today > limits.deadline:
            yield Miss("$.timeline.completed_on", f"鉴定时限：{basis}，期限 {shown} 已过，鉴定仍未完成")
    elif not limits.completion_met:
        yield Miss("$.timeline.completed_on", f"鉴定时限：{done} 完成，超过期限 {shown}（{basis}）",
                   done.isoformat())


@rule("forensic.time.calendar", "通则 Art 13, 28", "warning",
      "鉴定时限按国务院办公厅公布的节假日安排计算；尚无官方安排的年份按估算计算，须补入年度日历文件", kinds=FORENSIC)
def calendar_estimated(ctx: RuleContext) -> Iterator[Miss]:
    limits = _limits(ctx)
    if isinstance(limits, CalendarNotCovered):
        return  # the two time-limit rules above name the date that cannot be counted
    for year in limits.estimated_years:
        yield Miss("$.timeline", f"鉴定时限（估算）：{add_year_hint(year)}", year)


@rule("forensic.time.extension", "通则 Art 28", "warning",
      "延长鉴定时限不超过30个工作日，经机构负责人批准并告知委托人", kinds=FORENSIC)
def extension(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    extensions = case.timeline.extensions
    for i, ext in enumerate(extensions):
        base = f"$.timeline.extensions[{i}]"
        if ext.working_days > MAX_EXTENSION_WORKING_DAYS:
            yield Miss(f"{base}.working_days", f"延长鉴定时限：{ext.working_days} 个工作日，超过30个工作日", ext.working_days)
        if not same_person(ext.approved_by, case.institution.head):
            yield Miss(f"{base}.approved_by", f"延长鉴定时限：由「{ext.approved_by}」批准，应由机构负责人"
                       f"「{case.institution.head}」批准", ext.approved_by)
        if ext.client_notified_at is None:
            yield Miss(f"{base}.client_notified_at", "延长鉴定时限：未记录告知委托人的时间")
    total = sum(e.working_days for e in extensions)
    if len(extensions) > 1 and total > MAX_EXTENSION_WORKING_DAYS:
        yield Miss("$.timeline.extensions", f"延长鉴定时限：累计延长 {total} 个工作日，超过30个工作日", total)


@rule("forensic.time.extension_before_deadline", "通则 Art 28", "blocking",
      "延长鉴定时限在原鉴定时限届满前（含当日）批准", kinds=FORENSIC)
def extension_before_deadline(ctx: RuleContext) -> Iterator[Miss]:
    # Art 28: the head extends a limit that is still running. An extension approved after the deadline it
    # extends had passed is no extension; the completion figures built on it would show a late appraisal as
    # in time, so it is blocking (unlike a missed limit, a warning) until the record is put right.
    case = ctx.forensic
    tl = case.timeline
    if tl.effective_on is None or not tl.extensions:
        return  # no deadline yet (forensic.acceptance.recorded asks for the effective date)
    limits = _limits(ctx)
    if isinstance(limits, CalendarNotCovered):
        return  # forensic.time.completion reports the uncovered year
    days, spans = limits.base_working_days, limits.suspensions  # 30, or the agreed limit that prevails
    # In the order approved: each extension moves the deadline the next one is measured against.
    for i in sorted(range(len(tl.extensions)), key=lambda n: tl.extensions[n].approved_on):
        ext = tl.extensions[i]
        try:
            deadline = add_working_days(tl.effective_on, days, spans)
        except CalendarNotCovered:
            return  # forensic.time.completion reports the uncovered year
        if estimated_years_between(tl.effective_on, deadline):
            # An estimated deadline may be a few days off around a holiday: it does not block an issue; the
            # forensic.time.calendar warning asks for the year's file, after which this check is exact.
            days += ext.working_days
            continue
        if ext.approved_on > deadline:
            yield Miss(f"$.timeline.extensions[{i}].approved_on",
                       f"延长鉴定时限 / 批准日期（$.timeline.extensions[{i}].approved_on）{ext.approved_on} 晚于延长前的"
                       f"鉴定时限截止日 {deadline}（自委托书生效日期 $.timeline.effective_on {tl.effective_on} 起 {days} 个"
                       f"工作日{'，扣除补充材料期间' if spans else ''}）：时限届满后不能再延长", ext.approved_on.isoformat())
        days += ext.working_days


@rule("forensic.archive.closed", "通则 Art 42", "warning",
      "鉴定意见书送达、鉴定费到账并结案后方可归档", stage_severity=(("archive", "blocking"),), kinds=FORENSIC)
def closed_before_archive(ctx: RuleContext) -> Iterator[Miss]:
    delivery = ctx.forensic.delivery
    for key, title in (("delivered_at", "送达时间"), ("delivered_to", "送达对象"), ("fee_received_at", "鉴定费到账时间"),
                       ("closed_at", "结案时间")):
        if not getattr(delivery, key):
            yield Miss(f"$.delivery.{key}", f"送达与收费 / {title}：未记录，结案归档前须记录")


@rule("forensic.archive.closed_after_issue", "通则 Art 42", "warning", "结案不得早于鉴定意见书出具日期",
      stage_severity=(("archive", "blocking"),), kinds=FORENSIC)
def closed_after_opinion(ctx: RuleContext) -> Iterator[Miss]:
    from generator.rules.report import closed_before_issue

    report = ctx.forensic.report
    if miss := closed_before_issue(ctx.forensic.delivery.closed_at, report.issued_on, report.supersedes):
        yield miss
