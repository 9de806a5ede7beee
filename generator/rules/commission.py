"""Clause 4: commission, acceptance, handlers, first contact."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from generator.model import COMMISSION_TYPE_TITLES, CommissionType, PartyRole
from generator.rules.rule import Miss, RuleContext, rule

# 4.1: who must have issued a letter for each commission type.
_LETTER_ROLES = {
    CommissionType.joint: (PartyRole.insurer, PartyRole.insured),
    CommissionType.insurer: (PartyRole.insurer,),
    CommissionType.insured: (PartyRole.insured,),
    CommissionType.court: (PartyRole.court,),
}
_ROLE_TITLES = {PartyRole.insurer: "保险人", PartyRole.insured: "被保险人", PartyRole.court: "法院等委托方",
                PartyRole.other: "其他"}

CONTACT_LIMIT = timedelta(minutes=30)  # 4.4


def contact_due(assigned_at: datetime) -> datetime:
    """4.4: the insured is to be contacted within 30 minutes of the assignment (30:00 exactly is within)."""
    return assigned_at + CONTACT_LIMIT


@rule("commission.letters", "4.1", "blocking", "委托书与委托方式相符")
def commission_letters(ctx: RuleContext) -> Iterator[Miss]:
    commission = ctx.case.commission
    have = {letter.issuer_role for letter in commission.letters}
    for role in _LETTER_ROLES[commission.type]:
        if role not in have:
            yield Miss("$.commission.letters", f"委托 / 委托书：{COMMISSION_TYPE_TITLES[commission.type]}须有"
                       f"{_ROLE_TITLES[role]}出具的委托书", [str(r) for r in sorted(have)])


@rule("acceptance.assessed", "4.2", "warning", "接受委托前评价专业能力、独立性和业务风险")
def acceptance_assessed(ctx: RuleContext) -> Iterator[Miss]:
    acceptance = ctx.case.acceptance
    if acceptance is None:
        yield Miss("$.acceptance", "委托受理评估：未记录专业能力、独立性和业务风险评价")
        return
    for key, title in (("competence", "专业能力评价"), ("independence", "独立性评价"), ("business_risk", "业务风险评价")):
        if not getattr(acceptance, key):
            yield Miss(f"$.acceptance.{key}", f"委托受理评估 / {title}：为空")
    if not acceptance.accepted:
        yield Miss("$.acceptance.accepted", "委托受理评估 / 是否接受委托：记录为未接受委托", False)


@rule("handlers.two", "4.3", "blocking", "指派至少两名公估从业人员")
def handlers_two(ctx: RuleContext) -> Iterator[Miss]:
    names = {h.name for h in ctx.case.handlers}
    if len(names) < 2:
        yield Miss("$.handlers", f"承办人员：至少应有两名，现有 {len(names)} 名", sorted(names))


@rule("contact.recorded", "4.4", "blocking", "记录与被保险人约定查勘的联系")
def contact_recorded(ctx: RuleContext) -> Iterator[Miss]:
    if ctx.case.contact is None:
        yield Miss("$.contact", "约定查勘联系：未记录与被保险人取得联系的时间、联系人和方式")


@rule("contact.within_30_min", "4.4", "warning", "接受委派后30分钟内联系被保险人")
def contact_within_30_min(ctx: RuleContext) -> Iterator[Miss]:
    contact = ctx.case.contact
    if contact is None:
        return  # contact.recorded reports the gap
    delay = contact.contacted_at - ctx.case.assigned_at
    if contact.contacted_at > contact_due(ctx.case.assigned_at):  # exactly 30:00 is still "within" 30 minutes
        minutes = delay.total_seconds() / 60
        yield Miss("$.contact.contacted_at", f"约定查勘联系 / 联系被保险人时间：指派后 {minutes:g} 分钟才联系，超过30分钟",
                   contact.contacted_at.isoformat())
