"""Grow a forensic example's free text to a given total (tests/test_text_limit_render.py and the bench)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from generator.limits import text_chars

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "forensic-extension-correction"
_PROSE = "被鉴定人自诉伤后左膝关节疼痛，活动受限，行走困难。经检查发现左膝关节屈曲受限。"
# Keys whose values are not prose: names, numbers, codes, dates, choices, file names.
_NOT_PROSE = {"kind", "schema_version", "case_id", "id", "number", "matter", "name", "appraiser", "party", "sex",
              "standard", "outcome", "ground", "type", "method", "channel", "request", "status", "level", "decision",
              "role", "reason", "key", "unit", "clause", "post_code", "phone", "credit_code", "head", "at", "fee",
              "start", "end", "birth_date", "fee_amount", "refund", "reviewer", "agrees"}


def _prose_fields(value: Any, out: list[tuple[dict[str, Any], str]]) -> list[tuple[dict[str, Any], str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if (isinstance(item, str) and key not in _NOT_PROSE and len(item) > 3
                    and not key.endswith(("_at", "_on", "_no", "_by", "_sha256", "file"))):
                out.append((value, key))
            else:
                _prose_fields(item, out)
    elif isinstance(value, list):
        for item in value:
            _prose_fields(item, out)
    return out


def fill_text(data: dict[str, Any], total: int) -> int:
    """Lengthen every prose field of `data` equally until all its text is `total` characters (or just
    under); returns the new total."""
    fields = _prose_fields(data, [])
    extra = (total - text_chars(data)) // len(fields)
    text = _PROSE * (extra // len(_PROSE) + 1)
    for obj, key in fields:
        obj[key] += text[:extra]
    return text_chars(data)
