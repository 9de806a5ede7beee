"""Cross-references inside a forensic case file that a schema alone cannot check.

These are data errors (a result names a matter that does not exist, a grade without a number), not
procedural gaps: a missed time limit or a missing declaration is legal input left to the rules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from generator.forensic.model import DisputeStepKind, ForensicAppraisalCase, MatterKind, Outcome
from generator.problems import Problem, problem_at
from generator.text_safety import bidi_controls_in, neutralise


def _duplicates(ids: Iterable[str]) -> set[str]:
    return {key for key, n in Counter(ids).items() if n > 1}


def _at(path: str, message: str, value: object = None) -> Problem:
    return problem_at(ForensicAppraisalCase, path, message, value)


def named_files(case: ForensicAppraisalCase) -> list[tuple[str, str]]:
    """Every file the case names, relative to its folder, as (JSON path, name): the draw record, material
    scans, attachments, recordings, attendees' ID copies — the files the archive package files too."""
    named = [("$.selection.draw_record", case.selection.draw_record)] if case.selection.draw_record else []
    named += [(f"$.materials[{i}].file", m.file) for i, m in enumerate(case.materials) if m.file]
    named += [(f"$.attachments[{i}].file", a.file) for i, a in enumerate(case.attachments) if a.file]
    named += [(f"$.process.recordings[{i}].file", r.file) for i, r in enumerate(case.process.recordings)]
    if case.attendance is not None:
        for i, att in enumerate(case.attendance.attendees):
            if att.id_copy_file:
                named.append((f"$.attendance.attendees[{i}].id_copy_file", att.id_copy_file))
    return named


def integrity_problems(case: ForensicAppraisalCase) -> list[Problem]:
    out: list[Problem] = []
    matters = {m.id: m for m in case.commission.matters}
    appraisers = {a.name for a in case.appraisers}
    parties = {p.name for p in case.parties}

    for name, ids in (
        ("commission.matters", [m.id for m in case.commission.matters]),
        ("materials", [m.id for m in case.materials]),
        ("parties", [p.id for p in case.parties]),
        ("appraisers", [a.name for a in case.appraisers]),
        ("results", [r.matter for r in case.results]),
    ):
        for dup in sorted(_duplicates(ids)):
            out.append(_at(f"$.{name}", "编号重复 (duplicate id)", dup))

    for i, result in enumerate(case.results):
        base = f"$.results[{i}]"
        matter = matters.get(result.matter)
        if matter is None:
            out.append(_at(f"{base}.matter", "委托事项中没有该编号 (no such matter)", result.matter))
        if result.outcome is Outcome.grade and result.grade is None:
            out.append(_at(f"{base}.grade", "鉴定结果为构成伤残等级时须给出等级 1–10", None))
        if result.outcome is not Outcome.grade and result.grade is not None:
            out.append(_at(f"{base}.grade", "只有构成伤残等级时才填写等级 (grade only with outcome grade)", result.grade))
        if result.outcome is Outcome.period and result.days is None:
            out.append(_at(f"{base}.days", "期限类鉴定结果须给出天数", None))
        if result.outcome is Outcome.finding and not result.text:
            out.append(_at(f"{base}.text", "须写明鉴定意见表述", None))
        grading = result.outcome in (Outcome.grade, Outcome.no_disability)
        if matter is not None and grading and matter.kind is not MatterKind.disability_grade:
            out.append(_at(f"{base}.outcome", f"事项 {matter.id} 不是伤残等级鉴定，不能给出伤残等级结论", result.outcome.value))

    for i, sig in enumerate(case.report.signatures):
        if sig.appraiser not in appraisers:
            out.append(_at(f"$.report.signatures[{i}].appraiser", "不是本案鉴定人 (not an appraiser of this case)", sig.appraiser))
    for i, decl in enumerate(case.recusals):
        if decl.appraiser not in appraisers:
            out.append(_at(f"$.recusals[{i}].appraiser", "不是本案鉴定人 (not an appraiser of this case)", decl.appraiser))
    for i, corr in enumerate(case.corrections):
        for j, name in enumerate(corr.signed_by):
            if name not in appraisers:
                out.append(_at(f"$.corrections[{i}].signed_by[{j}]", "不是本案鉴定人", name))
    for i, material in enumerate(case.materials):
        for j, conf in enumerate(material.confirmations):
            if conf.party not in parties:
                out.append(_at(f"$.materials[{i}].confirmations[{j}].party", "当事人中没有该名称 (no such party)", conf.party))
    for i, sus in enumerate(case.timeline.suspensions):
        if sus.end < sus.start:
            out.append(_at(f"$.timeline.suspensions[{i}].end", "终止日期早于起始日期", sus.end.isoformat()))
    c = case.commission
    if c.is_reappraisal and not c.original_opinion and c.reappraisal is None:
        out.append(_at("$.commission.original_opinion", "重新鉴定须写明原鉴定意见书编号及机构", None))
    if c.reappraisal is not None and not c.is_reappraisal:
        out.append(_at("$.commission.is_reappraisal", "有重新鉴定记录（commission.reappraisal）却记为不属于重新鉴定", False))

    materials = {m.id for m in case.materials}
    for dup in sorted(_duplicates(s.number for s in case.supplementary)):
        out.append(_at("$.supplementary", "补充意见书编号重复 (duplicate number)", dup))
    for i, sup in enumerate(case.supplementary):
        for j, name in enumerate(sup.appraisers):
            if name not in appraisers:
                out.append(_at(f"$.supplementary[{i}].appraisers[{j}]", "不是本案鉴定人 (not an appraiser of this case)", name))
        for j, mid in enumerate(sup.new_materials):
            if mid not in materials:
                out.append(_at(f"$.supplementary[{i}].new_materials[{j}]", "鉴定材料中没有该编号 (no such material)", mid))
    numbers = {s.number for s in case.supplementary}
    for i, dispute in enumerate(case.disputes):
        for j, step in enumerate(dispute.steps):
            if step.kind is DisputeStepKind.supplementary and step.reference and step.reference not in numbers:
                out.append(_at(f"$.disputes[{i}].steps[{j}].reference", "补充鉴定中没有该补充意见书编号", step.reference))
            # They sign the committee's 调解记录 (Sichuan 五(一)): only parties of the case can.
            for k, name in enumerate(step.participants):
                if name not in parties:
                    out.append(_at(f"$.disputes[{i}].steps[{j}].participants[{k}]",
                                   "不是本案当事人 (not a party of this case)", name))
            if step.participants and step.kind is not DisputeStepKind.mediation:
                out.append(_at(f"$.disputes[{i}].steps[{j}].participants",
                               "只有调解步骤记录参加调解的当事人 (participants belong to a mediation)", step.participants))

    for path, name in named_files(case):
        codes = bidi_controls_in(name)
        if codes:
            out.append(_at(path, f"文件名含有双向文字控制字符 {'、'.join(codes)}，显示的文件名与实际不同，请改名 "
                                 "(bidi control characters in a file name)", neutralise(name)))
    return out
