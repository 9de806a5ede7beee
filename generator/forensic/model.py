"""The case file of a forensic appraisal used in an insurance claim (涉保司法鉴定): the Sichuan opinion
(川司鉴协〔2022〕7号, cited "Sichuan 二(一)" …) and 《司法鉴定程序通则》 (2016, cited "通则 Art 12" …).

Same conventions as the survey kind (generator/model.py): English snake_case keys, a Chinese title on
every field, unknown keys refused, money exact. The spine the pipeline shares with the survey kind —
`case_id`, `report` (number and date of the issued opinion), `reviews`, `delivery`, `issuances`,
`attachments` — keeps the same names and meaning, so review, issue, archive and search read both kinds.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from generator.forensic.commission import (
    COMMISSION_KIND_TITLES,
    MATTER_KIND_TITLES,
    NOTICE_CHANNEL_TITLES,
    PARTY_ROLE_TITLES,
    REAPPRAISAL_GROUND_TITLES,
    SELECTION_METHOD_TITLES,
    Appraiser,
    Assistant,
    Attendance,
    Attendee,
    Commission,
    CommissionKind,
    Institution,
    Matter,
    MatterKind,
    NoticeChannel,
    Party,
    PartyRole,
    Reappraisal,
    ReappraisalGround,
    RecusalDeclaration,
    RecusalRequest,
    RegisteredAppraiser,
    RiskNotice,
    Selection,
    SelectionMethod,
    SingleCommission,
    StaffMember,
    WitnessNotice,
)
from generator.forensic.examination import (
    GRADE_NUMERALS,
    MATERIAL_TYPE_TITLES,
    OUTCOME_TITLES,
    RECORDING_KIND_TITLES,
    STANDARD_TITLES,
    Confirmation,
    Examination,
    ExaminedPerson,
    Extension,
    Material,
    MaterialType,
    MatterResult,
    Outcome,
    ProcessNote,
    ProcessRecord,
    Recording,
    RecordingKind,
    Standard,
    Suspension,
    Timeline,
)
from generator.forensic.opinion import (
    DISPUTE_STEP_TITLES,
    SUPPLEMENTARY_REASON_TITLES,
    TERMINATION_GROUND_TITLES,
    AppraiserSignature,
    Correction,
    CorrectionItem,
    Dispute,
    DisputeStatus,
    DisputeStep,
    DisputeStepKind,
    Expert,
    ForensicAttachment,
    ForensicDelivery,
    ForensicReport,
    ReviewOpinion,
    Supplementary,
    SupplementaryReason,
    Termination,
    TerminationGround,
)
from generator.limits import MAX_CASE_ID_CHARS
from generator.model import F, Issuance, Record, Review
from generator.types import Name

# The workflow's parts live in commission, examination and opinion; callers import them from here.
__all__ = [
    "Appraiser",
    "AppraiserSignature",
    "Assistant",
    "Attendance",
    "Attendee",
    "COMMISSION_KIND_TITLES",
    "Commission",
    "CommissionKind",
    "Confirmation",
    "Correction",
    "CorrectionItem",
    "DISPUTE_STEP_TITLES",
    "Dispute",
    "DisputeStatus",
    "DisputeStep",
    "DisputeStepKind",
    "Examination",
    "ExaminedPerson",
    "Expert",
    "Extension",
    "ForensicAttachment",
    "ForensicDelivery",
    "ForensicReport",
    "GRADE_NUMERALS",
    "Institution",
    "MATERIAL_TYPE_TITLES",
    "MATTER_KIND_TITLES",
    "Material",
    "MaterialType",
    "Matter",
    "MatterKind",
    "MatterResult",
    "NOTICE_CHANNEL_TITLES",
    "NoticeChannel",
    "OUTCOME_TITLES",
    "Outcome",
    "PARTY_ROLE_TITLES",
    "Party",
    "PartyRole",
    "ProcessNote",
    "ProcessRecord",
    "REAPPRAISAL_GROUND_TITLES",
    "RECORDING_KIND_TITLES",
    "Reappraisal",
    "ReappraisalGround",
    "Recording",
    "RecordingKind",
    "RecusalDeclaration",
    "RecusalRequest",
    "RegisteredAppraiser",
    "ReviewOpinion",
    "RiskNotice",
    "SELECTION_METHOD_TITLES",
    "STANDARD_TITLES",
    "SUPPLEMENTARY_REASON_TITLES",
    "Selection",
    "SelectionMethod",
    "SingleCommission",
    "StaffMember",
    "Standard",
    "Supplementary",
    "SupplementaryReason",
    "Suspension",
    "TERMINATION_GROUND_TITLES",
    "Termination",
    "TerminationGround",
    "Timeline",
    "WitnessNotice",
    "ForensicAppraisalCase",
]


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
