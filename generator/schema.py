"""The JSON Schema of the case file, committed under forms/ so firms can validate in their own systems."""

from __future__ import annotations

from typing import Any

from generator.model import CarSurveyCase


def case_json_schema() -> dict[str, Any]:
    schema = CarSurveyCase.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://gongu.invalid/schema/car_survey-1.json"
    return schema
