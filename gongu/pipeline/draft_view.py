"""What the work queue reads of a draft whose case file does not validate yet (a case written in the browser is
incomplete for most of its life): the few fields its due times come from, each validated alone with its own
model — the assignment time and contact (4.4), the survey's location band and records (5.1), a forensic
case's timeline and agreed working days (通则第十三条、第二十八条). So the clock that starts when a case is
created shows on the queue at once, not only once the whole file is complete."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pydantic import TypeAdapter, ValidationError

from generator.types import Timestamp

_TIME = TypeAdapter(Timestamp)


def _valid(adapter: TypeAdapter[Any], value: Any) -> Any:
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return None


def draft_view(data: Any) -> SimpleNamespace | None:
    """The queue's view of the raw case data, or None when not even the fields the queue needs are usable
    (then the queue shows the one step: to put the file right)."""
    if not isinstance(data, dict):
        return None
    if data.get("kind") == "forensic_appraisal":
        return _forensic(data)
    return _survey(data)


def _survey(data: dict[str, Any]) -> SimpleNamespace | None:
    from generator.model import Contact, LocationBand

    assigned = _valid(_TIME, data.get("assigned_at"))
    if assigned is None:
        return None
    raw_contact = data.get("contact")
    contact = _valid(TypeAdapter(Contact), raw_contact) if raw_contact is not None else None
    if raw_contact is not None and contact is None:
        # a contact being written counts as made once its time is valid (the rest may still be missing)
        at = _valid(_TIME, raw_contact.get("contacted_at")) if isinstance(raw_contact, dict) else None
        contact = SimpleNamespace(contacted_at=at, agreed_survey_time=None) if at is not None else None
    survey = data.get("survey") if isinstance(data.get("survey"), dict) else {}
    records = survey.get("record_items") if isinstance(survey.get("record_items"), list) else []
    band = _valid(TypeAdapter(LocationBand), survey.get("location_band"))
    return SimpleNamespace(assigned_at=assigned, contact=contact,
                           survey=SimpleNamespace(record_items=records, location_band=band))


def _forensic(data: dict[str, Any]) -> SimpleNamespace | None:
    from generator.forensic.model import Timeline

    timeline = _valid(TypeAdapter(Timeline), data.get("timeline"))
    if timeline is None:
        return None
    commission = data.get("commission") if isinstance(data.get("commission"), dict) else {}
    days = _valid(TypeAdapter(int), commission.get("agreed_working_days"))
    return SimpleNamespace(kind="forensic_appraisal", case_id=data.get("case_id"), timeline=timeline,
                           commission=SimpleNamespace(agreed_working_days=days))
