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
