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
