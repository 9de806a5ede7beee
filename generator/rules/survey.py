"""Clause 5: survey timeliness, entry on site, the survey record, photos, claim documents."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from generator.model import LOCATION_BAND_TITLES, CarSurveyCase, DocumentStatus, LocationBand, NoticeReceipt
from generator.rules.rule import Miss, RuleContext, rule

# 5.1.1–5.1.4: "宜在 N 小时内赶到现场", counted from the assignment (4.4 starts the clock there too).
ARRIVAL_LIMITS = {
    LocationBand.city: timedelta(hours=3),
    LocationBand.surrounding: timedelta(hours=6),
    LocationBand.province: timedelta(hours=12),
    LocationBand.out_of_province: timedelta(hours=24),
}
ARRIVAL_CLAUSES = {LocationBand.city: "5.1.1", LocationBand.surrounding: "5.1.2", LocationBand.province: "5.1.3",
                   LocationBand.out_of_province: "5.1.4"}


def arrival_due(case: CarSurveyCase, assigned_at: datetime | None = None) -> tuple[datetime, str]:
    """When the surveyor should be on site and the clause that says so: the time agreed with the parties
    (5.1.5, which replaces the band limit), else the assignment plus the band's limit (5.1.1–5.1.4).
    `assigned_at`: the clock's start when not the case file's (a supervisor's later assignment)."""
    contact = case.contact
    if contact is not None and contact.agreed_survey_time is not None:
        return contact.agreed_survey_time, "5.1.5"
    band = case.survey.location_band
    return (assigned_at or case.assigned_at) + ARRIVAL_LIMITS[band], ARRIVAL_CLAUSES[band]


def _arrival_rule(band: LocationBand, ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.case
    # 5.1.5 replaces the band limit when a survey time was agreed with the parties.
    if case.survey.location_band != band or (case.contact and case.contact.agreed_survey_time):
        return
    limit = ARRIVAL_LIMITS[band]
    delay = case.survey.arrived_at - case.assigned_at
    if case.survey.arrived_at > arrival_due(case)[0]:  # arriving exactly at the limit is within it
        hours = delay.total_seconds() / 3600
        yield Miss("$.survey.arrived_at", f"现场查勘 / 到达现场时间：{LOCATION_BAND_TITLES[band]}的案件宜在指派后 "
                   f"{limit.total_seconds() / 3600:g} 小时内到达，实际 {hours:.2f} 小时", case.survey.arrived_at.isoformat())


@rule("arrival.city_3h", "5.1.1", "warning", "市区内案件3小时内到达现场")
def arrival_city(ctx: RuleContext) -> Iterator[Miss]:
    return _arrival_rule(LocationBand.city, ctx)


@rule("arrival.surrounding_6h", "5.1.2", "warning", "城市周边地区案件6小时内到达现场")
def arrival_surrounding(ctx: RuleContext) -> Iterator[Miss]:
    return _arrival_rule(LocationBand.surrounding, ctx)


@rule("arrival.province_12h", "5.1.3", "warning", "省内其它地区案件12小时内到达现场")
def arrival_province(ctx: RuleContext) -> Iterator[Miss]:
    return _arrival_rule(LocationBand.province, ctx)


@rule("arrival.out_of_province_24h", "5.1.4", "warning", "省外案件24小时内到达现场")
def arrival_out_of_province(ctx: RuleContext) -> Iterator[Miss]:
    return _arrival_rule(LocationBand.out_of_province, ctx)


@rule("arrival.agreed_time", "5.1.5", "warning", "按约定时间查勘")
def arrival_agreed_time(ctx: RuleContext) -> Iterator[Miss]:
    contact = ctx.case.contact
    if contact is None or contact.agreed_survey_time is None:
        return
    # Tolerance: none after the agreed time; arriving earlier and waiting is keeping the appointment.
    arrived = ctx.case.survey.arrived_at
    if arrived > arrival_due(ctx.case)[0]:
        late = (arrived - contact.agreed_survey_time).total_seconds() / 60
        yield Miss("$.survey.arrived_at", f"现场查勘 / 到达现场时间：晚于约定查勘时间 {late:g} 分钟 "
                   f"（约定 {contact.agreed_survey_time.isoformat()}）", arrived.isoformat())


def _receipt_ok(notice: NoticeReceipt) -> bool:
    signed = bool(notice.signed_by) and notice.signed_at is not None
    return signed or bool(notice.electronic_proof)


@rule("entry.client_notice", "5.2.1", "blocking", "客户告知书签收或书面记录并告知委托人")
def entry_client_notice(ctx: RuleContext) -> Iterator[Miss]:
    notice = ctx.case.survey.client_notice
    if notice is None:
        yield Miss("$.survey.client_notice", "现场查勘 / 客户告知书签收：未记录")
        return
    if _receipt_ok(notice):
        return
    if notice.unsigned_record and notice.client_informed_at is not None:
        return  # 5.2.1 "否则…及时告知委托人，并作书面记录"
    yield Miss("$.survey.client_notice", "现场查勘 / 客户告知书签收：既无被保险人签收（签收人与签收时间）或电子凭证，"
               "也无未签收书面记录及告知委托人时间")


@rule("entry.policy_check", "5.2.3", "blocking", "核对保险地址、保险标的、保险期限")
def entry_policy_check(ctx: RuleContext) -> Iterator[Miss]:
    check = ctx.case.survey.policy_check
    if check is None:
        yield Miss("$.survey.policy_check", "现场查勘 / 保单信息核对：未记录")
        return
    for key, title in (("address_checked", "保险地址"), ("subject_checked", "保险标的"), ("period_checked", "保险期限")):
        if not getattr(check, key):
            yield Miss(f"$.survey.policy_check.{key}", f"现场查勘 / 保单信息核对：未核对{title}", False)


@rule("entry.rescue_notice", "5.2.6", "blocking", "出具施救告知书")
def entry_rescue_notice(ctx: RuleContext) -> Iterator[Miss]:
    notice = ctx.case.survey.rescue_notice
    if notice is None or notice.issued_at is None:
        yield Miss("$.survey.rescue_notice.issued_at", "现场查勘 / 施救告知书签收 / 出具时间：未记录施救告知书的出具")


@rule("record.items", "5.3.1", "blocking", "制作现场查勘记录")
def record_items(ctx: RuleContext) -> Iterator[Miss]:
    if not ctx.case.survey.record_items:
        yield Miss("$.survey.record_items", "现场查勘 / 现场查勘记录：没有任何记录项")


@rule("record.photo_per_item", "5.3.1", "blocking", "每项查勘记录至少有一张照片")
def record_photo_per_item(ctx: RuleContext) -> Iterator[Miss]:
    shown = {p.record_item for p in ctx.case.survey.photos if p.record_item}
    for i, item in enumerate(ctx.case.survey.record_items):
        if item.id not in shown:
            yield Miss(f"$.survey.record_items[{i}]", f"现场查勘记录 {item.id}（{item.name}）：没有对应的现场照片", item.id)


@rule("record.photo_linked", "5.3.1", "blocking", "每张照片对应一项查勘记录")
def record_photo_linked(ctx: RuleContext) -> Iterator[Miss]:
    for i, photo in enumerate(ctx.case.survey.photos):
        if not photo.record_item:
            yield Miss(f"$.survey.photos[{i}].record_item", f"现场照片 {photo.id} / 对应查勘记录：未指明对应的查勘记录",
                       photo.id)


@rule("record.confirmed", "5.3.2", "blocking", "查勘记录经被保险人代表签字盖章确认或书面记录")
def record_confirmed(ctx: RuleContext) -> Iterator[Miss]:
    conf = ctx.case.survey.confirmation
    base = "$.survey.confirmation"
    if conf is None:
        yield Miss(base, "现场查勘 / 查勘记录确认：未记录")
        return
    if not conf.all_property_surveyed:
        yield Miss(f"{base}.all_property_surveyed", "查勘记录确认 / 受损财产已全部查勘：未与被保险人确认", False)
    if conf.signed and conf.sealed:
        return
    if conf.unsigned_record and conf.client_informed_at is not None:
        return  # 5.3.2 "否则…及时告知委托人，并作书面记录"
    missing = "、".join(t for ok, t in ((conf.signed, "签字"), (conf.sealed, "盖章")) if not ok)
    yield Miss(base, f"查勘记录确认：被保险人代表未{missing}，且无未签章书面记录及告知委托人时间")


@rule("documents.checklist_signed", "5.3.3", "blocking", "索赔资料清单由被保险人签收")
def documents_checklist_signed(ctx: RuleContext) -> Iterator[Miss]:
    survey = ctx.case.survey
    for key, title in (("checklist_issued_on", "索赔资料清单出具日期"), ("checklist_signed_by", "索赔资料清单签收人"),
                       ("checklist_signed_on", "索赔资料清单签收日期")):
        if not getattr(survey, key):
            yield Miss(f"$.survey.{key}", f"现场查勘 / {title}：未记录")


@rule("documents.due_dates", "5.3.3", "blocking", "未提供的资料约定提供日期")
def documents_due_dates(ctx: RuleContext) -> Iterator[Miss]:
    for i, doc in enumerate(ctx.case.survey.documents):
        if doc.status == DocumentStatus.outstanding and doc.due_on is None:
            yield Miss(f"$.survey.documents[{i}].due_on", f"索赔资料 {doc.code or doc.name} / 约定提供日期：尚未提供的资料须约定提供日期")


@rule("documents.overdue", "5.3.3", "warning", "逾期未提供的资料")
def documents_overdue(ctx: RuleContext) -> Iterator[Miss]:
    for i, doc in enumerate(ctx.case.survey.documents):
        if doc.status == DocumentStatus.outstanding and doc.due_on is not None and doc.due_on < ctx.today:
            days = (ctx.today - doc.due_on).days
            yield Miss(f"$.survey.documents[{i}].due_on", f"索赔资料 {doc.code or doc.name}：已逾约定提供日期 {days} 天"
                       f"（截至 {ctx.today.isoformat()}）", doc.due_on.isoformat())
