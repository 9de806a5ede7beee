"""Forensic kind — the examination, the opinion and its sign-off (Sichuan 三(三); 通则 Arts 19, 23, 29,
35, 36–40, 41).

A gap the institution can still close is blocking; a dissent (Art 37) is a warning the reviewer sees.
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.forensic.model import Outcome, Standard
from generator.model import ReviewLevel
from generator.persons import person_key, same_person
from generator.review import level_signer_problem, review_state
from generator.rules.registry import FORENSIC, Miss, RuleContext, rule
from generator.rules.text_safety import text_bidi_controls


@rule("forensic.examination.standard", "通则 Art 23", "blocking",
      "记录检验并写明适用标准；JR/T 0083-2013 须写明保险合同采用该标准的依据", kinds=FORENSIC)
def examination_standard(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    exam = case.examination
    if exam is None:
        if case.termination is None:
            yield Miss("$.examination", "检验：没有检验记录（检验所见、方法、适用标准、分析说明）")
        return
    if exam.standard is Standard.jrt_0083_2013 and not exam.standard_basis:
        yield Miss("$.examination.standard_basis",
                   "适用 JR/T 0083-2013 须写明依据（保险合同约定采用该标准的条款）", exam.standard.value)
    if exam.standard is Standard.other and not exam.standard_other:
        yield Miss("$.examination.standard_other", "适用标准为「其他」时须写明标准名称", exam.standard.value)


@rule("forensic.results.every_matter", "通则 Art 36", "blocking",
      "每一委托鉴定事项均有鉴定意见", kinds=FORENSIC)
def every_matter(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    if case.termination is not None:
        return  # a terminated appraisal answers no matter (通则 Art 29)
    answered = {r.matter for r in case.results}
    for i, matter in enumerate(case.commission.matters):
        if matter.id not in answered:
            yield Miss(f"$.commission.matters[{i}]", f"鉴定事项 {matter.id}「{matter.description}」没有鉴定结果", matter.id)


@rule("forensic.results.not_stable", "Sichuan 三(三)", "blocking",
      "伤情未稳定、未达到评定时机的不出具鉴定意见，应延期或终止鉴定（通则第二十九条）", kinds=FORENSIC)
def not_stable(ctx: RuleContext) -> Iterator[Miss]:
    for i, result in enumerate(ctx.forensic.results):
        if result.outcome is Outcome.not_stable:
            yield Miss(f"$.results[{i}].outcome", f"鉴定事项 {result.matter}：未达到评定时机，不能出具鉴定意见书；"
                       "待伤情稳定后鉴定，或出具终止鉴定告知书", result.outcome.value)


@rule("forensic.results.no_disability_issued", "Sichuan 三(三)", "blocking",
      "未构成伤残等级的，也应当出具鉴定意见书，不得以终止鉴定代替", kinds=FORENSIC)
def no_disability_issued(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    none = [r.matter for r in case.results if r.outcome is Outcome.no_disability]
    if none and case.termination is not None:
        yield Miss("$.termination", f"鉴定事项 {'、'.join(none)} 的结果为未构成伤残等级，应出具鉴定意见书，"
                   "不得终止鉴定", case.termination.ground.value)


@rule("forensic.signoff.two_appraisers", "通则 Art 19", "blocking",
      "至少两名鉴定人签名，加盖司法鉴定专用章（通则第三十七条）", kinds=FORENSIC)
def two_appraisers(ctx: RuleContext) -> Iterator[Miss]:
    report = ctx.forensic.report
    signers = {person_key(s.appraiser) for s in report.signatures}
    if len(signers) < 2:
        yield Miss("$.report.signatures", f"司法鉴定意见书：至少两名鉴定人签名，现有 {len(signers)} 名",
                   [s.appraiser for s in report.signatures])
    if not report.institution_seal:
        yield Miss("$.report.institution_seal", "司法鉴定意见书：未加盖司法鉴定专用章", False)


@rule("forensic.signoff.dissent", "通则 Art 37", "warning",
      "鉴定人有不同意见的，应当注明（提示复核人注意）", kinds=FORENSIC)
def dissent(ctx: RuleContext) -> Iterator[Miss]:
    for i, sig in enumerate(ctx.forensic.report.signatures):
        if sig.dissent:
            yield Miss(f"$.report.signatures[{i}].dissent",
                       f"鉴定人「{sig.appraiser}」有不同意见，意见书须注明：{sig.dissent}", sig.dissent)


@rule("forensic.review.opinion", "通则 Art 35", "blocking",
      "复核由具有资质、非本案鉴定人的人员进行，复核意见签署存档", kinds=FORENSIC)
def review_opinion(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    opinion = case.review_opinion
    if opinion is None:
        if case.termination is None:
            yield Miss("$.review_opinion", "没有司法鉴定复核意见")
        return
    reviewer = opinion.reviewer
    if any(same_person(reviewer.name, a.name) for a in case.appraisers):
        yield Miss("$.review_opinion.reviewer.name", f"复核人「{reviewer.name}」是本案鉴定人，不能复核本案", reviewer.name)
    if not reviewer.licence_no:
        yield Miss("$.review_opinion.reviewer.licence_no", f"复核人「{reviewer.name}」：没有执业证号，不能证明具有复核资质")
    if not opinion.agrees:
        yield Miss("$.review_opinion.agrees", "复核人不同意鉴定意见：须重新审查后再出具", False)
    # The comparison `gongu review` refuses at entry time; here for an entry written into the file by hand.
    recheck = review_state(case).approved.get(ReviewLevel.recheck)
    if recheck is not None and (problem := level_signer_problem(case, recheck)):
        yield Miss("$.review_opinion.reviewer.name", problem, recheck.reviewer)


@rule("forensic.correction.keeps_opinion", "通则 Art 41", "blocking",
      "补正不得改变鉴定意见的原意", kinds=FORENSIC)
def correction_keeps_opinion(ctx: RuleContext) -> Iterator[Miss]:
    opinion_text = ctx.forensic.report.opinion
    for i, corr in enumerate(ctx.forensic.corrections):
        if corr.changes_opinion:
            yield Miss(f"$.corrections[{i}].changes_opinion",
                       f"补正书 {corr.number}：补正涉及鉴定意见；补正不得改变鉴定意见，须重新鉴定或补充鉴定", True)
        for j, item in enumerate(corr.items):
            if opinion_text and item.before and item.before in opinion_text:
                yield Miss(f"$.corrections[{i}].items[{j}].before",
                           f"补正书 {corr.number}：被补正的表述出自鉴定意见，补正不得改变鉴定意见", item.before)


# Text that displays differently from what it stores: the survey kind's rule, for this kind too.
rule("forensic.text.bidi_controls", "通则 Art 36", "warning", "文字中不含改变显示顺序的双向控制字符",
     kinds=FORENSIC)(text_bidi_controls)
