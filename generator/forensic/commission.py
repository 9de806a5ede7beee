"""The commission of a forensic appraisal (涉保司法鉴定): the institution and its people, the parties, the
matters commissioned, how the institution was chosen, recusal, and the single-commission notice and
witnessing (通则 Art 11–19; Sichuan 二, 三). Conventions as in generator/forensic/model.py.
"""

from __future__ import annotations

from enum import StrEnum

from generator.model import F, Record
from generator.types import Count, Day, Flag, Money, Name, Timestamp

# ─────────────────────────────── institution and its people ────────────────────────────────────


class RegisteredAppraiser(Record):
    """One appraiser on the institution's 执业鉴定人名册: the people it may designate for a matter of their
    categories (通则 Art 19: the institution designates two of its appraisers; Sichuan 三(四): it keeps
    its staff's practising records)."""

    name: Name = F("姓名", min_length=1)
    licence_no: Name = F("执业证号", min_length=1)
    # 执业类别 as the licence reads, e.g. 法医临床鉴定 (the category of 伤残等级 and the three periods).
    categories: list[str] = F("执业类别", min_length=1)


class Institution(Record):
    """The 司法鉴定机构 (通则 Art 11: only the institution accepts a commission)."""

    name: Name = F("鉴定机构名称", min_length=1)
    licence_no: Name = F("许可证号", min_length=1)
    qualification_scope: list[str] = F("业务范围", min_length=1)
    address: str = F("机构地址", min_length=1)
    phone: str = F("联系电话", min_length=1)
    post_code: str | None = F("邮政编码", default=None, pattern=r"^\d{6}$")
    head: Name = F("机构负责人", min_length=1)
    credit_code: Name | None = F("统一社会信用代码", default=None)
    # Every appraiser of a case must be on it for the matters' category (rule forensic.appraisers.registered).
    appraiser_register: list[RegisteredAppraiser] = F("执业鉴定人名册", default_factory=list)


class Appraiser(Record):
    """A 司法鉴定人 (通则 Art 19: two per matter; Art 32 / Sichuan 二(四): a senior title for re-appraisal)."""

    name: Name = F("鉴定人姓名", min_length=1)
    licence_no: Name = F("执业证号", min_length=1)
    title: str = F("专业技术职称", min_length=1)
    senior_title: Flag = F("高级专业技术职称", default=False)
    specialty: str | None = F("执业类别", default=None)


class Assistant(Record):
    """A 鉴定人助理 (Sichuan 三(二): shows the 助理证 before the work starts)."""

    name: Name = F("助理姓名", min_length=1)
    assistant_no: Name = F("助理证号", min_length=1)


class StaffMember(Record):
    """A qualified member of staff who is not an appraiser of this case, e.g. the 复核人 (通则 Art 35)."""

    name: Name = F("姓名", min_length=1)
    licence_no: Name | None = F("执业证号", default=None)
    title: str | None = F("专业技术职称", default=None)


# ────────────────────────────────────── the commission ─────────────────────────────────────────


class CommissionKind(StrEnum):
    joint = "joint"  # 共同委托 (Sichuan 二(一), preferred)
    single = "single"  # 单方委托 (Sichuan 二(二))


COMMISSION_KIND_TITLES = {CommissionKind.joint: "共同委托", CommissionKind.single: "单方委托"}


class PartyRole(StrEnum):
    """The 涉保当事人 of Sichuan 二(一) and the insurer."""

    insurer = "insurer"
    policyholder = "policyholder"
    insured = "insured"
    victim = "victim"
    other = "other"


PARTY_ROLE_TITLES = {
    PartyRole.insurer: "保险机构",
    PartyRole.policyholder: "投保人",
    PartyRole.insured: "被保险人",
    PartyRole.victim: "受害人",
    PartyRole.other: "其他",
}


class Party(Record):
    id: Name = F("当事人编号", min_length=1)
    name: Name = F("名称或姓名", min_length=1)
    role: PartyRole = F("身份")
    client: Flag = F("委托人", default=False)
    id_number: Name | None = F("证件号码", default=None)
    contact_person: Name | None = F("联系人", default=None)
    phone: str | None = F("联系电话", default=None)
    address: str | None = F("地址", default=None)


class MatterKind(StrEnum):
    disability_grade = "disability_grade"
    lost_work_period = "lost_work_period"
    care_period = "care_period"
    nutrition_period = "nutrition_period"
    injury_degree = "injury_degree"
    causation = "causation"
    other = "other"


MATTER_KIND_TITLES = {
    MatterKind.disability_grade: "伤残等级",
    MatterKind.lost_work_period: "误工期",
    MatterKind.care_period: "护理期",
    MatterKind.nutrition_period: "营养期",
    MatterKind.injury_degree: "损伤程度",
    MatterKind.causation: "因果关系",
    MatterKind.other: "其他",
}


class Matter(Record):
    id: Name = F("鉴定事项编号", min_length=1)
    kind: MatterKind = F("鉴定事项类别")
    description: str = F("鉴定事项", min_length=1)


class RecusalRequest(Record):
    """An appraiser a client asks to be recused, with the reason (通则 Art 16 agreed terms)."""

    appraiser: Name = F("申请回避的鉴定人", min_length=1)
    reason: str = F("回避理由", min_length=1)


class ReappraisalGround(StrEnum):
    """Why the matter is appraised again: 通则 Art 31 (一)–(五), or both sides' agreement (Sichuan 二(四))."""

    unqualified = "unqualified"  # 原鉴定人不具有从事委托鉴定事项执业资格
    outside_scope = "outside_scope"  # 原鉴定机构超出登记的业务范围组织鉴定
    recusal_not_made = "recusal_not_made"  # 原鉴定人应当回避没有回避
    ordered = "ordered"  # 办案机关认为需要重新鉴定
    other_law = "other_law"  # 法律规定的其他情形
    agreement = "agreement"  # 涉保双方协商一致 (Sichuan 二(四))


REAPPRAISAL_GROUND_TITLES = {
    ReappraisalGround.unqualified: "原司法鉴定人不具有从事委托鉴定事项执业资格",
    ReappraisalGround.outside_scope: "原司法鉴定机构超出登记的业务范围组织鉴定",
    ReappraisalGround.recusal_not_made: "原司法鉴定人应当回避没有回避",
    ReappraisalGround.ordered: "办案机关认为需要重新鉴定",
    ReappraisalGround.other_law: "法律规定的其他情形",
    ReappraisalGround.agreement: "涉保双方协商一致申请重新鉴定",
}


class Reappraisal(Record):
    """The 重新鉴定 record (通则 Art 31–32, Sichuan 二(四)): why, who asked, and the original opinion — by
    licence number, so "another institution" is compared on the licence, not on free text."""

    ground: ReappraisalGround = F("重新鉴定理由")
    ground_text: str = F("理由说明", min_length=1)
    agreed_by: list[Name] = F("申请或同意的当事人", default_factory=list)
    original_case_id: Name | None = F("原鉴定案件编号", default=None)
    original_opinion_number: Name = F("原鉴定意见书编号", min_length=1)
    original_institution: Name = F("原鉴定机构名称", min_length=1)
    original_licence_no: Name = F("原鉴定机构许可证号", min_length=1)
    # The original's 业务范围 when known: "qualifications not lower" is checked against them (通则 Art 32).
    original_scopes: list[str] = F("原鉴定机构业务范围", default_factory=list)


class Commission(Record):
    """The 司法鉴定委托书 (通则 Art 16; the Sichuan opinion still says 协议书, 通则 Art 49)."""

    number: Name = F("委托书编号", min_length=1)
    kind: CommissionKind = F("委托方式")
    matters: list[Matter] = F("鉴定事项", min_length=1)
    purpose: str = F("鉴定用途", min_length=1)
    # Sichuan 二(二): asked and recorded in the 委托书 — None means the question was never asked.
    for_insurance_claim: Flag | None = F("鉴定文书是否用于保险理赔", default=None)
    is_reappraisal: Flag = F("是否属于重新鉴定", default=False)
    original_opinion: str | None = F("原鉴定意见书编号及机构", default=None)
    # The structured record; `original_opinion` stays the one-line text the 委托书 prints.
    reappraisal: Reappraisal | None = F("重新鉴定记录", default=None)
    background: str = F("案情摘要", min_length=1)
    materials_supply: str = F("鉴定材料提供方式", min_length=1)
    materials_return: str = F("鉴定材料退还或处置方式", min_length=1)
    fee: Money = F("鉴定费")
    fee_payment: str = F("鉴定费支付方式", min_length=1)
    delivery_method: str = F("鉴定意见书送达方式", min_length=1)
    agreed_working_days: Count | None = F("约定鉴定时限（工作日）", default=None, ge=1, le=365)
    recusal_requests: list[RecusalRequest] = F("需要回避的鉴定人", default_factory=list)
    # 通则 Art 16 / 司发通〔2016〕112号: the three risk warnings, read and signed by the client(s).
    risk_warnings_acknowledged: Flag = F("已告知鉴定风险", default=False)
    signed_by: list[Name] = F("委托人签名", default_factory=list)
    signed_on: Day | None = F("委托书签订日期", default=None)
    handling_staff: Name | None = F("委托人经办人", default=None)


# ──────────────────────────── choosing the institution; recusal ───────────────────────────────


class SelectionMethod(StrEnum):
    agreement = "agreement"  # 协商选定
    random_draw = "random_draw"  # 公平随机 (抽签、摇号)


SELECTION_METHOD_TITLES = {SelectionMethod.agreement: "协商选定", SelectionMethod.random_draw: "随机选定"}


class Selection(Record):
    """Sichuan 二(三): chosen from the official roster by agreement first, or by a fair random draw."""

    method: SelectionMethod = F("选择方式")
    at: Timestamp = F("选定时间")
    agreed_by: list[Name] = F("参与选定的当事人", min_length=1)
    from_roster: str = F("名册", min_length=1)
    record: str = F("选择过程记录", min_length=1)
    draw_reference: Name | None = F("随机抽取记录编号", default=None)
    # The `gongu draw` record (JSON, gongu-draw-record/1) in the case folder, relative to it.
    draw_record: str | None = F("随机抽取记录文件", default=None)


class RecusalDeclaration(Record):
    """通则 Art 20–21, Sichuan 三(四): each appraiser declares any interest or earlier work on the matter."""

    appraiser: Name = F("声明人", min_length=1)
    has_interest: Flag = F("存在利害关系或应回避情形")
    statement: str = F("声明内容", min_length=1)
    declared_at: Timestamp = F("声明时间")
    decision: str | None = F("机构决定", default=None)


# ──────────────────────────── single commission: notice and witnessing ────────────────────────


class RiskNotice(Record):
    """Sichuan 二(二): the party is told the risks and legal consequences of a single commission and signs."""

    signed_by: Name = F("签字确认人", min_length=1)
    signed_at: Timestamp = F("签字时间")
    told_by: Name = F("告知人", min_length=1)


class NoticeChannel(StrEnum):
    phone = "phone"
    written = "written"
    sms = "sms"
    email = "email"
    other = "other"


NOTICE_CHANNEL_TITLES = {
    NoticeChannel.phone: "电话",
    NoticeChannel.written: "书面",
    NoticeChannel.sms: "短信",
    NoticeChannel.email: "电子邮件",
    NoticeChannel.other: "其他",
}


class WitnessNotice(Record):
    """Sichuan 二(二): the institution notifies the insurer (a phone call counts) to witness."""

    insurer: Name = F("被通知保险机构", min_length=1)
    channel: NoticeChannel = F("通知方式")
    at: Timestamp = F("通知时间")
    person_reached: Name = F("接收通知人", min_length=1)
    contact: str | None = F("联系号码或地址", default=None)
    notified_by: Name = F("通知人", min_length=1)
    scheduled_for: Timestamp = F("约定鉴定时间")
    place: str = F("鉴定地点", min_length=1)
    notice_number: Name | None = F("通知书编号", default=None)


class Attendee(Record):
    """Sichuan 四(四): work ID and identity document shown, copies kept; no ID, no witnessing."""

    name: Name = F("到场人员", min_length=1)
    organisation: Name = F("所在单位", min_length=1)
    id_checked: Flag = F("已查验身份证件", default=False)
    work_id_checked: Flag = F("已查验工作证明", default=False)
    copies_kept: Flag = F("复印件已留存", default=False)
    id_copy_file: str | None = F("证件复印件文件", default=None)
    signed: Flag = F("已签字确认", default=False)


class Attendance(Record):
    """Sichuan 二(二): who came, recorded truthfully and signed by both sides."""

    at: Timestamp = F("见证时间")
    insurer_attended: Flag = F("保险机构到场")
    attendees: list[Attendee] = F("保险机构到场人员", default_factory=list)
    party_present: list[Name] = F("当事人到场人员", default_factory=list)
    party_signed: Flag = F("当事人签字确认", default=False)
    # When the insurer did not come: the note, and that the appraisal went ahead (Sichuan 二(二)).
    absence_note: str | None = F("未到场情况说明", default=None)
    proceeded: Flag = F("按规定实施鉴定", default=True)


class SingleCommission(Record):
    risk_notice: RiskNotice | None = F("单方委托风险告知", default=None)
    witness_notices: list[WitnessNotice] = F("到场见证通知", default_factory=list)
