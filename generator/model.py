"""The case file of a Construction All Risks (CAR) survey, as clauses 4–10 of the code ask a firm to
record it. JSON keys are English snake_case; every field's `title` is the Chinese label used on forms
and in error messages.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from generator.check_code import CODE_PATTERN
from generator.limits import MAX_CASE_ID_CHARS, MAX_REPORT_NUMBER_CHARS
from generator.review_levels import (  # the titles are re-exported: the case file's words are found here
    REVIEW_DECISION_TITLES,  # noqa: F401
    REVIEW_LEVEL_TITLES,  # noqa: F401
    ReviewDecision,
    ReviewLevel,
)
from generator.types import Count, Day, Flag, Money, Name, Quantity, Rate, Timestamp


class Record(BaseModel):
    """Base of every case-file object: unknown keys are errors, so a misspelt key never loses data."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def F(title: str, **kw: object) -> object:  # noqa: N802 — short, reads like a column header
    return Field(title=title, **kw)  # type: ignore[arg-type]


# ───────────────────────────── firm, commission, acceptance (4.1–4.4) ──────────────────────────


class Firm(Record):
    """Appendix A (客户告知书) is filled from these."""

    name: Name = F("公估机构名称", min_length=1)
    address: str = F("公司地址", min_length=1)
    post_code: str = F("邮政编码", pattern=r"^\d{6}$")
    hotline: str = F("客服二十四小时联系电话", min_length=1)
    business_scope: str = F("业务范围", min_length=1)
    credit_code: Name | None = F("统一社会信用代码", default=None)


class CommissionType(StrEnum):
    """4.1 委托方式."""

    joint = "joint"  # 保险双方共同委托
    insurer = "insurer"  # 保险人单方委托
    insured = "insured"  # 被保险人单方委托
    court = "court"  # 法院等委托


COMMISSION_TYPE_TITLES = {
    CommissionType.joint: "保险双方共同委托",
    CommissionType.insurer: "保险人单方委托",
    CommissionType.insured: "被保险人单方委托",
    CommissionType.court: "法院等委托",
}


class PartyRole(StrEnum):
    insurer = "insurer"
    insured = "insured"
    court = "court"
    other = "other"


PARTY_ROLE_TITLES = {
    PartyRole.insurer: "保险人",
    PartyRole.insured: "被保险人",
    PartyRole.court: "法院等委托方",
    PartyRole.other: "其他",
}


class CommissionLetter(Record):
    issuer: Name = F("出具方", min_length=1)
    issuer_role: PartyRole = F("出具方身份")
    reference: Name | None = F("委托书编号", default=None)
    issued_on: Day | None = F("出具日期", default=None)


class Commission(Record):
    type: CommissionType = F("委托方式")
    commissioning_party: Name = F("委托人", min_length=1)
    letters: list[CommissionLetter] = F("委托书", default_factory=list)
    received_at: Timestamp = F("接受委托时间")
    subject: str = F("评估标的", min_length=1)
    scope: str = F("公估委托范围", min_length=1)


class Acceptance(Record):
    """4.2: competence, independence and business risk weighed before accepting."""

    competence: str = F("专业能力评价")
    independence: str = F("独立性评价")
    business_risk: str = F("业务风险评价")
    accepted: Flag = F("是否接受委托")
    decided_by: Name | None = F("决定人", default=None)
    decided_at: Timestamp | None = F("决定时间", default=None)


class Handler(Record):
    """4.3: at least two 公估从业人员 are assigned."""

    name: Name = F("姓名", min_length=1)
    licence_no: Name | None = F("执业证号", default=None)
    role: str | None = F("角色", default=None)
    # 资产评估法 Art. 28: statutory work is signed by licensed appraisers.
    licensed_appraiser: Flag = F("持证评估师", default=False)


class Contact(Record):
    """4.4: contact with the insured within 30 minutes of assignment."""

    contacted_at: Timestamp = F("联系被保险人时间")
    person: Name = F("联系人", min_length=1)
    method: str = F("联系方式", min_length=1)
    agreed_survey_time: Timestamp | None = F("约定查勘时间", default=None)


# ────────────────────────────────────────── policy ───────────────────────────────────────────────


class ValueComponentKind(StrEnum):
    """8.2.1: what the insurable value (应保金额) of a CAR project includes."""

    materials = "materials"
    equipment = "equipment"
    construction = "construction"
    installation = "installation"
    freight_insurance = "freight_insurance"
    duties_taxes = "duties_taxes"
    owner_supplied = "owner_supplied"
    other = "other"


VALUE_COMPONENT_TITLES = {
    ValueComponentKind.materials: "原材料费用",
    ValueComponentKind.equipment: "设备费用",
    ValueComponentKind.construction: "建造费",
    ValueComponentKind.installation: "安装费",
    ValueComponentKind.freight_insurance: "运保费",
    ValueComponentKind.duties_taxes: "关税及其它税项和费用",
    ValueComponentKind.owner_supplied: "工程所有人提供的原材料和设备费用",
    ValueComponentKind.other: "其他",
}


class ValueComponent(Record):
    kind: ValueComponentKind = F("构成类别")
    amount: Money = F("金额")
    note: str | None = F("说明", default=None)


class InsuredItem(Record):
    id: Name = F("项目编号", min_length=1)
    name: Name = F("保险项目名称", min_length=1)
    sum_insured: Money = F("保险金额")
    insurable_value: Money = F("应保金额")
    value_components: list[ValueComponent] = F("应保金额构成", default_factory=list)


class DeductibleMode(StrEnum):
    amount = "amount"  # 免赔额
    rate = "rate"  # 免赔率
    higher = "higher"  # 免赔额或损失金额的免赔率，以高者为准


DEDUCTIBLE_MODE_TITLES = {
    DeductibleMode.amount: "免赔额",
    DeductibleMode.rate: "免赔率",
    DeductibleMode.higher: "免赔额或损失金额的免赔率，以高者为准",
}


class RateBase(StrEnum):
    """8.3: what a deductible rate is taken of, as the policy's wording says. assessed_loss: the 核定损失金额
    Σ(核损金额 − 残值) of clause 7, before the insured ratio and share; adjusted_loss (the default): the loss
    after them, as 8.3's second formula. Either way the deductible is then taken from the adjusted loss."""

    assessed_loss = "assessed_loss"  # 核定损失金额 Σ(核损金额 − 残值) of clause 7, before 8.1/8.2
    adjusted_loss = "adjusted_loss"  # after the insured ratio and share, as 8.3's second formula


RATE_BASE_TITLES = {
    RateBase.assessed_loss: "核定损失金额",
    RateBase.adjusted_loss: "理算金额（按投保比例、分摊比例理算后）",
}


class Deductible(Record):
    id: Name = F("免赔编号", min_length=1)
    description: str = F("免赔条款", min_length=1)
    mode: DeductibleMode = F("免赔方式")
    amount: Money | None = F("免赔额", default=None)
    rate: Rate | None = F("免赔率", default=None)
    # Only for a mode with a rate; written only when the policy's wording says which loss it means.
    rate_base: RateBase = F("免赔率计算基数", default=RateBase.adjusted_loss)
    # Empty: applies to every insured item not named by a more specific deductible.
    items: list[Name] = F("适用保险项目", default_factory=list)


class SpecialClause(Record):
    """7.4 restrictive clauses (赔偿基础、水工工程、地下工程…) and 8.2.4 special agreements."""

    code: Name | None = F("条款编号", default=None)
    title: str = F("条款名称", min_length=1)
    text: str = F("条款内容", min_length=1)
    restrictive: Flag = F("限制性条款", default=False)
    effect: str | None = F("对本案的影响", default=None)


class OtherInsuranceRelation(StrEnum):
    duplicate = "duplicate"  # 重复保险
    concurrence = "concurrence"  # 保险竞合


OTHER_INSURANCE_RELATION_TITLES = {
    OtherInsuranceRelation.duplicate: "重复保险",
    OtherInsuranceRelation.concurrence: "保险竞合",
}


class OtherInsurance(Record):
    """8.1: another policy covering the same subject, interest and peril."""

    relation: OtherInsuranceRelation = F("关系")
    insurer: Name = F("保险人", min_length=1)
    policy_no: Name = F("保单号", min_length=1)
    sum_insured: Money = F("保险金额")
    items: list[Name] = F("涉及保险项目", default_factory=list)
    note: str | None = F("说明", default=None)


class Policy(Record):
    number: Name = F("保单号", min_length=1)
    product: str = F("险种", default="建筑工程一切险")
    insurer: Name = F("保险人", min_length=1)
    policyholder: Name = F("投保人", min_length=1)
    insured: Name = F("被保险人", min_length=1)
    period_start: Timestamp = F("保险期间起")
    period_end: Timestamp = F("保险期间止")
    insured_site: str = F("保险地址", min_length=1)
    items: list[InsuredItem] = F("保险项目", min_length=1)
    deductibles: list[Deductible] = F("免赔额/率", default_factory=list)
    special_clauses: list[SpecialClause] = F("特别约定及限制性条款", default_factory=list)
    other_insurance: list[OtherInsurance] = F("其他保险", default_factory=list)
    # 7.1: betterment is excluded "unless the policy says otherwise".
    betterment_covered: Flag = F("条款约定承担变更改进费用", default=False)
    # 8.1: "按照保险合同约定及行业惯例" — an agreed share replaces the sum-insured proportion.
    agreed_share: Rate | None = F("约定分摊比例", default=None)
    agreed_share_basis: str | None = F("约定分摊依据", default=None)


# ───────────────────────────────────────── project ─────────────────────────────────────────────


class Project(Record):
    name: Name = F("工程名称", min_length=1)
    location: str = F("工程地点", min_length=1)
    province: str | None = F("省份", default=None)
    city: str | None = F("城市", default=None)
    owner: Name = F("业主", min_length=1)
    contractor: Name = F("施工方", min_length=1)
    subcontractors: list[Name] = F("分包方", default_factory=list)
    supervisor: Name | None = F("监理", default=None)
    designer: Name | None = F("设计单位", default=None)
    overview: str = F("工程概况", min_length=1)
    progress_before_loss: str = F("出险前施工形象进度", min_length=1)
    methods: str | None = F("主要工艺工法", default=None)
    tendering: str | None = F("招投标情况", default=None)
    funding: str | None = F("投资方组成及资金来源", default=None)
    contract_price: Money | None = F("合同价", default=None)


# ───────────────────────────────────────── incident ────────────────────────────────────────────


class Incident(Record):
    occurred_at: Timestamp = F("出险时间")
    place: str = F("出险地点", min_length=1)
    # Whether the place lies inside the policy's insured site, as the handlers found (6.2.3).
    within_insured_site: Flag | None = F("是否在保险地址内", default=None)
    course: str = F("出险经过", min_length=1)
    measures_taken: str = F("采取的措施", min_length=1)
    reported_cause: str = F("报称事故原因", min_length=1)
    reported_at: Timestamp | None = F("报案时间", default=None)
    loss_type: str | None = F("损失类型", default=None)
    claimed_amount: Money | None = F("索赔金额", default=None)
    claim_summary: str | None = F("索赔情况", default=None)


# ────────────────────────────────────────── survey (5) ─────────────────────────────────────────


class LocationBand(StrEnum):
    """5.1.1–5.1.4: where the site lies relative to the firm."""

    city = "city"  # 所在市区内 — 3 h
    surrounding = "surrounding"  # 所在城市周边地区 — 6 h
    province = "province"  # 省内其它地区 — 12 h
    out_of_province = "out_of_province"  # 省外 — 24 h


LOCATION_BAND_TITLES = {
    LocationBand.city: "公估人所在市区内",
    LocationBand.surrounding: "公估人所在城市周边地区",
    LocationBand.province: "公估人所在省内其它地区",
    LocationBand.out_of_province: "公估人所在省份外",
}


class NoticeReceipt(Record):
    """5.2.1 (客户告知书) and 5.2.6 (施救告知书): delivered, and signed for or recorded why not."""

    issued_at: Timestamp | None = F("出具时间", default=None)
    signed_by: Name | None = F("签收人", default=None)
    signed_at: Timestamp | None = F("签收时间", default=None)
    electronic_proof: str | None = F("电子凭证", default=None)
    # When no receipt could be had: the written record and that the client was told (5.2.1).
    unsigned_record: str | None = F("未签收书面记录", default=None)
    client_informed_at: Timestamp | None = F("告知委托人时间", default=None)


class PolicyCheck(Record):
    """5.2.3: the policy's address, subject and period compared with what was found."""

    address_checked: Flag = F("已核对保险地址", default=False)
    subject_checked: Flag = F("已核对保险标的", default=False)
    period_checked: Flag = F("已核对保险期限", default=False)
    remarks: str | None = F("核对说明", default=None)


class Measurement(Record):
    name: str = F("测量项目", min_length=1)
    value: Quantity = F("数值")
    unit: str = F("单位", min_length=1)


class SurveyRecordItem(Record):
    """5.3.1 c): name, parameters, position, quantity and state of each damaged work."""

    id: Name = F("记录编号", min_length=1)
    name: Name = F("受损工程名称", min_length=1)
    location: str = F("位置", min_length=1)
    parameters: str | None = F("参数", default=None)
    quantity: Quantity | None = F("数量", default=None)
    unit: str | None = F("单位", default=None)
    condition: str = F("损失情形", min_length=1)
    measurements: list[Measurement] = F("测量数据", default_factory=list)


class Photo(Record):
    """5.3.1 d): each photo shows a loss and corresponds to a survey-record item."""

    id: Name = F("照片编号", min_length=1)
    file: str = F("照片文件", min_length=1)
    caption: str = F("说明", min_length=1)
    record_item: Name | None = F("对应查勘记录", default=None)
    taken_at: Timestamp | None = F("拍摄时间", default=None)


class SurveyConfirmation(Record):
    """5.3.2: confirmed on site with the insured, signed and sealed, or a written record."""

    all_property_surveyed: Flag = F("受损财产已全部查勘", default=False)
    representative: Name | None = F("被保险人代表", default=None)
    signed: Flag = F("已签字", default=False)
    sealed: Flag = F("已盖章", default=False)
    confirmed_at: Timestamp | None = F("确认时间", default=None)
    unsigned_record: str | None = F("未签章书面记录", default=None)
    client_informed_at: Timestamp | None = F("告知委托人时间", default=None)


class DocumentStatus(StrEnum):
    received = "received"
    outstanding = "outstanding"
    waived = "waived"


DOCUMENT_STATUS_TITLES = {
    DocumentStatus.received: "已收到",
    DocumentStatus.outstanding: "待提供",
    DocumentStatus.waived: "免予提供",
}


class DocumentRequest(Record):
    """5.3.3: one line of the 索赔资料清单 (Appendix C), by its catalogue code or free text."""

    code: Name | None = F("清单条目编号", default=None)
    name: str | None = F("资料名称", default=None)
    status: DocumentStatus = F("状态")
    requested_on: Day | None = F("索要日期", default=None)
    due_on: Day | None = F("约定提供日期", default=None)
    received_on: Day | None = F("收到日期", default=None)


class Survey(Record):
    location_band: LocationBand = F("查勘地点区域")
    arrived_at: Timestamp = F("到达现场时间")
    surveyed_at: Timestamp | None = F("查勘时间", default=None)
    finished_at: Timestamp | None = F("查勘结束时间", default=None)
    participants: list[Name] = F("参与人员", default_factory=list)
    insured_representative: Name | None = F("被保险人指定配合人员", default=None)
    client_notice: NoticeReceipt | None = F("客户告知书签收", default=None)
    policy_check: PolicyCheck | None = F("保单信息核对", default=None)
    rescue_notice: NoticeReceipt | None = F("施救告知书签收", default=None)
    loss_spreading_action: str | None = F("损失扩大时的协调措施", default=None)
    plan: str | None = F("查勘方案", default=None)
    methods: str | None = F("查勘方法", default=None)
    record_items: list[SurveyRecordItem] = F("现场查勘记录", default_factory=list)
    photos: list[Photo] = F("现场照片", default_factory=list)
    confirmation: SurveyConfirmation | None = F("查勘记录确认", default=None)
    checklist_issued_on: Day | None = F("索赔资料清单出具日期", default=None)
    checklist_signed_by: Name | None = F("索赔资料清单签收人", default=None)
    checklist_signed_on: Day | None = F("索赔资料清单签收日期", default=None)
    documents: list[DocumentRequest] = F("索赔资料", default_factory=list)
    communication: str | None = F("查勘后与保险双方沟通情况", default=None)


# ─────────────────────────────────── cause and liability (6) ───────────────────────────────────


# 6.1.1 被保险人的分析报告、会议纪要; 6.1.2 调查问询; 6.1.3 相关机构的分析、鉴定报告.
CAUSE_SOURCE_KIND_TITLES = {
    "insured_report": "被保险人分析报告",
    "inquiry": "现场调查问询",
    "expert_report": "相关机构分析、鉴定报告",
    "meeting_minutes": "会议纪要",
    "other": "其他",
}


class CauseSource(Record):
    """6.1.1–6.1.3: the insured's report, inquiries on site, third-party analyses."""

    kind: Literal["insured_report", "inquiry", "expert_report", "meeting_minutes", "other"] = F("来源类别")
    title: str = F("资料名称", min_length=1)
    summary: str | None = F("要点", default=None)


class CauseAnalysis(Record):
    sources: list[CauseSource] = F("分析依据", default_factory=list)
    analysis: str = F("原因分析", min_length=1)
    proximate_cause: str = F("近因", min_length=1)


class Finding(StrEnum):
    yes = "yes"
    no = "no"
    undetermined = "undetermined"


FINDING_TITLES = {Finding.yes: "是", Finding.no: "否", Finding.undetermined: "待定"}


class LiabilityCheck(Record):
    finding: Finding = F("核查结论")
    basis: str = F("依据", min_length=1)
    note: str | None = F("说明", default=None)


class Liability(Record):
    """6.2.1–6.2.5, then the recommendation whether the loss is covered."""

    insurable_interest: LiabilityCheck | None = F("保险利益（6.2.1）", default=None)
    within_period: LiabilityCheck | None = F("出险时间在保险期间内（6.2.2）", default=None)
    at_insured_site: LiabilityCheck | None = F("出险地址为约定地址（6.2.3）", default=None)
    insured_property: LiabilityCheck | None = F("出险财产为保险标的（6.2.4）", default=None)
    not_excluded: LiabilityCheck | None = F("出险原因不属除外责任（6.2.5）", default=None)
    recommendation: str | None = F("保险责任建议", default=None)
    covered: Flag | None = F("属于保险责任", default=None)


# ─────────────────────────────────────── losses (7) ────────────────────────────────────────────


class PriceBasis(StrEnum):
    """7.3: the contract's unit price first; otherwise a quota or the market price."""

    contract = "contract"
    quota = "quota"
    market = "market"


PRICE_BASIS_TITLES = {
    PriceBasis.contract: "施工合同单价",
    PriceBasis.quota: "定额",
    PriceBasis.market: "市场价格",
}


class SalvageMethod(StrEnum):
    """7.5: auction, discounted sale, or taken over by the insured."""

    auction = "auction"
    discounted_sale = "discounted_sale"
    retained_by_insured = "retained_by_insured"


SALVAGE_METHOD_TITLES = {
    SalvageMethod.auction: "拍卖",
    SalvageMethod.discounted_sale: "折价出售",
    SalvageMethod.retained_by_insured: "折归被保险人",
}


class LossItem(Record):
    id: Name = F("损失项目编号", min_length=1)
    name: Name = F("损失项目名称", min_length=1)
    insured_item: Name = F("所属保险项目", min_length=1)
    record_item: Name | None = F("对应查勘记录", default=None)
    quantity: Quantity = F("核损数量")
    unit: str = F("单位", min_length=1)
    unit_price: Money = F("核损单价")
    price_basis: PriceBasis | None = F("单价依据", default=None)
    price_reference: str | None = F("单价出处", default=None)
    # 7.1: extra cost of changes, added performance or improvements, excluded unless covered.
    betterment: Money = F("变更改进费用", default=Decimal(0))
    pre_loss_value: Money | None = F("损失前实际价值", default=None)
    # A physically destroyed item is a total loss whatever its repair estimate (7.1.2).
    destroyed: Flag = F("实际全损", default=False)
    salvage: Money = F("残值", default=Decimal(0))
    salvage_method: SalvageMethod | None = F("残值处理方式", default=None)
    claimed_amount: Money | None = F("报损金额", default=None)
    note: str | None = F("说明", default=None)


class RescueCost(Record):
    """7.1.3: reasonable and necessary costs of reducing the loss."""

    id: Name = F("施救费用编号", min_length=1)
    description: str = F("施救措施", min_length=1)
    claimed: Money = F("报损金额")
    # The part found reasonable and necessary; the rest is disallowed with a reason.
    reasonable: Money = F("合理必要部分")
    disallowed_reason: str | None = F("不予认可原因", default=None)
    rescued_items: list[Name] = F("被施救保险项目", min_length=1)
    # 应保金额 of the insured property rescued, and the value of everything rescued.
    insured_value_rescued: Money = F("被施救财产应保金额")
    total_value_rescued: Money = F("全部被施救财产价值")


class ThirdParty(Record):
    involved: Flag = F("涉及第三者", default=False)
    description: str | None = F("第三者情况", default=None)
    liable_party: Name | None = F("责任方", default=None)
    recovery: str | None = F("追偿建议", default=None)
    subrogation_form: Flag = F("已取得权益转让书", default=False)


class Conclusion(Record):
    text: str = F("公估结论", min_length=1)
    limits_of_use: str | None = F("报告使用限制说明", default=None)


class Attachment(Record):
    title: str = F("附件名称", min_length=1)
    file: str | None = F("文件", default=None)
    pages: Count | None = F("页数", default=None, ge=0)


# ─────────────────────────────────── report, review, delivery (9–10) ──────────────────────────


class Review(Record):
    level: ReviewLevel = F("审核级别")
    reviewer: Name = F("审核人", min_length=1)
    at: Timestamp = F("审核时间")
    decision: ReviewDecision = F("审核意见")
    comment: str | None = F("审核说明", default=None)


class Signature(Record):
    """9.2 / 资产评估法 Art. 27: handlers sign the report."""

    handler: Name = F("签名人", min_length=1)
    signed_at: Timestamp | None = F("签名时间", default=None)


class Report(Record):
    number: Name = F("报告编号", max_length=MAX_REPORT_NUMBER_CHARS, min_length=1)
    issued_on: Day = F("报告日期")
    title: str | None = F("报告名称", default=None)
    summary: str | None = F("摘要", default=None)
    principles: str | None = F("公估依据的原则、手段及方法", default=None)
    signatures: list[Signature] = F("承办人员签名", default_factory=list)
    firm_seal: Flag = F("加盖公估机构印章", default=False)
    # A reissue (R1, R2 …) names the report it supersedes.
    supersedes: Name | None = F("替代报告编号", max_length=MAX_REPORT_NUMBER_CHARS, default=None)
    reissue_reason: str | None = F("重新出具原因", default=None)


class Delivery(Record):
    """10.1: the report delivered to the client and the fee received before closing and archiving."""

    delivered_at: Timestamp | None = F("报告交付时间", default=None)
    delivered_to: Name | None = F("交付对象", default=None)
    fee_amount: Money | None = F("公估费", default=None)
    fee_received_at: Timestamp | None = F("公估费到账时间", default=None)
    closed_at: Timestamp | None = F("结案时间", default=None)


class IssuedDocument(Record):
    """A document issued with the primary one (a forensic case's 委托书, 告知书, 补正书 …), with its hashes."""

    key: Name = F("文书代码", min_length=1)
    title: str = F("文书名称", min_length=1)
    pdf_file: str | None = F("PDF 文件", default=None)
    pdf_sha256: str | None = F("PDF SHA-256", default=None, pattern=r"^[0-9a-f]{64}$")
    docx_file: str | None = F("DOCX 文件", default=None)
    docx_sha256: str | None = F("DOCX SHA-256", default=None, pattern=r"^[0-9a-f]{64}$")
    check_code: str | None = F("校验码", default=None, pattern=CODE_PATTERN)


class Issuance(Record):
    """One issued report (9.3 passed): kept in order, so a reissue (R1, R2 …) leaves the earlier one on record.
    The pdf / docx fields name the primary document (the survey report, the 司法鉴定意见书); `documents`
    lists the others issued with it, each sealed likewise."""

    number: Name = F("报告编号", max_length=MAX_REPORT_NUMBER_CHARS, min_length=1)
    issued_at: Timestamp = F("出具时间")
    supersedes: Name | None = F("替代报告编号", max_length=MAX_REPORT_NUMBER_CHARS, default=None)
    reason: str | None = F("重新出具原因", default=None)
    pdf_file: str | None = F("PDF 文件", default=None)
    pdf_sha256: str | None = F("PDF SHA-256", default=None, pattern=r"^[0-9a-f]{64}$")
    docx_file: str | None = F("DOCX 文件", default=None)
    docx_sha256: str | None = F("DOCX SHA-256", default=None, pattern=r"^[0-9a-f]{64}$")
    # False: an unsealed copy (gongu issue --unsealed, marked on every page); None: recorded before this field.
    sealed: Flag | None = F("已签章", default=None)
    # The primary document's check code (generator.check_code); None: issued before codes were printed.
    check_code: str | None = F("校验码", default=None, pattern=CODE_PATTERN)
    documents: list[IssuedDocument] = F("随同出具的文书", default_factory=list)


# ───────────────────────────────────────── the case ────────────────────────────────────────────


class CarSurveyCase(Record):
    """A Construction All Risks survey and adjustment case (the CAR code of practice)."""

    schema_version: Literal["1"] = F("格式版本", default="1")
    kind: Literal["car_survey"] = F("案件类型")
    case_id: Name = F("案件编号", min_length=1, max_length=MAX_CASE_ID_CHARS, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    case_name: Name = F("案件名称", min_length=1)
    statutory: Flag = F("法定公估业务", default=False)
    firm: Firm = F("公估机构")
    commission: Commission = F("委托")
    acceptance: Acceptance | None = F("委托受理评估", default=None)
    handlers: list[Handler] = F("承办人员", min_length=1)
    assigned_at: Timestamp = F("指派时间")
    contact: Contact | None = F("约定查勘联系", default=None)
    policy: Policy = F("保险合同")
    project: Project = F("工程项目")
    incident: Incident = F("事故")
    survey: Survey = F("现场查勘")
    cause: CauseAnalysis | None = F("事故原因分析", default=None)
    liability: Liability = F("保险责任分析", default_factory=Liability)
    losses: list[LossItem] = F("损失项目", default_factory=list)
    rescue_costs: list[RescueCost] = F("施救费用", default_factory=list)
    third_party: ThirdParty = F("第三者责任及追偿", default_factory=ThirdParty)
    conclusion: Conclusion | None = F("公估结论", default=None)
    attachments: list[Attachment] = F("附件", default_factory=list)
    report: Report = F("公估报告")
    reviews: list[Review] = F("品质审核记录", default_factory=list)
    delivery: Delivery = F("交付与收费", default_factory=Delivery)
    issuances: list[Issuance] = F("报告出具记录", default_factory=list)

    @property
    def organization_name(self) -> str:
        """The issuing organisation, as the shared spine (archive, search) names it for every kind."""
        return self.firm.name
