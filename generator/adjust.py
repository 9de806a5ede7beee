"""Loss assessment (clause 7) and adjustment (clause 8) of a CAR case.

`adjust(case)` returns an `Adjustment` that records every step — clause, formula, inputs, result —
so the report's 理算过程 table is rendered from it and nothing is computed twice. All arithmetic is
Decimal at 50 significant digits; rounding to the fen happens only when a result is presented
(generator.amounts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from generator.amounts import format_amount, format_ratio
from generator.model import (
    CarSurveyCase,
    Deductible,
    DeductibleMode,
    InsuredItem,
    LossItem,
    RateBase,
    RescueCost,
)

ZERO = Decimal(0)
ONE = Decimal(1)
PRECISION = 50


@dataclass(frozen=True)
class Step:
    """One line of 理算过程: which clause, what formula, with which inputs, giving what."""

    clause: str
    label: str
    formula: str
    inputs: tuple[tuple[str, str], ...]
    result: Decimal
    kind: str = "amount"  # "amount" or "ratio": how the result is presented

    @property
    def result_text(self) -> str:
        return format_ratio(self.result) if self.kind == "ratio" else format_amount(self.result)


@dataclass(frozen=True)
class LossAssessment:
    """7.1: one loss item's assessed amount."""

    loss: LossItem
    repair_cost: Decimal  # quantity × unit price (7.2, 7.3)
    betterment_excluded: Decimal  # 7.1
    basis: str  # "partial" (7.1.1), "constructive_total" or "total" (7.1.2)
    assessed: Decimal  # 核损金额, before salvage
    salvage: Decimal
    net: Decimal  # 核损金额 − 残值, never negative

    @property
    def basis_title(self) -> str:
        return {"partial": "部分损失", "constructive_total": "推定全损", "total": "全部损失"}[self.basis]


@dataclass(frozen=True)
class ItemAdjustment:
    """8.1–8.2 for one insured item of the policy."""

    item: InsuredItem
    net_loss: Decimal  # Σ(核损金额 − 残值) of the losses under this item
    ratio: Decimal  # 投保比例, ≤ 1 (8.2.2)
    share: Decimal  # this policy's share under duplicate insurance / concurrence (8.1)
    other_sum_insured: Decimal
    before_ceiling: Decimal
    adjusted: Decimal  # after the sum-insured ceiling, before the deductible


@dataclass(frozen=True)
class DeductibleApplication:
    deductible: Deductible | None
    item_ids: tuple[str, ...]
    base: Decimal  # the group's adjusted loss the deductible is taken from
    deducted: Decimal
    payable: Decimal
    # What the rate was taken of (the group's 核定损失金额 or its 理算金额, per `rate_base`); None without a rate.
    rate_base_amount: Decimal | None = None


@dataclass(frozen=True)
class RescueAssessment:
    """7.1.3 with 保险法 Art. 57: computed separately from the loss, at most the sum insured."""

    rescue: RescueCost
    apportioned: Decimal
    capped: Decimal
    ratio: Decimal
    share: Decimal
    payable: Decimal


@dataclass
class Adjustment:
    losses: list[LossAssessment] = field(default_factory=list)
    items: list[ItemAdjustment] = field(default_factory=list)
    deductibles: list[DeductibleApplication] = field(default_factory=list)
    rescues: list[RescueAssessment] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    # Totals are summed at the engine's precision, not the thread's default 28 digits, so the
    # "exact" total really is the exact sum of the steps.
    @property
    def claimed_total(self) -> Decimal:
        return _sum([*(loss.loss.claimed_amount or ZERO for loss in self.losses), *(r.rescue.claimed for r in self.rescues)])

    @property
    def assessed_total(self) -> Decimal:
        """Σ核损金额 (before salvage)."""
        return _sum(loss.assessed for loss in self.losses)

    @property
    def salvage_total(self) -> Decimal:
        return _sum(loss.salvage for loss in self.losses)

    @property
    def net_loss_total(self) -> Decimal:
        """Σ(核损金额 − 残值): the assessed loss the report states (7)."""
        return _sum(loss.net for loss in self.losses)

    @property
    def rescue_assessed_total(self) -> Decimal:
        return _sum(r.capped for r in self.rescues)

    @property
    def loss_payable(self) -> Decimal:
        return _sum(d.payable for d in self.deductibles)

    @property
    def rescue_payable(self) -> Decimal:
        return _sum(r.payable for r in self.rescues)

    @property
    def total_payable(self) -> Decimal:
        """理算金额: what the policy pays for this loss (8.3 plus rescue costs of 7.1.3)."""
        return _sum((self.loss_payable, self.rescue_payable))


def _fmt(value: Decimal) -> str:
    return format_amount(value)


def assess_loss(loss: LossItem, betterment_covered: bool) -> tuple[LossAssessment, list[Step]]:
    """7.1, 7.1.1, 7.1.2 for one loss item."""
    steps: list[Step] = []
    repair = loss.quantity * loss.unit_price
    steps.append(Step("7.2/7.3", f"{loss.name} 修复费用", "核损数量 × 核损单价",
                      (("核损数量", f"{loss.quantity} {loss.unit}"), ("核损单价", _fmt(loss.unit_price))), repair))
    # 7.1: extra cost of changes, added performance or improvements is excluded unless covered.
    excluded = ZERO if betterment_covered else min(loss.betterment, repair)
    repair_net = repair - excluded
    if excluded:
        steps.append(Step("7.1", f"{loss.name} 剔除变更改进费用", "修复费用 − 变更改进费用",
                          (("修复费用", _fmt(repair)), ("变更改进费用", _fmt(excluded))), repair_net))
    value = loss.pre_loss_value
    if loss.destroyed and value is not None:
        basis, assessed = "total", value
        steps.append(Step("7.1.2", f"{loss.name} 全部损失", "核损金额 = 损失前实际价值",
                          (("损失前实际价值", _fmt(value)),), assessed))
    elif value is not None and repair_net >= value:
        # 7.1.1: repair cost at or above the pre-loss value → constructive total loss (7.1.2).
        basis, assessed = "constructive_total", value
        steps.append(Step("7.1.1/7.1.2", f"{loss.name} 推定全损", "修复费用 ≥ 损失前实际价值，核损金额 = 损失前实际价值",
                          (("修复费用", _fmt(repair_net)), ("损失前实际价值", _fmt(value))), assessed))
    else:
        basis, assessed = "partial", repair_net
    net = max(assessed - loss.salvage, ZERO)
    clause = "7.1.1" if basis == "partial" else "7.1.2"
    steps.append(Step(f"{clause}/7.5", f"{loss.name} 核损金额扣除残值", "核损金额 − 残值",
                      (("核损金额", _fmt(assessed)), ("残值", _fmt(loss.salvage))), net))
    return LossAssessment(loss, repair, excluded, basis, assessed, loss.salvage, net), steps


def _other_sum_insured(case: CarSurveyCase, item_id: str) -> Decimal:
    return sum((o.sum_insured for o in case.policy.other_insurance if not o.items or item_id in o.items), ZERO)


def _ratio_and_share(sum_insured: Decimal, insurable_value: Decimal, others: Decimal,
                     agreed_share: Decimal | None) -> tuple[Decimal, Decimal]:
    """8.2.2 ratio and 8.1 share.

    With other policies on the same property the ratio is taken on all policies' sums insured and this
    policy bears SI / ΣSI of it (保险法 Art. 56): taking SI/IV *and* SI/ΣSI would charge the
    under-insurance twice. Without other insurance this is plain 8.2.2: min(SI / IV, 100 %).
    """
    total_si = sum_insured + others
    ratio = min(total_si / insurable_value, ONE) if insurable_value > 0 else ONE
    if agreed_share is not None:
        share = agreed_share
    elif others > 0 and total_si > 0:
        share = sum_insured / total_si
    else:
        share = ONE
    return ratio, share


def adjust_item(case: CarSurveyCase, item: InsuredItem, net_loss: Decimal) -> tuple[ItemAdjustment, list[Step]]:
    steps: list[Step] = []
    others = _other_sum_insured(case, item.id)
    ratio, share = _ratio_and_share(item.sum_insured, item.insurable_value, others, case.policy.agreed_share)
    if others > 0:
        steps.append(Step("8.2.2/8.2.3", f"{item.name} 投保比例（各保单合计）", "min(Σ保险金额 / 应保金额, 100%)",
                          (("本保单保险金额", _fmt(item.sum_insured)), ("其他保单保险金额", _fmt(others)),
                           ("应保金额", _fmt(item.insurable_value))), ratio, "ratio"))
    else:
        steps.append(Step("8.2.2/8.2.3", f"{item.name} 投保比例", "min(保险金额 / 应保金额, 100%)",
                          (("保险金额", _fmt(item.sum_insured)), ("应保金额", _fmt(item.insurable_value))),
                          ratio, "ratio"))
    if share != ONE or others > 0:
        if case.policy.agreed_share is not None:
            formula = f"约定分摊比例（{case.policy.agreed_share_basis or '保险合同约定'}）"
            inputs: tuple[tuple[str, str], ...] = (("约定分摊比例", format_ratio(share)),)
        else:
            formula = "本保单保险金额 / 各保单保险金额合计"
            inputs = (("本保单保险金额", _fmt(item.sum_insured)),
                      ("各保单保险金额合计", _fmt(item.sum_insured + others)))
        steps.append(Step("8.1", f"{item.name} 本保单分摊比例", formula, inputs, share, "ratio"))
    before = net_loss * ratio * share
    steps.append(Step("8.3", f"{item.name} 按比例理算", "Σ(核损金额 − 残值) × 投保比例 × 分摊比例",
                      (("Σ(核损金额 − 残值)", _fmt(net_loss)), ("投保比例", format_ratio(ratio)),
                       ("分摊比例", format_ratio(share))), before))
    adjusted = min(before, item.sum_insured)
    if adjusted < before:
        steps.append(Step("8.3", f"{item.name} 以保险金额为限", "min(理算金额, 保险金额)",
                          (("理算金额", _fmt(before)), ("保险金额", _fmt(item.sum_insured))), adjusted))
    return ItemAdjustment(item, net_loss, ratio, share, others, before, adjusted), steps


def deductible_for_groups(case: CarSurveyCase) -> list[tuple[Deductible | None, tuple[str, ...]]]:
    """Each insured item falls under its specific deductible, else the general one, else none."""
    specific = {ref: d for d in case.policy.deductibles for ref in d.items}
    general = next((d for d in case.policy.deductibles if not d.items), None)
    groups: dict[str, tuple[Deductible | None, list[str]]] = {}
    for item in case.policy.items:
        ded = specific.get(item.id, general)
        key = ded.id if ded is not None else ""
        groups.setdefault(key, (ded, []))[1].append(item.id)
    return [(ded, tuple(ids)) for ded, ids in groups.values()]


def rate_base_of(ded: Deductible | None, adjusted: Decimal, assessed: Decimal) -> Decimal | None:
    """8.3: the amount a deductible's rate is taken of — the group's 理算金额 (after the insured ratio,
    share and ceiling; 8.3's second formula) or, when the policy says so, its 核定损失金额 Σ(核损金额 − 残值)
    of clause 7. None when no rate applies."""
    if ded is None or ded.mode is DeductibleMode.amount:
        return None
    return assessed if ded.rate_base is RateBase.assessed_loss else adjusted


def apply_deductible(ded: Deductible | None, base: Decimal,
                     assessed: Decimal) -> tuple[Decimal, str, tuple[tuple[str, str], ...]]:
    """8.3: an amount, a rate (× (1 − 免赔率)), or whichever of the two is higher, taken from `base` (the
    group's 理算金额); the rate is taken of `base` or of `assessed` (its 核定损失金额) as `rate_base` says."""
    if ded is None or base <= 0:
        return ZERO, "无免赔", ()
    amount = ded.amount or ZERO
    rate = ded.rate or ZERO
    if ded.mode is DeductibleMode.amount:
        return amount, "免赔额", (("免赔额", _fmt(amount)),)
    if ded.rate_base is RateBase.assessed_loss:
        of, named, shown = assessed, "核定损失金额", (("核定损失金额", _fmt(assessed)),)
    else:
        of, named, shown = base, "理算金额", ()
    by_rate = of * rate
    if ded.mode is DeductibleMode.rate:
        return by_rate, f"{named} × 免赔率", (*shown, ("免赔率", format_ratio(rate)))
    return (max(amount, by_rate), f"max(免赔额, {named} × 免赔率)",
            (*shown, ("免赔额", _fmt(amount)), ("免赔率", format_ratio(rate)), ("按免赔率计", _fmt(by_rate))))


def assess_rescue(case: CarSurveyCase, rescue: RescueCost) -> tuple[RescueAssessment, list[Step]]:
    """7.1.3: apportion to the insured share of what was rescued, cap at its 应保金额, then the
    policy's ratio and share; 保险法 Art. 57: computed beside the loss, at most the sum insured."""
    steps: list[Step] = []
    items = [i for i in case.policy.items if i.id in rescue.rescued_items]
    if rescue.total_value_rescued > 0 and rescue.insured_value_rescued < rescue.total_value_rescued:
        apportioned = rescue.reasonable * rescue.insured_value_rescued / rescue.total_value_rescued
        steps.append(Step("7.1.3", f"{rescue.description} 施救费用分摊",
                          "合理施救费用 × 被施救财产应保金额 / 全部被施救财产价值",
                          (("合理施救费用", _fmt(rescue.reasonable)),
                           ("被施救财产应保金额", _fmt(rescue.insured_value_rescued)),
                           ("全部被施救财产价值", _fmt(rescue.total_value_rescued))), apportioned))
    else:
        apportioned = rescue.reasonable
    capped = min(apportioned, rescue.insured_value_rescued)
    steps.append(Step("7.1.3", f"{rescue.description} 核定施救费用", "min(施救费用, 被施救财产应保金额)",
                      (("施救费用", _fmt(apportioned)), ("被施救财产应保金额", _fmt(rescue.insured_value_rescued))),
                      capped))
    si = sum((i.sum_insured for i in items), ZERO)
    iv = sum((i.insurable_value for i in items), ZERO)
    # Each other policy once, even when it covers several of the rescued items (a blanket policy
    # summed per item would be counted twice and shrink this policy's share).
    rescued = set(rescue.rescued_items)
    others = sum((o.sum_insured for o in case.policy.other_insurance if not o.items or rescued & set(o.items)), ZERO)
    agreed = case.policy.agreed_share
    ratio, share = _ratio_and_share(si, iv, others, agreed)
    payable = min(capped * ratio * share, si)
    steps.append(Step("7.1.3/8.3", f"{rescue.description} 施救费用理算",
                      "min(核定施救费用 × 投保比例 × 分摊比例, 保险金额)（保险法第五十七条，另行计算）",
                      (("核定施救费用", _fmt(capped)), ("投保比例", format_ratio(ratio)),
                       ("分摊比例", format_ratio(share)), ("保险金额", _fmt(si))), payable))
    return RescueAssessment(rescue, apportioned, capped, ratio, share, payable), steps


def adjust(case: CarSurveyCase) -> Adjustment:
    """The whole of clauses 7 and 8 for one case."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return _adjust(case)


def _sum(values: Iterable[Decimal]) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return sum(values, ZERO)


def _adjust(case: CarSurveyCase) -> Adjustment:
    result = Adjustment()
    for loss in case.losses:
        assessment, steps = assess_loss(loss, case.policy.betterment_covered)
        result.losses.append(assessment)
        result.steps.extend(steps)

    by_item: dict[str, ItemAdjustment] = {}
    for item in case.policy.items:
        net = _sum(a.net for a in result.losses if a.loss.insured_item == item.id)
        if net == 0 and not any(a.loss.insured_item == item.id for a in result.losses):
            continue  # no loss under this item: nothing to adjust, no step to show
        item_adj, steps = adjust_item(case, item, net)
        by_item[item.id] = item_adj
        result.items.append(item_adj)
        result.steps.extend(steps)

    for ded, ids in deductible_for_groups(case):
        lines = [by_item[i] for i in ids if i in by_item]
        if not lines:
            continue
        base = _sum(line.adjusted for line in lines)
        assessed = _sum(line.net_loss for line in lines)
        deducted, formula, inputs = apply_deductible(ded, base, assessed)
        payable = max(base - deducted, ZERO)  # 8.3: never negative
        names = "、".join(line.item.name for line in lines)
        if ded is not None:
            result.steps.append(Step("8.3", f"{names} 免赔（{ded.description}）", formula,
                                     (("理算金额", _fmt(base)), *inputs), deducted))
        result.steps.append(Step("8.3", f"{names} 扣除免赔后理算金额", "max(理算金额 − 免赔, 0)",
                                 (("理算金额", _fmt(base)), ("免赔", _fmt(deducted))), payable))
        result.deductibles.append(DeductibleApplication(ded, tuple(line.item.id for line in lines),
                                                        base, deducted, payable,
                                                        rate_base_of(ded, base, assessed)))

    for rescue in case.rescue_costs:
        assessment_r, steps = assess_rescue(case, rescue)
        result.rescues.append(assessment_r)
        result.steps.extend(steps)

    result.steps.append(Step("8.3", "理算金额合计", "Σ扣除免赔后理算金额 + Σ施救费用理算",
                             (("损失理算", _fmt(result.loss_payable)), ("施救费用", _fmt(result.rescue_payable))),
                             result.total_payable))
    return result


def adjustment_to_dict(case: CarSurveyCase, adj: Adjustment) -> dict[str, object]:
    """Machine-readable result: every amount a decimal string, rounded half-up to the fen as
    presented, and the exact total beside it so nothing is lost."""
    from generator.amounts import rmb_uppercase, to_fen

    def money(v: Decimal) -> str:
        return str(to_fen(v))

    return {
        "case_id": case.case_id,
        "report_number": case.report.number,
        "losses": [
            {"id": a.loss.id, "name": a.loss.name, "insured_item": a.loss.insured_item, "basis": a.basis,
             "repair_cost": money(a.repair_cost), "betterment_excluded": money(a.betterment_excluded),
             "assessed": money(a.assessed), "salvage": money(a.salvage), "net": money(a.net)}
            for a in adj.losses
        ],
        "items": [
            {"id": i.item.id, "name": i.item.name, "net_loss": money(i.net_loss), "ratio": str(i.ratio),
             "share": str(i.share), "adjusted": money(i.adjusted)}
            for i in adj.items
        ],
        "deductibles": [
            {"id": d.deductible.id if d.deductible else None, "items": list(d.item_ids), "base": money(d.base),
             "rate_base": str(d.deductible.rate_base) if d.rate_base_amount is not None and d.deductible else None,
             "rate_base_amount": money(d.rate_base_amount) if d.rate_base_amount is not None else None,
             "deducted": money(d.deducted), "payable": money(d.payable)}
            for d in adj.deductibles
        ],
        "rescue_costs": [
            {"id": r.rescue.id, "apportioned": money(r.apportioned), "assessed": money(r.capped),
             "ratio": str(r.ratio), "share": str(r.share), "payable": money(r.payable)}
            for r in adj.rescues
        ],
        "steps": [
            {"clause": s.clause, "label": s.label, "formula": s.formula, "inputs": dict(s.inputs),
             "result": str(to_fen(s.result)) if s.kind == "amount" else str(s.result), "kind": s.kind}
            for s in adj.steps
        ],
        "totals": {
            "claimed": money(adj.claimed_total),
            "assessed": money(adj.assessed_total),
            "salvage": money(adj.salvage_total),
            "net_loss": money(adj.net_loss_total),
            "rescue_assessed": money(adj.rescue_assessed_total),
            "loss_payable": money(adj.loss_payable),
            "rescue_payable": money(adj.rescue_payable),
            "total_payable": money(adj.total_payable),
            "total_payable_exact": str(adj.total_payable),
            "total_payable_uppercase": rmb_uppercase(adj.total_payable),
        },
    }
