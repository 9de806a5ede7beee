"""Forensic kind — re-appraisal, supplementary appraisal and disputes (通则 Arts 30–33, 35; Sichuan 二(四),
五(一)(二)).

Severity (registry policy): every gap here is a record the institution can still supply or correct — the
grounds of a re-appraisal, an appraiser's signature, a step's date, an expert's signature — so each rule is
blocking, except the expert panel's size: the panel is convened by the associations' expert pool (Sichuan
五(二)), not by the institution, and 通则 Art 35 says a complex case "may" be reviewed by ≥ 3 experts — so a
complex case whose expert opinion carries fewer than three signatures is shown as a warning.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from generator.forensic.draw import MATTER_SCOPES, Original, relevant_original_scopes
from generator.forensic.model import DisputeStepKind, ForensicAppraisalCase, ReappraisalGround
from generator.persons import person_key
from generator.rules.rule import FORENSIC, Miss, RuleContext, rule

# Sichuan 二(四) / 通则 Art 35: a complex or major case is reviewed by a panel of at least three experts.
COMPLEX_PANEL = 3


@rule("forensic.reappraisal.grounds", "通则 Art 31", "blocking",
      "重新鉴定须有法定理由（通则第三十一条）或涉保双方协商一致（川 二(四)），并记录原鉴定意见", kinds=FORENSIC)
def reappraisal_grounds(ctx: RuleContext) -> Iterator[Miss]:
    c = ctx.forensic.commission
    if not c.is_reappraisal:
        return
    if c.reappraisal is None:
        yield Miss("$.commission.reappraisal", "重新鉴定：没有重新鉴定记录（理由、原鉴定意见书编号、原鉴定机构及其许可证号）")
        return
    if c.reappraisal.ground is ReappraisalGround.agreement:
        clients = {person_key(p.name) for p in ctx.forensic.parties if p.client}
        agreed = {person_key(n) for n in c.reappraisal.agreed_by}
        if len(agreed) < 2 or not clients <= agreed:
            yield Miss("$.commission.reappraisal.agreed_by",
                       "重新鉴定以双方协商一致为由的，须记录各委托方（保险机构与涉保当事人）均同意", c.reappraisal.agreed_by)


@rule("forensic.reappraisal.qualification_not_lower", "通则 Art 32", "blocking",
      "重新鉴定机构的资质条件不得低于原鉴定机构（川 二(四)）", kinds=FORENSIC)
def reappraisal_qualification(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    record = case.commission.reappraisal
    if not case.commission.is_reappraisal or record is None or not record.original_scopes:
        return  # the original's scopes not recorded: nothing to compare (the draw record holds them when drawn)
    # The same measure the draw applies (generator/forensic/draw_eligibility.py): the original's scopes in the
    # categories of the matters must all be held by this institution.
    required = [MATTER_SCOPES[m.kind.value] for m in case.commission.matters if m.kind.value in MATTER_SCOPES]
    original = Original(record.original_licence_no, record.original_institution, tuple(record.original_scopes))
    lacking = [s for s in relevant_original_scopes(original, required) if s not in case.institution.qualification_scope]
    if lacking:
        yield Miss("$.institution.qualification_scope",
                   f"重新鉴定：原鉴定机构具有而本机构没有的业务范围 {'、'.join(lacking)}，资质条件低于原鉴定机构", lacking)


def _original_appraisers(case: ForensicAppraisalCase) -> set[str]:
    """Who made the original opinion: its signatories, else the case's appraisers."""
    names = [s.appraiser for s in case.report.signatures] or [a.name for a in case.appraisers]
    return {person_key(n) for n in names}


@rule("forensic.supplementary.original_appraisers", "通则 Art 30", "blocking",
      "补充鉴定是原委托鉴定的组成部分，由原司法鉴定人进行", kinds=FORENSIC)
def supplementary_original_appraisers(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    original = _original_appraisers(case)
    for i, sup in enumerate(case.supplementary):
        for j, name in enumerate(sup.appraisers):
            if person_key(name) not in original:
                yield Miss(f"$.supplementary[{i}].appraisers[{j}]",
                           f"补充鉴定 {sup.number}：鉴定人「{name}」不是原鉴定意见的鉴定人", name)
        if sup.reason.value == "new_materials" and not sup.new_materials:
            yield Miss(f"$.supplementary[{i}].new_materials",
                       f"补充鉴定 {sup.number}：以提供新的鉴定材料为由，须列出新材料编号")
        if sup.issued_on < case.report.issued_on:
            yield Miss(f"$.supplementary[{i}].issued_on",
                       f"补充鉴定 {sup.number}：出具日期早于原鉴定意见书（{case.report.issued_on.isoformat()}）",
                       sup.issued_on.isoformat())


@rule("forensic.disputes.in_order", "Sichuan 五(一)", "blocking",
      "争议处理：异议在鉴定意见出具之后提出，各处理步骤按日期先后记录", kinds=FORENSIC)
def disputes_in_order(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    issued = case.report.issued_on
    for i, d in enumerate(case.disputes):
        if d.raised_on < issued:
            yield Miss(f"$.disputes[{i}].raised_on",
                       f"异议提出日期早于鉴定意见书出具日期（{issued.isoformat()}）", d.raised_on.isoformat())
        previous: date = d.raised_on
        for j, step in enumerate(d.steps):
            if step.on < previous:
                yield Miss(f"$.disputes[{i}].steps[{j}].on",
                           f"争议处理步骤「{step.what}」的日期早于前一步骤或异议提出日期（{previous.isoformat()}）",
                           step.on.isoformat())
            previous = max(previous, step.on)


@rule("forensic.disputes.explanation_by_appraisers", "Sichuan 五(一)", "blocking",
      "解释和说明由本案鉴定机构及鉴定人作出（通则第三十六至四十条）", kinds=FORENSIC)
def explanation_by_appraisers(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    ours = {person_key(a.name) for a in case.appraisers}
    for i, d in enumerate(case.disputes):
        for j, step in enumerate(d.steps):
            if step.kind is not DisputeStepKind.explanation:
                continue
            if not step.appraisers:
                yield Miss(f"$.disputes[{i}].steps[{j}].appraisers", "鉴定人解释说明：没有记录作出解释说明的鉴定人")
            for k, name in enumerate(step.appraisers):
                if person_key(name) not in ours:
                    yield Miss(f"$.disputes[{i}].steps[{j}].appraisers[{k}]",
                               f"鉴定人解释说明：「{name}」不是本案鉴定人", name)


@rule("forensic.disputes.expert_signed", "通则 Art 33", "blocking",
      "专家意见由参与的专家签名，存入鉴定档案（川 五(二)）", kinds=FORENSIC)
def expert_signed(ctx: RuleContext) -> Iterator[Miss]:
    for i, d in enumerate(ctx.forensic.disputes):
        for j, step in enumerate(d.steps):
            if step.kind is not DisputeStepKind.expert_opinion:
                continue
            if not step.experts:
                yield Miss(f"$.disputes[{i}].steps[{j}].experts", "专家意见：没有记录出具意见的专家")
            for k, expert in enumerate(step.experts):
                if not expert.signed:
                    yield Miss(f"$.disputes[{i}].steps[{j}].experts[{k}].signed",
                               f"专家意见：专家「{expert.name}」未签名", False)


@rule("forensic.disputes.expert_panel_size", "通则 Art 35", "warning",
      "重大疑难复杂的争议，专家意见宜由三名以上专家共同出具（川 五(二)）", kinds=FORENSIC)
def expert_panel_size(ctx: RuleContext) -> Iterator[Miss]:
    for i, d in enumerate(ctx.forensic.disputes):
        for j, step in enumerate(d.steps):
            if step.kind is not DisputeStepKind.expert_opinion or not step.complex_case:
                continue
            signed = [e.name for e in step.experts if e.signed]
            if len(signed) < COMPLEX_PANEL:
                yield Miss(f"$.disputes[{i}].steps[{j}].experts",
                           f"专家意见：重大疑难复杂案件宜由至少 {COMPLEX_PANEL} 名专家签名，当前 {len(signed)} 名", signed)
