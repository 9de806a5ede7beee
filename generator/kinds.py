"""The case-kind registry: the loader dispatches on a case file's `kind` (ARCHITECTURE: one registry)."""

from __future__ import annotations

from generator.forensic.model import ForensicAppraisalCase
from generator.model import CarSurveyCase, Record

# Every case the pipeline handles is one of these.
Case = CarSurveyCase | ForensicAppraisalCase

CASE_KINDS: dict[str, type[Record]] = {
    "car_survey": CarSurveyCase,
    "forensic_appraisal": ForensicAppraisalCase,
}

KIND_TITLES = {"car_survey": "公估", "forensic_appraisal": "司法鉴定"}


def is_forensic(case: Case) -> bool:
    return isinstance(case, ForensicAppraisalCase)
