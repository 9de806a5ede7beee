"""Clause 6: cause of the loss and the liability analysis."""

from __future__ import annotations

from collections.abc import Iterator

from generator.model import Finding as CheckFinding
from generator.model import LiabilityCheck
from generator.rules.rule import Miss, RuleContext, rule

_CHECKS = {
    "insurable_interest": ("6.2.1", "保险利益"),
    "within_period": ("6.2.2", "出险时间在保险期间内"),
    "at_insured_site": ("6.2.3", "出险地址为约定地址"),
    "insured_property": ("6.2.4", "出险财产为保险标的"),
    "not_excluded": ("6.2.5", "出险原因不属除外责任"),
}


@rule("cause.sources", "6.1", "blocking", "按近因原则分析事故原因并列明依据")
def cause_sources(ctx: RuleContext) -> Iterator[Miss]:
    cause = ctx.case.cause
    if cause is None:
        yield Miss("$.cause", "事故原因分析：未记录近因及分析")
    elif not cause.sources:
        yield Miss("$.cause.sources", "事故原因分析 / 分析依据：近因须至少有一项资料来源（6.1.1–6.1.3）")


def _answered(key: str, ctx: RuleContext) -> Iterator[Miss]:
    # The model requires a non-empty basis on every check, so "present" means "answered with a basis".
    if getattr(ctx.case.liability, key) is None:
        clause, title = _CHECKS[key]
        yield Miss(f"$.liability.{key}", f"保险责任分析 / {title}（{clause}）：未作核查结论及依据")


@rule("liability.insurable_interest", "6.2.1", "blocking", "核查保险利益")
def liability_insurable_interest(ctx: RuleContext) -> Iterator[Miss]:
    return _answered("insurable_interest", ctx)


@rule("liability.within_period", "6.2.2", "blocking", "核查出险时间是否在保险期间内")
def liability_within_period(ctx: RuleContext) -> Iterator[Miss]:
    return _answered("within_period", ctx)


@rule("liability.at_insured_site", "6.2.3", "blocking", "核查出险地址是否为约定地址")
def liability_at_insured_site(ctx: RuleContext) -> Iterator[Miss]:
    return _answered("at_insured_site", ctx)


@rule("liability.insured_property", "6.2.4", "blocking", "核查出险财产是否为保险标的")
def liability_insured_property(ctx: RuleContext) -> Iterator[Miss]:
    return _answered("insured_property", ctx)


@rule("liability.not_excluded", "6.2.5", "blocking", "核查出险原因是否属除外责任")
def liability_not_excluded(ctx: RuleContext) -> Iterator[Miss]:
    return _answered("not_excluded", ctx)


@rule("liability.recommendation", "6.2", "blocking", "提出是否属于保险责任的建议")
def liability_recommendation(ctx: RuleContext) -> Iterator[Miss]:
    if not ctx.case.liability.recommendation:
        yield Miss("$.liability.recommendation", "保险责任分析 / 保险责任建议：未提出是否属于保险责任的建议")


def _addressed(check: LiabilityCheck | None, ctx: RuleContext) -> bool:
    """A doubtful fact is addressed when its check says no/undetermined, with a basis, and a recommendation follows."""
    return (check is not None and check.finding in (CheckFinding.no, CheckFinding.undetermined)
            and bool(check.basis) and bool(ctx.case.liability.recommendation))


@rule("liability.period_conflict", "6.2.2", "blocking", "出险时间在保险期间外须在责任分析中说明")
def liability_period_conflict(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.case
    occurred = case.incident.occurred_at
    if case.policy.period_start <= occurred <= case.policy.period_end:
        return
    if not _addressed(case.liability.within_period, ctx):
        yield Miss("$.incident.occurred_at", f"事故 / 出险时间在保险期间（{case.policy.period_start.isoformat()} 至 "
                   f"{case.policy.period_end.isoformat()}）之外，责任分析（6.2.2）未作否定或待定结论及依据和建议",
                   occurred.isoformat())


@rule("liability.site_conflict", "6.2.3", "blocking", "出险地点在保险地址外须在责任分析中说明")
def liability_site_conflict(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.case
    if case.incident.within_insured_site is not False:
        return
    if not _addressed(case.liability.at_insured_site, ctx):
        yield Miss("$.incident.within_insured_site", f"事故 / 出险地点「{case.incident.place}」不在保险地址内，"
                   "责任分析（6.2.3）未作否定或待定结论及依据和建议", False)


@rule("liability.property_conflict", "6.2.4", "blocking", "出险财产非保险标的须在责任分析中说明")
def liability_property_conflict(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.case
    check = case.liability.insured_property
    uninsured = {item.id for item in case.policy.items if item.sum_insured == 0}
    doubtful = [(i, loss) for i, loss in enumerate(case.losses) if loss.insured_item in uninsured]
    said_no = check is not None and check.finding == CheckFinding.no
    if not doubtful and not said_no:
        return
    if _addressed(check, ctx):
        return
    for i, loss in doubtful:
        yield Miss(f"$.losses[{i}].insured_item", f"损失项目 {loss.id}：所属保险项目 {loss.insured_item} 保险金额为零，"
                   "责任分析（6.2.4）未作否定或待定结论及依据和建议", loss.insured_item)
    if said_no:
        yield Miss("$.liability.recommendation", "保险责任分析：出险财产核查为非保险标的（6.2.4），但未提出保险责任建议")
