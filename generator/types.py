"""Value types shared by the case model: exact money, ratios, Shanghai-local timestamps, and the strict
forms of dates, whole numbers, yes/no and names.

The case model is strict about what a value's JSON type is: a date is an ISO text (never a number, which
pydantic would read as seconds since 1970), yes/no is `true` / `false` (never 1 or "yes"), a number written
as text is written as JSON writes it (no spaces, no plus sign, no leading zeros, no negative zero). A value
that could be read two ways is refused with its path, never guessed.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BeforeValidator, Field, StrictBool

from generator.limits import MAX_DECIMAL_PLACES, MAX_NUMBER, MAX_NUMBER_CHARS
from generator.text_safety import invisible_controls_in

# The one Asia/Shanghai constant: every calendar date in Gongu is a Beijing date.
SHANGHAI = ZoneInfo("Asia/Shanghai")


def beijing_date(moment: datetime) -> date:
    """The calendar date of `moment` in Beijing, whatever offset it was written with (naive = Beijing)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI).date()


# A number written as text must be written as a JSON number is: `12`, `0.5`, `-3`, `1.2E3`.
_NUMBER_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_WHOLE_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}\S*)?")
_PLAIN_NUMBER = "不是有效的数字：数字字符串应按 JSON 数字书写，不能有空格、正号、前导零或其他字符 (not a plain number)"


def _number_text(value: str, grammar: re.Pattern[str]) -> Decimal:
    if len(value) > MAX_NUMBER_CHARS:  # generator/limits.py: never convert a huge literal
        raise ValueError(f"数字超过 {MAX_NUMBER_CHARS} 个字符 (number too long)")
    if not grammar.fullmatch(value):  # " 12 ", "+5", "012", "1_000", "١٢" all read as numbers by Decimal
        raise ValueError(_PLAIN_NUMBER)
    return Decimal(value)


def _no_negative_zero(value: Decimal) -> Decimal:
    if value.is_zero() and value.is_signed():
        raise ValueError("不能写作负零 -0 (negative zero)")
    return value


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
        value = _number_text(value, _NUMBER_TEXT)
    if isinstance(value, Decimal):
        _no_negative_zero(value)
    return value


def _whole_number(value: Any) -> Any:
    """A count (pages, days, a grade): a JSON integer or its plain text, never true/false, 3.0 or "03"."""
    if isinstance(value, bool):
        raise ValueError("应为整数，不是布尔值 (expected an integer, not a boolean)")
    if isinstance(value, str):
        value = _number_text(value, _WHOLE_TEXT)
    if isinstance(value, Decimal):
        if not value.is_finite() or value.as_tuple().exponent != 0:
            raise ValueError("应为整数，不带小数点或指数 (expected an integer)")
        return int(_no_negative_zero(value))
    return value


def _iso_date(value: Any) -> Any:
    """A date is the text YYYY-MM-DD; a number would be read as seconds since 1970-01-01."""
    if isinstance(value, bool | int | float | Decimal):
        raise ValueError("应为日期字符串 YYYY-MM-DD，不能写作数字 (a number is not a date)")
    if isinstance(value, str) and not _DATE_TEXT.fullmatch(value):
        raise ValueError("应为日期 YYYY-MM-DD，前后不能有空格 (not a YYYY-MM-DD date)")
    return value


def _iso_time(value: Any) -> Any:
    """A time is ISO 8601 text beginning with its date; a number would be read as seconds since 1970."""
    if isinstance(value, bool | int | float | Decimal):
        raise ValueError("应为 ISO 8601 时间字符串，不能写作数字 (a number is not a date-time)")
    if isinstance(value, str) and not _TIME_TEXT.fullmatch(value):
        raise ValueError("应为 ISO 8601 时间，如 2026-05-06T10:05:00+08:00 (not an ISO 8601 date-time)")
    return value


def _visible_name(value: str) -> str:
    """Names and identifiers carry no bidi or zero-width control: `evil\u202euser` would show reversed on
    every page and `张三\u200b` would be a second 张三 to every comparison."""
    codes = invisible_controls_in(value)
    if codes:
        raise ValueError(f"含有不可见的控制字符 {'、'.join(dict.fromkeys(codes))}（双向文字控制符或零宽字符），"
                         "名称和编号中不允许 (bidi or zero-width control character in a name or identifier)")
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
Timestamp = Annotated[datetime, BeforeValidator(_iso_time), AfterValidator(_assume_shanghai)]
Day = Annotated[date, BeforeValidator(_iso_date)]
Count = Annotated[int, BeforeValidator(_whole_number)]
Flag = StrictBool
# A person's or organisation's name, a number or an id: text that is compared and shown as written.
Name = Annotated[str, AfterValidator(_visible_name)]
