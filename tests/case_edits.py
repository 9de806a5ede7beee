"""Shared helpers for the review/issuance tests: the slope-collapse example as parsed JSON, edited per test."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from generator.loading import parse_json, validate_data
from generator.model import CarSurveyCase
from generator.rules import Finding, Stage, run_rules

ROOT = Path(__file__).resolve().parents[1]
SLOPE = ROOT / "examples" / "slope-collapse" / "case.json"


@cache
def _slope_raw() -> Any:
    return parse_json(SLOPE.read_text(encoding="utf-8"), str(SLOPE))


def slope() -> dict[str, Any]:
    """A fresh deep copy of the example's parsed JSON (numbers as Decimal)."""
    return copy.deepcopy(_slope_raw())


def case_from(data: dict[str, Any]) -> CarSurveyCase:
    return validate_data(data, "<test>")


def findings(edit: Callable[[dict[str, Any]], object] | None = None, *, rule: str | None = None,
             today: date | None = None, stage: Stage = "issue") -> list[Finding]:
    data = slope()
    if edit is not None:
        edit(data)
    out = run_rules(case_from(data), today=today, stage=stage)
    return [f for f in out if rule is None or f.rule == rule]


def copy_photos(folder: Path) -> None:
    """The slope example's photos beside a case file written elsewhere: `gongu check` and issuance decode
    every photo the case names (5.3.1 d), so a case folder without them is (rightly) blocked."""
    import shutil

    if not (folder / "photos").exists():
        shutil.copytree(SLOPE.parent / "photos", folder / "photos")


# ─────────────── the forensic kind: example (a), a joint commission, edited per test ───────────────

FORENSIC_JOINT = ROOT / "examples" / "forensic-joint-grade10" / "case.json"
INSURER = "中国人民财产保险股份有限公司成都市分公司"


@cache
def _forensic_raw() -> Any:
    return parse_json(FORENSIC_JOINT.read_text(encoding="utf-8"), str(FORENSIC_JOINT))


def forensic_joint() -> dict[str, Any]:
    """A fresh deep copy of the joint-commission example (complete: no finding at any stage)."""
    return copy.deepcopy(_forensic_raw())


def make_single(d: dict[str, Any]) -> None:
    """Turn the joint example into a complete single commission by the victim (Sichuan 二(二)): the
    insurance use recorded, the risk notice signed, the insurer phoned and absent, the appraisal done."""
    for party in d["parties"]:
        party["client"] = party["role"] == "victim"
    d["commission"]["kind"] = "single"
    d["commission"]["signed_by"] = ["何建平"]
    for material in d["materials"]:
        material["confirmations"] = []
    d["single"] = {
        "risk_notice": {"signed_by": "何建平", "signed_at": "2026-05-11T09:20:00", "told_by": "王一帆"},
        "witness_notices": [{"insurer": INSURER, "channel": "phone", "at": "2026-05-12T10:00:00",
                             "person_reached": "陈敏", "notified_by": "王一帆",
                             "scheduled_for": "2026-05-15T09:30:00", "place": "四川蜀正司法鉴定中心"}],
    }
    d["attendance"] = {"at": "2026-05-15T09:30:00", "insurer_attended": False, "attendees": [],
                       "party_present": ["何建平"], "party_signed": True,
                       "absence_note": "保险机构经电话通知后未按约定时间派员到场", "proceeded": True}


def forensic_findings(edit: Callable[[dict[str, Any]], object] | None = None, *, rule: str | None = None,
                      today: date | None = None, stage: Stage = "issue") -> list[Finding]:
    data = forensic_joint()
    if edit is not None:
        edit(data)
    out = run_rules(validate_data(data, "<test>"), today=today, stage=stage)
    return [f for f in out if rule is None or f.rule == rule]


# ── issue 14 §3: a supplementary appraisal and a full dispute path on example (a) (opinion of 29 May 2026) ──

SUPPLEMENTARY_NUMBER = "蜀正司鉴〔2026〕临鉴字第0318-1号"
PANEL = ("周立群", "孙海燕", "黄文涛")


def with_supplementary(d: dict[str, Any]) -> None:
    """New imaging (C5) arrives after the opinion; the original appraisers examine it (通则 Art 30)."""
    d["materials"].append({
        "id": "C5", "name": "左膝关节复查CT片及报告", "type": "imaging", "quantity": 1, "unit": "套",
        "condition": "原件", "storage": "档案袋保存", "received_at": "2026-06-26T10:00:00", "provided_by": INSURER,
        "confirmations": [{"party": "何建平", "confirmed": True, "at": "2026-06-26T10:10:00"},
                          {"party": INSURER, "confirmed": True, "at": "2026-06-26T10:12:00"}]})
    d["supplementary"] = [{
        "number": SUPPLEMENTARY_NUMBER, "reason": "new_materials",
        "reason_text": "保险机构提供被鉴定人伤后六个月复查CT", "new_materials": ["C5"],
        "appraisers": ["唐志明", "邓晓梅"], "requested_on": "2026-06-22", "issued_on": "2026-07-03",
        "findings": "复查CT示左胫骨平台骨折已愈合，内固定在位，关节面平整；结合原检验所见，左膝关节活动度丧失25%以上。",
        "result": "维持原鉴定意见：被鉴定人何建平构成十级伤残。"}]


def with_dispute_path(d: dict[str, Any]) -> None:
    """The insurer objects on 5 June; mediation by the associations' committee with 何建平 and the insurer
    fails; the appraisers explain; a supplementary appraisal;
    the expert panel (three outside experts, all signed) upholds the opinion (Sichuan 五(一)(二))."""
    with_supplementary(d)
    d["disputes"] = [{
        "raised_on": "2026-06-05", "raised_by": INSURER, "request": "mediation", "status": "resolved",
        "number": "蜀正异〔2026〕第003号", "note": "对左膝关节功能丧失程度的测量及十级伤残条款的适用有异议",
        "steps": [
            {"kind": "mediation", "on": "2026-06-12", "by": "四川省涉保司法鉴定纠纷调解委员会",
             "what": "组织保险机构与被鉴定人协商调解", "outcome": "未达成一致", "number": "川涉保调〔2026〕第15号",
             "participants": ["何建平", INSURER]},
            {"kind": "explanation", "on": "2026-06-19", "by": "四川蜀正司法鉴定中心",
             "what": "就关节活动度的测量方法及标准第5.10.6.11条的适用作出书面解释和说明",
             "outcome": "保险机构提供复查影像并申请补充鉴定", "number": "蜀正司鉴〔2026〕解字第0318号",
             "appraisers": ["唐志明", "邓晓梅"]},
            {"kind": "supplementary", "on": "2026-07-03", "by": "四川蜀正司法鉴定中心",
             "what": "就新提供的复查CT进行补充鉴定", "outcome": "维持十级伤残", "reference": SUPPLEMENTARY_NUMBER},
            {"kind": "expert_opinion", "on": "2026-07-20", "by": "四川省涉保司法鉴定专家库",
             "what": "对伤残等级评定及补充鉴定进行审查和评价", "outcome": "原鉴定意见及补充意见依据充分，予以维持",
             "number": "川涉保专〔2026〕第7号", "complex_case": True,
             "experts": [{"name": n, "title": t, "organisation": o, "signed": True} for n, t, o in (
                 (PANEL[0], "主任法医师", "四川大学华西基础医学与法医学院"),
                 (PANEL[1], "主任医师", "四川省人民医院骨科"),
                 (PANEL[2], "高级经济师", "四川省保险行业协会"))]},
        ]}]
