"""Forensic kind — who may appraise: the institution's own appraisers, in the matters' category, and never
a party's or an insurer's people (通则 Art 19; Sichuan 三(四), 四(一)).

The institution's 执业鉴定人名册 (`institution.appraiser_register`) lists each appraiser it may designate with their
执业证号 and 执业类别. An appraiser of the case (`appraisers[]`, and through them `report.signatures`,
`corrections[].signed_by`, `supplementary[].appraisers`, which must name them) who is not on it, is on it
under another licence number, or lacks the matters' category, cannot sign the institution's opinion.
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.forensic.draw import MATTER_SCOPES
from generator.forensic.model import ForensicAppraisalCase, PartyRole
from generator.persons import same_person
from generator.rules.rule import FORENSIC, Miss, RuleContext, rule


def required_categories(case: ForensicAppraisalCase) -> list[str]:
    """The 执业类别 the commissioned matters need, in matter order (法医临床鉴定 for 伤残等级 and the periods);
    a matter of kind `other` names no category of its own."""
    return list(dict.fromkeys(MATTER_SCOPES[m.kind.value] for m in case.commission.matters
                              if m.kind.value in MATTER_SCOPES))


@rule("forensic.appraisers.registered", "通则 Art 19", "blocking",
      "鉴定人须是本鉴定机构执业鉴定人名册上的司法鉴定人（姓名、执业证号相符），执业类别涵盖鉴定事项",
      kinds=FORENSIC)
def appraisers_registered(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    institution = case.institution
    if not institution.appraiser_register:
        # Without the register nobody can tell the institution's appraisers from anyone typed in.
        yield Miss("$.institution.appraiser_register", f"鉴定机构「{institution.name}」的执业鉴定人名册为空，无法确认鉴定人"
                   "是本机构的司法鉴定人")
        return
    needed = required_categories(case)
    for i, appraiser in enumerate(case.appraisers):
        entry = next((r for r in institution.appraiser_register if r.licence_no.strip() == appraiser.licence_no.strip()), None)
        if entry is None:
            yield Miss(f"$.appraisers[{i}].licence_no",
                       f"鉴定人「{appraiser.name}」（执业证号 {appraiser.licence_no}）不在鉴定机构「{institution.name}」"
                       "的执业鉴定人名册上，不能作为本机构的鉴定人", appraiser.licence_no)
            continue
        if not same_person(entry.name, appraiser.name):
            yield Miss(f"$.appraisers[{i}].name",
                       f"执业证号 {appraiser.licence_no} 在名册上登记为「{entry.name}」，不是「{appraiser.name}」",
                       appraiser.name)
            continue
        lacking = [c for c in needed if c not in entry.categories]
        if lacking:
            yield Miss(f"$.appraisers[{i}]",
                       f"鉴定人「{appraiser.name}」的执业类别为{'、'.join(entry.categories)}，不含鉴定事项所需的"
                       f"{'、'.join(lacking)}", entry.categories)


def _party_people(case: ForensicAppraisalCase) -> Iterator[tuple[str, str, str]]:
    """(name, JSON path, who they are) of every person the case file names on a party's or an insurer's side."""
    for i, party in enumerate(case.parties):
        title = "保险机构" if party.role is PartyRole.insurer else "当事人"
        yield party.name, f"$.parties[{i}].name", f"{title}「{party.name}」"
        # A contact is often written with a post before the name ("理赔人伤岗 陈敏"): each word is tried.
        for word in (party.contact_person or "").split():
            yield word, f"$.parties[{i}].contact_person", f"{title}「{party.name}」的联系人"
    if case.commission.handling_staff:
        yield case.commission.handling_staff, "$.commission.handling_staff", "委托人经办人"
    if case.attendance is not None:
        for i, attendee in enumerate(case.attendance.attendees):
            yield attendee.name, f"$.attendance.attendees[{i}].name", f"「{attendee.organisation}」的到场人员"
    if case.single is not None:
        for i, notice in enumerate(case.single.witness_notices):
            yield notice.person_reached, f"$.single.witness_notices[{i}].person_reached", \
                f"「{notice.insurer}」接收到场通知的人员"


@rule("forensic.appraisers.not_party_staff", "Sichuan 四(一)", "blocking",
      "保险机构从业人员不得兼任司法鉴定人：鉴定人不得是本案当事人或保险机构一方的人员", kinds=FORENSIC)
def appraisers_not_party_staff(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    people = list(_party_people(case))
    for i, appraiser in enumerate(case.appraisers):
        for name, where, who in people:
            if same_person(name, appraiser.name):
                yield Miss(f"$.appraisers[{i}].name",
                           f"鉴定人「{appraiser.name}」是{who}（{where}），不能担任本案鉴定人", appraiser.name)
                break
