"""What input each field of a case model gets: read off the pydantic models themselves.

The models' `model_fields` are walked rather than their JSON Schema: the schema turns Money, Quantity and
Rate into the same `anyOf number/string`, and a Timestamp and a Day into two string formats behind `$ref`s,
while the annotations keep the Python type (Decimal, datetime, date, StrEnum, Literal, a Record) and the
enum class, which is what finds the enum's Chinese titles. `required` is pydantic's `is_required()`, the
same set as the schema's `required` list (`gongu schema`).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from pydantic import BaseModel

from generator import model as car
from generator.forensic import model as forensic
from generator.forensic.opinion import DISPUTE_STATUS_TITLES
from generator.kinds import CASE_KINDS

# Set by the workspace (creation, review, issue), never by a form; parse_section never returns them.
NOT_RENDERED = frozenset({"schema_version", "kind", "case_id", "reviews", "issuances"})

# The Chinese titles of every enum a form offers (values never change; titles live beside each enum).
ENUM_TITLES: dict[type[Enum], dict[Any, str]] = {
    car.CommissionType: car.COMMISSION_TYPE_TITLES,
    car.PartyRole: car.PARTY_ROLE_TITLES,
    car.ValueComponentKind: car.VALUE_COMPONENT_TITLES,
    car.DeductibleMode: car.DEDUCTIBLE_MODE_TITLES,
    car.RateBase: car.RATE_BASE_TITLES,
    car.OtherInsuranceRelation: car.OTHER_INSURANCE_RELATION_TITLES,
    car.LocationBand: car.LOCATION_BAND_TITLES,
    car.DocumentStatus: car.DOCUMENT_STATUS_TITLES,
    car.Finding: car.FINDING_TITLES,
    car.PriceBasis: car.PRICE_BASIS_TITLES,
    car.SalvageMethod: car.SALVAGE_METHOD_TITLES,
    car.ReviewLevel: car.REVIEW_LEVEL_TITLES,
    car.ReviewDecision: car.REVIEW_DECISION_TITLES,
    forensic.CommissionKind: forensic.COMMISSION_KIND_TITLES,
    forensic.PartyRole: forensic.PARTY_ROLE_TITLES,
    forensic.MatterKind: forensic.MATTER_KIND_TITLES,
    forensic.ReappraisalGround: forensic.REAPPRAISAL_GROUND_TITLES,
    forensic.SelectionMethod: forensic.SELECTION_METHOD_TITLES,
    forensic.NoticeChannel: forensic.NOTICE_CHANNEL_TITLES,
    forensic.MaterialType: forensic.MATERIAL_TYPE_TITLES,
    forensic.RecordingKind: forensic.RECORDING_KIND_TITLES,
    forensic.Standard: forensic.STANDARD_TITLES,
    forensic.Outcome: forensic.OUTCOME_TITLES,
    forensic.TerminationGround: forensic.TERMINATION_GROUND_TITLES,
    forensic.SupplementaryReason: forensic.SUPPLEMENTARY_REASON_TITLES,
    forensic.DisputeStepKind: forensic.DISPUTE_STEP_TITLES,
    forensic.DisputeStatus: DISPUTE_STATUS_TITLES,
}

# Literal fields: titles by value ("mediation" … are the DisputeStepKind values; 男/女 are words already).
LITERAL_TITLES: dict[tuple[type[BaseModel], str], dict[str, str]] = {
    (car.CauseSource, "kind"): car.CAUSE_SOURCE_KIND_TITLES,
    (forensic.Dispute, "request"): {str(k): v for k, v in forensic.DISPUTE_STEP_TITLES.items()},
}

# Prose gets a <textarea>: the model gives free text no length limit, so the rule is by key — these keys
# hold sentences in every example and in the report (原因分析、出险经过、工程概况 …); "Model.key" narrows a
# key that is short elsewhere (Contact.method 联系方式 vs Examination.method 检验方法). Any stored value
# with a line break also gets a textarea, since a one-line input would drop the break.
LONG_TEXT = frozenset({
    "absence_note", "after", "analysis", "background", "basis", "before", "business_risk", "business_scope",
    "claim_summary", "communication", "competence", "complaint", "course", "decision", "description",
    "disallowed_reason", "dissent", "effect", "explanation", "findings", "funding", "ground_text", "imaging",
    "independence", "limits_of_use", "loss_spreading_action", "measures_taken", "methods", "note", "opinion",
    "overview", "plan", "principles", "procedure", "progress_before_loss", "purpose", "reason", "reason_text",
    "recommendation", "record", "recovery", "reissue_reason", "remarks", "reported_cause", "result", "scope",
    "statement", "subject", "substance", "summary", "tendering", "text", "unsigned_record", "what",
    "Examination.incident", "Examination.method",
})

# Lists where "none" is a statement the code of practice asks for, not the same as saying nothing: the rule
# reads whether the key is written (8.1: whether other insurance exists must be found out and stated). An
# empty one gets a 「经核实没有」 checkbox that writes [] (form_parse KEEP).
STATED_NONE = frozenset({"Policy.other_insurance"})

# A list of records is a compact table when its rows are flat and short; otherwise one fieldset per row.
COMPACT_MAX_FIELDS = 7


@dataclass(frozen=True)
class FieldSpec:
    key: str
    title: str
    # text | textarea | lines | decimal | int | flag | date | timestamp | choice | object | rows
    kind: str
    required: bool
    choices: tuple[tuple[str, str], ...] = ()
    model: type[BaseModel] | None = None
    stated_none: bool = False  # an empty list is written as [] when the 「经核实没有」 box is ticked


def case_model(kind: str) -> type[BaseModel]:
    try:
        return CASE_KINDS[kind]
    except KeyError:
        raise ValueError(f"未知的案件类型 {kind!r}（可用：{'、'.join(CASE_KINDS)}）") from None


def section_keys(model: type[BaseModel], keys: tuple[str, ...]) -> list[str]:
    """The keys a form renders, in the order asked; a key the model does not have is a caller's mistake."""
    unknown = [k for k in keys if k not in model.model_fields]
    if unknown:
        raise ValueError(f"{model.__name__} 没有这些字段：{'、'.join(unknown)}")
    return [k for k in keys if k not in NOT_RENDERED]


def _unwrap(annotation: Any) -> Any:
    """Optional[X] / Annotated[X, …] → X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0]
        else:
            return annotation


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


@cache
def fields_of(model: type[BaseModel]) -> tuple[FieldSpec, ...]:
    return tuple(field_spec(model, key) for key in model.model_fields)


@cache
def field_spec(model: type[BaseModel], key: str) -> FieldSpec:
    info = model.model_fields[key]
    title = info.title or key
    required = info.is_required()
    tp = _unwrap(info.annotation)
    if typing.get_origin(tp) is list:
        inner = _unwrap(typing.get_args(tp)[0])
        if _is_model(inner):
            return FieldSpec(key, title, "rows", required, model=inner,
                             stated_none=f"{model.__name__}.{key}" in STATED_NONE)
        return FieldSpec(key, title, "lines", required)
    if _is_model(tp):
        return FieldSpec(key, title, "object", required, model=tp)
    if typing.get_origin(tp) is typing.Literal:
        titles = LITERAL_TITLES.get((model, key), {})
        values = [str(v) for v in typing.get_args(tp)]
        return FieldSpec(key, title, "choice", required, tuple((v, titles.get(v, v)) for v in values))
    if isinstance(tp, type) and issubclass(tp, Enum):
        titles = ENUM_TITLES.get(tp, {})
        return FieldSpec(key, title, "choice", required, tuple((str(m.value), titles.get(m, str(m.value))) for m in tp))
    kind = _SCALAR_KINDS.get(tp) if isinstance(tp, type) else None
    if kind is None:
        kind = "textarea" if key in LONG_TEXT or f"{model.__name__}.{key}" in LONG_TEXT else "text"
    return FieldSpec(key, title, kind, required)


# bool before int and datetime before date: each is a subclass of the other's type.
_SCALAR_KINDS: dict[type, str] = {bool: "flag", datetime: "timestamp", date: "date", Decimal: "decimal", int: "int"}


@cache
def is_compact(model: type[BaseModel]) -> bool:
    specs = fields_of(model)
    return len(specs) <= COMPACT_MAX_FIELDS and all(s.kind not in ("object", "rows", "lines") for s in specs)
