"""Cross-references inside a case file that a schema alone cannot check.

These are data errors (a loss names an insured item that does not exist), not suspicious facts:
a loss outside the policy period is legal input and is left to the review rules (generator.rules).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from forms.catalogue import appendix_c_items
from generator.model import DEDUCTIBLE_MODE_TITLES, CarSurveyCase, DeductibleMode
from generator.problems import Problem, problem_at
from generator.text_safety import bidi_controls_in, neutralise


def _duplicates(ids: Iterable[str]) -> set[str]:
    return {key for key, n in Counter(ids).items() if n > 1}


def _at(path: str, message: str, value: object = None) -> Problem:
    return problem_at(CarSurveyCase, path, message, value)


def named_files(case: CarSurveyCase) -> list[tuple[str, str]]:
    """Every file the case names, relative to its folder, as (JSON path, name): photos (5.3.1 d) and the
    附件清单's files (9.1). Whoever reads or places those files goes through this list."""
    named = [(f"$.survey.photos[{i}].file", p.file) for i, p in enumerate(case.survey.photos)]
    named += [(f"$.attachments[{i}].file", a.file) for i, a in enumerate(case.attachments) if a.file]
    return named


def integrity_problems(case: CarSurveyCase) -> list[Problem]:
    out: list[Problem] = []
    policy = case.policy
    item_ids = {item.id for item in policy.items}
    record_ids = {rec.id for rec in case.survey.record_items}

    for name, ids in (
        ("policy.items", [i.id for i in policy.items]),
        ("policy.deductibles", [d.id for d in policy.deductibles]),
        ("survey.record_items", [r.id for r in case.survey.record_items]),
        ("survey.photos", [p.id for p in case.survey.photos]),
        ("losses", [loss.id for loss in case.losses]),
        ("rescue_costs", [r.id for r in case.rescue_costs]),
    ):
        for dup in sorted(_duplicates(ids)):
            out.append(_at(f"$.{name}", "编号重复 (duplicate id)", dup))

    if policy.period_end <= policy.period_start:
        out.append(_at("$.policy.period_end", "应晚于保险期间起 (must be after start)",
                           policy.period_end.isoformat()))

    for i, ded in enumerate(policy.deductibles):
        base = f"$.policy.deductibles[{i}]"
        needs_amount = ded.mode in (DeductibleMode.amount, DeductibleMode.higher)
        needs_rate = ded.mode in (DeductibleMode.rate, DeductibleMode.higher)
        if needs_amount and ded.amount is None:
            out.append(_at(f"{base}.amount", f"免赔方式 {ded.mode} 需要免赔额", None))
        if needs_rate and ded.rate is None:
            out.append(_at(f"{base}.rate", f"免赔方式 {ded.mode} 需要免赔率", None))
        # 8.3: the base says what the rate is taken of; written on a deductible without a rate it would
        # suggest a calculation the report never makes.
        if "rate_base" in ded.model_fields_set and not needs_rate:
            out.append(_at(f"{base}.rate_base",
                           f"免赔方式为{DEDUCTIBLE_MODE_TITLES[ded.mode]}，不按免赔率计算，不应填写免赔率计算基数",
                           str(ded.rate_base)))
        for j, ref in enumerate(ded.items):
            if ref not in item_ids:
                out.append(_at(f"{base}.items[{j}]", "保单中没有该保险项目", ref))
    general = [d.id for d in policy.deductibles if not d.items]
    if len(general) > 1:
        out.append(_at("$.policy.deductibles", "只能有一项适用于全部保险项目的免赔条款 (one general deductible at most)", general))
    specific = [ref for d in policy.deductibles for ref in d.items]
    for ref in sorted(_duplicates(specific)):
        out.append(_at("$.policy.deductibles", "同一保险项目被多项免赔条款指定", ref))

    for i, other in enumerate(policy.other_insurance):
        for j, ref in enumerate(other.items):
            if ref not in item_ids:
                out.append(_at(f"$.policy.other_insurance[{i}].items[{j}]", "保单中没有该保险项目", ref))

    for i, item in enumerate(policy.items):
        if item.insurable_value <= 0:
            out.append(_at(f"$.policy.items[{i}].insurable_value", "应保金额必须大于零 (8.2.2 divides by it)", str(item.insurable_value)))

    for i, loss in enumerate(case.losses):
        if loss.destroyed and loss.pre_loss_value is None:
            out.append(_at(f"$.losses[{i}].pre_loss_value", "实际全损须给出损失前实际价值 (7.1.2)", None))
        if loss.insured_item not in item_ids:
            out.append(_at(f"$.losses[{i}].insured_item", "保单中没有该保险项目",
                               loss.insured_item))
        if loss.record_item is not None and loss.record_item not in record_ids:
            out.append(_at(f"$.losses[{i}].record_item", "查勘记录中没有该编号",
                               loss.record_item))

    for i, rescue in enumerate(case.rescue_costs):
        base = f"$.rescue_costs[{i}]"
        for j, ref in enumerate(rescue.rescued_items):
            if ref not in item_ids:
                out.append(_at(f"{base}.rescued_items[{j}]", "保单中没有该保险项目", ref))
        if rescue.reasonable > rescue.claimed:
            out.append(_at(f"{base}.reasonable", "不能超过报损金额", str(rescue.reasonable)))
        if rescue.insured_value_rescued > rescue.total_value_rescued:
            out.append(_at(f"{base}.insured_value_rescued", "不能超过全部被施救财产价值", str(rescue.insured_value_rescued)))

    for i, photo in enumerate(case.survey.photos):
        if photo.record_item is not None and photo.record_item not in record_ids:
            out.append(_at(f"$.survey.photos[{i}].record_item", "查勘记录中没有该编号",
                               photo.record_item))

    # A file name must show what it stores: bidi controls would display another name.
    for path, name in named_files(case):
        codes = bidi_controls_in(name)
        if codes:
            out.append(_at(path, f"文件名含有双向文字控制字符 {'、'.join(codes)}，显示的文件名与实际不同，请改名 "
                                 "(bidi control characters in a file name)", neutralise(name)))

    catalogue = appendix_c_items()
    for i, doc in enumerate(case.survey.documents):
        base = f"$.survey.documents[{i}]"
        if doc.code is None and not doc.name:
            out.append(_at(base, "须给出清单条目编号或资料名称 (code or name)", None))
        elif doc.code is not None and doc.code not in catalogue:
            out.append(_at(f"{base}.code", "附录C中没有该条目 (see forms/appendix_c.json)",
                               doc.code))

    handler_names = {h.name for h in case.handlers}
    for i, sig in enumerate(case.report.signatures):
        if sig.handler not in handler_names:
            out.append(_at(f"$.report.signatures[{i}].handler", "不是本案承办人员",
                               sig.handler))
    return out
