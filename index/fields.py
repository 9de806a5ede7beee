"""The index's fields, engine-neutral: which descriptive, date and amount fields an entry has, and the
plain values of one `IndexDocument` for them. Each engine (index/whoosh_backend.py,
index/tantivy_backend.py) turns these into its own field types and tokens; neither imports the other.

- `body` (report text, for words and bigrams), `meta_bg` (all descriptive fields joined, so a
  tombstone whose text was removed stays findable);
- one field per descriptive field for field queries (substring semantics: 保险人:平安);
- keyword fields `doc_id`, `case_key` (the exact case id: holds and disposal act on a whole case),
  `kind`, `status`;
- dates, and amounts in fen as 64-bit integers (exact, never float);
- `record`: the whole entry, stored (index/records.py encodes it; the engines add it).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from index.extract import DEFAULT_KIND, IndexDocument

# Descriptive fields searchable one by one (substring semantics through bigrams).
TEXT_FIELDS = (
    "case_id", "report_number", "case_name", "insurer", "insured", "policyholder", "policy_number",
    "project", "province", "city", "cause", "loss_type", "handlers", "reviewers",
    # forensic appraisals (鉴定机构, 当事人, 鉴定事项, 鉴定意见, 鉴定人); empty for a survey
    "institution", "parties", "matters", "result", "appraisers",
)
KEYWORD_FIELDS = ("doc_id", "case_key", "kind", "status")
DATE_FIELDS = ("loss_date", "report_date", "retention_end")
AMOUNT_FIELDS = ("claimed_fen", "assessed_fen", "adjusted_fen")


def as_datetime(value: date | None) -> datetime | None:
    """A date field's value as midnight of that day (both engines store dates as datetimes)."""
    if value is None:
        return None
    return value if isinstance(value, datetime) else datetime.combine(value, time())


def field_values(doc: IndexDocument) -> dict[str, Any]:
    """The raw (un-analysed) value of every searchable field `doc` has: text as text, dates as
    datetimes, amounts as int fen. `body` and `body_bg` both carry the report text: one is
    analysed into words, the other into bigrams."""
    values: dict[str, Any] = {"doc_id": doc.doc_id, "case_key": doc.case_id, "kind": doc.kind or DEFAULT_KIND,
                              "status": doc.status}
    if doc.text:
        values["body"] = doc.text
        values["body_bg"] = doc.text
    descriptive = []
    for name in TEXT_FIELDS:
        raw = getattr(doc, name)
        value = "\n".join(raw) if isinstance(raw, tuple) else str(raw or "")
        if value:
            values[name] = value
            descriptive.append(value)
    values["meta_bg"] = "\n".join(descriptive)
    for name in DATE_FIELDS:
        when = as_datetime(getattr(doc, name))
        if when is not None:
            values[name] = when
    for name in AMOUNT_FIELDS:
        amount = getattr(doc, name)
        if amount is not None:
            values[name] = int(amount)
    return values
