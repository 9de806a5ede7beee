"""Forensic kind — the examination, the opinion and its sign-off (Sichuan 三(三); 通则 Arts 19, 23, 29,
35, 36–40, 41).

A gap the institution can still close is blocking; a dissent (Art 37) is a warning the reviewer sees.
Dates out of order (an opinion dated before its examination or its 复核, a 补正 before the opinion) are
blocking: the record contradicts itself and must be put right before anything goes out. A correction
that changes the issued opinion is blocking (Art 41): that needs a 补充鉴定 or 重新鉴定.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from generator.forensic.issued import opinion_changes
from generator.forensic.model import AppraiserSignature, Outcome, Standard
from generator.model import Issuance, ReviewLevel
from generator.persons import person_key, same_person
from generator.review import level_signer_problem, review_state
from generator.rules.rule import FORENSIC, Miss, RuleContext, rule
from generator.rules.text_safety import text_bidi_controls
from generator.types import beijing_date


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


@rule("forensic.correction.opinion_as_issued", "通则 Art 41", "blocking",
      "补正不得改变已出具的鉴定意见：鉴定结果与已出具的司法鉴定意见书一致；改变须补充鉴定或重新鉴定", kinds=FORENSIC)
def opinion_as_issued(ctx: RuleContext) -> Iterator[Miss]:
    # Judged against the issued copy's own case data (generator.forensic.issued), not the case's flag:
    # a correction that claims `changes_opinion: false` while the results differ is caught here too.
    # A reissue (重新出具, a new number superseding the old) is held against the opinion it replaces: the
    # conclusion of an issued opinion changes only by 补充鉴定 (Art 30) or 重新鉴定 (Art 31), never by
    # correcting or reissuing it.
    case, issued = ctx.forensic, ctx.issued
    if issued is None or issued.number not in (case.report.number, case.report.supersedes):
        return  # not issued yet, or the issued copy was not found
    claimed = [c.number for c in case.corrections if not c.changes_opinion]
    claim = f"；补正书 {'、'.join(claimed)} 却记载不涉及鉴定意见" if claimed else ""
    how = "补正" if issued.number == case.report.number else f"重新出具（{case.report.number} 替代 {issued.number}）"
    for change in opinion_changes(issued.data, case):
        yield Miss(change.path, f"{change.title}与已出具的司法鉴定意见书 {issued.number} 不一致：出具时为"
                   f"「{_shown(change.issued)}」，现为「{_shown(change.current)}」{claim}。{how}不得改变鉴定意见，"
                   f"须补充鉴定或重新鉴定，不能以{how}处理", change.current)


def _shown(value: object) -> str:
    return "（无）" if value is None else str(value)


# ── dates in the order the 通则 implies: commission received → accepted (Art 13) and in effect (Art 28) →
# examination → 复核 (Art 35) → the opinion signed and dated (Arts 36–37) → issued → any 补正 of it
# (Art 41). Each pair out of order is its own finding naming both dates.


Dated = tuple[str, str, datetime | date]  # (JSON path, Chinese title, the date) of one dated fact


def _out_of_order(later: Dated, earlier: Dated, why: str, *, blame_earlier: bool = False) -> Miss | None:
    """A Miss when `later` (path, Chinese title, value) lies before `earlier`; a timestamp is compared with
    a date on its Beijing date (generator.types.beijing_date), two timestamps exactly. The finding is on
    `later`'s path, or on `earlier`'s when that is the field to put right (`blame_earlier`)."""
    (path, title, value), (e_path, e_title, e_value) = later, earlier
    if isinstance(value, datetime) and isinstance(e_value, datetime):
        wrong = value < e_value
    else:
        wrong = _day(value) < _day(e_value)
    if not wrong:
        return None
    return Miss(e_path if blame_earlier else path,
                f"日期顺序：{title}（{path}）{_iso(value)} 早于{e_title}（{e_path}）{_iso(e_value)}；{why}",
                _iso(e_value if blame_earlier else value))


def _day(value: datetime | date) -> date:
    return beijing_date(value) if isinstance(value, datetime) else value


def _iso(value: datetime | date) -> str:
    return value.isoformat(timespec="minutes") if isinstance(value, datetime) else value.isoformat()


_EXAM = ("$.examination.at", "检验 / 检验时间")
_REVIEW = ("$.review_opinion.at", "复核意见 / 复核时间")
_OPINION = ("$.report.issued_on", "司法鉴定意见书 / 出具日期")


def _signed(i: int, sig: AppraiserSignature) -> Dated:
    """A signature as a dated fact; called only for a signature that carries its time."""
    return f"$.report.signatures[{i}].signed_at", f"鉴定人「{sig.appraiser}」/ 签名时间", sig.signed_at  # type: ignore[return-value]


def _issued(i: int, issuance: Issuance) -> Dated:
    return f"$.issuances[{i}].issued_at", f"文书出具记录 {issuance.number} / 出具时间", issuance.issued_at


@rule("forensic.dates.commission_before_examination", "通则 Art 13", "blocking",
      "先收到委托、决定受理、委托书生效，再检验：受理不早于收到委托，检验不早于受理和委托书生效", kinds=FORENSIC)
def commission_before_examination(ctx: RuleContext) -> Iterator[Miss]:
    # Art 13: the institution decides on a commission it has received; Art 28: the work runs from the
    # 委托书 taking effect. An examination before either is appraisal work without a commission (Art 11).
    case = ctx.forensic
    tl = case.timeline
    received = ("$.timeline.received_at", "鉴定时限 / 收到委托时间", tl.received_at)
    accepted = ("$.timeline.accepted_at", "鉴定时限 / 决定受理时间", tl.accepted_at) if tl.accepted_at else None
    if accepted is not None and (miss := _out_of_order(accepted, received, "须先收到委托，再决定是否受理")):
        yield miss
    if case.examination is None:
        return
    exam = (*_EXAM, case.examination.at)
    if accepted is not None and (miss := _out_of_order(exam, accepted, "决定受理之前不能实施鉴定")):
        yield miss
    if tl.effective_on is not None and (miss := _out_of_order(
            exam, ("$.timeline.effective_on", "鉴定时限 / 委托书生效日期", tl.effective_on), "委托书生效之前不能实施鉴定")):
        yield miss


@rule("forensic.dates.examination_before_opinion", "通则 Art 36", "blocking",
      "鉴定意见书在检验之后出具：出具日期不早于检验日期", kinds=FORENSIC)
def examination_before_opinion(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    if case.termination is not None or case.examination is None:
        return  # a terminated appraisal issues no opinion (通则 Art 29); a missing examination is Art 23's
    if miss := _out_of_order((*_OPINION, case.report.issued_on), (*_EXAM, case.examination.at),
                             "鉴定意见须在检验完成后作出"):
        yield miss


@rule("forensic.dates.review_before_opinion", "通则 Art 35", "blocking",
      "复核在检验之后、鉴定意见书出具之前：复核时间不早于检验，出具日期不早于复核", kinds=FORENSIC)
def review_before_opinion(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    review = case.review_opinion
    if case.termination is not None or review is None:
        return  # no opinion, or no 复核意见 (forensic.review.opinion asks for it)
    if case.examination is not None and (miss := _out_of_order(
            (*_REVIEW, review.at), (*_EXAM, case.examination.at), "复核的是检验和鉴定意见，不能在检验之前")):
        yield miss
    if miss := _out_of_order((*_OPINION, case.report.issued_on), (*_REVIEW, review.at),
                             "鉴定意见书须经复核后出具，出具日期不能早于复核"):
        yield miss


@rule("forensic.dates.signed_before_opinion", "通则 Art 37", "blocking",
      "鉴定人在检验之后、鉴定意见书所署日期之前（含当日）签名", kinds=FORENSIC)
def signed_before_opinion(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    if case.termination is not None:
        return
    for i, sig in enumerate(case.report.signatures):
        if sig.signed_at is None:
            continue
        signed = _signed(i, sig)
        if case.examination is not None and (miss := _out_of_order(
                signed, (*_EXAM, case.examination.at), "鉴定人在检验之后签署鉴定意见")):
            yield miss
        if miss := _out_of_order((*_OPINION, case.report.issued_on), signed,
                                 "意见书所署出具日期不能早于鉴定人签名"):
            yield miss


@rule("forensic.dates.before_issuance", "通则 Art 35", "blocking",
      "复核、鉴定人签名和意见书所署日期均不晚于意见书实际出具的时间（文书出具记录）", kinds=FORENSIC)
def before_issuance(ctx: RuleContext) -> Iterator[Miss]:
    # Once `gongu issue` has recorded when the opinion went out, nothing that had to precede it may be
    # dated later: a 复核 (Art 35) or a signature (Art 37) after the issue, or an opinion post-dated.
    case = ctx.forensic
    if case.termination is not None:
        return
    first = next(((i, x) for i, x in enumerate(case.issuances) if x.number == case.report.number and x.pdf_file), None)
    if first is None:
        return  # not issued under this number yet
    index, issuance = first
    issued = _issued(index, issuance)
    if case.review_opinion is not None and (miss := _out_of_order(
            issued, (*_REVIEW, case.review_opinion.at), "复核须在意见书出具之前完成", blame_earlier=True)):
        yield miss
    for i, sig in enumerate(case.report.signatures):
        if sig.signed_at is not None and (miss := _out_of_order(
                issued, _signed(i, sig), "鉴定人须在意见书出具之前签名", blame_earlier=True)):
            yield miss
    if miss := _out_of_order(issued, (*_OPINION, case.report.issued_on), "意见书所署出具日期不能晚于实际出具的日期",
                             blame_earlier=True):
        yield miss


@rule("forensic.dates.correction_after_opinion", "通则 Art 41", "blocking",
      "补正书在所补正的鉴定意见书出具之后作出", kinds=FORENSIC)
def correction_after_opinion(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    # After a reissue the report date is the reissue's; a correction may be of the opinion it replaced,
    # so the reference is the first recorded issue of the opinion (its Beijing day) when there is one.
    opinion = (*_OPINION, case.report.issued_on)
    if case.report.supersedes and case.issuances:
        first = min(range(len(case.issuances)), key=lambda n: case.issuances[n].issued_at)
        opinion = _issued(first, case.issuances[first])
    for i, corr in enumerate(case.corrections):
        if miss := _out_of_order((f"$.corrections[{i}].issued_on", f"补正书 {corr.number} / 补正日期", corr.issued_on),
                                 opinion, "补正的是已出具的鉴定意见书"):
            yield miss


# Text that displays differently from what it stores: the survey kind's rule, for this kind too.
rule("forensic.text.bidi_controls", "通则 Art 36", "warning", "文字中不含改变显示顺序的双向控制字符",
     kinds=FORENSIC)(text_bidi_controls)
