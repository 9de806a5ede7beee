"""The work of a forensic appraisal between acceptance and opinion: the materials received, dates and time
limits, the process record, the examination and the result for each matter (通则 Art 12–30).
Conventions as in generator/forensic/model.py.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from generator.model import F, Record
from generator.types import Count, Day, Flag, Name, Timestamp

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
