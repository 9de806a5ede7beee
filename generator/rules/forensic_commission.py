"""Forensic kind — the commission (Sichuan 二(一)–二(四); 通则 Arts 12, 13, 16, 32).

Who commissioned, on what materials, how the institution was chosen, and what the 委托书 records. Every
gap here is something the institution can still supply (a confirmation, a signed notice, a record), so
each rule is blocking.
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.forensic.draw_link import PATH as DRAW_PATH
from generator.forensic.draw_link import DrawRecordError, link_problems, read_draw_record
from generator.forensic.model import CommissionKind, PartyRole, SelectionMethod
from generator.persons import person_key, same_person
from generator.rules.rule import FORENSIC, Miss, RuleContext, rule


@rule("forensic.joint.materials_confirmed", "Sichuan 二(一)", "blocking",
      "共同委托：鉴定材料须经各方确认，未经确认的不得用于鉴定", kinds=FORENSIC)
def joint_materials_confirmed(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    if case.commission.kind is not CommissionKind.joint:
        return
    clients = [p.name for p in case.parties if p.client]
    for i, material in enumerate(case.materials):
        if not material.used:
            continue
        for j, conf in enumerate(material.confirmations):
            if not conf.confirmed:
                yield Miss(f"$.materials[{i}].confirmations[{j}].confirmed",
                           f"鉴定材料「{material.name}」：{conf.party} 未确认，未经双方确认的材料不得用于鉴定"
                           "（改为不用于鉴定，或取得确认）", False)
        confirmed_by = {person_key(c.party) for c in material.confirmations}
        missing = [name for name in clients if person_key(name) not in confirmed_by]
        if missing:
            yield Miss(f"$.materials[{i}].confirmations",
                       f"鉴定材料「{material.name}」：缺少委托方 {'、'.join(missing)} 的确认", missing)


@rule("forensic.joint.both_sides_commission", "Sichuan 二(一)", "blocking",
      "共同委托：保险机构与涉保当事人均为委托人", kinds=FORENSIC)
def joint_both_sides(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    if case.commission.kind is not CommissionKind.joint:
        return
    roles = {p.role for p in case.parties if p.client}
    if PartyRole.insurer not in roles:
        yield Miss("$.parties", "共同委托：委托人中没有保险机构（parties[].client 与 role=insurer）")
    if not roles - {PartyRole.insurer}:
        yield Miss("$.parties", "共同委托：委托人中没有涉保当事人（投保人、被保险人或受害人）")


@rule("forensic.single.insurance_use_asked", "Sichuan 二(二)", "blocking",
      "单方委托：询问鉴定文书是否用于保险理赔并在委托书中记载", kinds=FORENSIC)
def single_insurance_use(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    if case.commission.kind is CommissionKind.single and case.commission.for_insurance_claim is None:
        yield Miss("$.commission.for_insurance_claim", "单方委托：未询问并记载鉴定文书是否用于保险理赔")


@rule("forensic.single.risk_notice", "Sichuan 二(二)", "blocking",
      "单方委托：告知单方委托的风险及法律后果，由委托人签字确认", kinds=FORENSIC)
def single_risk_notice(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    if case.commission.kind is not CommissionKind.single:
        return
    if case.single is None or case.single.risk_notice is None:
        yield Miss("$.single.risk_notice", "单方委托：没有委托人签字确认的单方委托风险告知")


@rule("forensic.single.insurer_notified", "Sichuan 二(二)", "blocking",
      "单方委托：通知（含电话）相关保险机构到场见证，记录方式、时间和接收人", kinds=FORENSIC)
def single_insurer_notified(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    if case.commission.kind is not CommissionKind.single or case.commission.for_insurance_claim is False:
        return  # not used for an insurance claim: no insurer to notify
    if case.single is None or not case.single.witness_notices:
        yield Miss("$.single.witness_notices", "单方委托：没有通知保险机构到场见证的记录（通知方式、时间、接收通知人）")


@rule("forensic.single.attendance_record", "Sichuan 二(二)", "blocking",
      "单方委托：如实记录保险机构和当事人到场情况并双方签字；保险机构未到场的，记录并按规定实施鉴定",
      kinds=FORENSIC)
def single_attendance(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    if case.commission.kind is not CommissionKind.single or case.commission.for_insurance_claim is False:
        return
    att = case.attendance
    if att is None:
        yield Miss("$.attendance", "单方委托：没有到场见证记录")
        return
    if not att.party_signed:
        yield Miss("$.attendance.party_signed", "到场见证记录：当事人未签字确认", False)
    if att.insurer_attended:
        if not att.attendees:
            yield Miss("$.attendance.attendees", "到场见证记录：记为保险机构到场，但没有到场人员")
        for i, person in enumerate(att.attendees):
            if not person.signed:
                yield Miss(f"$.attendance.attendees[{i}].signed", f"到场见证记录：保险机构到场人员「{person.name}」未签字确认",
                           False)
    else:
        if not att.absence_note:
            yield Miss("$.attendance.absence_note", "到场见证记录：保险机构未到场，须写明未到场情况")
        if not att.proceeded:
            yield Miss("$.attendance.proceeded", "保险机构不按时派员到场的，鉴定机构应当按规定实施鉴定", False)


@rule("forensic.witness.identity_checked", "Sichuan 四(四)", "blocking",
      "到场见证人员出示工作证明和身份证件并留存复印件，未提供的不得见证", kinds=FORENSIC)
def witness_identity(ctx: RuleContext) -> Iterator[Miss]:
    att = ctx.forensic.attendance
    if att is None:
        return
    for i, person in enumerate(att.attendees):
        for key, title in (("id_checked", "身份证件未查验"), ("work_id_checked", "工作证明未查验"),
                           ("copies_kept", "证件复印件未留存")):
            if not getattr(person, key):
                yield Miss(f"$.attendance.attendees[{i}].{key}",
                           f"到场人员「{person.name}」：{title}，未提供身份证明的不得当场见证", False)


@rule("forensic.selection.recorded", "Sichuan 二(三)", "blocking",
      "在名册中协商或公平随机选择鉴定机构，随机选定须有抽取记录编号", kinds=FORENSIC)
def selection_recorded(ctx: RuleContext) -> Iterator[Miss]:
    selection = ctx.forensic.selection
    if selection.method is SelectionMethod.random_draw and not selection.draw_reference:
        yield Miss("$.selection.draw_reference", "鉴定机构选择：随机选定（抽签、摇号）须记录随机抽取记录编号")


@rule("forensic.selection.draw_record", "Sichuan 二(三)", "blocking",
      "随机选定须有可重新计算的抽取记录：属于本案，选定的正是本案鉴定机构（顺延后）", kinds=FORENSIC)
def selection_draw_record(ctx: RuleContext) -> Iterator[Miss]:
    selection = ctx.forensic.selection
    if selection.draw_record is None:
        return  # a random draw without a record file: see forensic.selection.draw_record_kept
    if selection.method is not SelectionMethod.random_draw:
        yield Miss("$.selection.method", "鉴定机构选择：写明了随机抽取记录文件，选择方式却不是随机选定（random_draw）",
                   selection.method.value)
        return
    if ctx.case_dir is None:
        return  # a case held only in memory: no folder to read the record from
    try:
        linked = read_draw_record(ctx.case_dir, selection.draw_record)
    except DrawRecordError as exc:
        yield Miss(DRAW_PATH, f"鉴定机构选择：{exc}", selection.draw_record)
        return
    for path, message, value in link_problems(ctx.forensic, linked.data):
        yield Miss(path, f"鉴定机构选择：{message}", value)


@rule("forensic.selection.draw_record_kept", "Sichuan 二(三)", "warning",
      "随机选定宜保存可重新计算的抽取记录（gongu draw），否则事后无法核对抽取是否公平", kinds=FORENSIC)
def selection_draw_record_kept(ctx: RuleContext) -> Iterator[Miss]:
    selection = ctx.forensic.selection
    if selection.method is SelectionMethod.random_draw and selection.draw_record is None:
        yield Miss(DRAW_PATH, "鉴定机构选择：随机选定没有可重新计算的抽取记录文件（selection.draw_record），"
                   "抽取结果事后无法核对", None)


@rule("forensic.reappraisal.other_institution", "Sichuan 二(四)", "blocking",
      "重新鉴定应当委托原司法鉴定机构以外的其他机构（通则第三十二条）", kinds=FORENSIC)
def reappraisal_other_institution(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    if not case.commission.is_reappraisal:
        return
    record = case.commission.reappraisal
    if record is not None:  # the licence number identifies an institution; names are written many ways
        if record.original_licence_no.strip() == case.institution.licence_no.strip():
            yield Miss("$.commission.reappraisal.original_licence_no",
                       f"重新鉴定：原鉴定机构许可证号 {record.original_licence_no} 即本机构「{case.institution.name}」，"
                       "须由其他鉴定机构进行（通则第三十二条）", record.original_licence_no)
        return
    original = case.commission.original_opinion
    if not original:
        return  # a re-appraisal without the original named is a data error the loader reports
    if person_key(case.institution.name) in person_key(original):  # only the free text: compare the name
        yield Miss("$.commission.original_opinion",
                   f"重新鉴定：原鉴定意见由本机构「{case.institution.name}」出具，须由其他鉴定机构进行", original)


@rule("forensic.reappraisal.senior_title", "Sichuan 二(四)", "blocking",
      "重新鉴定的鉴定人中至少一名具有相关专业高级专业技术职称（通则第三十二条）", kinds=FORENSIC)
def reappraisal_senior(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    if not case.commission.is_reappraisal:
        return
    signers = {person_key(s.appraiser) for s in case.report.signatures}
    senior = [a.name for a in case.appraisers if a.senior_title and (not signers or person_key(a.name) in signers)]
    if not senior:
        yield Miss("$.appraisers", "重新鉴定：鉴定人中没有具有高级专业技术职称者（appraisers[].senior_title）",
                   [a.name for a in case.appraisers])


@rule("forensic.commission.contents", "通则 Art 16", "blocking",
      "委托书载明约定事项并经委托人签名，告知三项鉴定风险", kinds=FORENSIC)
def commission_contents(ctx: RuleContext) -> Iterator[Miss]:
    commission = ctx.forensic.commission
    if not commission.risk_warnings_acknowledged:
        yield Miss("$.commission.risk_warnings_acknowledged",
                   "委托书：未记录委托人已知悉三项鉴定风险（意见属专家意见、不保证得出肯定性意见、鉴定中立）", False)
    if not commission.signed_by:
        yield Miss("$.commission.signed_by", "委托书：没有委托人签名")
    if commission.signed_on is None:
        yield Miss("$.commission.signed_on", "委托书：没有签订日期")
    if commission.kind is CommissionKind.joint and commission.signed_by:
        clients = [p.name for p in ctx.forensic.parties if p.client]
        unsigned = [n for n in clients if not any(same_person(n, s) or person_key(n) in person_key(s)
                                                  for s in commission.signed_by)]
        if unsigned:
            yield Miss("$.commission.signed_by", f"共同委托的委托书：委托人 {'、'.join(unsigned)} 未签名", unsigned)


@rule("forensic.acceptance.recorded", "通则 Art 13", "blocking",
      "记录受理决定时间及委托书生效日期", kinds=FORENSIC)
def acceptance_recorded(ctx: RuleContext) -> Iterator[Miss]:
    tl = ctx.forensic.timeline
    if tl.accepted_at is None:
        yield Miss("$.timeline.accepted_at", "鉴定时限：未记录决定受理时间")
    if tl.effective_on is None:
        yield Miss("$.timeline.effective_on", "鉴定时限：未记录委托书生效日期（鉴定时限自该日起算，通则第二十八条）")
