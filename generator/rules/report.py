"""Clauses 9–10: the report's elements (9.1, 9.2), signatures and seal (资产评估法 Arts. 27–28), delivery (10.1)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from generator.model import CarSurveyCase
from generator.rules.rule import Miss, RuleContext, rule

# One rule per element the code lists: (id, clause, element title, JSON paths checked, test).
# A test returns the paths (and their Chinese field titles) that are missing or empty.
Check = Callable[[CarSurveyCase], list[tuple[str, str]]]


def _need(*pairs: tuple[str, str, object]) -> list[tuple[str, str]]:
    """The (path, title) of every value that is None, empty or False."""
    return [(path, title) for path, title, value in pairs if value is None or value == "" or value == [] or value is False]


def _element(rule_id: str, clause: str, element: str, check: Check) -> None:
    @rule(rule_id, clause, "blocking", f"报告要素：{element}")
    def element_present(ctx: RuleContext) -> Iterator[Miss]:
        for path, title in check(ctx.case):
            yield Miss(path, f"报告要素「{element}」：{title} 缺失或为空")

    element_present.__name__ = f"element_{rule_id.replace('.', '_')}"


# 9.1: case name, number, summary, body and attachments.
_element("report.name_number", "9.1", "案件名称、编号", lambda c: _need(
    ("$.case_name", "案件名称", c.case_name), ("$.report.number", "公估报告 / 报告编号", c.report.number)))
_element("report.summary", "9.1", "摘要", lambda c: _need(("$.report.summary", "公估报告 / 摘要", c.report.summary)))
# 9.2: the body.
_element("report.overview", "9.2", "案件概述（委托人、评估标的、公估委托范围）", lambda c: _need(
    ("$.commission.commissioning_party", "委托 / 委托人", c.commission.commissioning_party),
    ("$.commission.subject", "委托 / 评估标的", c.commission.subject),
    ("$.commission.scope", "委托 / 公估委托范围", c.commission.scope)))
_element("report.policy_summary", "9.2", "保险合同内容摘要", lambda c: _need(
    ("$.policy.number", "保险合同 / 保单号", c.policy.number), ("$.policy.insurer", "保险合同 / 保险人", c.policy.insurer),
    ("$.policy.items", "保险合同 / 保险项目", c.policy.items)))
_element("report.insured_subject", "9.2", "被保险人及保险公估标的简介", lambda c: _need(
    ("$.policy.insured", "保险合同 / 被保险人", c.policy.insured), ("$.project.overview", "工程项目 / 工程概况", c.project.overview)))
_element("report.incident_claim", "9.2", "事故经过及索赔情况", lambda c: _need(
    ("$.incident.course", "事故 / 出险经过", c.incident.course),
    ("$.incident.claim_summary", "事故 / 索赔情况", c.incident.claim_summary)))
_element("report.principles", "9.2", "公估活动依据的原则、手段、评估和计算方法", lambda c: _need(
    ("$.report.principles", "公估报告 / 公估依据的原则、手段及方法", c.report.principles),
    ("$.survey.methods", "现场查勘 / 查勘方法", c.survey.methods)))
_element("report.survey_cause", "9.2", "现场查勘情况及事故原因调查", lambda c: _need(
    ("$.survey.record_items", "现场查勘 / 现场查勘记录", c.survey.record_items), ("$.cause", "事故原因分析", c.cause)))
_element("report.losses", "9.2", "损失核定", lambda c: _need(("$.losses", "损失项目", c.losses)))
_element("report.third_party", "9.2", "足额投保、重复投保、保险竞合、第三者责任及追偿等情况的分析", lambda c: _need(
    ("$.third_party.description", "第三者责任及追偿 / 第三者情况", c.third_party.description)))
_element("report.adjustment", "9.2", "保险赔款理算", lambda c: _need(
    ("$.losses", "损失项目（理算的基础）", c.losses or c.rescue_costs)))
_element("report.conclusion", "9.2", "保险公估结论", lambda c: _need(
    ("$.conclusion.text", "公估结论", c.conclusion.text if c.conclusion else None)))
_element("report.limits_of_use", "9.2", "保险公估报告使用限制说明", lambda c: _need(
    ("$.conclusion.limits_of_use", "公估结论 / 报告使用限制说明", c.conclusion.limits_of_use if c.conclusion else None)))
# The signatures and the seal (9.2) are checked with their minimum counts by report.two_signatures_seal below.
_element("report.date", "9.2", "报告日期", lambda c: _need(("$.report.issued_on", "公估报告 / 报告日期", c.report.issued_on)))
_element("report.attachments", "9.2", "公估报告附件清单", lambda c: _need(("$.attachments", "附件", c.attachments)))


@rule("report.two_signatures_seal", "9.2", "blocking", "至少两名承办人员签名并加盖机构印章（资产评估法第二十七条）")
def report_two_signatures_seal(ctx: RuleContext) -> Iterator[Miss]:
    report = ctx.case.report
    signers = {s.handler for s in report.signatures}
    if len(signers) < 2:
        yield Miss("$.report.signatures", f"公估报告 / 承办人员签名：至少两名承办人员签名，现有 {len(signers)} 名",
                   sorted(signers))
    if not report.firm_seal:
        yield Miss("$.report.firm_seal", "公估报告 / 加盖公估机构印章：未加盖", False)


@rule("report.statutory_licensed", "9.2", "blocking", "法定业务两名持证评估师签名（资产评估法第二十八条）")
def report_statutory_licensed(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.case
    if not case.statutory:
        return
    handlers = {h.name: h for h in case.handlers}
    licensed = {s.handler for s in case.report.signatures
                if (h := handlers.get(s.handler)) is not None and h.licensed_appraiser and h.licence_no}
    if len(licensed) < 2:
        yield Miss("$.report.signatures", f"公估报告 / 承办人员签名：法定公估业务须至少两名持证评估师（有执业证号）签名，"
                   f"现有 {len(licensed)} 名", sorted(licensed))


@rule("delivery.before_archive", "10.1", "warning", "报告交付委托人且公估费到账后方可结案归档",
      stage_severity=(("archive", "blocking"),))
def delivery_before_archive(ctx: RuleContext) -> Iterator[Miss]:
    delivery = ctx.case.delivery
    for key, title in (("delivered_at", "报告交付时间"), ("delivered_to", "交付对象"), ("fee_received_at", "公估费到账时间")):
        if not getattr(delivery, key):
            yield Miss(f"$.delivery.{key}", f"交付与收费 / {title}：未记录，结案归档前须记录")


def closed_before_issue(case_closed: object, issued_on: object, supersedes: object = None) -> Miss | None:
    """A closure dated before the report it closes on (Beijing dates): the report must exist before the
    case is closed, and retention must not be counted from a day before the report was issued. A
    reissue (`report.supersedes`) may be dated after the closure of the case whose report it corrects."""
    from datetime import date, datetime

    from generator.types import beijing_date

    if supersedes or not isinstance(case_closed, datetime) or not isinstance(issued_on, date):
        return None
    closed = beijing_date(case_closed)
    if closed >= issued_on:
        return None
    return Miss("$.delivery.closed_at", f"结案时间（$.delivery.closed_at）{closed.isoformat()} 早于报告出具日期"
                f"（$.report.issued_on）{issued_on.isoformat()}：报告出具、交付之后方可结案，保管期限不能从报告出具前起算",
                case_closed.isoformat())


@rule("delivery.closed_after_issue", "10.1", "warning", "结案不得早于报告出具日期",
      stage_severity=(("archive", "blocking"),))
def closed_after_issue(ctx: RuleContext) -> Iterator[Miss]:
    report = ctx.case.report
    if miss := closed_before_issue(ctx.case.delivery.closed_at, report.issued_on, report.supersedes):
        yield miss
