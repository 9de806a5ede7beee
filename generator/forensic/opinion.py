"""The opinion of a forensic appraisal and what follows it: sign-off and review, termination, correction,
supplementary opinion, disputes over the opinion, the issued report, its delivery and attachments
(通则 Art 29–41). Conventions as in generator/forensic/model.py.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from generator.forensic.commission import StaffMember
from generator.limits import MAX_REPORT_NUMBER_CHARS
from generator.model import F, Record
from generator.types import Count, Day, Flag, Money, Name, Timestamp

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


DISPUTE_STATUS_TITLES = {DisputeStatus.open: "处理中", DisputeStatus.resolved: "已解决"}


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
