"""The case file of a forensic appraisal used in an insurance claim (涉保司法鉴定): the Sichuan opinion
(川司鉴协〔2022〕7号, cited "Sichuan 二(一)" …) and 《司法鉴定程序通则》 (2016, cited "通则 Art 12" …).

Same conventions as the survey kind (generator/model.py): English snake_case keys, a Chinese title on
every field, unknown keys refused, money exact. The spine the pipeline shares with the survey kind —
`case_id`, `report` (number and date of the issued opinion), `reviews`, `delivery`, `issuances`,
`attachments` — keeps the same names and meaning, so review, issue, archive and search read both kinds.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from generator.limits import MAX_CASE_ID_CHARS, MAX_REPORT_NUMBER_CHARS
from generator.model import F, Issuance, Record, Review
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


# ────────────────────────────────────────── materials ─────────────────────────────────────────


class MaterialType(StrEnum):
    medical_record = "medical_record"
    imaging = "imaging"
    identity = "identity"
    police_report = "police_report"
    policy = "policy"
    other = "other"


MATERIAL_TYPE_TITLES = {
    MaterialType.medical_record: "病历资料",
    MaterialType.imaging: "影像资料",
    MaterialType.identity: "身份证明",
    MaterialType.police_report: "事故认定材料",
    MaterialType.policy: "保险合同",
    MaterialType.other: "其他",
}


class Confirmation(Record):
    """One party's confirmation of a material (Sichuan 二(一): unconfirmed materials cannot be used)."""

    party: Name = F("确认方", min_length=1)
    confirmed: Flag = F("是否确认")
    at: Timestamp | None = F("确认时间", default=None)
    note: str | None = F("说明", default=None)


class Material(Record):
    """通则 Art 12: name, type, quantity, condition, storage and time received are recorded."""

    id: Name = F("材料编号", min_length=1)
    name: str = F("材料名称", min_length=1)
    type: MaterialType = F("材料类型")
    quantity: Count = F("数量", ge=1)
    unit: str = F("单位", min_length=1)
    condition: str = F("材料状况", min_length=1)
    storage: str | None = F("保存状态", default=None)
    received_at: Timestamp = F("接收时间")
    provided_by: Name = F("提供方", min_length=1)
    confirmations: list[Confirmation] = F("当事人确认", default_factory=list)
    used: Flag = F("用于鉴定", default=True)
    summary: str | None = F("资料摘要", default=None)
    # A scanned copy (PDF) in the case's folder, bound after the opinion when listed as an attachment.
    file: str | None = F("扫描件", default=None)


# ───────────────────────────────────── dates and time limits ─────────────────────────────────


class Extension(Record):
    """通则 Art 28: the head may extend by at most 30 working days; the client is told."""

    working_days: Count = F("延长工作日数", ge=1)
    reason: str = F("延长理由", min_length=1)
    approved_by: Name = F("批准人", min_length=1)
    approved_on: Day = F("批准日期")
    notice_number: Name | None = F("告知书编号", default=None)
    client_notified_at: Timestamp | None = F("告知委托人时间", default=None)


class Suspension(Record):
    """Time spent waiting for supplementary materials, excluded from the limit (通则 Art 28)."""

    start: Day = F("起始日期")
    end: Day = F("终止日期")
    reason: str = F("事由", min_length=1)


class Timeline(Record):
    received_at: Timestamp = F("收到委托时间")
    # 通则 Art 13: accept or refuse within 7 working days of receipt.
    accepted_at: Timestamp | None = F("决定受理时间", default=None)
    # 通则 Art 28: the 30 working days run from the day the 委托书 takes effect.
    effective_on: Day | None = F("委托书生效日期", default=None)
    extensions: list[Extension] = F("延长鉴定时限", default_factory=list)
    suspensions: list[Suspension] = F("补充材料期间", default_factory=list)
    completed_on: Day | None = F("鉴定完成日期", default=None)


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


# ───────────────────────────────────── the process record ────────────────────────────────────


class ProcessNote(Record):
    at: Timestamp = F("记录时间")
    by: Name = F("记录人", min_length=1)
    text: str = F("记录内容", min_length=1)
    signed: Flag = F("已签名", default=False)


class RecordingKind(StrEnum):
    photo = "photo"
    audio = "audio"
    video = "video"


RECORDING_KIND_TITLES = {RecordingKind.photo: "照片", RecordingKind.audio: "录音", RecordingKind.video: "录像"}


class Recording(Record):
    """通则 Art 27, Sichuan 三(二): audio, video and photos are part of the case and of its archive."""

    file: str = F("文件", min_length=1)
    kind: RecordingKind = F("类别")
    made_by: Name = F("制作人", min_length=1)
    made_at: Timestamp = F("制作时间")
    description: str = F("内容说明", min_length=1)


class ProcessRecord(Record):
    identity_shown: Flag = F("已出示执业证、助理证", default=False)
    identity_shown_to: list[str] = F("出示对象", default_factory=list)
    notes: list[ProcessNote] = F("实时记录", default_factory=list)
    recordings: list[Recording] = F("音像资料", default_factory=list)


# ─────────────────────────────────── examination and results ─────────────────────────────────


class Standard(StrEnum):
    disability_2017 = "disability_2017"  # 《人体损伤致残程度分级》 (2017)
    jrt_0083_2013 = "jrt_0083_2013"  # JR/T 0083-2013 《人身保险伤残评定标准及代码》
    other = "other"


STANDARD_TITLES = {
    Standard.disability_2017: "《人体损伤致残程度分级》（2017）",
    Standard.jrt_0083_2013: "JR/T 0083-2013《人身保险伤残评定标准及代码》",
    Standard.other: "其他标准",
}


class ExaminedPerson(Record):
    name: Name = F("被鉴定人", min_length=1)
    sex: Literal["男", "女"] = F("性别")
    birth_date: Day | None = F("出生日期", default=None)
    id_number: Name | None = F("身份证号码", default=None)
    address: str | None = F("住址", default=None)


class Examination(Record):
    at: Timestamp = F("检验时间")
    place: str = F("检验地点", min_length=1)
    present: list[Name] = F("在场人员", default_factory=list)
    person: ExaminedPerson = F("被鉴定人")
    incident: str = F("基本案情", min_length=1)
    complaint: str = F("被鉴定人自诉", min_length=1)
    findings: str = F("检验所见", min_length=1)
    imaging: str | None = F("阅片所见", default=None)
    method: str = F("检验方法", min_length=1)
    standard: Standard = F("适用标准")
    standard_other: str | None = F("其他标准名称", default=None)
    # JR/T 0083-2013 applies only when the policy adopts it: say where.
    standard_basis: str | None = F("适用标准依据", default=None)
    analysis: str = F("分析说明", min_length=1)


class Outcome(StrEnum):
    grade = "grade"  # 构成伤残等级
    no_disability = "no_disability"  # 未构成伤残等级 (a real outcome: Sichuan 三(三))
    not_stable = "not_stable"  # 未达到评定时机 (postpone or terminate)
    period = "period"  # 误工期 / 护理期 / 营养期 in days
    finding = "finding"  # 损伤程度, 因果关系, …: the finding in words


OUTCOME_TITLES = {
    Outcome.grade: "构成伤残等级",
    Outcome.no_disability: "未构成伤残等级",
    Outcome.not_stable: "未达到评定时机",
    Outcome.period: "期限",
    Outcome.finding: "鉴定意见",
}

GRADE_NUMERALS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十")


class MatterResult(Record):
    matter: Name = F("鉴定事项编号", min_length=1)
    outcome: Outcome = F("鉴定结果")
    grade: Count | None = F("伤残等级", default=None, ge=1, le=10)
    clause: str | None = F("标准条款", default=None)
    days: Count | None = F("天数", default=None, ge=0, le=3650)
    text: str | None = F("意见表述", default=None)


# ─────────────────────────────── sign-off, review, later documents ───────────────────────────


class AppraiserSignature(Record):
    """通则 Art 19 / 37: at least two appraisers sign; a dissent is written down."""

    appraiser: Name = F("签名鉴定人", min_length=1)
    signed_at: Timestamp | None = F("签名时间", default=None)
    dissent: str | None = F("不同意见", default=None)


class ReviewOpinion(Record):
    """The 司法鉴定复核意见 (通则 Art 35): by qualified staff who are not appraisers of the case."""

    reviewer: StaffMember = F("复核人")
    at: Timestamp = F("复核时间")
    procedure: str = F("程序复核意见", min_length=1)
    substance: str = F("鉴定意见复核意见", min_length=1)
    agrees: Flag = F("同意鉴定意见")


class TerminationGround(StrEnum):
    not_stable = "not_stable"
    materials = "materials"
    client_withdrew = "client_withdrew"
    recusal = "recusal"
    other = "other"


TERMINATION_GROUND_TITLES = {
    TerminationGround.not_stable: "被鉴定人伤情尚未稳定，未达到评定时机",
    TerminationGround.materials: "鉴定材料不足且无法补充",
    TerminationGround.client_withdrew: "委托人撤销委托",
    TerminationGround.recusal: "委托人对回避决定有异议并撤销委托",
    TerminationGround.other: "其他",
}


class Termination(Record):
    """通则 Art 29: a written notice with the reasons; materials returned; the fee refunded as agreed."""

    number: Name = F("终止鉴定告知书编号", min_length=1)
    ground: TerminationGround = F("终止理由")
    explanation: str = F("终止情况说明", min_length=1)
    decided_on: Day = F("决定日期")
    materials_returned: Flag = F("鉴定材料已退还", default=False)
    refund: Money | None = F("退还鉴定费", default=None)


class CorrectionItem(Record):
    location: str = F("补正位置", min_length=1)
    before: str = F("原表述", min_length=1)
    after: str = F("补正后表述", min_length=1)


class Correction(Record):
    """通则 Art 41: a 补正书 corrects wording; it must never change the opinion."""

    number: Name = F("补正书编号", min_length=1)
    issued_on: Day = F("补正日期")
    items: list[CorrectionItem] = F("补正内容", min_length=1)
    reason: str = F("补正原因", min_length=1)
    signed_by: list[Name] = F("签名鉴定人", min_length=1)
    # The opinion (鉴定意见) is left as it was; set when an item touches it, and the rule refuses that.
    changes_opinion: Flag = F("涉及鉴定意见", default=False)


class SupplementaryReason(StrEnum):
    """通则 Art 30: why a supplementary appraisal is made."""

    missed_item = "missed_item"  # 原委托鉴定事项有遗漏
    new_materials = "new_materials"  # 委托人就原委托鉴定事项提供新的鉴定材料
    other = "other"  # 其他需要补充鉴定的情形


SUPPLEMENTARY_REASON_TITLES = {
    SupplementaryReason.missed_item: "原委托鉴定事项有遗漏",
    SupplementaryReason.new_materials: "委托人就原委托鉴定事项提供新的鉴定材料",
    SupplementaryReason.other: "其他需要补充鉴定的情形",
}


class Supplementary(Record):
    """A 补充鉴定 (通则 Art 30): part of the original appraisal, by its appraisers; its document is the
    司法鉴定补充意见书, sealed like the 意见书 (institution seal + these appraisers)."""

    number: Name = F("补充意见书编号", min_length=1)
    reason: SupplementaryReason = F("补充鉴定原因")
    reason_text: str = F("原因说明", min_length=1)
    new_materials: list[Name] = F("新的鉴定材料编号", default_factory=list)
    appraisers: list[Name] = F("鉴定人", min_length=1)
    requested_on: Day | None = F("申请日期", default=None)
    issued_on: Day = F("出具日期")
    findings: str = F("补充检验及分析", min_length=1)
    result: str = F("补充鉴定意见", min_length=1)


class DisputeStatus(StrEnum):
    open = "open"
    resolved = "resolved"


class DisputeStepKind(StrEnum):
    """The path of Sichuan 五(一)(二) after an objection."""

    mediation = "mediation"  # 协商调解
    explanation = "explanation"  # 鉴定机构及鉴定人解释和说明
    supplementary = "supplementary"  # 补充鉴定 (the work itself is a `supplementary[]` record)
    reappraisal = "reappraisal"  # 重新鉴定 (another case at another institution)
    expert_opinion = "expert_opinion"  # 专家意见 (Sichuan 五(二); 通则 Art 33)


DISPUTE_STEP_TITLES = {
    DisputeStepKind.mediation: "调解",
    DisputeStepKind.explanation: "鉴定人解释说明",
    DisputeStepKind.supplementary: "补充鉴定",
    DisputeStepKind.reappraisal: "重新鉴定",
    DisputeStepKind.expert_opinion: "专家意见",
}


class Expert(Record):
    """An outside expert of the panel (通则 Art 33: outside experts sign; their opinion is filed)."""

    name: Name = F("专家姓名", min_length=1)
    title: str = F("专业技术职称", min_length=1)
    organisation: Name = F("工作单位", min_length=1)
    signed: Flag = F("已签名", default=False)


class DisputeStep(Record):
    """One dated step of a dispute: who acted, when, what was done, and how it ended."""

    kind: DisputeStepKind = F("处理步骤")
    on: Day = F("日期")
    by: Name = F("经办人或组织", min_length=1)
    what: str = F("处理内容", min_length=1)
    outcome: str | None = F("处理结果", default=None)
    number: Name | None = F("文书编号", default=None)
    # explanation: the appraisers of the case who explained (Sichuan 五(一)); they sign its record.
    appraisers: list[Name] = F("作出解释说明的鉴定人", default_factory=list)
    # mediation: the parties (names of `parties[]`) who took part; they sign the committee's record (五(一)).
    participants: list[Name] = F("参加调解的当事人", default_factory=list)
    # expert_opinion: the panel; `complex_case` asks for ≥ 3 experts (通则 Art 35's panel size).
    experts: list[Expert] = F("专家", default_factory=list)
    complex_case: Flag = F("重大疑难复杂", default=False)
    # supplementary: the number of the `supplementary[]` record; reappraisal: the new case's id.
    reference: Name | None = F("关联记录", default=None)


class Dispute(Record):
    """Sichuan 五(一): an objection to the opinion, then its steps (mediation, explanation, supplementary
    or re-appraisal, expert opinion), each a dated record with its document."""

    raised_on: Day = F("提出日期")
    raised_by: Name = F("提出方", min_length=1)
    request: Literal["mediation", "explanation", "supplementary", "reappraisal"] = F("请求")
    status: DisputeStatus = F("处理状态", default=DisputeStatus.open)
    note: str | None = F("说明", default=None)
    number: Name | None = F("异议登记编号", default=None)
    steps: list[DisputeStep] = F("处理过程", default_factory=list)


class ForensicReport(Record):
    """The 司法鉴定意见书 as issued: its number (e.g. 川XX〔2026〕临鉴字第12号) and date."""

    number: Name = F("鉴定文书编号", max_length=MAX_REPORT_NUMBER_CHARS, min_length=1)
    issued_on: Day = F("出具日期")
    title: str | None = F("文书名称", default=None)
    opinion: str | None = F("鉴定意见", default=None)
    signatures: list[AppraiserSignature] = F("鉴定人签名", default_factory=list)
    institution_seal: Flag = F("加盖司法鉴定专用章", default=False)
    copies: Count = F("份数", default=4, ge=1)  # 通则 Art 36–40: 3 to the client, 1 archived
    supersedes: Name | None = F("替代文书编号", max_length=MAX_REPORT_NUMBER_CHARS, default=None)
    reissue_reason: str | None = F("重新出具原因", default=None)


class ForensicDelivery(Record):
    delivered_at: Timestamp | None = F("送达时间", default=None)
    delivered_to: Name | None = F("送达对象", default=None)
    fee_amount: Money | None = F("鉴定费", default=None)
    fee_received_at: Timestamp | None = F("鉴定费到账时间", default=None)
    closed_at: Timestamp | None = F("结案时间", default=None)


class ForensicAttachment(Record):
    """A file bound after the opinion (通则 36–40 附件): scanned records, ID copies."""

    title: str = F("附件名称", min_length=1)
    file: str | None = F("文件", default=None)
    pages: Count | None = F("页数", default=None, ge=0)


# ───────────────────────────────────────── the case ──────────────────────────────────────────


class ForensicAppraisalCase(Record):
    """A forensic appraisal used in an insurance claim (Sichuan opinion + 司法鉴定程序通则)."""

    schema_version: Literal["1"] = F("格式版本", default="1")
    kind: Literal["forensic_appraisal"] = F("案件类型")
    case_id: Name = F("案件编号", min_length=1, max_length=MAX_CASE_ID_CHARS, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    case_name: Name = F("案件名称", min_length=1)
    institution: Institution = F("鉴定机构")
    appraisers: list[Appraiser] = F("鉴定人", min_length=1)
    assistants: list[Assistant] = F("鉴定人助理", default_factory=list)
    parties: list[Party] = F("当事人", min_length=1)
    commission: Commission = F("委托")
    materials: list[Material] = F("鉴定材料", default_factory=list)
    timeline: Timeline = F("鉴定时限")
    selection: Selection = F("鉴定机构选择")
    recusals: list[RecusalDeclaration] = F("回避声明", default_factory=list)
    single: SingleCommission | None = F("单方委托", default=None)
    attendance: Attendance | None = F("到场见证记录", default=None)
    process: ProcessRecord = F("鉴定过程记录", default_factory=ProcessRecord)
    examination: Examination | None = F("检验", default=None)
    results: list[MatterResult] = F("鉴定结果", default_factory=list)
    review_opinion: ReviewOpinion | None = F("复核意见", default=None)
    termination: Termination | None = F("终止鉴定", default=None)
    corrections: list[Correction] = F("补正", default_factory=list)
    supplementary: list[Supplementary] = F("补充鉴定", default_factory=list)
    disputes: list[Dispute] = F("争议", default_factory=list)
    attachments: list[ForensicAttachment] = F("附件", default_factory=list)
    report: ForensicReport = F("司法鉴定意见书")
    reviews: list[Review] = Field(default_factory=list, title="质量审核记录")
    delivery: ForensicDelivery = F("送达与收费", default_factory=ForensicDelivery)
    issuances: list[Issuance] = F("文书出具记录", default_factory=list)

    # The names the shared spine reads (archive, search, sealing) under the survey kind's words.
    @property
    def organization_name(self) -> str:
        return self.institution.name

    @property
    def appraiser_names(self) -> list[str]:
        return [a.name for a in self.appraisers]
