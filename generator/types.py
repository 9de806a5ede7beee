"""Value types shared by the case model: exact money, ratios and Shanghai-local timestamps."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BeforeValidator, Field

from generator.limits import MAX_DECIMAL_PLACES, MAX_NUMBER, MAX_NUMBER_CHARS

# The one Asia/Shanghai constant: every calendar date in Gongu is a Beijing date.
SHANGHAI = ZoneInfo("Asia/Shanghai")


def beijing_date(moment: datetime) -> date:
    """The calendar date of `moment` in Beijing, whatever offset it was written with (naive = Beijing)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI).date()


def _exact_decimal(value: Any) -> Any:
    """Refuse binary floats and booleans: an amount must never pass through float.

    The loader parses JSON numbers straight to Decimal, so a float here means a caller built
    the model from Python floats — refusing it keeps "money is exact" true on every path.
    """
    if isinstance(value, bool):
        raise ValueError("应为数字，不是布尔值 (expected a number, not a boolean)")
    if isinstance(value, float):
        raise ValueError("不接受二进制浮点数，请用数字字符串 (binary floats are not accepted)")
    if isinstance(value, str):
        value = value.strip()
        if len(value) > MAX_NUMBER_CHARS:  # generator/limits.py: never convert a huge literal
            raise ValueError(f"数字超过 {MAX_NUMBER_CHARS} 个字符 (number too long)")
    return value


def _assume_shanghai(value: datetime) -> datetime:
    """A time written without a zone is Beijing time (Asia/Shanghai)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=SHANGHAI)
    return value


# Bounded as JSON numbers are (generator/limits.py), since amounts may also be written as strings.
_BOUNDS: dict[str, Any] = {"lt": MAX_NUMBER, "decimal_places": MAX_DECIMAL_PLACES, "allow_inf_nan": False}
Money = Annotated[Decimal, BeforeValidator(_exact_decimal), Field(ge=0, **_BOUNDS)]
Quantity = Annotated[Decimal, BeforeValidator(_exact_decimal), Field(ge=0, **_BOUNDS)]
# A rate such as a deductible rate or an agreed share: 0 ≤ r ≤ 1, written as a fraction (0.05 = 5 %).
Rate = Annotated[Decimal, BeforeValidator(_exact_decimal), Field(ge=0, le=1, decimal_places=MAX_DECIMAL_PLACES, allow_inf_nan=False)]
Timestamp = Annotated[datetime, AfterValidator(_assume_shanghai)]
